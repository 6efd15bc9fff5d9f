package staff

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

func TestParseWhen(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 14, 0, 0, 0, london)
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"15:30", time.Date(2026, 12, 2, 15, 30, 0, 0, london), true},
		{" 9:05 ", time.Date(2026, 12, 3, 9, 5, 0, 0, london), true}, // passed today: tomorrow
		{"14:00", time.Date(2026, 12, 3, 14, 0, 0, 0, london), true}, // now is not to come
		{"18.45", time.Date(2026, 12, 2, 18, 45, 0, 0, london), true},
		{"2026-12-24 09:30", time.Date(2026, 12, 24, 9, 30, 0, 0, london), true},
		{"2026-12-01 09:30", time.Time{}, false}, // passed
		{"25:99", time.Time{}, false},
		{"tomorrow", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := parseWhen(tt.in, now, london)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseWhen(%q): got %v %v, want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	// Summer time: 09:00 in London is 08:00 UTC.
	summer := time.Date(2026, 7, 1, 6, 0, 0, 0, time.UTC)
	if got, _ := parseWhen("09:00", summer, london); !got.Equal(time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("09:00 BST: got %v", got.UTC())
	}
}

// FuzzParseWhen: whatever an admin types, a time read is in the future.
func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{"9:30", "2026-12-24 09:30", "23.59", "00:00", "x"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseWhen(in, now, time.UTC)
		if err == nil && !got.After(now) {
			t.Errorf("parseWhen(%q) = %v, not after %v", in, got, now)
		}
	})
}

func TestCorrectableWithinTelegramsWindow(t *testing.T) {
	done := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	b := Broadcast{State: StateDone, Delivered: 3, FinishedAt: done}
	for _, tt := range []struct {
		name string
		b    Broadcast
		at   time.Time
		want bool
	}{
		{"just sent", b, done.Add(time.Minute), true},
		{"47 h on", b, done.Add(47 * time.Hour), true},
		{"48 h on", b, done.Add(48 * time.Hour), false},
		{"nothing delivered", Broadcast{State: StateDone, FinishedAt: done}, done, false},
		{"still sending", Broadcast{State: StateSending, Delivered: 3}, done, false},
		{"recalled", Broadcast{State: StateRecalled, Delivered: 3, FinishedAt: done}, done, false},
		{"a correction under way", Broadcast{State: StateDone, Delivered: 3, FinishedAt: done, Correction: &Correction{}}, done, false},
		{"after a correction", Broadcast{State: StateDone, Delivered: 3, FinishedAt: done, Correction: &Correction{Done: done}}, done, true},
	} {
		if got := correctable(tt.b, tt.at); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestRecordOfThePreviousRelease: a broadcast record (or draft) written
// before versions existed, text only, is sent as its text.
func TestRecordOfThePreviousRelease(t *testing.T) {
	var b Broadcast
	if err := json.Unmarshal([]byte(`{"id":"bc-old","html":"<b>Closed</b>","audience":{},"state":"sending"}`), &b); err != nil {
		t.Fatal(err)
	}
	texts, copies := content(versionsOf(b.Versions, b.HTML))
	if !reflect.DeepEqual(texts, map[string]string{"": "<b>Closed</b>"}) || copies != nil {
		t.Errorf("got texts %v and copies %v, want the text for all", texts, copies)
	}
	if got := firstVersion(versionsOf(b.Versions, b.HTML)).snippet(); got != "Closed" {
		t.Errorf("snippet: got %q", got)
	}
	vs := map[string]version{"": {Copy: &delivery.Copy{FromChatID: 1, MessageIDs: []int{5}, Media: true}}, "ru": {HTML: "<i>Закрыто</i>"}}
	texts, copies = content(vs)
	if texts["ru"] != "<i>Закрыто</i>" || copies[""].MessageIDs[0] != 5 || len(texts) != 1 || len(copies) != 1 {
		t.Errorf("mixed versions: got texts %v copies %v", texts, copies)
	}
}
