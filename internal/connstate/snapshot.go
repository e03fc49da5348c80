package connstate

import "time"

// HourCount is the number of records received in one hour.
type HourCount struct {
	Hour   time.Time
	Events int64
}

// Snapshot is a consistent copy of a connector's state for pages and health records.
type Snapshot struct {
	Identity
	Status, Reason   string
	Failures         int // consecutive failed attempts
	LastError        string
	LastErrorAt      time.Time
	LastDataReceived time.Time
	LastWindow       *Window       // the last completed window
	Lag              time.Duration // now − the end of the last completed window
	History          []Window      // newest first
	Traces           []Trace       // newest first
	Hourly           []HourCount   // the last CountDays days, oldest first, one entry per hour
}

// Snapshot copies the connector's state at now.
func (c *Connector) Snapshot(now time.Time) Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Snapshot{Identity: c.id, Status: c.status, Reason: c.reason, Failures: c.failures,
		LastError: c.lastErr, LastErrorAt: c.lastErrAt, LastDataReceived: c.lastData}
	if c.lastDone != nil {
		w := *c.lastDone
		s.LastWindow = &w
		s.Lag = now.Sub(w.End)
	}
	s.History = make([]Window, 0, len(c.history))
	for i := len(c.history) - 1; i >= 0; i-- {
		s.History = append(s.History, c.history[i])
	}
	s.Traces = make([]Trace, 0, len(c.traces))
	for i := len(c.traces) - 1; i >= 0; i-- {
		s.Traces = append(s.Traces, c.traces[i])
	}
	last := now.Unix() / 3600
	for h := last - CountDays*24 + 1; h <= last; h++ {
		s.Hourly = append(s.Hourly, HourCount{Hour: time.Unix(h*3600, 0).UTC(), Events: c.hourly[h]})
	}
	return s
}

// Persisted is what survives a restart: history and counts (the status extension keeps it in
// the storage extension).
type Persisted struct {
	History  []Window        `json:"history,omitempty"`
	Hourly   map[int64]int64 `json:"hourly,omitempty"`
	LastData time.Time       `json:"last_data,omitzero"`
	LastDone *Window         `json:"last_done,omitempty"`
}

// Export returns the connector's persisted part.
func (c *Connector) Export() Persisted {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := Persisted{History: append([]Window(nil), c.history...), Hourly: make(map[int64]int64, len(c.hourly)),
		LastData: c.lastData}
	for h, n := range c.hourly {
		p.Hourly[h] = n
	}
	if c.lastDone != nil {
		w := *c.lastDone
		p.LastDone = &w
	}
	return p
}

// Import merges a persisted part into a freshly registered connector: older history first,
// counts added.
func (c *Connector) Import(p Persisted) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.history = append(append([]Window(nil), p.History...), c.history...)
	if len(c.history) > HistorySize {
		c.history = c.history[len(c.history)-HistorySize:]
	}
	for h, n := range p.Hourly {
		c.hourly[h] += n
	}
	c.pruneHourly(time.Now())
	if p.LastData.After(c.lastData) {
		c.lastData = p.LastData
	}
	if c.lastDone == nil && p.LastDone != nil {
		w := *p.LastDone
		c.lastDone = &w
	}
}
