package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNotPublic means a source on a public address led the fetch (by a
// redirect, or by a host name that now resolves elsewhere) to an address
// that is not public: loopback, private, link-local (cloud metadata),
// shared, multicast or unspecified.
var ErrNotPublic = errors.New("address is not public")

// reach is what one fetch may connect to, carried in its context to the
// dialer, which checks the address actually dialed: a redirect to a name
// that resolves to 127.0.0.1, or a DNS answer that changes between the
// check and the dial, cannot get past it.
type reach struct {
	// private: the source itself is on a non-public address (an intranet
	// site the operator configured), so its fetch may go anywhere.
	private bool
	// proxied: the request goes through HTTP(S)_PROXY, so the dialer sees
	// the proxy's address, not the target's; redirect targets are then
	// checked by their URL only, and the proxy's own policy applies.
	proxied bool
}

type reachKey struct{}

// DefaultNotPublic is the default Config.NotPublic.
func DefaultNotPublic(a netip.Addr) bool {
	a = a.Unmap()
	switch {
	case !a.IsValid(), a.IsUnspecified(), a.IsLoopback(), a.IsPrivate(), a.IsMulticast(),
		a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
		return true
	}
	for _, p := range nonPublicPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return !a.IsGlobalUnicast()
}

// nonPublicPrefixes are the special-purpose ranges netip's predicates do
// not name (RFC 6890 and successors).
var nonPublicPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (carrier NAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
}

// control is the dialer's check of every address it connects to.
func (f *Fetcher) control(ctx context.Context, _, address string, _ syscall.RawConn) error {
	r, _ := ctx.Value(reachKey{}).(reach)
	if r.private || r.proxied || !f.guardDials {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("fetch: dial %s: %w", address, ErrNotPublic)
	}
	if f.notPublic(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrNotPublic, ap.Addr())
	}
	return nil
}

// reachOf decides what a fetch of u may connect to: anywhere when u's host
// is itself not public (every address it resolves to is not), else public
// addresses only.
func (f *Fetcher) reachOf(ctx context.Context, u *url.URL, proxy func(*http.Request) (*url.URL, error)) reach {
	var r reach
	if proxy != nil {
		if p, err := proxy(&http.Request{URL: u}); err == nil && p != nil {
			r.proxied = true
		}
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		r.private = f.notPublic(a)
		return r
	}
	addrs, err := f.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return r // the dial fails, or meets the check
	}
	r.private = true
	for _, a := range addrs {
		r.private = r.private && f.notPublic(a)
	}
	return r
}

// literalNotPublic reports a redirect target that names a non-public
// address outright, for requests whose dials the proxy makes.
func (f *Fetcher) literalNotPublic(u *url.URL) bool {
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		var ok bool
		if a, ok = inetAton(host); !ok {
			return false
		}
	}
	return f.notPublic(a)
}

// inetAton reads an IPv4 address in the forms the C library's inet_aton
// accepts and netip does not (2130706433, 0x7f.1, 0177.0.0.1, 127.1): a
// proxy that resolves with it would take such a name for the address.
func inetAton(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 0, 32) // base from the prefix: 0x hex, 0 octal
		if err != nil || strings.Contains(p, "_") {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	// The last part fills the bytes the others leave.
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	ip := last
	for i, v := range vals[:len(vals)-1] {
		if v > 0xff {
			return netip.Addr{}, false
		}
		ip |= v << (24 - 8*i)
	}
	return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}), true
}

// newDialer returns the dialer of the default transport, which checks each
// address it connects to.
func (f *Fetcher) newDialer() *net.Dialer {
	return &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, ControlContext: f.control}
}
