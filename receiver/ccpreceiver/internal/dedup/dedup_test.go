package dedup

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newMemStore() *memStore { return &memStore{m: map[string][]byte{}} }

func (s *memStore) Get(_ context.Context, k string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[k], nil
}
func (s *memStore) Set(_ context.Context, k string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = append([]byte(nil), v...)
	return nil
}
func (s *memStore) Delete(_ context.Context, k string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
	return nil
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func events(from, to int) []string {
	out := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf(`{"uuid":"u-%d","n":%d}`, i, i))
	}
	return out
}

func deliver(t *testing.T, f *Filter, evs []string) (kept []string, dropped int) {
	t.Helper()
	kept, dropped = f.Filter(evs)
	require.NoError(t, f.Commit())
	return kept, dropped
}

// TestReplayedWindowDeliversOnce: the same window polled three times (a replay, overlapping
// boundaries) delivers each event once; duplicates inside one batch go too.
func TestReplayedWindowDeliversOnce(t *testing.T) {
	for _, key := range []string{"$.uuid", KeyHash} {
		f, err := New(Options{Key: key, Retention: time.Hour})
		require.NoError(t, err)
		total := 0
		for range 3 {
			kept, _ := deliver(t, f, events(0, 100))
			total += len(kept)
		}
		assert.Equal(t, 100, total, key)
		kept, dropped := deliver(t, f, append(events(100, 110), events(105, 110)...))
		assert.Len(t, kept, 10, key)
		assert.Equal(t, 5, dropped, key)
	}
}

// TestUncommittedKeysAreNotRemembered: events the pipeline refused were not delivered, so the
// retry must not drop them.
func TestUncommittedKeysAreNotRemembered(t *testing.T) {
	f, err := New(Options{Key: "$.uuid", Retention: time.Hour})
	require.NoError(t, err)
	kept, _ := f.Filter(events(0, 10))
	require.Len(t, kept, 10)
	f.Abandon()
	kept, dropped := deliver(t, f, events(0, 10))
	assert.Len(t, kept, 10)
	assert.Zero(t, dropped)
}

func TestKeyRules(t *testing.T) {
	f, err := New(Options{Key: "$.id", Retention: time.Hour})
	require.NoError(t, err)
	kept, _ := deliver(t, f, []string{`{"id":"1"}`, `{"id":1}`, `{"x":1}`, `{"x":1}`})
	assert.Len(t, kept, 4, `"1" and 1 are different keys; events without the key always pass`)
	_, err = New(Options{Key: "", Retention: time.Hour})
	assert.ErrorContains(t, err, "dedup.key")
	_, err = New(Options{Key: "$.[", Retention: time.Hour})
	assert.ErrorContains(t, err, "dedup.key")
	_, err = New(Options{Key: KeyHash})
	assert.ErrorContains(t, err, "dedup.retention")
}

// TestRetentionExpires: a key older than the retention is forgotten, so the event passes.
func TestRetentionExpires(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	f, err := New(Options{Key: KeyHash, Retention: 24 * time.Hour, Now: c.now})
	require.NoError(t, err)
	deliver(t, f, events(0, 10))
	c.t = c.t.Add(23 * time.Hour)
	_, dropped := deliver(t, f, events(0, 10))
	assert.Equal(t, 10, dropped, "within retention")
	c.t = c.t.Add(2*time.Hour + 2*time.Hour/Segments)
	kept, _ := deliver(t, f, events(0, 10))
	assert.Len(t, kept, 10, "after retention")
}

// TestKeysSurviveARestart: keys persisted through the store are loaded by a new filter;
// expired segments are deleted from the store.
func TestKeysSurviveARestart(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	st := newMemStore()
	f, err := New(Options{Key: "$.uuid", Retention: 24 * time.Hour, Now: c.now, Store: st})
	require.NoError(t, err)
	deliver(t, f, events(0, 50))
	c.t = c.t.Add(3 * time.Hour)
	deliver(t, f, events(50, 100))

	g, err := New(Options{Key: "$.uuid", Retention: 24 * time.Hour, Now: c.now, Store: st})
	require.NoError(t, err)
	assert.Equal(t, 100, g.Len())
	kept, dropped := g.Filter(events(0, 120))
	assert.Len(t, kept, 20)
	assert.Equal(t, 100, dropped)
	g.Abandon()

	c.t = c.t.Add(22 * time.Hour) // the first segment expires
	h, err := New(Options{Key: "$.uuid", Retention: 24 * time.Hour, Now: c.now, Store: st})
	require.NoError(t, err)
	assert.Equal(t, 50, h.Len())
	deliver(t, h, events(200, 201)) // a commit rewrites the index without the expired segment
	_, expired := st.m[chunkKey(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Unix(), 0)]
	assert.False(t, expired, "the expired segment's chunk is deleted")
	assert.Len(t, st.m, 3, "the index, the chunk of the segment still kept, the new chunk")
}

// TestMaxKeysForgetsOldestFirst: over the cap the oldest segment goes (a duplicate may pass;
// nothing is dropped wrongly).
func TestMaxKeysForgetsOldestFirst(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	f, err := New(Options{Key: KeyHash, Retention: 24 * time.Hour, Now: c.now, MaxKeys: 150})
	require.NoError(t, err)
	for i := range 4 {
		deliver(t, f, events(i*100, i*100+100))
		c.t = c.t.Add(time.Hour)
	}
	assert.LessOrEqual(t, f.Len(), 150)
	kept, _ := deliver(t, f, events(0, 100))
	assert.Len(t, kept, 100, "the oldest keys were forgotten")
}

// TestMemoryPerKey: sealed keys cost 8 bytes each (plus slice headers), so 10 million keys take
// about 80 MB; the test holds 1 million below 12 MB.
func TestMemoryPerKey(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f, err := New(Options{Key: KeyHash, Retention: 24 * time.Hour, Now: c.now})
	require.NoError(t, err)
	batch := make([]string, 0, 1000)
	for i := range 1000 {
		batch = batch[:0]
		for j := range 1000 {
			batch = append(batch, fmt.Sprint(i*1000+j))
		}
		deliver(t, f, batch)
		c.t = c.t.Add(23 * time.Hour / 1000)
	}
	c.t = c.t.Add(time.Hour)
	deliver(t, f, []string{"seal"})
	runtime.GC()
	runtime.ReadMemStats(&after)
	assert.Equal(t, 1_000_001, f.Len())
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("1,000,001 keys: heap grew %.1f MB", float64(grown)/(1<<20))
	assert.Less(t, grown, int64(12<<20))
	runtime.KeepAlive(f)
}

// BenchmarkFilter: the per-event cost of a JSONPath key on ~200-byte events, with commits.
func BenchmarkFilter(b *testing.B) {
	f, err := New(Options{Key: "$.uuid", Retention: 24 * time.Hour})
	require.NoError(b, err)
	evs := make([]string, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += len(evs) {
		b.StopTimer()
		for j := range evs {
			evs[j] = fmt.Sprintf(`{"uuid":"%08d-0000-4000-8000-000000000000","published":"2026-12-01T00:00:00Z","actor":{"id":"x"},"outcome":"SUCCESS","n":%d}`, i+j, j)
		}
		b.StartTimer()
		f.Filter(evs)
		_ = f.Commit()
	}
}
