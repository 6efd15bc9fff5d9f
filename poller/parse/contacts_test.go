package parse

import (
	"os"
	"strings"
	"testing"
)

func TestReadContacts(t *testing.T) {
	page, err := os.ReadFile("testdata/embassy-newarh.html")
	if err != nil {
		t.Fatal(err)
	}
	got := ReadContacts(page, "text/html; charset=utf-8")
	if want := (Contacts{Phone: "+44 (0) 203 668 7474", Email: "info@rusemb.org.uk"}); got != want {
		t.Errorf("embassy page: got %+v, want %+v", got, want)
	}
	changed := strings.Replace(string(page), "+44 (0) 203 668 7474", "+44&nbsp;(0)&nbsp;203 161 8858", 1)
	if got := ReadContacts([]byte(changed), "text/html; charset=utf-8"); got.Phone != "+44 (0) 203 161 8858" {
		t.Errorf("changed header: got phone %q", got.Phone)
	}
	for _, c := range []struct{ name, body string }{
		{"no label", `<p>Call +44 20 7946 0000</p>`},
		{"label far from any number", `<b>Consular queries:</b><p>a</p><p>b</p><p>c</p><p>d</p><p>e</p><p>f</p><p>g</p><p>+44 20 7946 0000</p>`},
		{"bad mailto", `<a href="mailto:not an address">x</a>`},
	} {
		if got := ReadContacts([]byte(c.body), "text/html"); got != (Contacts{}) {
			t.Errorf("%s: got %+v, want nothing", c.name, got)
		}
	}
}

func FuzzReadContacts(f *testing.F) {
	f.Add([]byte(`<b>Consular queries:</b><br>+44 (0) 203 668 7474 <a href="mailto:info@rusemb.org.uk">E-mail</a>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c := ReadContacts(body, "text/html")
		if len(c.Phone) > maxContactLen || len(c.Email) > maxContactLen {
			t.Fatalf("contacts too long: %+v", c)
		}
	})
}
