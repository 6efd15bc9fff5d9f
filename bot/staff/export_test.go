package staff

import (
	"context"

	"github.com/bulletinbot/bulletinbot/poller"
)

// ApplyHealth lets tests act on a snapshot of their choosing, such as one
// read before the health last changed, as a slow replica would.
func (s *Staff) ApplyHealth(ctx context.Context, health map[string]poller.Health) error {
	return s.applyHealth(ctx, health)
}
