package tg

import (
	"encoding/json"
	"testing"
)

func TestUpdateThread(t *testing.T) {
	for _, c := range []struct {
		name, body string
		want       int64
	}{
		{"topic message", `{"update_id":1,"message":{"message_id":9,"message_thread_id":4,"is_topic_message":true,"chat":{"id":-100,"type":"supergroup","is_forum":true},"text":"/start"}}`, 4},
		{"reply thread outside topics", `{"update_id":2,"message":{"message_id":9,"message_thread_id":3,"chat":{"id":-100,"type":"supergroup"},"text":"/start"}}`, 0},
		{"plain message", `{"update_id":3,"message":{"message_id":9,"chat":{"id":1,"type":"private"},"text":"hi"}}`, 0},
		{"button press", `{"update_id":4,"callback_query":{"id":"q","from":{"id":1},"data":"x"}}`, 0},
		{"button of a topic message", `{"update_id":5,"callback_query":{"id":"q","from":{"id":1},"data":"x","message":{"message_id":9,"message_thread_id":4,"is_topic_message":true,"chat":{"id":-100,"type":"supergroup","is_forum":true},"text":"card"}}}`, 4},
		{"button of a reply outside topics", `{"update_id":6,"callback_query":{"id":"q","from":{"id":1},"data":"x","message":{"message_id":9,"message_thread_id":3,"chat":{"id":-100,"type":"supergroup"},"text":"card"}}}`, 0},
	} {
		var u Update
		if err := json.Unmarshal([]byte(c.body), &u); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if u.Thread != c.want || u.UpdateID == 0 {
			t.Errorf("%s: got thread %d (update %d), want %d", c.name, u.Thread, u.UpdateID, c.want)
		}
	}
}
