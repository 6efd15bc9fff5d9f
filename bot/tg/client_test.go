package tg

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testToken = "123456:SECRET-token-value"

func TestErrorsAreTypedAndClassified(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Kind
	}{
		{"flood", `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`, KindRetryAfter},
		{"blocked", `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`, KindGone},
		{"chat not found", `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, KindGone},
		{"migrated", `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234}}`, KindMigrated},
		{"markup", `{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3"}`, KindBadMarkup},
		{"too long", `{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}`, KindTooLong},
		{"not modified", `{"ok":false,"error_code":400,"description":"Bad Request: message is not modified: specified new message content and reply markup are exactly the same"}`, KindNotModified},
		{"unauthorized", `{"ok":false,"error_code":401,"description":"Unauthorized"}`, KindUnauthorized},
		{"server", `{"ok":false,"error_code":502,"description":"Bad Gateway"}`, KindTransient},
		{"other", `{"ok":false,"error_code":400,"description":"Bad Request: BUTTON_DATA_INVALID"}`, KindPermanent},
		{"not json", `<html>502 Bad Gateway</html>`, KindTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasSuffix(r.URL.Path, "/sendMessage") {
					t.Errorf("path %s, want .../sendMessage", r.URL.Path)
				}
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := New(testToken, srv.URL+"/bot%s/%s", nil)
			_, err := c.Call(context.Background(), "sendMessage", map[string]string{"chat_id": "1", "text": "x"})
			if got := Classify(err); got != tt.want {
				t.Fatalf("Classify(%v) = %v, want %v", err, got, tt.want)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Fatalf("error %q holds the token", err)
			}
		})
	}
}

func TestRetryAfterAndMigration(t *testing.T) {
	err := error(&Error{Method: "sendMessage", Code: 429, RetryAfter: 7 * time.Second})
	if d, ok := RetryAfter(err); !ok || d != 7*time.Second {
		t.Fatalf("RetryAfter = %v, %v, want 7s, true", d, ok)
	}
	err = &Error{Method: "sendMessage", Code: 400, MigrateTo: -100777}
	if id, ok := MigratedTo(err); !ok || id != -100777 {
		t.Fatalf("MigratedTo = %v, %v, want -100777, true", id, ok)
	}
}

func TestTransportErrorsHideTheToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Fatal("no hijacker")
		}
		conn, _, _ := hj.Hijack()
		_ = conn.Close() // drop the connection mid-request
	}))
	defer srv.Close()
	c := New(testToken, srv.URL+"/bot%s/%s", nil)
	_, err := c.GetMe(context.Background())
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("got %T %v, want *TransportError", err, err)
	}
	if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("error %q holds the token", err)
	}
	if Classify(err) != KindTransient {
		t.Fatalf("Classify = %v, want transient", Classify(err))
	}
}

func TestCallHonoursContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := New(testToken, srv.URL+"/bot%s/%s", nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.GetUpdates(ctx, 0, 100, 30*time.Second, []string{"message"})
		done <- err
	}()
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Fatalf("error %q holds the token", err)
	}
}
