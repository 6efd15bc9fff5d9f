package delivery

import "testing"

// TestContentByLanguage: a subscriber gets their language's version, copy
// or text, else the one for all, else the default language's, else any.
func TestContentByLanguage(t *testing.T) {
	a := Announcement{
		Texts:  map[string]string{"ru": "<b>Привет</b>"},
		Copies: map[string]Copy{"": {FromChatID: 1, MessageIDs: []int{7}}},
	}
	tests := []struct {
		lang   string
		a      Announcement
		isCopy bool
		want   string // the text, or "copy"
	}{
		{"ru", a, false, "<b>Привет</b>"},
		{"en", a, true, "copy"},
		{"en", Announcement{Texts: map[string]string{"ru": "ru"}, Copies: map[string]Copy{"en": {FromChatID: 1, MessageIDs: []int{7}}}}, true, "copy"},
		{"de", Announcement{Texts: map[string]string{"ru": "ru"}, Copies: map[string]Copy{"en": {FromChatID: 1, MessageIDs: []int{7}}}}, true, "copy"}, // the fallback, en
		{"de", Announcement{Texts: map[string]string{"ru": "ru", "uk": "uk"}}, false, "ru"},                                                            // any: the first
		{"en", Announcement{Texts: map[string]string{"": "all"}}, false, "all"},                                                                        // the previous release
	}
	for _, tt := range tests {
		_, text, isCopy, ok := tt.a.Content(tt.lang, "en")
		got := text
		if isCopy {
			got = "copy"
		}
		if !ok || isCopy != tt.isCopy || got != tt.want {
			t.Errorf("Content(%q) of %+v: got %q copy=%v ok=%v, want %q", tt.lang, tt.a, got, isCopy, ok, tt.want)
		}
	}
	if _, _, _, ok := (Announcement{}).Content("en", "en"); ok {
		t.Error("an empty announcement has content")
	}
}
