package host

import (
	"context"
	"time"
)

// poll calls check every 250 ms until it reports true, fails, or h.Timeout
// passes (false, nil). A few objects need no watch: their waits are short.
func (h *Host) poll(ctx context.Context, check func(context.Context) (bool, error)) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout())
	defer cancel()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		ok, err := check(ctx)
		if ok || (err != nil && ctx.Err() == nil) {
			return ok, err
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-t.C:
		}
	}
}
