package ccpcoordinatorextension

import "sync"

// metrics counts, per connector, leadership changes and refused (fenced) writes, and whether
// this replica leads. Read by tests and the extension's telemetry.
type metrics struct {
	mu      sync.Mutex
	leading map[string]bool
	changes map[string]int64
	refused map[string]int64
	hooks   []func(connector string, event string, leading bool)
}

func newMetrics() *metrics {
	return &metrics{leading: map[string]bool{}, changes: map[string]int64{}, refused: map[string]int64{}}
}

func (m *metrics) leadershipChanged(connector string, leading bool) {
	m.mu.Lock()
	m.leading[connector] = leading
	m.changes[connector]++
	hooks := m.hooks
	m.mu.Unlock()
	for _, h := range hooks {
		h(connector, "leadership", leading)
	}
}

func (m *metrics) fenced(connector string) {
	m.mu.Lock()
	m.refused[connector]++
	leading := m.leading[connector]
	hooks := m.hooks
	m.mu.Unlock()
	for _, h := range hooks {
		h(connector, "fenced", leading)
	}
}

func (m *metrics) refusedWrites(connector string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.refused[connector]
}
