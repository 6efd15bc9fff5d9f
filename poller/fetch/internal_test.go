package fetch

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{in: "", wantOK: false},
		{in: "   ", wantOK: false},
		{in: "0", want: 0, wantOK: true},
		{in: "120", want: 2 * time.Minute, wantOK: true},
		{in: " 7 ", want: 7 * time.Second, wantOK: true},
		{in: "-5", wantOK: false},
		{in: "1.5", wantOK: false},
		{in: "soon", wantOK: false},
		{in: "99999999999999999999999", want: time.Duration(math.MaxInt64), wantOK: true},
		{in: "9223372037", want: time.Duration(math.MaxInt64), wantOK: true},
		{in: "Sat, 01 Mar 2025 12:02:00 GMT", want: 2 * time.Minute, wantOK: true},     // IMF-fixdate
		{in: "Saturday, 01-Mar-25 12:00:30 GMT", want: 30 * time.Second, wantOK: true}, // RFC 850
		{in: "Sat Mar  1 13:00:00 2025", want: time.Hour, wantOK: true},                // asctime
		{in: "Sat, 01 Mar 2025 11:00:00 GMT", want: 0, wantOK: true},                   // past
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %v %v, want %v %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", "-1", "1e3", "99999999999999999999",
		"Sat, 01 Mar 2025 12:02:00 GMT", "Saturday, 01-Mar-25 12:00:30 GMT", "Sat Mar  1 13:00:00 2025"} {
		f.Add(s)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, now)
		if d < 0 {
			t.Errorf("parseRetryAfter(%q): got %v, want a non-negative delay", s, d)
		}
		if !ok && d != 0 {
			t.Errorf("parseRetryAfter(%q): got %v with ok=false, want 0", s, d)
		}
		if v := strings.TrimSpace(s); isDigits(v) && len(v) < 10 {
			// Small delta-seconds are taken exactly.
			secs, _ := strconv.Atoi(v)
			if !ok || d != time.Duration(secs)*time.Second {
				t.Errorf("parseRetryAfter(%q): got %v %v, want %ds true", s, d, ok, secs)
			}
		}
	})
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{1, "1 byte"},
		{1000, "1000 bytes"},
		{1 << 10, "1 KiB"},
		{3 << 10, "3 KiB"},
		{10 << 20, "10 MiB"},
		{10<<20 + 1, "10485761 bytes"},
		{2 << 30, "2 GiB"},
	}
	for _, tt := range tests {
		if got := formatSize(tt.n); got != tt.want {
			t.Errorf("formatSize(%d): got %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestShownAndWithoutUserinfo(t *testing.T) {
	u, err := url.Parse("https://user:pw@example.com:8443/a?b=c&apikey=s3cr3t#d")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := shown(u), "https://example.com:8443/a?b=c&apikey=REDACTED"; got != want {
		t.Errorf("shown: got %q, want %q", got, want)
	}
	// The base for relative links keeps the query: only credentials go.
	if got, want := withoutUserinfo(u), "https://example.com:8443/a?b=c&apikey=s3cr3t#d"; got != want {
		t.Errorf("withoutUserinfo: got %q, want %q", got, want)
	}
	if u.User == nil {
		t.Errorf("shown changed its argument")
	}
}

func TestNewDefaults(t *testing.T) {
	f := New(Config{})
	if f.client == http.DefaultClient {
		t.Fatal("got http.DefaultClient, want an own client")
	}
	tr, ok := f.client.Transport.(*http.Transport)
	if !ok || tr == http.DefaultTransport {
		t.Fatalf("transport: got %T (default %v), want an own *http.Transport", f.client.Transport, tr == http.DefaultTransport)
	}
	if tr.TLSHandshakeTimeout <= 0 || tr.ResponseHeaderTimeout <= 0 || tr.DialContext == nil || tr.Proxy == nil {
		t.Errorf("transport timeouts: got TLS %v, header %v, dial set %v, proxy set %v; want all set",
			tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout, tr.DialContext != nil, tr.Proxy != nil)
	}
	if f.timeout != DefaultTimeout || f.maxBody != DefaultMaxBodyBytes || f.maxRedirects != DefaultMaxRedirects ||
		f.userAgent != DefaultUserAgent || f.now == nil {
		t.Errorf("defaults: got timeout %v, max body %d, redirects %d, UA %q, now set %v",
			f.timeout, f.maxBody, f.maxRedirects, f.userAgent, f.now != nil)
	}
}

func TestReadBody(t *testing.T) {
	tests := []struct {
		name          string
		body          string
		contentLength int64
		max           int64
		wantErr       bool
	}{
		{name: "unknown length", body: strings.Repeat("a", 2000), contentLength: -1, max: 5000},
		{name: "known length", body: "hello", contentLength: 5, max: 10},
		{name: "at max", body: "hello", contentLength: -1, max: 5},
		{name: "over max", body: "hello!", contentLength: -1, max: 5, wantErr: true},
		{name: "length understated", body: "hello world", contentLength: 2, max: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readBody(strings.NewReader(tt.body), tt.contentLength, tt.max)
			if tt.wantErr {
				if err != errOverLimit {
					t.Errorf("got %v, want errOverLimit", err)
				}
				return
			}
			if err != nil || string(got) != tt.body {
				t.Errorf("got %q %v, want %q nil", got, err, tt.body)
			}
		})
	}
}

// TestLiteralNotPublic: behind a proxy a redirect target is judged by its
// URL alone, so every spelling of a non-public address must be caught,
// including those only a proxy resolving with inet_aton reads as one.
func TestLiteralNotPublic(t *testing.T) {
	f := New(Config{})
	tests := []struct {
		host string
		want bool
	}{
		{"127.0.0.1", true}, {"[::1]", true}, {"169.254.169.254", true}, {"[::ffff:127.0.0.1]", true},
		{"localhost", true}, {"LOCALHOST.", true}, {"a.localhost", true}, {"127.0.0.1.", true},
		{"2130706433", true}, {"0x7f000001", true}, {"0x7f.1", true}, {"0177.0.0.1", true}, {"127.1", true},
		{"0xa9.0xfe.0xa9.0xfe", true}, {"0", true}, {"10.1", true},
		{"8.8.8.8", false}, {"134744072", false}, {"example.org", false}, {"1.2.3.4.5", false},
		{"4294967296", false}, {"256.1.1.1", false}, {"1.2.65536", false}, {"0x", false}, {"1_0.0.0.1", false},
	}
	for _, tt := range tests {
		u := &url.URL{Scheme: "http", Host: tt.host, Path: "/"}
		if got := f.literalNotPublic(u); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.host, got, tt.want)
		}
	}
}
