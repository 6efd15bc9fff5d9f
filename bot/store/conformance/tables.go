package conformance

import (
	"testing"

	"github.com/bulletinbot/bulletinbot/bot"
)

var deliveryTests = []struct {
	name string
	run  func(*testing.T, DeliveryStore)
}{
	{"DeliveryAnnouncementAndFanout", testDeliveryAnnouncementAndFanout},
	{"DeliverySendLifecycle", testDeliverySendLifecycle},
	{"DeliveryChatGapDefers", testDeliveryChatGapDefers},
	{"DeliveryPause", testDeliveryPause},
	{"DeliveryReclaimAndSentRecord", testDeliveryReclaimAndSentRecord},
	{"DeliveryCancel", testDeliveryCancel},
	{"DeliveryAllowSends", testDeliveryAllowSends},
	{"DeliveryIntake", testDeliveryIntake},
	{"DeliveryFanoutsInCreationOrder", testDeliveryFanoutsInCreationOrder},
	{"DeliveryReserveChat", testDeliveryReserveChat},
	{"DeliveryChatOrder", testDeliveryChatOrder},
	{"DeliveryLeaseTakesAtMostN", testDeliveryLeaseTakesAtMostN},
	{"DeliveryLeaseWaitsForNew", testDeliveryLeaseWaitsForNew},
	{"DeliveryRequeueWaitsUntilDue", testDeliveryRequeueWaitsUntilDue},
	{"DeliveryShorterPauseKeepsLonger", testDeliveryShorterPauseKeepsLonger},
	{"DeliveryDeadLettersNewestFirst", testDeliveryDeadLettersNewestFirst},
	{"PauseSending", testPauseSending},
	{"PauseProbeOwed", testPauseProbeOwed},
	{"PauseOfA429", testPauseOfA429},
	{"PauseNoticeOnce", testPauseNoticeOnce},
	{"PauseOwingAProbeFreesTheClaim", testPauseOwingAProbeFreesTheClaim},
	{"PauseAfterOneEndedIsANewEpisode", testPauseAfterOneEndedIsANewEpisode},
}

var staffTests = []struct {
	name string
	run  func(*testing.T, StaffStore)
}{
	{"DeadLettersRetryAndDiscard", testDeadLettersRetryAndDiscard},
	{"DeadLettersRetryRacing", testDeadLettersRetryRacing},
	{"StaffDrafts", testStaffDrafts},
	{"StaffAwaiting", testStaffAwaiting},
	{"StaffBroadcastRecords", testStaffBroadcastRecords},
	{"StaffConcurrentUpdates", testStaffConcurrentUpdates},
	{"StaffAlertStateHasOneWinner", testStaffAlertStateHasOneWinner},
	{"StaffAlertStateRefusesStaleVersions", testStaffAlertStateRefusesStaleVersions},
	{"StaffCounters", testStaffCounters},
	{"StaffSentCopiesAndQueueDepth", testStaffSentCopiesAndQueueDepth},
	{"StaffPauseIsShared", testStaffPauseIsShared},
}

var botTests = []struct {
	name string
	run  func(*testing.T, bot.Store)
}{
	{"UpdateOffsetNeverGoesBack", testUpdateOffsetNeverGoesBack},
	{"UpdateLeaseHasOneHolder", testUpdateLeaseHasOneHolder},
	{"UpdateLeaseExpires", testUpdateLeaseExpires},
	{"UpdateLeaseConcurrentAcquire", testUpdateLeaseConcurrentAcquire},
	{"UpdateMarkedOnce", testUpdateMarkedOnce},
	{"UpdateMarkExpires", testUpdateMarkExpires},
	{"UpdateStoreHonoursContext", testUpdateStoreHonoursContext},
}

var pollerTests = []struct {
	name string
	run  func(*testing.T, PollerStore)
}{
	{"BurstGuard", testBurstGuard},
	{"BurstNoticeQuietPerSource", testBurstNoticeQuietPerSource},
	{"RecordPollInChunks", testRecordPollInChunks},
	{"SourcesKeepTheirOwnIDs", testSourcesKeepTheirOwnIDs},
}

type clockTest[S any] struct {
	name string
	run  func(*testing.T, S, *Clock)
}

var (
	deliveryClockTests []clockTest[DeliveryStore]
	staffClockTests    []clockTest[StaffStore]
	botClockTests      []clockTest[bot.Store]
	pollerClockTests   []clockTest[PollerStore]
)
