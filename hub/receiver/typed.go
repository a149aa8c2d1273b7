package receiver

import (
	"context"
	"encoding/json"
)

// SubscribeTyped is Subscribe with each event's JSON decoded into a T by
// encoding/json, the shape a gqlgen subscription resolver returns. Events
// that do not decode into a T are dropped and logged at Warn. The returned
// channel is unbuffered and fed by one goroutine per call, which holds at
// most one decoded event besides the Options.Capacity events buffered by
// Subscribe; it closes when the underlying channel closes (completion,
// Close) or ctx is cancelled. Errors are Subscribe's.
func SubscribeTyped[T any](ctx context.Context, r *Receiver, topic string) (<-chan T, error) {
	events, err := r.Subscribe(ctx, topic)
	if err != nil {
		return nil, err
	}
	out := make(chan T)
	go func() {
		defer close(out)
		for ev := range events {
			var v T
			if err := json.Unmarshal(ev.Data, &v); err != nil {
				r.log.Warn("receiver: dropped event that does not decode", "topic", ev.Topic, "err", err)
				continue
			}
			select {
			case out <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
