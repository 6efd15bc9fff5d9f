package telegramtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// updateRetention is how long Telegram keeps an update nobody fetched.
const updateRetention = 24 * time.Hour

// defaultExcluded are the update types Telegram sends only when
// allowed_updates names them.
var defaultExcluded = []string{"chat_member", "message_reaction", "message_reaction_count"}

type queuedUpdate struct {
	update  *wireUpdate
	created time.Time
}

// webhookState is a set webhook.
type webhookState struct {
	url            string
	secret         string
	maxConnections int
}

// webhookStatus is what getWebhookInfo reports about deliveries.
type webhookStatus struct {
	lastErrorDate    time.Time
	lastErrorMessage string
	dropped          int
}

// allowsLocked tells whether updates of kind are created under the current
// allowed_updates setting. As in Telegram the setting filters when an update
// is made, so updates made before a change still arrive.
func (s *Server) allowsLocked(kind string) bool {
	if len(s.allowed) == 0 {
		return !slices.Contains(defaultExcluded, kind)
	}
	return slices.Contains(s.allowed, kind)
}

// enqueueLocked gives u the next update id and queues it for getUpdates or
// the webhook. It returns 0, creating nothing, for a type the bot's
// allowed_updates leaves out.
func (s *Server) enqueueLocked(u *wireUpdate) int64 {
	defer s.notifyLocked()
	if !s.allowsLocked(u.kind()) {
		return 0
	}
	u.UpdateID = s.nextUpdateID
	s.nextUpdateID++
	s.queue = append(s.queue, queuedUpdate{update: u, created: s.now()})
	return u.UpdateID
}

// Pending is how many updates wait for the bot: not yet confirmed through
// getUpdates' offset, or not yet accepted by the webhook.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked()
	return len(s.queue)
}

func (s *Server) expireLocked() {
	cutoff := s.now().Add(-updateRetention)
	i := 0
	for i < len(s.queue) && s.queue[i].created.Before(cutoff) {
		i++
	}
	if i > 0 {
		s.queue = slices.Delete(s.queue, 0, i)
	}
}

// parseAllowedUpdates reads allowed_updates; absent or null keeps the
// previous setting (ok false).
func parseAllowedUpdates(p params) ([]string, bool, *APIError) {
	var list []string
	ok, err := p.json("allowed_updates", &list)
	if err != nil {
		return nil, false, errBadRequest(descAllowedUpdates)
	}
	return list, ok, nil
}

func (s *Server) getUpdates(ctx context.Context, p params) (any, *APIError) {
	offset := p.int64("offset")
	limit := p.int("limit")
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout := max(time.Duration(p.int64("timeout"))*time.Second, 0)
	allowed, setAllowed, apiErr := parseAllowedUpdates(p)
	if apiErr != nil {
		return nil, apiErr
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webhook != nil {
		return nil, &APIError{Code: 409, Description: descConflictWebhook}
	}
	if setAllowed {
		s.allowed = allowed
	}
	s.pollGen++
	gen := s.pollGen
	s.notifyLocked() // an earlier poll still waiting now loses with 409
	s.confirmLocked(offset)

	var timer *time.Timer
	if timeout > 0 {
		timer = time.NewTimer(timeout)
		defer timer.Stop()
	}
	for {
		if s.pollGen != gen {
			return nil, &APIError{Code: 409, Description: descConflictPoll}
		}
		if s.webhook != nil {
			return nil, &APIError{Code: 409, Description: descConflictWebhook}
		}
		s.expireLocked()
		if len(s.queue) > 0 || timer == nil {
			out := make([]*wireUpdate, 0, min(limit, len(s.queue)))
			for _, q := range s.queue[:min(limit, len(s.queue))] {
				out = append(out, q.update)
			}
			return out, nil
		}
		s.polling++
		s.notifyLocked()
		ch := s.changed
		s.mu.Unlock()
		var done bool
		select {
		case <-ch:
		case <-timer.C:
			timer = nil
		case <-ctx.Done():
			done = true
		case <-s.stop:
			done = true
		}
		s.mu.Lock()
		s.polling--
		s.notifyLocked()
		if done {
			return []*wireUpdate{}, nil
		}
	}
}

// confirmLocked applies getUpdates' offset: a positive offset forgets every
// update before it for good; a negative one keeps only the last -offset.
func (s *Server) confirmLocked(offset int64) {
	switch {
	case offset > 0:
		i := 0
		for i < len(s.queue) && s.queue[i].update.UpdateID < offset {
			i++
		}
		s.queue = slices.Delete(s.queue, 0, i)
	case offset < 0:
		if keep := int(-offset); keep < len(s.queue) {
			s.queue = slices.Delete(s.queue, 0, len(s.queue)-keep)
		}
	}
}

// WaitPolling blocks until a getUpdates long poll is waiting for updates,
// so a test knows the bot is ready to receive.
func (s *Server) WaitPolling(ctx context.Context) error {
	return s.WaitFor(ctx, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.polling > 0
	})
}

var secretTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)

func (s *Server) setWebhook(_ context.Context, p params) (any, *APIError) {
	raw := strings.TrimSpace(p["url"])
	if raw == "" {
		return s.removeWebhook(p.bool("drop_pending_updates"))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, errBadRequest(descWebhookURL)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		switch u.Port() {
		case "", "443", "80", "88", "8443":
		default:
			return nil, errBadRequest(descWebhookPort)
		}
	case "http":
		// The fake takes plain HTTP on loopback, where tests run their
		// receivers; Telegram takes HTTPS only.
		if ip := net.ParseIP(u.Hostname()); !(u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()) {
			return nil, errBadRequest(descWebhookHTTPS)
		}
	default:
		return nil, errBadRequest(descWebhookHTTPS)
	}
	secret := p["secret_token"]
	if len(secret) > 256 {
		return nil, errBadRequest(descSecretTooLong)
	}
	if !secretTokenRE.MatchString(secret) {
		return nil, errBadRequest(descSecretToken)
	}
	maxConn := 40
	if p.has("max_connections") {
		maxConn = min(max(p.int("max_connections"), 1), 100)
	}
	allowed, setAllowed, apiErr := parseAllowedUpdates(p)
	if apiErr != nil {
		return nil, apiErr
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	next := &webhookState{url: raw, secret: secret, maxConnections: maxConn}
	desc := "Webhook was set"
	if s.webhook != nil && *s.webhook == *next && !setAllowed {
		desc = "Webhook is already set"
	}
	s.webhook = next
	s.webhookInfo = webhookStatus{}
	if setAllowed {
		s.allowed = allowed
	}
	if p.bool("drop_pending_updates") {
		s.queue = nil
	}
	s.notifyLocked()
	return described{result: true, description: desc}, nil
}

func (s *Server) deleteWebhook(_ context.Context, p params) (any, *APIError) {
	return s.removeWebhook(p.bool("drop_pending_updates"))
}

func (s *Server) removeWebhook(dropPending bool) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	desc := "Webhook is already deleted"
	if s.webhook != nil {
		desc = "Webhook was deleted"
	}
	s.webhook = nil
	if dropPending {
		s.queue = nil
	}
	s.notifyLocked()
	return described{result: true, description: desc}, nil
}

func (s *Server) getWebhookInfo(context.Context, params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked()
	info := wireWebhookInfo{PendingUpdateCount: len(s.queue)}
	if s.webhook != nil {
		info.URL = s.webhook.url
		info.MaxConnections = s.webhook.maxConnections
		info.AllowedUpdates = s.allowed
		if !s.webhookInfo.lastErrorDate.IsZero() {
			info.LastErrorDate = s.webhookInfo.lastErrorDate.Unix()
			info.LastErrorMessage = s.webhookInfo.lastErrorMessage
		}
	}
	return info, nil
}

// WebhookDropped is how many updates were given up on after the webhook
// refused every attempt.
func (s *Server) WebhookDropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookInfo.dropped
}

// deliverWebhooks posts queued updates to the webhook, oldest first, one at
// a time, retrying refusals with a doubling pause and dropping an update
// after WebhookAttempts refusals, as Telegram gives up "after a reasonable
// amount of attempts". It runs until Close.
func (s *Server) deliverWebhooks() {
	defer s.wg.Done()
	failures := 0
	for {
		s.mu.Lock()
		for s.webhook == nil || len(s.queue) == 0 {
			ch := s.changed
			s.mu.Unlock()
			select {
			case <-ch:
			case <-s.stop:
				return
			}
			s.mu.Lock()
		}
		u, wh := s.queue[0].update, *s.webhook
		s.mu.Unlock()

		err := s.postUpdate(wh, u)

		s.mu.Lock()
		if err == nil {
			failures = 0
			s.removeQueuedLocked(u.UpdateID)
			s.notifyLocked()
			s.mu.Unlock()
			continue
		}
		failures++
		s.webhookInfo.lastErrorDate = s.now()
		s.webhookInfo.lastErrorMessage = err.Error()
		if failures >= s.opts.WebhookAttempts {
			failures = 0
			s.webhookInfo.dropped++
			s.removeQueuedLocked(u.UpdateID)
		}
		s.notifyLocked()
		s.mu.Unlock()
		if failures == 0 {
			continue
		}
		t := time.NewTimer(s.opts.WebhookRetryDelay << min(failures-1, 10))
		select {
		case <-t.C:
		case <-s.stop:
			t.Stop()
			return
		}
	}
}

func (s *Server) removeQueuedLocked(id int64) {
	s.queue = slices.DeleteFunc(s.queue, func(q queuedUpdate) bool { return q.update.UpdateID == id })
}

// postUpdate offers one update to the webhook. An error's text is what
// getWebhookInfo shows as last_error_message. A JSON answer naming a
// "method" is run as a Bot API call, as Telegram does.
func (s *Server) postUpdate(wh webhookState, u *wireUpdate) error {
	body, err := marshalJSON(u)
	if err != nil {
		return fmt.Errorf("telegramtest: encoding update: %w", err)
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, wh.url, bytes.NewReader(body))
	if err != nil {
		return errors.New("Failed to resolve host: Name or service not known")
	}
	req.Header.Set("Content-Type", "application/json")
	if wh.secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", wh.secret)
	}
	resp, err := s.webhookHC.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return errors.New("Connection refused")
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return errors.New("Read timeout expired")
		}
		return errors.New("Connection reset by peer")
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("Wrong response from the webhook: %s", resp.Status)
	}
	s.runWebhookAnswer(resp.Header.Get("Content-Type"), answer)
	return nil
}

// runWebhookAnswer runs the method call a webhook may put in its answer.
// Its result goes nowhere, as in Telegram.
func (s *Server) runWebhookAnswer(contentType string, answer []byte) {
	if mt, _, _ := mime.ParseMediaType(contentType); mt != "application/json" || len(bytes.TrimSpace(answer)) == 0 {
		return
	}
	p := params{}
	if err := p.mergeJSON(answer); err != nil {
		return
	}
	method := p["method"]
	if method == "" {
		return
	}
	delete(p, "method")
	_, _ = s.invoke(s.ctx, method, p)
}
