package parse

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

func TestDecode(t *testing.T) {
	enc := func(e interface{ String(string) (string, error) }, s string) string {
		t.Helper()
		out, err := e.String(s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cp1251 := charmap.Windows1251.NewEncoder()
	tests := []struct {
		name        string
		body        string
		contentType string
		want        string
	}{
		{"plain utf-8", "<p>Привет</p>", "", "<p>Привет</p>"},
		{"utf-8 BOM is dropped", "\xEF\xBB\xBF<p>Привет</p>", "text/html; charset=windows-1251", "<p>Привет</p>"},
		{"utf-16be BOM beats the header", enc(unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder(), "<p>Привет</p>"), "text/html; charset=koi8-r", "<p>Привет</p>"},
		{"header charset", enc(charmap.KOI8R.NewEncoder(), "<p>Привет</p>"), `text/html; charset="KOI8-R"`, "<p>Привет</p>"},
		{"meta charset", enc(cp1251, `<meta charset="windows-1251"><p>Привет</p>`), "text/html", `<meta charset="windows-1251"><p>Привет</p>`},
		{"meta http-equiv far down the head", enc(cp1251, "<head>"+strings.Repeat(" ", 2000)+`<META HTTP-EQUIV="content-type" CONTENT="text/html; charset=cp1251"></head>Привет`), "", "<head>" + strings.Repeat(" ", 2000) + `<META HTTP-EQUIV="content-type" CONTENT="text/html; charset=cp1251"></head>Привет`},
		{"unknown header charset falls through to meta", enc(cp1251, `<meta charset="windows-1251">Привет`), "text/html; charset=bogus", `<meta charset="windows-1251">Привет`},
		{"header says utf-8, document says windows-1251", enc(cp1251, `<meta charset="windows-1251">Привет`), "text/html; charset=utf-8", `<meta charset="windows-1251">Привет`},
		{"header says utf-8, a stray byte stays a replacement", "<p>Привет \xff мир</p>", "text/html; charset=utf-8", "<p>Привет \uFFFD мир</p>"},
		{"undeclared non-utf-8 reads as windows-1252", "<p>caf\xe9</p>", "", "<p>café</p>"},
		{"undeclared utf-8 after a long ASCII head", "<!--" + strings.Repeat("x", 5000) + "-->Привет", "", "<!--" + strings.Repeat("x", 5000) + "-->Привет"},
		{"meta utf-16 without BOM means utf-8", `<meta charset="utf-16">Привет`, "", `<meta charset="utf-16">Привет`},
		{"xml declaration is rewritten to utf-8", enc(cp1251, "  <?xml version=\"1.0\" encoding='windows-1251'?><a>Привет</a>"), "text/xml", "  <?xml version=\"1.0\" encoding='UTF-8'?><a>Привет</a>"},
		{"xml declaration with spaced encoding", enc(charmap.KOI8R.NewEncoder(), `<?xml version="1.0" encoding = "koi8-r" ?><a>Ёж</a>`), "", `<?xml version="1.0" encoding = "UTF-8" ?><a>Ёж</a>`},
		{"unterminated xml declaration is left alone", `<?xml version="1.0" encoding="koi8-r"`, "", `<?xml version="1.0" encoding="koi8-r"`},
		{"nul bytes survive as text", "a\x00b", "", "a\x00b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decode([]byte(tt.body), tt.contentType); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
