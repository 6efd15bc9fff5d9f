// Package fetch owns the HTTP side of polling a bulletin source: one polite,
// bounded GET per poll with conditional validators, a capped body, a limited
// redirect chain and a hard deadline, plus the retry policy (Retry-After and
// capped exponential backoff) a failing source is polled again under.
//
// It knows nothing about feeds or HTML: it hands back bytes and validators.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxBodyBytes = 10 << 20
	DefaultMaxRedirects = 5
	DefaultUserAgent    = "bulletinbot/1.0 (+https://github.com/bulletinbot/bulletinbot)"
)

// accept prefers the feed formats, then HTML list pages, but takes anything:
// a source that mislabels its feed should still be parsed by content.
const accept = "application/rss+xml, application/atom+xml, application/feed+json, " +
	"application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.9, " +
	"text/html;q=0.8, application/xhtml+xml;q=0.8, */*;q=0.5"

// errorBodyDrain is how much of a non-2xx body is read and thrown away so the
// connection can be reused without reading an arbitrarily large error page.
const errorBodyDrain = 4 << 10

// Config tunes a Fetcher. The zero value is usable.
type Config struct {
	// Timeout bounds the whole request: connect, headers and body.
	// Default 30s.
	Timeout time.Duration
	// MaxBodyBytes caps the decoded response body. Default 10 MiB.
	MaxBodyBytes int64
	// MaxRedirects is how many redirects are followed. Default 5; a negative
	// value follows none (any redirect is then ErrTooManyRedirects).
	MaxRedirects int
	// UserAgent is sent with every request. Default DefaultUserAgent.
	UserAgent string
	// Transport performs the requests. Default: a clone of
	// http.DefaultTransport with dial, TLS and response-header timeouts,
	// whose dialer refuses non-public addresses to sources on public ones.
	// A custom transport must handle gzip itself if it wants it; with one,
	// only redirect targets that name a non-public address are refused.
	Transport http.RoundTripper
	// NotPublic reports an address that a source on a public address may
	// not reach, directly, by a redirect or by a DNS answer that changed.
	// Default: loopback, private, link-local (cloud metadata), shared,
	// multicast, unspecified and the other special-purpose ranges.
	NotPublic func(netip.Addr) bool
	// Now is the clock an HTTP-date Retry-After is measured against.
	// Default time.Now.
	Now func() time.Time
}

// Fetcher fetches sources. It is safe for concurrent use.
type Fetcher struct {
	// client fetches sources on public addresses, privateClient those on
	// other ones: their connection pools stay apart, so a connection a
	// private source opened is never reused for a public one's redirect.
	client, privateClient *http.Client
	notPublic             func(netip.Addr) bool
	resolver              *net.Resolver
	proxy                 func(*http.Request) (*url.URL, error)
	guardDials            bool
	timeout               time.Duration
	maxBody               int64
	maxRedirects          int
	userAgent             string
	now                   func() time.Time
}

// New returns a Fetcher with its own http.Client (never http.DefaultClient,
// whose lack of timeouts and shared state we do not want).
func New(cfg Config) *Fetcher {
	f := &Fetcher{
		timeout:      cfg.Timeout,
		maxBody:      cfg.MaxBodyBytes,
		maxRedirects: cfg.MaxRedirects,
		userAgent:    cfg.UserAgent,
		now:          cfg.Now,
		notPublic:    cfg.NotPublic,
		resolver:     net.DefaultResolver,
	}
	if f.notPublic == nil {
		f.notPublic = DefaultNotPublic
	}
	if f.timeout <= 0 {
		f.timeout = DefaultTimeout
	}
	if f.maxBody <= 0 {
		f.maxBody = DefaultMaxBodyBytes
	}
	if f.maxRedirects == 0 {
		f.maxRedirects = DefaultMaxRedirects
	}
	if f.userAgent == "" {
		f.userAgent = DefaultUserAgent
	}
	if f.now == nil {
		f.now = time.Now
	}
	public, private := cfg.Transport, cfg.Transport
	if cfg.Transport == nil {
		t := newTransport(f.timeout, f.newDialer())
		public, private, f.proxy, f.guardDials = t, newTransport(f.timeout, f.newDialer()), t.Proxy, true
	}
	f.client = &http.Client{Transport: public, CheckRedirect: f.checkRedirect}
	f.privateClient = &http.Client{Transport: private, CheckRedirect: f.checkRedirect}
	return f
}

func newTransport(timeout time.Duration, d *net.Dialer) *http.Transport {
	var t *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	} else {
		// Someone replaced the default; start from the same settings.
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}
	}
	t.DialContext = d.DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	// The request deadline already covers this; it is a backstop, set
	// later so that the deadline, with its clearer error, always wins.
	t.ResponseHeaderTimeout = timeout + 5*time.Second
	t.ExpectContinueTimeout = time.Second
	t.IdleConnTimeout = 90 * time.Second
	t.MaxIdleConnsPerHost = 4
	return t
}

// CloseIdleConnections closes kept-alive connections, for a clean shutdown.
func (f *Fetcher) CloseIdleConnections() {
	f.client.CloseIdleConnections()
	f.privateClient.CloseIdleConnections()
}

// Request is one fetch of a source. ETag and LastModified are the validators
// from the source's last full response; empty ones are not sent.
type Request struct {
	URL          string
	ETag         string
	LastModified string
}

// Response is a successful (2xx) or not-modified (304) fetch.
type Response struct {
	// NotModified reports a 304: Body is nil and the caller's copy stands.
	NotModified bool
	Body        []byte
	ContentType string
	// ETag and LastModified are the validators to send next time. On a 304
	// that omits them, the request's are carried over.
	ETag         string
	LastModified string
	// FinalURL is the URL after redirects, without userinfo; relative links
	// in Body resolve against it.
	FinalURL string
	Status   int
}

// Fetch performs one conditional GET. Errors name the URL as redact.URL
// shows it.
// A non-2xx, non-304 status is a *StatusError; a body over the cap wraps
// ErrBodyTooLarge; a redirect chain over the limit wraps ErrTooManyRedirects;
// running past Config.Timeout wraps context.DeadlineExceeded.
func (f *Fetcher) Fetch(ctx context.Context, req Request) (*Response, error) {
	u, err := parseURL(req.URL)
	if err != nil {
		return nil, err
	}
	safe := shown(u)

	reqCtx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	r := f.reachOf(reqCtx, u, f.proxy)
	reqCtx = context.WithValue(reqCtx, reachKey{}, r)
	client := f.client
	if r.private {
		client = f.privateClient
	}
	hreq, err := http.NewRequestWithContext(reqCtx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: building request: %w", safe, unwrapURLError(err))
	}
	hreq.Header.Set("User-Agent", f.userAgent)
	hreq.Header.Set("Accept", accept)
	if req.ETag != "" {
		hreq.Header.Set("If-None-Match", req.ETag)
	}
	if req.LastModified != "" {
		hreq.Header.Set("If-Modified-Since", req.LastModified)
	}

	resp, err := client.Do(hreq)
	if err != nil {
		return nil, f.requestError(ctx, reqCtx, safe, "", err)
	}
	defer resp.Body.Close()

	out := &Response{
		Status:       resp.StatusCode,
		ContentType:  resp.Header.Get("Content-Type"),
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		FinalURL:     withoutUserinfo(resp.Request.URL),
	}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		out.NotModified = true
		if out.ETag == "" {
			out.ETag = req.ETag
		}
		if out.LastModified == "" {
			out.LastModified = req.LastModified
		}
		return out, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		_, _ = io.CopyN(io.Discard, resp.Body, errorBodyDrain)
		se := &StatusError{URL: safe, Code: resp.StatusCode}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), f.now()); ok {
				se.RetryAfter = d
			}
		}
		return nil, se
	}

	if resp.ContentLength > f.maxBody {
		return nil, f.tooLarge(safe)
	}
	body, err := readBody(resp.Body, resp.ContentLength, f.maxBody)
	if errors.Is(err, errOverLimit) {
		return nil, f.tooLarge(safe)
	}
	if err != nil {
		return nil, f.requestError(ctx, reqCtx, safe, "reading body: ", err)
	}
	out.Body = body
	return out, nil
}

func (f *Fetcher) tooLarge(safe string) error {
	return fmt.Errorf("fetch %s: %w: body exceeds %s", safe, ErrBodyTooLarge, formatSize(f.maxBody))
}

// requestError turns a transport or body error into one that names the URL
// without credentials and says plainly whether the fetch timed out.
func (f *Fetcher) requestError(parent, reqCtx context.Context, safe, what string, err error) error {
	err = unwrapURLError(err)
	switch {
	case parent.Err() != nil:
		// The caller gave up (or its own deadline passed): report its reason.
		return fmt.Errorf("fetch %s: %s%w", safe, what, context.Cause(parent))
	case errors.Is(reqCtx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("fetch %s: %stimed out after %s: %w", safe, what, f.timeout, context.DeadlineExceeded)
	case isTimeout(err):
		return fmt.Errorf("fetch %s: %stimed out: %w", safe, what, err)
	default:
		return fmt.Errorf("fetch %s: %s%w", safe, what, err)
	}
}

func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if f.maxRedirects < 0 || len(via) > f.maxRedirects {
		return fmt.Errorf("%w: stopped after %d, next was %s", ErrTooManyRedirects, len(via)-1, shown(req.URL))
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return fmt.Errorf("redirect to %s: %w %q (want http or https)", shown(req.URL), ErrUnsupportedScheme, s)
	}
	// The dialer checks the address each redirect connects to; where it
	// cannot (a proxy dials, or a custom transport), the target's name is
	// checked here.
	if r, _ := req.Context().Value(reachKey{}).(reach); !r.private && (r.proxied || !f.guardDials) && f.literalNotPublic(req.URL) {
		return fmt.Errorf("redirect to %s: %w", shown(req.URL), ErrNotPublic)
	}
	return nil
}

var errOverLimit = errors.New("over limit")

// readBody reads at most max bytes, sized up front from Content-Length when
// the server sent one, and reports errOverLimit if there is more.
func readBody(r io.Reader, contentLength, max int64) ([]byte, error) {
	size := int64(512)
	if contentLength >= 0 {
		// One spare byte so a body of exactly Content-Length hits EOF
		// without growing the buffer.
		size = min(contentLength, max) + 1
	}
	buf := make([]byte, 0, size)
	lr := io.LimitReader(r, max+1)
	for {
		if len(buf) == cap(buf) {
			// Doubling, capped at the limit, allocates at most twice the
			// limit in all; append's gentler growth for large slices would
			// allocate five times a 10 MiB body on the way.
			buf = slices.Grow(buf, int(min(int64(cap(buf)), max+1-int64(cap(buf)))+1))
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(buf)) > max {
		return nil, errOverLimit
	}
	return buf, nil
}

func unwrapURLError(err error) error {
	// *url.Error repeats the URL, credentials included; we name it ourselves.
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// formatSize says a byte count the way a person would set it.
func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n == 1:
		return "1 byte"
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
