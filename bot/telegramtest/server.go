package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a Server. The zero value gives Telegram's defaults.
type Options struct {
	// Token is the bot token; requests with another token get 401.
	// Default "123456:TEST-TOKEN". The bot's user id is the part before ":".
	Token string
	// BotUsername is the bot's username, without "@". Default "bulletin_test_bot".
	BotUsername string
	// GlobalRate is the limit of messages per second over all chats
	// (a token bucket with a burst of the same size). Default 30; <0 disables.
	GlobalRate float64
	// PerChatInterval is the refill interval of each private chat's bucket.
	// Default 1s; <0 disables the per-chat limit.
	PerChatInterval time.Duration
	// PerChatBurst is the size of each private chat's bucket. Default 3.
	PerChatBurst int
	// GroupPerMinute is the limit of messages to one group, supergroup or
	// channel in any sliding minute. Default 20; <0 disables.
	GroupPerMinute int
	// Now is the clock for rate limits, message dates, the 48-hour deletion
	// window and the 24-hour update retention. Default time.Now.
	Now func() time.Time
	// ReadAllGroupMessages turns the bot's privacy mode off. With privacy
	// mode on, Telegram's default, a bot in a group sees only commands,
	// mentions of itself and replies to its own messages.
	ReadAllGroupMessages bool
	// LenientHTML makes HTML parsing exactly Telegram's: a stray "&" or an
	// unknown entity such as "&nbsp;" is shown as typed. By default the fake
	// rejects them, to catch text the bot forgot to escape.
	LenientHTML bool
	// WebhookRetryDelay is the first pause before Telegram re-sends an update
	// its webhook refused; the pause doubles on each attempt. Default 50ms.
	WebhookRetryDelay time.Duration
	// WebhookAttempts is how many times an update is offered to the webhook
	// before Telegram gives up on it and drops it. Default 5.
	WebhookAttempts int
}

func (o Options) withDefaults() Options {
	if o.Token == "" {
		o.Token = "123456:TEST-TOKEN"
	}
	if o.BotUsername == "" {
		o.BotUsername = "bulletin_test_bot"
	}
	if o.GlobalRate == 0 {
		o.GlobalRate = 30
	}
	if o.PerChatInterval == 0 {
		o.PerChatInterval = time.Second
	}
	if o.PerChatBurst <= 0 {
		o.PerChatBurst = 3
	}
	if o.GroupPerMinute == 0 {
		o.GroupPerMinute = 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.WebhookRetryDelay <= 0 {
		o.WebhookRetryDelay = 50 * time.Millisecond
	}
	if o.WebhookAttempts <= 0 {
		o.WebhookAttempts = 5
	}
	return o
}

// Server is a fake Telegram Bot API server. All methods are safe for
// concurrent use.
type Server struct {
	opts  Options
	botID int64
	srv   *httptest.Server

	stop      chan struct{} // closed by Close
	stopOnce  sync.Once
	ctx       context.Context // ends at Close; bounds webhook requests
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	webhookHC *http.Client

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change of state
	latency time.Duration

	users     map[int64]*user
	chats     map[int64]*chat
	usernames map[string]int64 // lower-case username -> chat id

	nextUpdateID int64
	queue        []queuedUpdate
	allowed      []string // allowed_updates as last set; nil = Telegram's default
	pollGen      int64    // bumped by every getUpdates; an older waiting poll loses
	polling      int      // getUpdates calls waiting for updates
	webhook      *webhookState
	webhookInfo  webhookStatus

	methods  map[string]methodFunc
	calls    map[string]int
	tooMany  int
	faults   map[string][]*fault
	outages  map[string]APIError // FailEvery: method ("" every method) -> answer
	dropping bool                // DropConnections
	limits   *limits
	queries  map[string]*callbackQuery
	answers  []CallbackAnswer
	nextQID  int64
	commands map[commandKey][]BotCommand
	// nextGroup numbers media groups (albums).
	nextGroup int64
}

type fault struct {
	left int
	err  APIError
}

type methodFunc func(ctx context.Context, p params) (any, *APIError)

// described is a successful result that carries a description, as
// setWebhook's "Webhook was set".
type described struct {
	result      any
	description string
}

// NewServer starts a fake Bot API on a loopback httptest server.
func NewServer(opts Options) *Server {
	s := newServer(opts)
	s.srv = httptest.NewUnstartedServer(s.Handler())
	s.srv.Listener = dropListener{Listener: s.srv.Listener, s: s}
	s.srv.Start()
	return s
}

func newServer(opts Options) *Server {
	opts = opts.withDefaults()
	botID, _ := strconv.ParseInt(strings.SplitN(opts.Token, ":", 2)[0], 10, 64)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:         opts,
		botID:        botID,
		stop:         make(chan struct{}),
		ctx:          ctx,
		cancel:       cancel,
		webhookHC:    &http.Client{Timeout: 10 * time.Second},
		changed:      make(chan struct{}),
		users:        map[int64]*user{},
		chats:        map[int64]*chat{},
		usernames:    map[string]int64{},
		nextUpdateID: 100000001,
		calls:        map[string]int{},
		faults:       map[string][]*fault{},
		outages:      map[string]APIError{},
		limits:       newLimits(opts),
		queries:      map[string]*callbackQuery{},
		commands:     map[commandKey][]BotCommand{},
	}
	s.methods = map[string]methodFunc{
		"getme":                  s.getMe,
		"getupdates":             s.getUpdates,
		"setwebhook":             s.setWebhook,
		"deletewebhook":          s.deleteWebhook,
		"getwebhookinfo":         s.getWebhookInfo,
		"sendmessage":            s.sendMessage,
		"sendvenue":              s.sendVenue,
		"editmessagetext":        s.editMessageText,
		"editmessagereplymarkup": s.editMessageReplyMarkup,
		"deletemessage":          s.deleteMessage,
		"deletemessages":         s.deleteMessages,
		"copymessage":            s.copyMessage,
		"copymessages":           s.copyMessages,
		"editmessagecaption":     s.editMessageCaption,
		"answercallbackquery":    s.answerCallbackQuery,
		"setmycommands":          s.setMyCommands,
		"getmycommands":          s.getMyCommands,
		"deletemycommands":       s.deleteMyCommands,
		"sendchataction":         s.sendChatAction,
		"getchat":                s.getChat,
		"getchatmember":          s.getChatMember,
	}
	s.wg.Add(1)
	go s.deliverWebhooks()
	return s
}

// URL is the server's base URL, as http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.srv.URL }

// Endpoint is the API endpoint in tgbotapi's format, for
// tgbotapi.NewBotAPIWithAPIEndpoint(s.Token(), s.Endpoint()).
func (s *Server) Endpoint() string { return s.srv.URL + "/bot%s/%s" }

// Token is the bot token the server accepts.
func (s *Server) Token() string { return s.opts.Token }

// BotID is the bot's user id, the token's part before ":".
func (s *Server) BotID() int64 { return s.botID }

// Close ends long polls and webhook deliveries, then stops the server.
func (s *Server) Close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.cancel()
		if s.srv != nil {
			s.srv.Close()
		}
		s.wg.Wait()
	})
}

// Handler serves the Bot API, for running the fake on an address of one's
// choosing (see cmd/fakebot).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// SetLatency makes every request wait d before it is handled, as Telegram's
// round trip would.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Fail makes the next n calls of method answer e instead of running. Calls
// to Fail for the same method queue up. A zero Description is filled with
// Telegram's text for the code.
func (s *Server) Fail(method string, n int, e APIError) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := strings.ToLower(method)
	s.faults[m] = append(s.faults[m], &fault{left: n, err: e.withDefaults()})
}

// Calls is how many requests of method arrived, whatever their answer.
// Method names are case-insensitive, as in the Bot API.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[strings.ToLower(method)]
}

// TooManyRequests is how many 429 answers the server gave, injected or not.
func (s *Server) TooManyRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tooMany
}

func (s *Server) now() time.Time { return s.opts.Now() }

// notifyLocked wakes everything waiting for a change of state.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || method == "" || strings.Contains(method, "/") {
		writeError(w, &APIError{Code: 404, Description: descNotFound})
		return
	}
	if token != s.opts.Token {
		writeError(w, &APIError{Code: 401, Description: descUnauthorized})
		return
	}
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.stop:
			t.Stop()
			return
		}
	}
	p, err := readParams(w, r)
	if err != nil {
		writeError(w, errBadRequest("Bad Request: "+err.Error()))
		return
	}
	result, apiErr := s.invoke(r.Context(), method, p)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	writeResult(w, result)
}

// invoke runs one method call: counting, injected faults, the method.
func (s *Server) invoke(ctx context.Context, method string, p params) (any, *APIError) {
	name := strings.ToLower(method)
	fn := s.methods[name]
	s.mu.Lock()
	s.calls[name]++
	if q := s.faults[name]; len(q) > 0 {
		f := q[0]
		f.left--
		if f.left <= 0 {
			s.faults[name] = q[1:]
		}
		if f.err.Code == 429 {
			s.tooMany++
		}
		s.notifyLocked()
		s.mu.Unlock()
		e := f.err
		return nil, &e
	}
	if e, ok := s.outageLocked(name); ok {
		if e.Code == 429 {
			s.tooMany++
		}
		s.notifyLocked()
		s.mu.Unlock()
		return nil, &e
	}
	s.notifyLocked()
	s.mu.Unlock()
	if fn == nil {
		return nil, &APIError{Code: 404, Description: descNotFound}
	}
	result, apiErr := fn(ctx, p)
	if apiErr != nil && apiErr.Code == 429 {
		s.mu.Lock()
		s.tooMany++
		s.notifyLocked()
		s.mu.Unlock()
	}
	return result, apiErr
}

type envelope struct {
	OK          bool            `json:"ok"`
	Result      any             `json:"result,omitempty"`
	ErrorCode   int             `json:"error_code,omitempty"`
	Description string          `json:"description,omitempty"`
	Parameters  *responseParams `json:"parameters,omitempty"`
}

type responseParams struct {
	MigrateToChatID int64 `json:"migrate_to_chat_id,omitempty"`
	RetryAfter      int   `json:"retry_after,omitempty"`
}

func writeResult(w http.ResponseWriter, result any) {
	env := envelope{OK: true, Result: result}
	if d, ok := result.(described); ok {
		env.Result, env.Description = d.result, d.description
	}
	writeJSON(w, http.StatusOK, env)
}

func writeError(w http.ResponseWriter, e *APIError) {
	env := envelope{ErrorCode: e.Code, Description: e.Description}
	if e.RetryAfter > 0 || e.MigrateToChatID != 0 {
		env.Parameters = &responseParams{MigrateToChatID: e.MigrateToChatID, RetryAfter: e.RetryAfter}
	}
	writeJSON(w, e.Code, env)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshalJSON(v)
	if err != nil {
		http.Error(w, fmt.Sprintf("telegramtest: encoding response: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// marshalJSON encodes as Telegram does, leaving <, > and & unescaped.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func (s *Server) getMe(context.Context, params) (any, *APIError) {
	return s.botUser(true), nil
}

// botUser is the bot as a User object; getMe adds its capabilities.
func (s *Server) botUser(withCapabilities bool) wireUser {
	u := wireUser{ID: s.botID, IsBot: true, FirstName: "Bulletin Test Bot", Username: s.opts.BotUsername}
	if withCapabilities {
		t, f, all := true, false, s.opts.ReadAllGroupMessages
		u.CanJoinGroups, u.CanReadAllGroupMessages, u.SupportsInlineQueries = &t, &all, &f
	}
	return u
}
