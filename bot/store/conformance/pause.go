package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/bulletinbot/bulletinbot/bot/delivery"
)

// CurrentPause returns the pause in force at now, failing t on an error.
func CurrentPause(t *testing.T, s delivery.PauseStore, now time.Time) (delivery.Pause, bool) {
	t.Helper()
	p, ok, err := s.CurrentPause(context.Background(), now)
	if err != nil {
		t.Fatalf("CurrentPause: %v", err)
	}
	return p, ok
}

// near reports whether a and b are within the rounding of a TTL in ms and
// the time a test's calls take.
func near(a, b time.Time) bool { return a.Sub(b).Abs() < 500*time.Millisecond }

func testPauseSending(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	if p, ok := CurrentPause(t, s, time.Now()); ok {
		t.Fatalf("fresh store: got pause %+v, want none", p)
	}
	start := time.Now()
	if err := s.PauseSending(ctx, delivery.Pause{Reason: delivery.PauseOutage, Until: start.Add(5 * time.Second), Probe: true}, time.Minute, start); err != nil {
		t.Fatal(err)
	}
	p, ok := CurrentPause(t, s, time.Now())
	if !ok || p.Reason != delivery.PauseOutage || !p.Probe || p.Since.UnixMilli() != start.UnixMilli() || !near(p.Until, start.Add(5*time.Second)) {
		t.Fatalf("got %+v %v, want an outage since %v until about 5s later, owing a probe", p, ok, start)
	}
	// Sending stops for every consumer.
	a := AddAnnouncement(t, s, "b-1")
	Queue(t, s, a, 1)
	ds := Lease(t, s, "c1", 10, 0)
	if ready, pause, err := s.Begin(ctx, "c1", ds, Gaps, time.Now()); err != nil || len(ready) != 0 || pause < 4*time.Second {
		t.Fatalf("Begin during the pause: got %d ready, pause %v, %v; want none and about 5s", len(ready), pause, err)
	}

	// Renewed after a failed probe: the same episode, longer.
	later := start.Add(time.Second)
	if err := s.PauseSending(ctx, delivery.Pause{Reason: delivery.PauseOutage, Until: later.Add(10 * time.Second), Probe: true}, time.Minute, later); err != nil {
		t.Fatal(err)
	}
	renewed, _ := CurrentPause(t, s, later)
	if renewed.ID() != p.ID() || !near(renewed.Until, later.Add(10*time.Second)) {
		t.Fatalf("renewed: got %+v, want id %s until about 10s after %v", renewed, p.ID(), later)
	}
	// A shorter pause of another reason leaves the longer one as it is.
	if err := s.PauseSending(ctx, delivery.Pause{Reason: delivery.PauseFlood, Until: later.Add(2 * time.Second)}, 0, later); err != nil {
		t.Fatal(err)
	}
	if got, _ := CurrentPause(t, s, later); got.ID() != p.ID() || !near(got.Until, renewed.Until) {
		t.Fatalf("after a shorter 429: got %+v, want %+v kept", got, renewed)
	}

	if ok, err := s.ResumeSending(ctx, delivery.Pause{Reason: delivery.PauseFlood, Since: start}.ID()); err != nil || ok {
		t.Fatalf("ResumeSending of another pause: got %v, %v; want false", ok, err)
	}
	if _, ok := CurrentPause(t, s, time.Now()); !ok {
		t.Fatal("after resuming another pause: got none, want the outage still in force")
	}
	if ok, err := s.ResumeSending(ctx, p.ID()); err != nil || !ok {
		t.Fatalf("ResumeSending: got %v, %v; want true", ok, err)
	}
	if got, ok := CurrentPause(t, s, time.Now()); ok {
		t.Fatalf("after ResumeSending: got %+v, want none", got)
	}
	if ready, pause, err := s.Begin(ctx, "c1", ds, Gaps, time.Now()); err != nil || len(ready) != 1 || pause != 0 {
		t.Fatalf("Begin after resuming: got %d ready, pause %v, %v; want the delivery", len(ready), pause, err)
	}
}

func testPauseProbeOwed(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	now := time.Now()
	// A timed part already over: only the probe is owed.
	if err := s.PauseSending(ctx, delivery.Pause{Reason: delivery.PauseUnauthorized, Until: now, Probe: true}, time.Minute, now); err != nil {
		t.Fatal(err)
	}
	var p delivery.Pause
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ok bool
		p, ok = CurrentPause(t, s, time.Now())
		if !ok {
			t.Fatal("got no pause, want a probe owed")
		}
		if !p.Timed(time.Now()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the 1ms timed part still runs: %+v", p)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if p.Reason != delivery.PauseUnauthorized || !p.Probe {
		t.Fatalf("got %+v, want a 401 owing a probe", p)
	}
	if ok, err := s.ClaimProbe(ctx, "c1", time.Minute); err != nil || !ok {
		t.Fatalf("ClaimProbe c1: got %v, %v; want true", ok, err)
	}
	if ok, err := s.ClaimProbe(ctx, "c2", time.Minute); err != nil || ok {
		t.Fatalf("ClaimProbe c2 while c1 probes: got %v, %v; want false", ok, err)
	}
	if ok, err := s.ResumeSending(ctx, p.ID()); err != nil || !ok {
		t.Fatalf("ResumeSending: got %v, %v; want true", ok, err)
	}
	if got, ok := CurrentPause(t, s, time.Now()); ok {
		t.Fatalf("after the probe succeeded: got %+v, want none", got)
	}
	if ok, err := s.ClaimProbe(ctx, "c2", time.Minute); err != nil || !ok {
		t.Fatalf("ClaimProbe after resuming: got %v, %v; want the claim free", ok, err)
	}

	// An owed probe lapses by itself after probeOwed.
	now = time.Now()
	if err := s.PauseSending(ctx, delivery.Pause{Reason: delivery.PauseOutage, Until: now, Probe: true}, 20*time.Millisecond, now); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		if _, ok := CurrentPause(t, s, time.Now()); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an owed probe still in force 5s after it lapsed")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testPauseOfA429(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	ds := beginTwo(t, s)
	now := time.Now()
	requeue := func(d delivery.Delivery, pause time.Duration) delivery.Result {
		return delivery.Result{Delivery: d, Outcome: delivery.Requeued, Next: delivery.Delivery{AnnouncementID: "b-1", ChatID: d.ChatID}, At: now, Pause: pause}
	}
	if err := s.Finish(ctx, []delivery.Result{requeue(ds[0], time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	p, ok := CurrentPause(t, s, now)
	if !ok || p.Reason != delivery.PauseFlood || p.Probe || p.Since.UnixMilli() != now.UnixMilli() || !near(p.Until, now.Add(time.Hour)) {
		t.Fatalf("after a 429: got %+v %v, want a flood pause since %v for an hour", p, ok, now)
	}
	// A second, longer 429 lengthens the same episode.
	if err := s.Finish(ctx, []delivery.Result{requeue(ds[1], 2*time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := CurrentPause(t, s, now); got.ID() != p.ID() || !near(got.Until, now.Add(2*time.Hour)) {
		t.Fatalf("after a longer 429: got %+v, want %s for two hours", got, p.ID())
	}
	if ok, err := s.ResumeSending(ctx, p.ID()); err != nil || !ok {
		t.Fatalf("ResumeSending: got %v, %v; want true", ok, err)
	}
}

func testPauseNoticeOnce(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	claim := func(id string, want bool) {
		t.Helper()
		if got, err := s.ClaimPauseNotice(ctx, id); err != nil || got != want {
			t.Fatalf("ClaimPauseNotice(%s): got %v, %v; want %v", id, got, err, want)
		}
	}
	claim("outage|1", true)
	claim("outage|1", false)
	if err := s.ReleasePauseNotice(ctx, "flood|2"); err != nil {
		t.Fatal(err)
	}
	claim("outage|1", false) // releasing another id gives nothing back
	if err := s.ReleasePauseNotice(ctx, "outage|1"); err != nil {
		t.Fatal(err)
	}
	claim("outage|1", true)
	claim("flood|2", true)
}

func testPauseOwingAProbeFreesTheClaim(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	now := time.Now()
	p := delivery.Pause{Reason: delivery.PauseOutage, Until: now, Probe: true}
	if err := s.PauseSending(ctx, p, time.Minute, now); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.ClaimProbe(ctx, "c1", time.Minute); err != nil || !ok {
		t.Fatalf("ClaimProbe: got %v, %v; want true", ok, err)
	}
	// c1's probe failed: it owes the next one after a wait.
	p.Until = now.Add(time.Millisecond)
	if err := s.PauseSending(ctx, p, time.Minute, now); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.ClaimProbe(ctx, "c2", time.Minute); err != nil || !ok {
		t.Fatalf("ClaimProbe after a renewal: got %v, %v; want the claim free", ok, err)
	}
}

// An episode over by now is not continued by a pause of the same reason.
func testPauseAfterOneEndedIsANewEpisode(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	start := time.Now()
	if err := s.PauseSending(ctx, delivery.Pause{Reason: delivery.PauseGoneStorm, Until: start.Add(time.Millisecond)}, 0, start); err != nil {
		t.Fatal(err)
	}
	first, _ := CurrentPause(t, s, start)
	time.Sleep(10 * time.Millisecond) // the 1ms pause ends, on Redis's clock too
	later := start.Add(10 * time.Millisecond)
	if err := s.PauseSending(ctx, delivery.Pause{Reason: delivery.PauseGoneStorm, Until: later.Add(time.Minute)}, 0, later); err != nil {
		t.Fatal(err)
	}
	second, ok := CurrentPause(t, s, later)
	if !ok || second.ID() == first.ID() || second.Since.UnixMilli() != later.UnixMilli() {
		t.Fatalf("got %+v %v after %s ended, want a new episode since %v", second, ok, first.ID(), later)
	}
}
