package poller

import (
	"context"
	"time"
)

// Turn is one step of a source's polling loop, for tests that drive the
// schedule on a clock of their own: it polls src if it is this replica's
// turn and returns the wait before the next step.
func (p *Poller) Turn(ctx context.Context, src Source) time.Duration { return p.turn(ctx, src) }
