package telegramtest

import (
	"net/http"
	"testing"
)

func TestFailEveryUntilStopped(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)
	s.FailEvery("sendMessage", APIError{Code: 500})
	for range 3 {
		_, err := bot.Send(sendText(1001, "x"))
		wantAPIError(t, err, 500, "Internal Server Error")
	}
	if _, r := call(t, s, "getMe", nil); !r.OK {
		t.Fatalf("getMe during a sendMessage outage: got %+v, want success", r)
	}
	s.FailEvery("", APIError{Code: 401})
	if _, r := call(t, s, "getMe", nil); r.OK || r.ErrorCode != 401 || r.Description != "Unauthorized" {
		t.Fatalf("getMe while every method fails: got %+v, want 401 Unauthorized", r)
	}
	s.StopFailing("")
	s.StopFailing("sendMessage")
	if _, err := bot.Send(sendText(1001, "back")); err != nil {
		t.Fatalf("after StopFailing: %v", err)
	}
	if got := s.Messages(1001); len(got) != 1 || got[0].Text != "back" {
		t.Errorf("got %+v, want only the message after the outage", got)
	}
	if got := s.Calls("sendMessage"); got != 4 {
		t.Errorf("got %d sendMessage calls, want 4", got)
	}
}

func TestFailEveryAfterQueuedFaults(t *testing.T) {
	s := newTestServer(t, Options{})
	s.AddPrivateChat(1001, "Ann", "en")
	bot := newBot(t, s)
	s.Fail("sendMessage", 1, APIError{Code: 502, Description: "Bad Gateway"})
	s.FailEvery("sendMessage", APIError{Code: 403})
	_, err := bot.Send(sendText(1001, "x"))
	wantAPIError(t, err, 502, "Bad Gateway")
	_, err = bot.Send(sendText(1001, "x"))
	wantAPIError(t, err, 403, "Forbidden: bot was blocked by the user")
}

func TestDropConnections(t *testing.T) {
	s := newTestServer(t, Options{})
	hc := &http.Client{}
	get := func() error {
		resp, err := hc.Get(s.URL() + "/bot" + s.Token() + "/getMe")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(); err != nil {
		t.Fatalf("before: %v", err)
	}
	s.DropConnections(true)
	for range 3 {
		if err := get(); err == nil {
			t.Fatal("while dropping connections: got an answer, want a transport error")
		}
	}
	s.DropConnections(false)
	if err := get(); err != nil {
		t.Fatalf("after: %v", err)
	}
	if got := s.Calls("getMe"); got != 2 {
		t.Errorf("got %d getMe calls counted, want 2: dropped connections never reach a method", got)
	}
}
