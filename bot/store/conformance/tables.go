package conformance

import (
	"testing"

	"github.com/bulletinbot/bulletinbot/bot"
)

var deliveryTests = []storeTest[DeliveryStore]{
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
	{"DeliveryLeaseWakesForDueRetry", testDeliveryLeaseWakesForDueRetry},
	{"DeliveryBacklog", testDeliveryBacklog},
	{"PauseSending", testPauseSending},
	{"PauseProbeOwed", testPauseProbeOwed},
	{"PauseOfA429", testPauseOfA429},
	{"PauseNoticeOnce", testPauseNoticeOnce},
	{"PauseOwingAProbeFreesTheClaim", testPauseOwingAProbeFreesTheClaim},
	{"PauseAfterOneEndedIsANewEpisode", testPauseAfterOneEndedIsANewEpisode},
}

var staffTests = []storeTest[StaffStore]{
	{"DeadLettersRetryAndDiscard", testDeadLettersRetryAndDiscard},
	{"DeadLettersRetryRacing", testDeadLettersRetryRacing},
	{"StaffDrafts", testStaffDrafts},
	{"StaffAwaiting", testStaffAwaiting},
	{"StaffBroadcastRecords", testStaffBroadcastRecords},
	{"StaffCopiesAndAlbumRecords", testStaffCopiesAndAlbumRecords},
	{"StaffSchedule", testStaffSchedule},
	{"StaffConcurrentUpdates", testStaffConcurrentUpdates},
	{"StaffAlertStateHasOneWinner", testStaffAlertStateHasOneWinner},
	{"StaffAlertStateRefusesStaleVersions", testStaffAlertStateRefusesStaleVersions},
	{"StaffCounters", testStaffCounters},
	{"StaffSentCopiesAndQueueDepth", testStaffSentCopiesAndQueueDepth},
	{"StaffPauseIsShared", testStaffPauseIsShared},
}

var botTests = []storeTest[bot.Store]{
	{"UpdateOffsetNeverGoesBack", testUpdateOffsetNeverGoesBack},
	{"UpdateLeaseHasOneHolder", testUpdateLeaseHasOneHolder},
	{"UpdateLeaseExpires", testUpdateLeaseExpires},
	{"UpdateLeaseConcurrentAcquire", testUpdateLeaseConcurrentAcquire},
	{"UpdateMarkedOnce", testUpdateMarkedOnce},
	{"UpdateMarkExpires", testUpdateMarkExpires},
	{"UpdateStoreHonoursContext", testUpdateStoreHonoursContext},
}

var pollerTests = []storeTest[PollerStore]{
	{"BurstGuard", testBurstGuard},
	{"BurstNoticeQuietPerSource", testBurstNoticeQuietPerSource},
	{"RecordPollInChunks", testRecordPollInChunks},
	{"SourcesKeepTheirOwnIDs", testSourcesKeepTheirOwnIDs},
}

// storeTest is one test of a suite, on a fresh store.
type storeTest[S any] struct {
	name string
	run  func(*testing.T, S)
}

// clockTest is one test of a suite that moves the store's clock.
type clockTest[S any] struct {
	name string
	run  func(*testing.T, S, *Clock)
}
