package hyperv

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ReplaySource answers queries from recorded Data: a snapshot's data, a
// capture script's output or a test fixture. It lets Fetch's path run
// without a host.
type ReplaySource struct {
	d     *Data
	calls int
}

// NewReplaySource replays d.
func NewReplaySource(d *Data) *ReplaySource { return &ReplaySource{d: d} }

// Query returns the recorded instances of q's class, restricted to q's
// properties, or the recorded error.
func (r *ReplaySource) Query(ctx context.Context, q Query) (Instances, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.calls++
	for _, rec := range r.d.Queries {
		if rec.Class == q.Class && strings.EqualFold(rec.Namespace, q.Namespace) {
			if rec.Error != "" {
				return nil, errors.New(rec.Error)
			}
			out := make(Instances, 0, len(rec.Instances))
			for _, in := range rec.Instances {
				out = append(out, keep(in, q.Properties))
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("Invalid class %q (not in the recording)", q.Class)
}

// Method returns the recorded result of the call.
func (r *ReplaySource) Method(ctx context.Context, m MethodCall) (Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.calls++
	if rec := r.d.method(m.Class, m.Method); rec != nil {
		if rec.Error != "" {
			return nil, errors.New(rec.Error)
		}
		return rec.Result, nil
	}
	return nil, fmt.Errorf("method %s.%s not in the recording", m.Class, m.Method)
}

// Calls counts the queries and calls answered.
func (r *ReplaySource) Calls() int { return r.calls }

// Close does nothing.
func (r *ReplaySource) Close() error { return nil }
