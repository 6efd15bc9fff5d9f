package telegramtest

import (
	"net"
	"strings"
)

// FailEvery makes every call of method answer e, until StopFailing: an
// outage rather than a count of failures, as Telegram answering 500 for a
// minute, refusing the token (401) while it is rotated, or a proxy
// answering 403 for every chat. method "" fails every method. Faults
// queued with Fail are used up first.
func (s *Server) FailEvery(method string, e APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outages[strings.ToLower(method)] = e.withDefaults()
	s.notifyLocked()
}

// StopFailing ends what FailEvery started for method.
func (s *Server) StopFailing(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.outages, strings.ToLower(method))
	s.notifyLocked()
}

// outageLocked returns the answer FailEvery set for a call of name.
func (s *Server) outageLocked(name string) (APIError, bool) {
	if e, ok := s.outages[name]; ok {
		return e, true
	}
	e, ok := s.outages[""]
	return e, ok
}

// DropConnections makes the server unreachable, or reachable again: while
// on, open connections are closed and every new one is closed as soon as
// it is accepted, so that the client fails with a transport error before
// any answer, as when Telegram's host refuses connections. Calls made
// meanwhile are not counted.
func (s *Server) DropConnections(on bool) {
	s.mu.Lock()
	s.dropping = on
	s.mu.Unlock()
	if on && s.srv != nil {
		s.srv.CloseClientConnections()
	}
}

func (s *Server) droppingConnections() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropping
}

// dropListener closes what it accepts while its server drops connections.
type dropListener struct {
	net.Listener
	s *Server
}

func (l dropListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.s.droppingConnections() {
			return c, err
		}
		_ = c.Close()
	}
}
