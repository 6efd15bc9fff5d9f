package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://www.rusemb.org.uk/newarh/", "https://www.rusemb.org.uk/newarh/"},
		{"https://user:password@example.org/feed", "https://example.org/feed"},
		{"https://user@example.org/feed", "https://example.org/feed"},
		{"https://example.org/feed?apikey=s3cr3t&page=2", "https://example.org/feed?apikey=REDACTED&page=2"},
		{"https://example.org/feed?page=2&API_KEY=s3cr3t", "https://example.org/feed?page=2&API_KEY=REDACTED"},
		{"https://example.org/f?access_token=a&auth=b&sig=c&X-Amz-Signature=d&password=e&client_secret=f&key=g",
			"https://example.org/f?access_token=REDACTED&auth=REDACTED&sig=REDACTED&X-Amz-Signature=REDACTED&password=REDACTED&client_secret=REDACTED&key=REDACTED"},
		{"https://example.org/f?api%5Fkey=s3cr3t", "https://example.org/f?api%5Fkey=REDACTED"},
		{"https://example.org/f?lang=ru&category=press", "https://example.org/f?lang=ru&category=press"},
		{"https://example.org/f?token", "https://example.org/f?token"}, // a flag, no value
		{"https://example.org/f#token=s3cr3t", "https://example.org/f"},
		{"http://u:p@exa mple.org/f?key=s3cr3t", "http://exa mple.org/…"},
		{"not a url at all", "not%20a%20url%20at%20all"},
		{"http://user:pw@host/p@th", "http://host/p@th"},
		{"https://a@b:c@host?q=@", "https://host?q=@"},
		{"no scheme user:pw@host", "(invalid URL)"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := URL(tt.in)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			for _, secret := range []string{"s3cr3t", "password@", ":p@"} {
				if strings.Contains(got, secret) {
					t.Errorf("got %q, which shows %q", got, secret)
				}
			}
		})
	}
}

// FuzzURL checks that a secret placed as user info, or as the value of a
// secret-named parameter, never shows, whatever surrounds it.
func FuzzURL(f *testing.F) {
	f.Add("example.org", "feed", "SECRETVALUE1")
	f.Add("[::1]:80", "a&b=c", "0123456789")
	f.Fuzz(func(t *testing.T, host, rest, secret string) {
		if len(secret) < 8 || strings.Trim(secret, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
			return
		}
		// The host and path may hold anything but what starts the parts
		// after them (a "?" in a query is part of a value).
		if strings.ContainsAny(host, "/?#@") || strings.ContainsAny(rest, "?#") {
			return
		}
		for _, raw := range []string{
			"https://user:" + secret + "@" + host + "/" + rest,
			"https://" + host + "/" + rest + "?apikey=" + secret,
			"https://" + host + "/" + rest + "?page=1&access_token=" + secret,
		} {
			if got := URL(raw); strings.Contains(got, secret) && !strings.Contains(URL("https://"+host+"/"+rest), secret) {
				t.Errorf("URL(%q) = %q shows the secret", raw, got)
			}
		}
	})
}
