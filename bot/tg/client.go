// Package tg is bulletinbot's one door to the Telegram Bot API. It wraps
// go-telegram-bot-api so that every call takes a context, every failure is a
// typed *Error (or a transport error with the token scrubbed), and nothing
// else in the project needs to know the client library's request plumbing.
package tg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// DefaultEndpoint is Telegram's own Bot API, in tgbotapi's format.
const DefaultEndpoint = tgbotapi.APIEndpoint

// callTimeout bounds a call whose context has no deadline of its own.
const callTimeout = 30 * time.Second

// Client calls the Bot API. It is safe for concurrent use.
type Client struct {
	token    string
	endpoint string
	http     *http.Client
}

// New returns a client for token on endpoint (with two %s, for the token and
// the method). A nil httpClient gets a dedicated one.
func New(token, endpoint string, httpClient *http.Client) *Client {
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	if httpClient == nil {
		httpClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return &Client{token: token, endpoint: endpoint, http: httpClient}
}

// ctxClient gives tgbotapi, which knows nothing of contexts, requests bound
// to the caller's context, so that shutdown and deadlines reach the socket.
type ctxClient struct {
	ctx  context.Context
	http *http.Client
}

func (c ctxClient) Do(req *http.Request) (*http.Response, error) {
	return c.http.Do(req.WithContext(c.ctx))
}

// api returns a tgbotapi handle whose requests run under ctx. It is a plain
// struct, cheap to make per call.
func (c *Client) api(ctx context.Context) *tgbotapi.BotAPI {
	b := &tgbotapi.BotAPI{Token: c.token, Buffer: 100, Client: ctxClient{ctx: ctx, http: c.http}}
	b.SetAPIEndpoint(c.endpoint)
	return b
}

// Call invokes method with params and returns its raw result.
func (c *Client) Call(ctx context.Context, method string, params tgbotapi.Params) (json.RawMessage, error) {
	ctx, cancel := withDefaultTimeout(ctx, callTimeout)
	defer cancel()
	resp, err := c.api(ctx).MakeRequest(method, params)
	if err != nil {
		return nil, c.wrap(ctx, method, err)
	}
	return resp.Result, nil
}

// Do sends any tgbotapi request config and returns its raw result.
func (c *Client) Do(ctx context.Context, req tgbotapi.Chattable) (json.RawMessage, error) {
	ctx, cancel := withDefaultTimeout(ctx, callTimeout)
	defer cancel()
	resp, err := c.api(ctx).Request(req)
	if err != nil {
		return nil, c.wrap(ctx, methodOf(req), err)
	}
	return resp.Result, nil
}

// Send sends a request whose result is a Message.
func (c *Client) Send(ctx context.Context, req tgbotapi.Chattable) (tgbotapi.Message, error) {
	raw, err := c.Do(ctx, req)
	if err != nil {
		return tgbotapi.Message{}, err
	}
	var m tgbotapi.Message
	if err := json.Unmarshal(raw, &m); err != nil {
		return tgbotapi.Message{}, fmt.Errorf("tg: decode %s result: %w", methodOf(req), err)
	}
	return m, nil
}

// GetMe returns the bot's own user.
func (c *Client) GetMe(ctx context.Context) (tgbotapi.User, error) {
	raw, err := c.Call(ctx, "getMe", nil)
	if err != nil {
		return tgbotapi.User{}, err
	}
	var u tgbotapi.User
	if err := json.Unmarshal(raw, &u); err != nil {
		return tgbotapi.User{}, fmt.Errorf("tg: decode getMe result: %w", err)
	}
	return u, nil
}

// GetUpdates long-polls for updates from offset, waiting up to timeout.
func (c *Client) GetUpdates(ctx context.Context, offset int64, limit int, timeout time.Duration, allowed []string) ([]Update, error) {
	params := tgbotapi.Params{}
	params.AddNonZero64("offset", offset)
	params.AddNonZero("limit", limit)
	params.AddNonZero("timeout", int(timeout/time.Second))
	if err := params.AddInterface("allowed_updates", allowed); err != nil {
		return nil, fmt.Errorf("tg: encode allowed_updates: %w", err)
	}
	// The server holds the request for up to timeout: allow for that.
	ctx, cancel := withDefaultTimeout(ctx, timeout+callTimeout)
	defer cancel()
	raw, err := c.Call(ctx, "getUpdates", params)
	if err != nil {
		return nil, err
	}
	var updates []Update
	if err := json.Unmarshal(raw, &updates); err != nil {
		return nil, fmt.Errorf("tg: decode getUpdates result: %w", err)
	}
	return updates, nil
}

func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// methodOf names a request for errors and metrics.
func methodOf(req tgbotapi.Chattable) string {
	switch req.(type) {
	case tgbotapi.MessageConfig:
		return "sendMessage"
	case tgbotapi.EditMessageTextConfig:
		return "editMessageText"
	case tgbotapi.EditMessageReplyMarkupConfig:
		return "editMessageReplyMarkup"
	case tgbotapi.DeleteMessageConfig:
		return "deleteMessage"
	case tgbotapi.CallbackConfig:
		return "answerCallbackQuery"
	case tgbotapi.SetMyCommandsConfig:
		return "setMyCommands"
	case tgbotapi.ChatActionConfig:
		return "sendChatAction"
	case tgbotapi.WebhookConfig:
		return "setWebhook"
	case tgbotapi.DeleteWebhookConfig:
		return "deleteWebhook"
	default:
		return fmt.Sprintf("%T", req)
	}
}

// wrap turns whatever tgbotapi returned into an *Error for API answers, or a
// *TransportError whose text holds no token.
func (c *Client) wrap(ctx context.Context, method string, err error) error {
	var apiErr *tgbotapi.Error
	if errors.As(err, &apiErr) {
		e := &Error{
			Method:      method,
			Code:        apiErr.Code,
			Description: apiErr.Message,
			RetryAfter:  time.Duration(apiErr.RetryAfter) * time.Second,
			MigrateTo:   apiErr.MigrateToChatID,
		}
		return e
	}
	te := &TransportError{Method: method, err: err}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		// url.Error.Error() prints the request URL, which holds the token.
		te.err = uerr.Err
	}
	if ctx.Err() != nil && !errors.Is(te.err, ctx.Err()) {
		te.err = fmt.Errorf("%w (%v)", ctx.Err(), te.err)
	}
	te.text = strings.ReplaceAll(te.err.Error(), c.token, "[redacted]")
	return te
}

// Error is an answer from the Bot API that was not ok.
type Error struct {
	Method      string
	Code        int
	Description string
	RetryAfter  time.Duration // from parameters.retry_after (429)
	MigrateTo   int64         // from parameters.migrate_to_chat_id
}

func (e *Error) Error() string {
	return "tg: " + e.Method + ": " + strconv.Itoa(e.Code) + " " + e.Description
}

// TransportError is a failure to reach the Bot API or to read its answer:
// a network error, a timeout, or a body that is not the API's JSON (a proxy's
// 502 page). Such failures are worth retrying.
type TransportError struct {
	Method string
	text   string
	err    error
}

func (e *TransportError) Error() string { return "tg: " + e.Method + ": " + e.text }
func (e *TransportError) Unwrap() error { return e.err }
