package fetch_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/poller/fetch"
)

// newServer starts an httptest server closed at the end of the test.
func newServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newFetcher returns a Fetcher whose idle connections are closed at the end
// of the test, so server shutdown does not wait on them.
func newFetcher(t testing.TB, cfg fetch.Config) *fetch.Fetcher {
	t.Helper()
	f := fetch.New(cfg)
	t.Cleanup(f.CloseIdleConnections)
	return f
}

func TestFetchSendsHeaders(t *testing.T) {
	tests := []struct {
		name         string
		etag, lm     string
		wantINM      string
		wantIMS      string
		wantNotModif bool
	}{
		{name: "no validators"},
		{name: "etag only", etag: `"v1"`, wantINM: `"v1"`, wantNotModif: true},
		{name: "last-modified only", lm: "Mon, 16 Oct 2017 10:00:00 GMT", wantIMS: "Mon, 16 Oct 2017 10:00:00 GMT", wantNotModif: true},
		{name: "both", etag: `W/"v2"`, lm: "Mon, 16 Oct 2017 10:00:00 GMT", wantINM: `W/"v2"`, wantIMS: "Mon, 16 Oct 2017 10:00:00 GMT", wantNotModif: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got http.Header
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Clone()
				if r.Method != http.MethodGet {
					t.Errorf("method: got %v, want GET", r.Method)
				}
				if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Header().Set("ETag", `"new"`)
				fmt.Fprint(w, "<rss/>")
			}))
			f := newFetcher(t, fetch.Config{UserAgent: "test-agent/2"})
			resp, err := f.Fetch(t.Context(), fetch.Request{URL: srv.URL, ETag: tt.etag, LastModified: tt.lm})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if ua := got.Get("User-Agent"); ua != "test-agent/2" {
				t.Errorf("User-Agent: got %q, want %q", ua, "test-agent/2")
			}
			if a := got.Get("Accept"); !strings.HasPrefix(a, "application/rss+xml") || !strings.Contains(a, "text/html") {
				t.Errorf("Accept: got %q, want feeds first and HTML", a)
			}
			if ae := got.Get("Accept-Encoding"); ae != "gzip" {
				t.Errorf("Accept-Encoding: got %q, want %q (added by the transport)", ae, "gzip")
			}
			if v := got.Get("If-None-Match"); v != tt.wantINM {
				t.Errorf("If-None-Match: got %q, want %q", v, tt.wantINM)
			}
			if v := got.Get("If-Modified-Since"); v != tt.wantIMS {
				t.Errorf("If-Modified-Since: got %q, want %q", v, tt.wantIMS)
			}
			if resp.NotModified != tt.wantNotModif {
				t.Errorf("NotModified: got %v, want %v", resp.NotModified, tt.wantNotModif)
			}
		})
	}
}

func TestFetchDefaultUserAgent(t *testing.T) {
	var ua string
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua = r.UserAgent()
	}))
	if _, err := newFetcher(t, fetch.Config{}).Fetch(t.Context(), fetch.Request{URL: srv.URL}); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if ua != fetch.DefaultUserAgent {
		t.Errorf("User-Agent: got %q, want %q", ua, fetch.DefaultUserAgent)
	}
}

func TestFetchOKReturnsBodyAndValidators(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Header().Set("ETag", `"abc"`)
		w.Header().Set("Last-Modified", "Tue, 17 Oct 2017 08:00:00 GMT")
		fmt.Fprint(w, "<rss>feed</rss>")
	}))
	resp, err := newFetcher(t, fetch.Config{}).Fetch(t.Context(), fetch.Request{URL: srv.URL + "/feed"})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	want := fetch.Response{
		Body:         []byte("<rss>feed</rss>"),
		ContentType:  "application/rss+xml; charset=utf-8",
		ETag:         `"abc"`,
		LastModified: "Tue, 17 Oct 2017 08:00:00 GMT",
		FinalURL:     srv.URL + "/feed",
		Status:       http.StatusOK,
	}
	if resp.NotModified || !bytes.Equal(resp.Body, want.Body) || resp.ContentType != want.ContentType ||
		resp.ETag != want.ETag || resp.LastModified != want.LastModified || resp.FinalURL != want.FinalURL ||
		resp.Status != want.Status {
		t.Errorf("got %+v, want %+v", *resp, want)
	}
}

func TestFetchNotModified(t *testing.T) {
	tests := []struct {
		name        string
		header      map[string]string
		wantETag    string
		wantLastMod string
	}{
		{name: "validators carried over", wantETag: `"v1"`, wantLastMod: "Mon, 16 Oct 2017 10:00:00 GMT"},
		{name: "server refreshes etag", header: map[string]string{"ETag": `"v2"`}, wantETag: `"v2"`, wantLastMod: "Mon, 16 Oct 2017 10:00:00 GMT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("If-None-Match") != `"v1"` {
					t.Errorf("If-None-Match: got %q, want %q", r.Header.Get("If-None-Match"), `"v1"`)
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(http.StatusNotModified)
			}))
			resp, err := newFetcher(t, fetch.Config{}).Fetch(t.Context(), fetch.Request{
				URL: srv.URL, ETag: `"v1"`, LastModified: "Mon, 16 Oct 2017 10:00:00 GMT",
			})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if !resp.NotModified || resp.Status != http.StatusNotModified || resp.Body != nil {
				t.Errorf("got NotModified=%v Status=%d Body=%q, want true 304 nil", resp.NotModified, resp.Status, resp.Body)
			}
			if resp.ETag != tt.wantETag || resp.LastModified != tt.wantLastMod {
				t.Errorf("validators: got %q %q, want %q %q", resp.ETag, resp.LastModified, tt.wantETag, tt.wantLastMod)
			}
		})
	}
}

func TestFetchBodyCap(t *testing.T) {
	const limit = 1 << 10
	tests := []struct {
		name    string
		size    int
		chunked bool // no Content-Length: the cap must hold while reading
		wantErr bool
	}{
		{name: "just under", size: limit - 1},
		{name: "exactly", size: limit},
		{name: "just over", size: limit + 1, wantErr: true},
		{name: "far over", size: 50 * limit, wantErr: true},
		{name: "chunked exactly", size: limit, chunked: true},
		{name: "chunked just over", size: limit + 1, chunked: true, wantErr: true},
		{name: "empty", size: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := bytes.Repeat([]byte("x"), tt.size)
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.chunked {
					w.(http.Flusher).Flush()
				} else {
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				}
				w.Write(body)
			}))
			resp, err := newFetcher(t, fetch.Config{MaxBodyBytes: limit}).Fetch(t.Context(), fetch.Request{URL: srv.URL})
			if tt.wantErr {
				if !errors.Is(err, fetch.ErrBodyTooLarge) {
					t.Fatalf("got %v, want ErrBodyTooLarge", err)
				}
				want := "fetch " + srv.URL + ": response too large: body exceeds 1 KiB"
				if err.Error() != want {
					t.Errorf("got %q, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if len(resp.Body) != tt.size {
				t.Errorf("body length: got %d, want %d", len(resp.Body), tt.size)
			}
		})
	}
}

func TestFetchDefaultBodyCapInWords(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(fetch.DefaultMaxBodyBytes+1))
		// The fetcher must refuse on Content-Length without reading.
	}))
	_, err := newFetcher(t, fetch.Config{}).Fetch(t.Context(), fetch.Request{URL: srv.URL})
	if !errors.Is(err, fetch.ErrBodyTooLarge) || !strings.Contains(err.Error(), "body exceeds 10 MiB") {
		t.Errorf("got %v, want ErrBodyTooLarge saying \"body exceeds 10 MiB\"", err)
	}
}

func gzipBytes(t testing.TB, p []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFetchGzip(t *testing.T) {
	const limit = 4 << 10
	tests := []struct {
		name    string
		plain   []byte
		wantErr error
	}{
		{name: "decoded", plain: []byte("<rss><channel><title>Embassy</title></channel></rss>")},
		// A small compressed body that inflates past the cap: the cap
		// counts decoded bytes.
		{name: "bomb", plain: bytes.Repeat([]byte{0}, 100*limit), wantErr: fetch.ErrBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gz := gzipBytes(t, tt.plain)
			if len(gz) > limit {
				t.Fatalf("compressed fixture is %d bytes, want it under the %d cap", len(gz), limit)
			}
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
					t.Errorf("Accept-Encoding: got %q, want gzip", r.Header.Get("Accept-Encoding"))
				}
				w.Header().Set("Content-Encoding", "gzip")
				w.Header().Set("Content-Type", "application/rss+xml")
				w.Write(gz)
			}))
			resp, err := newFetcher(t, fetch.Config{MaxBodyBytes: limit}).Fetch(t.Context(), fetch.Request{URL: srv.URL})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if !bytes.Equal(resp.Body, tt.plain) {
				t.Errorf("body: got %q, want %q", resp.Body, tt.plain)
			}
		})
	}
}

func TestFetchRedirects(t *testing.T) {
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/mid", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/mid", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new?page=1", http.StatusFound)
	})
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) {
		if r.UserAgent() != "ua" {
			t.Errorf("User-Agent after redirect: got %q, want %q", r.UserAgent(), "ua")
		}
		fmt.Fprint(w, "final")
	})
	mux.HandleFunc("/ftp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://example.com/feed", http.StatusFound)
	})
	srv := newServer(t, mux)

	t.Run("final URL reported", func(t *testing.T) {
		resp, err := newFetcher(t, fetch.Config{UserAgent: "ua"}).Fetch(t.Context(), fetch.Request{URL: srv.URL + "/old"})
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if want := srv.URL + "/new?page=1"; resp.FinalURL != want {
			t.Errorf("FinalURL: got %q, want %q", resp.FinalURL, want)
		}
		if string(resp.Body) != "final" {
			t.Errorf("body: got %q, want %q", resp.Body, "final")
		}
	})
	t.Run("loop", func(t *testing.T) {
		hits.Store(0)
		_, err := newFetcher(t, fetch.Config{MaxRedirects: 5}).Fetch(t.Context(), fetch.Request{URL: srv.URL + "/loop"})
		if !errors.Is(err, fetch.ErrTooManyRedirects) {
			t.Fatalf("got %v, want ErrTooManyRedirects", err)
		}
		if got := hits.Load(); got != 6 {
			t.Errorf("requests: got %d, want 6 (the first and 5 redirects)", got)
		}
		if !strings.HasPrefix(err.Error(), "fetch "+srv.URL+"/loop: too many redirects") {
			t.Errorf("message: got %q", err)
		}
	})
	t.Run("none followed", func(t *testing.T) {
		_, err := newFetcher(t, fetch.Config{MaxRedirects: -1}).Fetch(t.Context(), fetch.Request{URL: srv.URL + "/old"})
		if !errors.Is(err, fetch.ErrTooManyRedirects) {
			t.Errorf("got %v, want ErrTooManyRedirects", err)
		}
	})
	t.Run("to non-http scheme", func(t *testing.T) {
		_, err := newFetcher(t, fetch.Config{}).Fetch(t.Context(), fetch.Request{URL: srv.URL + "/ftp"})
		if !errors.Is(err, fetch.ErrUnsupportedScheme) {
			t.Errorf("got %v, want ErrUnsupportedScheme", err)
		}
	})
}

func TestFetchStatusErrors(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		code       int
		retryAfter string
		want       time.Duration
		wantMsg    string
	}{
		{name: "404", code: 404, wantMsg: "status 404 Not Found"},
		{name: "500", code: 500, wantMsg: "status 500 Internal Server Error"},
		{name: "500 ignores Retry-After", code: 500, retryAfter: "60", wantMsg: "status 500 Internal Server Error"},
		{name: "429 no header", code: 429, wantMsg: "status 429 Too Many Requests"},
		{name: "429 seconds", code: 429, retryAfter: "120", want: 2 * time.Minute, wantMsg: "status 429 Too Many Requests (retry after 2m0s)"},
		{name: "429 date", code: 429, retryAfter: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second, wantMsg: "(retry after 1m30s)"},
		{name: "429 garbage", code: 429, retryAfter: "soon", wantMsg: "status 429 Too Many Requests"},
		{name: "503 no header", code: 503, wantMsg: "status 503 Service Unavailable"},
		{name: "503 seconds", code: 503, retryAfter: "120", want: 2 * time.Minute, wantMsg: "status 503 Service Unavailable (retry after 2m0s)"},
		{name: "503 date", code: 503, retryAfter: now.Add(time.Hour).Format(http.TimeFormat), want: time.Hour, wantMsg: "(retry after 1h0m0s)"},
		{name: "503 date in past", code: 503, retryAfter: now.Add(-time.Hour).Format(http.TimeFormat), wantMsg: "status 503 Service Unavailable"},
		{name: "unknown code", code: 599, wantMsg: "status 599"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.code)
				fmt.Fprint(w, "error page")
			}))
			f := newFetcher(t, fetch.Config{Now: func() time.Time { return now }})
			resp, err := f.Fetch(t.Context(), fetch.Request{URL: srv.URL + "/x"})
			if resp != nil {
				t.Errorf("response: got %+v, want nil", resp)
			}
			var se *fetch.StatusError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want *StatusError", err)
			}
			if se.Code != tt.code || se.URL != srv.URL+"/x" || se.RetryAfter != tt.want {
				t.Errorf("got %+v, want code %d url %s retry after %v", *se, tt.code, srv.URL+"/x", tt.want)
			}
			d, ok := fetch.RetryAfter(err)
			if d != tt.want || ok != (tt.want > 0) {
				t.Errorf("RetryAfter: got %v %v, want %v %v", d, ok, tt.want, tt.want > 0)
			}
			if !strings.HasPrefix(err.Error(), "fetch "+srv.URL+"/x: ") || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("message: got %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestStatusErrorMessage(t *testing.T) {
	err := fmt.Errorf("poller: %w", &fetch.StatusError{URL: "https://x", Code: 503, RetryAfter: 2 * time.Minute})
	if got, want := errors.Unwrap(err).Error(), "fetch https://x: status 503 Service Unavailable (retry after 2m0s)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if d, ok := fetch.RetryAfter(err); !ok || d != 2*time.Minute {
		t.Errorf("RetryAfter through wrapping: got %v %v, want 2m0s true", d, ok)
	}
	if _, ok := fetch.RetryAfter(errors.New("other")); ok {
		t.Errorf("RetryAfter of a plain error: got ok, want none")
	}
}

// blockingServer answers only when the client gives up (or the test ends);
// with partial, it first sends headers and some body.
func blockingServer(t *testing.T, partial bool) (srv *httptest.Server, started <-chan struct{}) {
	t.Helper()
	release := make(chan struct{})
	start := make(chan struct{}, 1)
	srv = newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if partial {
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte("<rss>"))
			w.(http.Flusher).Flush()
		}
		select {
		case start <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	// Cleanups run last-in first-out: release the handler before Close
	// waits for it.
	t.Cleanup(func() { close(release) })
	return srv, start
}

func TestFetchTimeout(t *testing.T) {
	for _, partial := range []bool{false, true} {
		t.Run(fmt.Sprintf("partial body %v", partial), func(t *testing.T) {
			srv, _ := blockingServer(t, partial)
			f := newFetcher(t, fetch.Config{Timeout: 100 * time.Millisecond})
			begin := time.Now()
			_, err := f.Fetch(t.Context(), fetch.Request{URL: srv.URL})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v, want context.DeadlineExceeded", err)
			}
			if !strings.Contains(err.Error(), "timed out after 100ms") {
				t.Errorf("message: got %q, want it to say it timed out after 100ms", err)
			}
			// Generous bound: it must not hang, not be precise.
			if el := time.Since(begin); el > 5*time.Second {
				t.Errorf("took %v, want about 100ms", el)
			}
		})
	}
}

func TestFetchContextCancel(t *testing.T) {
	srv, started := blockingServer(t, false)
	f := newFetcher(t, fetch.Config{})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	_, err := f.Fetch(ctx, fetch.Request{URL: srv.URL})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want a cancellation, not a timeout", err)
	}
}

func TestFetchRejectsBadURLs(t *testing.T) {
	tests := []struct {
		url     string
		wantErr error
		wantMsg string
	}{
		{url: "ftp://example.com/feed", wantErr: fetch.ErrUnsupportedScheme, wantMsg: `fetch ftp://example.com/feed: unsupported URL scheme "ftp" (want http or https)`},
		{url: "file:///etc/passwd", wantErr: fetch.ErrUnsupportedScheme},
		{url: "javascript:alert(1)", wantErr: fetch.ErrUnsupportedScheme},
		{url: "www.rusemb.org.uk/newarh/", wantErr: fetch.ErrUnsupportedScheme},
		{url: "http:///nohost", wantMsg: "no host"},
		{url: "http://user:secret@exa mple.com/", wantMsg: "invalid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := newFetcher(t, fetch.Config{}).Fetch(t.Context(), fetch.Request{URL: tt.url})
			if err == nil {
				t.Fatalf("got nil error, want one")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("message: got %q, want it to contain %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("message leaks credentials: %q", err)
			}
		})
	}
}

func TestFetchErrorsHideCredentials(t *testing.T) {
	var gotUser, gotPass string
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUser, gotPass, _ = r.BasicAuth()
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/redirect", http.StatusFound)
		case "/big":
			w.Write(bytes.Repeat([]byte("x"), 100))
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	withCreds := strings.Replace(srv.URL, "http://", "http://alice:s3cret@", 1)

	// A closed listener's address gives a dial error.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name string
		url  string
	}{
		{name: "status", url: withCreds + "/500"},
		{name: "redirect loop", url: withCreds + "/redirect"},
		{name: "too large", url: withCreds + "/big"},
		{name: "dial", url: "http://alice:s3cret@" + deadAddr + "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFetcher(t, fetch.Config{MaxBodyBytes: 10, MaxRedirects: 1})
			_, err := f.Fetch(t.Context(), fetch.Request{URL: tt.url})
			if err == nil {
				t.Fatal("got nil error, want one")
			}
			if s := err.Error(); strings.Contains(s, "s3cret") || strings.Contains(s, "alice") {
				t.Errorf("message leaks credentials: %q", s)
			}
			var se *fetch.StatusError
			if errors.As(err, &se) && strings.Contains(se.URL, "alice") {
				t.Errorf("StatusError.URL leaks credentials: %q", se.URL)
			}
		})
	}
	// Credentials in the URL are still used, as the operator meant them.
	if gotUser != "alice" || gotPass != "s3cret" {
		t.Errorf("basic auth: got %q %q, want %q %q", gotUser, gotPass, "alice", "s3cret")
	}
}

func TestFinalURLHidesCredentials(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	withCreds := strings.Replace(srv.URL, "http://", "http://alice:s3cret@", 1)
	resp, err := newFetcher(t, fetch.Config{}).Fetch(t.Context(), fetch.Request{URL: withCreds + "/p"})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if want := srv.URL + "/p"; resp.FinalURL != want {
		t.Errorf("FinalURL: got %q, want %q", resp.FinalURL, want)
	}
}

func TestFetchCustomTransport(t *testing.T) {
	var calls atomic.Int32
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return &http.Response{
			StatusCode: http.StatusOK, Header: http.Header{"Etag": {`"t"`}},
			Body: http.NoBody, ContentLength: 0, Request: r,
		}, nil
	})
	resp, err := newFetcher(t, fetch.Config{Transport: rt}).Fetch(t.Context(), fetch.Request{URL: "https://example.invalid/feed"})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if calls.Load() != 1 || resp.ETag != `"t"` {
		t.Errorf("got %d calls, etag %q; want 1 call, etag %q", calls.Load(), resp.ETag, `"t"`)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func BenchmarkFetch(b *testing.B) {
	body := bytes.Repeat([]byte("<item><title>Press release</title></item>\n"), 400) // ~17 KB, a typical list page
	srv := newServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	for _, bc := range []struct {
		name string
		req  fetch.Request
	}{
		{name: "200", req: fetch.Request{URL: srv.URL}},
		{name: "304", req: fetch.Request{URL: srv.URL, ETag: `"v1"`}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := newFetcher(b, fetch.Config{})
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.Fetch(b.Context(), bc.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
