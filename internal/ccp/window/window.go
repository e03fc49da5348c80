// Package window computes CCP query windows: contiguous [start, end) intervals of
// queryWindowInMin minutes, polled only once end <= now - queryWindowDelayInMin. It holds no
// state; the checkpoint (the last completed end) is the state.
package window

import "time"

// Window is one query interval, start inclusive, end exclusive.
type Window struct {
	Start, End time.Time
}

// Schedule is the window length and the publication delay of a connector.
type Schedule struct {
	Size  time.Duration // queryWindowInMin
	Delay time.Duration // queryWindowDelayInMin
}

// FirstStart is where the first window starts on a first run: lookback before the latest
// pollable instant (now - delay), floored to the minute; lookback <= 0 means one window.
func (s Schedule) FirstStart(now time.Time, lookback time.Duration) time.Time {
	if lookback <= 0 {
		lookback = s.Size
	}
	return now.UTC().Add(-s.Delay).Truncate(time.Minute).Add(-lookback)
}

// Next returns the window that starts at start and, when it cannot be polled yet, how long to
// wait. A catch-up after downtime is a run of windows of the normal size, never one giant one.
func (s Schedule) Next(start, now time.Time) (w Window, wait time.Duration) {
	w = Window{Start: start.UTC(), End: start.UTC().Add(s.Size)}
	if ready := now.Add(-s.Delay); w.End.After(ready) {
		return w, w.End.Sub(ready)
	}
	return w, 0
}
