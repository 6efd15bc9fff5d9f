package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// All Redis keys live here, under the bb: prefix. Keys that one Lua script
// touches together share a hash tag, so the layout works on Redis Cluster:
//   {pub} publications, per-source state, latest indexes, the announcement stream
//   {sub} subscribers and their category indexes
//   {bot} update offset, leases, webhook de-duplication
//   {dlv} delivery jobs, fan-out cursors, sent records, dead letters

// sourceTag shortens a source URL or publication id to a stable key-safe token.
func sourceTag(source string) string {
	sum := sha256.Sum256([]byte(source))
	return hex.EncodeToString(sum[:8])
}

// Publications.
// One seen set for all sources: the same publication listed on two pages
// (the embassy's /newarh/ and /apress_arh/ overlap) is announced once.
func seenKey() string                     { return "bb:{pub}:seen" }
func sourceStateKey(source string) string { return "bb:{pub}:source:" + sourceTag(source) }
func sourcesKey() string                  { return "bb:{pub}:sources" }
func publicationKey(id string) string     { return "bb:{pub}:item:" + sourceTag(id) }
func latestKey() string                   { return "bb:{pub}:latest" }
func latestCategoryKey(cat string) string { return "bb:{pub}:latest:" + cat }
func announceStreamKey() string           { return "bb:{pub}:announce" }

// Subscribers.
func subscriberKey(chatID int64) string       { return "bb:{sub}:chat:" + strconv.FormatInt(chatID, 10) }
func subscribersKey() string                  { return "bb:{sub}:all" }
func subscriberCategoryKey(cat string) string { return "bb:{sub}:cat:" + cat }
func subscriberLanguagesKey() string          { return "bb:{sub}:lang" }
func subscriberEventsKey() string             { return "bb:{sub}:events" }
