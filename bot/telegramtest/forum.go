package telegramtest

import (
	"context"
	"fmt"
	"math"
	"strconv"
)

// MakeForum turns a supergroup's topics on, as its administrators can.
func (s *Server) MakeForum(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat("MakeForum", chatID)
	if c.typ != "supergroup" {
		panic(fmt.Sprintf("telegramtest: MakeForum: chat %d is a %s; only supergroups have topics", chatID, c.typ))
	}
	c.forum = true
	s.notifyLocked()
}

// AddTopic creates a topic in a forum and returns its thread id, the id of
// its "topic created" service message.
func (s *Server) AddTopic(chatID int64, name string) (threadID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat("AddTopic", chatID)
	if !c.forum {
		panic(fmt.Sprintf("telegramtest: AddTopic: chat %d is not a forum", chatID))
	}
	c.lastMsgID++
	c.messages = append(c.messages, &message{id: c.lastMsgID, date: s.now(), text: name, raw: name})
	if c.topics == nil {
		c.topics = map[int]bool{}
	}
	c.topics[c.lastMsgID] = true
	s.notifyLocked()
	return c.lastMsgID
}

// SendTextInTopic is SendText in a forum topic: the update's message has
// message_thread_id and is_topic_message, as Telegram sends them.
func (s *Server) SendTextInTopic(chatID, fromUserID int64, threadID int, text string) (updateID int64) {
	s.mu.Lock()
	c := s.mustChat("SendTextInTopic", chatID)
	if !c.forum || !c.topics[threadID] {
		s.mu.Unlock()
		panic(fmt.Sprintf("telegramtest: SendTextInTopic: chat %d has no topic %d", chatID, threadID))
	}
	s.mu.Unlock()
	return s.sendText(chatID, fromUserID, text, threadID)
}

// sendVenue sends a venue: a location with a title and an address.
func (s *Server) sendVenue(_ context.Context, p params) (any, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, apiErr := s.writableChatLocked(p["chat_id"])
	if apiErr != nil {
		return nil, apiErr
	}
	var v Venue
	lat, err1 := strconv.ParseFloat(p["latitude"], 64)
	lon, err2 := strconv.ParseFloat(p["longitude"], 64)
	v.Location.Latitude, v.Location.Longitude = lat, lon
	v.Title, v.Address = p["title"], p["address"]
	if err1 != nil || err2 != nil || math.Abs(lat) > 90 || math.Abs(lon) > 180 || v.Title == "" || v.Address == "" {
		return nil, errBadRequest(descBadVenue)
	}
	return s.postLocked(c, p, &message{venue: &v})
}

// DeleteTopic deletes a forum topic: sends to its thread then fail with
// "message thread not found".
func (s *Server) DeleteTopic(chatID int64, threadID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustChat("DeleteTopic", chatID)
	if !c.topics[threadID] {
		panic(fmt.Sprintf("telegramtest: DeleteTopic: chat %d has no topic %d", chatID, threadID))
	}
	delete(c.topics, threadID)
	s.notifyLocked()
}
