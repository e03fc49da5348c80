package checkpoint

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/window"
)

func TestTrackerResumesWhereDeliveryStopped(t *testing.T) {
	ctx := context.Background()
	mem := storagetest.NewInMemoryClient(component.KindReceiver, component.MustNewID("ccp"), "")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := window.Window{Start: t0, End: t0.Add(5 * time.Minute)}

	tr := NewTracker(New(mem), "fp1")
	r, err := tr.Restore(ctx)
	require.NoError(t, err)
	assert.True(t, r.Fresh)
	assert.Equal(t, Position{}, tr.Begin(w))
	require.NoError(t, tr.Delivered(ctx, Position{Skip: 40}))                   // a part of page 1
	require.NoError(t, tr.Delivered(ctx, Position{Resume: "p2", Cursor: "c1"})) // page 1 done
	require.NoError(t, tr.Delivered(ctx, Position{Resume: "p2", Skip: 10}))     // a part of page 2

	// a restart continues inside page 2, with the cursor page 1 left
	tr2 := NewTracker(New(mem), "fp1")
	r, err = tr2.Restore(ctx)
	require.NoError(t, err)
	assert.False(t, r.Fresh)
	assert.Equal(t, Position{Resume: "p2", Skip: 10}, tr2.Begin(w))
	assert.Equal(t, "c1", tr2.Cursor())
	// another window does not inherit the position
	next := window.Window{Start: w.End, End: w.End.Add(5 * time.Minute)}
	assert.Equal(t, Position{}, tr2.Begin(next))

	require.NoError(t, trackerDone(t, mem, w))
}

// trackerDone completes w and checks the saved state moved past it with no position.
func trackerDone(t *testing.T, mem storage.Client, w window.Window) error {
	ctx := context.Background()
	tr := NewTracker(New(mem), "fp1")
	_, _ = tr.Restore(ctx)
	tr.Begin(w)
	if err := tr.Done(ctx, "c9"); err != nil {
		return err
	}
	st, ok, err := New(mem).Load(ctx)
	require.True(t, ok)
	assert.Equal(t, w.End, st.WindowEnd)
	assert.Nil(t, st.Partial)
	assert.Equal(t, "c9", st.Cursor)
	return err
}

func TestTrackerDropsCursorOfAnotherDefinition(t *testing.T) {
	ctx := context.Background()
	mem := storagetest.NewInMemoryClient(component.KindReceiver, component.MustNewID("ccp"), "")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := window.Window{Start: t0, End: t0.Add(time.Minute)}
	tr := NewTracker(New(mem), "old")
	_, _ = tr.Restore(ctx)
	tr.Begin(w)
	require.NoError(t, tr.Delivered(ctx, Position{Resume: "p3", Cursor: "c"}))

	tr = NewTracker(New(mem), "new")
	r, err := tr.Restore(ctx)
	require.NoError(t, err)
	assert.True(t, r.DefinitionChanged)
	assert.Empty(t, tr.Cursor())
	assert.Equal(t, Position{}, tr.Begin(w), "the edited definition polls the window from its start")
}

func TestTrackerRestartAndSkip(t *testing.T) {
	ctx := context.Background()
	mem := storagetest.NewInMemoryClient(component.KindReceiver, component.MustNewID("ccp"), "")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := window.Window{Start: t0, End: t0.Add(time.Minute)}
	tr := NewTracker(New(mem), "fp")
	_, _ = tr.Restore(ctx)
	tr.Begin(w)
	require.NoError(t, tr.Delivered(ctx, Position{Resume: "p3"}))
	tr.Restart()
	assert.Equal(t, Position{}, tr.Begin(w))
	require.NoError(t, tr.Delivered(ctx, Position{Resume: "p3"}))
	tr.SkipTo(t0.Add(time.Hour))
	assert.Equal(t, Position{}, tr.Begin(w))
}
