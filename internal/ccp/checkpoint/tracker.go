package checkpoint

import (
	"context"
	"time"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
)

// Tracker owns a connector's delivery state and is the only code that saves it. Its
// transitions follow the CCP polling loop: a window begins, parts and pages of it reach the
// pipeline (each saved at once, so a restart neither loses nor re-sends them), the window is
// done. Like stanza's checkpoint tracker it is used by one goroutine at a time.
type Tracker struct {
	store *Store
	fp    string
	st    State
	end   time.Time // the end of the window being delivered
}

// Position is how far delivery of the current window got: the page at Resume ("" for the
// window's first page) has its first Skip records in the pipeline. Cursor, when set, is the
// persistent cursor that page left.
type Position struct {
	Resume string
	Skip   int
	Cursor string
}

// Restored describes what Restore found.
type Restored struct {
	Fresh             bool      // no usable checkpoint: start from the initial lookback
	DefinitionChanged bool      // saved by another definition: its cursor was dropped
	WindowEnd         time.Time // where polling resumes unless Fresh
}

// NewTracker tracks the state of the definition with fingerprint fp in store.
func NewTracker(store *Store, fingerprint string) *Tracker {
	return &Tracker{store: store, fp: fingerprint}
}

// Restore loads the saved state. An edited definition keeps its place in time but not a
// server-side cursor that may belong to another endpoint or query. err reports a checkpoint
// that could not be read; the tracker then starts fresh.
func (t *Tracker) Restore(ctx context.Context) (Restored, error) {
	st, ok, err := t.store.Load(ctx)
	r := Restored{Fresh: !ok, WindowEnd: st.WindowEnd}
	if ok && st.Fingerprint != t.fp {
		r.DefinitionChanged = true
		st.Cursor, st.Partial = "", nil
	}
	st.Fingerprint = t.fp
	t.st = st
	return r, err
}

// Begin starts delivering w. It returns the position an interrupted delivery of the same
// window reached (zero when there is none).
func (t *Tracker) Begin(w window.Window) Position {
	t.end = w.End
	if p := t.st.Partial; p != nil && p.End.Equal(w.End) {
		return Position{Resume: p.Resume, Skip: p.Skip}
	}
	return Position{}
}

// Cursor is the persistent cursor to poll with.
func (t *Tracker) Cursor() string { return t.st.Cursor }

// Delivered saves that delivery of the current window reached p. Callers report positions in
// the order the pipeline accepted them.
func (t *Tracker) Delivered(ctx context.Context, p Position) error {
	if p.Cursor != "" {
		t.st.Cursor = p.Cursor
	}
	t.st.Partial = nil
	if p.Resume != "" || p.Skip > 0 {
		t.st.Partial = &Partial{End: t.end, Resume: p.Resume, Skip: p.Skip}
	}
	return t.save(ctx)
}

// Restart forgets the saved position within the window: the next attempt polls it from its
// first page (the saved page token was refused, say).
func (t *Tracker) Restart() { t.st.Partial = nil }

// SkipTo abandons everything before start (max_catch_up): the interrupted window with it.
func (t *Tracker) SkipTo(start time.Time) {
	if start.After(t.st.WindowEnd) {
		t.st.Partial = nil
	}
}

// Done saves a completed window and the cursor it left. It saves even when ctx is done: a
// restart would otherwise poll the whole window again.
func (t *Tracker) Done(ctx context.Context, cursor string) error {
	t.st.WindowEnd, t.st.Cursor, t.st.Partial = t.end, cursor, nil
	return t.save(ctx)
}

func (t *Tracker) save(ctx context.Context) error {
	return t.store.Save(context.WithoutCancel(ctx), t.st)
}
