package connstate

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type events struct {
	mu  sync.Mutex
	all []Event
}

func (e *events) add(ev Event) { e.mu.Lock(); e.all = append(e.all, ev); e.mu.Unlock() }

func (e *events) changes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.all {
		if ev.Change != nil {
			out = append(out, ev.Change.From+"→"+ev.Change.To)
		}
	}
	return out
}

func attempt(c *Connector, fail error) {
	now := time.Now().UTC().Truncate(time.Minute)
	c.Begin(now.Add(-10*time.Minute), now.Add(-5*time.Minute))
	c.Request(false)
	c.Page()
	if fail != nil {
		c.Failed(fail.Error(), 401)
		return
	}
	c.Received(10, time.Now())
	c.Succeeded()
}

// TestStatusFollowsAttempts: a failure degrades, FailedAfter failures fail, a success connects
// again; every transition and every attempt is published.
func TestStatusFollowsAttempts(t *testing.T) {
	r := NewRegistry()
	var got events
	defer r.Subscribe(got.add)()
	c := r.Register(Identity{ID: "ccp/a", Name: "a"})
	attempt(c, nil)
	for i := 0; i < FailedAfter; i++ {
		attempt(c, errors.New("401 Unauthorized"))
	}
	s := c.Snapshot(time.Now())
	assert.Equal(t, StatusFailed, s.Status)
	assert.Equal(t, "401 Unauthorized", s.LastError)
	attempt(c, nil)
	assert.Equal(t, []string{"Connected→Degraded", "Degraded→Failed", "Failed→Connected"}, got.changes())
	windows := 0
	for _, ev := range got.all {
		if ev.Window != nil {
			windows++
			assert.Equal(t, 1, ev.Window.Requests)
			assert.Equal(t, 1, ev.Window.Pages)
		}
	}
	assert.Equal(t, FailedAfter+2, windows)
	s = c.Snapshot(time.Now())
	assert.Equal(t, StatusConnected, s.Status)
	assert.Equal(t, int64(20), s.Hourly[len(s.Hourly)-1].Events)
	assert.Len(t, s.Hourly, CountDays*24)
	require.Len(t, s.History, FailedAfter+2)
	assert.Equal(t, "success", s.History[0].Outcome, "newest first")
}

// TestStallAndStandbyWin: stalled and standby override the attempt-based status and clear.
func TestStallAndStandbyWin(t *testing.T) {
	r := NewRegistry()
	c := r.Register(Identity{ID: "ccp/b"})
	c.SetStalled(true, "no window completed for 15m0s")
	assert.Equal(t, StatusStalled, c.Snapshot(time.Now()).Status)
	attempt(c, nil)
	assert.Equal(t, StatusConnected, c.Snapshot(time.Now()).Status, "a completed window clears the stall")
	for range FailedAfter {
		attempt(c, errors.New("403 Forbidden"))
	}
	c.SetStalled(true, "no window completed for 15m0s")
	assert.Equal(t, StatusFailed, c.Snapshot(time.Now()).Status, "a refusing API says more than Stalled")
	attempt(c, nil)
	c.SetStandby(true)
	assert.Equal(t, StatusStandby, c.Snapshot(time.Now()).Status)
	c.SetDisabled("isActive: false")
	assert.Equal(t, StatusDisabled, c.Snapshot(time.Now()).Status)
}

// TestPersistedStateSurvivesARestart: history and counts exported before a restart are
// preloaded into the connector that registers again, and do not count as progress.
func TestPersistedStateSurvivesARestart(t *testing.T) {
	r := NewRegistry()
	c := r.Register(Identity{ID: "ccp/c", Started: time.Now().Add(-time.Hour)})
	attempt(c, nil)
	saved := c.Export()
	r.Unregister(c)
	assert.Nil(t, r.Get("ccp/c"))

	r.Preload("ccp/c", saved)
	started := time.Now()
	c2 := r.Register(Identity{ID: "ccp/c", Started: started})
	s := c2.Snapshot(time.Now())
	assert.Len(t, s.History, 1)
	assert.Equal(t, int64(10), s.Hourly[len(s.Hourly)-1].Events)
	assert.Equal(t, started, c2.LastProgress(), "progress is measured from this start")
}

func TestTracesAreBounded(t *testing.T) {
	c := NewRegistry().Register(Identity{ID: "ccp/d"})
	for i := 0; i < TraceSize+5; i++ {
		c.Traced(Trace{Status: 200 + i})
	}
	s := c.Snapshot(time.Now())
	require.Len(t, s.Traces, TraceSize)
	assert.Equal(t, 200+TraceSize+4, s.Traces[0].Status, "newest first")
}
