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
// (the embassy's /newarh/ and /apress_arh/ overlap) is announced once. Ids
// that mean something only within a source include it (poller's
// publicationID), which keeps sources apart in the one set.
func seenKey() string                     { return "bb:{pub}:seen" }
func sourceStateKey(source string) string { return "bb:{pub}:source:" + sourceTag(source) }
func sourcesKey() string                  { return "bb:{pub}:sources" }
func publicationKey(id string) string     { return "bb:{pub}:item:" + sourceTag(id) }
func latestKey() string                   { return "bb:{pub}:latest" }
func consularContactsKey() string         { return "bb:{pub}:consular" } // string: phone NUL e-mail, as the site's header last showed them
func latestCategoryKey(cat string) string { return "bb:{pub}:latest:" + cat }
func announceStreamKey() string           { return "bb:{pub}:announce" }
func pendingKey(source string) string     { return "bb:{pub}:pending:" + sourceTag(source) }    // zset: id -> latest score, recorded but not yet queued
func burstKey(id string) string           { return "bb:{pub}:burst:" + id }                     // hash: a held burst (source, count, at, newest, noticed, released)
func burstsKey() string                   { return "bb:{pub}:bursts" }                          // zset: burst id -> at (ms)
func burstQuietKey(source string) string  { return "bb:{pub}:burstquiet:" + sourceTag(source) } // string with a TTL: staff were told of a burst of source
func pollTurnKey(source string) string    { return "bb:{pub}:turn:" + sourceTag(source) }       // string with a TTL: when source is next due to be polled (ms)

// Search index: one zset per term (poller/terms), id -> latest score, the
// newest termCap kept; and the version of the index's upgrade.
func termKey(term string) string { return "bb:{pub}:term:" + term }
func termVersionKey() string     { return "bb:{pub}:termversion" }

// Subscribers, layout 2 (see redis_subscriptions.go).
func digestDueKey() string        { return "bb:{sub}:digests" } // zset: chat id -> when its daily digest is due (ms)
func subBucketsKey() string       { return "bb:{sub}:bk" }      // zset: bucket lower bound -> itself
func subBucketPrefix() string     { return "bb:{sub}:b:" }      // + lower bound: hash chat id -> packed record
func subCategoryBitsKey() string  { return "bb:{sub}:catbits" } // hash: category id -> bit, append-only
func subCountsKey() string        { return "bb:{sub}:counts" }  // hash: n, c<bit>, l:<lang> -> count
func subEventDaysKey() string     { return "bb:{sub}:evdays" }  // zset: day number (UTC) -> itself
func subEventDayPrefix() string   { return "bb:{sub}:ev:" }     // + day: hash j, l, jh<hour>, j<minute>, ... -> count
func subLayoutVersionKey() string { return "bb:{sub}:version" } // "2" once layout 1 is migrated

// Topics (subscriptions.TopicStore): a hash per chat, topic key -> label,
// and per term a zset of the topics indexed under it, "<chat>|<key>" ->
// chat id, walked by chat id ranges during a fan-out.
func subTopicsKey(chatID int64) string    { return "bb:{sub}:topics:" + strconv.FormatInt(chatID, 10) }
func subTopicIndexKey(term string) string { return "bb:{sub}:tidx:" + term }

// Subscribers, layout 1: read only by the upgrade.
func subscriberKeyPrefix() string              { return "bb:{sub}:chat:" }
func subscriberKey(chatID int64) string        { return subscriberKeyPrefix() + strconv.FormatInt(chatID, 10) }
func subscribersKey() string                   { return "bb:{sub}:all" }
func subscriberCategoryKey(cat string) string  { return "bb:{sub}:cat:" + cat }
func subscriberLanguagesKey() string           { return "bb:{sub}:lang" }
func subscriberEventsKey() string              { return "bb:{sub}:events" }
func subscriberLanguageKey(lang string) string { return subscriberLanguagesKey() + ":" + lang } // zset of chat ids, score = chat id
func subscriberCategoriesKey() string          { return "bb:{sub}:cats" }                       // set of categories that have subscribers

// Tombstones of subscribers removed because their chat was gone: a hash
// per chat (its fields, "removed" in ms and "why"), expiring, and a zset
// of chat id -> removed at (ms).
func subscriberTombstoneKey(chatID int64) string {
	return "bb:{sub}:tomb:" + strconv.FormatInt(chatID, 10)
}
func subscriberTombstonesKey() string { return "bb:{sub}:tombs" }

// Bot intake.
func botOffsetKey() string               { return "bb:{bot}:offset" }                   // next getUpdates offset
func botLeaseKey(name string) string     { return "bb:{bot}:lease:" + name }            // holder id, expiring with the lease
func botUpdateKey(updateID int64) string { return "bb:{bot}:update:" + itoa(updateID) } // webhook de-duplication mark

// Delivery. A chat key holds the chat's reservation, "end last" (ms: when
// it ends, when the chat's last message went; "1" in releases before), and
// expires at its end.
func deliveryAnnKey(id string) string   { return "bb:{dlv}:ann:" + id }    // hash: definition, texts, cursor, counters
func deliverySentKey(id string) string  { return "bb:{dlv}:sent:" + id }   // hash: chat id -> message id
func deliveryFanoutsKey() string        { return "bb:{dlv}:fanouts" }      // zset: announcement id -> fan-out lease deadline (ms)
func deliveryQueueKey() string          { return "bb:{dlv}:queue" }        // stream of deliveries, group deliveryGroup
func deliveryDelayedKey() string        { return "bb:{dlv}:delayed" }      // zset: encoded delivery ("~slot|" first if put aside for its chat) -> due (ms)
func deliveryPauseKey() string          { return "bb:{dlv}:pause" }        // "reason|since ms" with a TTL: all sending paused ("1": a 429, by an older release)
func deliveryProbeKey() string          { return "bb:{dlv}:probe" }        // "reason|since ms" with a TTL: sending resumes only after a probe succeeds
func deliveryProbeLeaseKey() string     { return "bb:{dlv}:probe:lease" }  // replica id, expiring: the one probe in flight
func deliveryPauseNoticeKey() string    { return "bb:{dlv}:pause:notice" } // id of the last pause staff were told of
func deliveryChatKey(chat int64) string { return "bb:{dlv}:chat:" + strconv.FormatInt(chat, 10) }
func deliveryDeadKey() string           { return "bb:{dlv}:dead" }     // list of dead-letter JSON, newest first
func deliveryCountersKey() string       { return "bb:{dlv}:counters" } // hash: dead (all-time dead letters)
func deliveryRateKey() string           { return "bb:{dlv}:rate" }     // redis_rate's GCRA state (prefixed "rate:")
func deliveryReplicasKey() string       { return "bb:{dlv}:replicas" } // zset: replica id -> heartbeat deadline (ms, Redis's clock)

// Scheduled broadcasts, under the {staff} hash tag with the audit log they
// move into when due.
func staffScheduleKey() string           { return "bb:{staff}:sched" }       // zset: broadcast id -> when due (ms)
func staffScheduledKey(id string) string { return "bb:{staff}:sched:" + id } // the record to add when due
