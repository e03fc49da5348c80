// Package dedup drops events whose key was already delivered within a retention period, for
// APIs whose windows overlap or replay (inclusive boundaries, stuck windows, snapshot
// endpoints).
//
// Keys are 64-bit fingerprints (xxhash of the key's text): 8 bytes a key in sorted, sealed
// segments, one segment per 1/24 of the retention, so expiry drops whole segments. 10 million
// keys take about 80 MB (plus the map of the segment being filled). A fingerprint collision
// would drop an event wrongly, which is data loss: with n keys remembered the chance that one
// new event collides is n/2^64 (5.4e-13 for 10 million keys; about one wrongly dropped event
// in 10^18 events at that size), which is why a 64-bit exact fingerprint is used rather than a
// Bloom or cuckoo filter (whose false-positive rates of 1e-3..1e-6 would drop real events).
// MaxKeys bounds memory: past it the oldest segment is forgotten early, which can let a
// duplicate through but never drops an event.
package dedup

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/otelcol-ccp/otelcol-ccp/internal/jsonnet/jsonpath"
)

// KeyHash selects a fingerprint of the whole event text instead of a JSONPath.
const KeyHash = "hash"

// Segments a retention period is split into.
const Segments = 24

// DefaultMaxKeys bounds the keys remembered (about 80 MB).
const DefaultMaxKeys = 10_000_000

// Options configure a Filter.
type Options struct {
	Key       string // a JSONPath into the event, or KeyHash
	Retention time.Duration
	MaxKeys   int
	Store     Store // nil: keys live in memory only
	Now       func() time.Time
}

// Filter remembers the keys of delivered events. It is not safe for concurrent use: the
// receiver's polling goroutine owns it.
type Filter struct {
	key      func(ev string) (uint64, bool)
	o        Options
	segLen   int64 // seconds
	segs     []*segment
	keys     int
	pending  []uint64            // keys of the events kept by Filter but not yet committed
	inWindow map[uint64]struct{} // the same, for lookups
}

type segment struct {
	start  int64    // unix seconds, a multiple of segLen
	sorted []uint64 // sealed part, sorted
	live   map[uint64]struct{}
	chunks int // chunks persisted for this segment
}

// New builds a filter and loads the keys a Store kept.
func New(o Options) (*Filter, error) {
	if o.Retention <= 0 {
		return nil, errors.New("dedup.retention: must be positive, e.g. 24h")
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	f := &Filter{o: o, segLen: max(int64(o.Retention/time.Second)/Segments, 1), inWindow: map[uint64]struct{}{}}
	var err error
	if f.key, err = keyFunc(o.Key); err != nil {
		return nil, err
	}
	if o.Store != nil {
		if err := f.load(); err != nil {
			return nil, fmt.Errorf("dedup: loading remembered keys: %w", err)
		}
	}
	return f, nil
}

// keyFunc turns the configured key into a fingerprint function.
func keyFunc(key string) (func(string) (uint64, bool), error) {
	key = strings.TrimSpace(key)
	switch key {
	case "":
		return nil, errors.New("dedup.key: missing; use a JSONPath into the event (e.g. $.uuid) or `hash`")
	case KeyHash:
		return func(ev string) (uint64, bool) { return xxhash.Sum64String(ev), true }, nil
	}
	p, err := jsonpath.Compile(key)
	if err != nil {
		return nil, fmt.Errorf("dedup.key %q: %w", key, err)
	}
	return func(ev string) (uint64, bool) {
		rs, err := p.SelectStringMax(ev, 16)
		if err != nil || len(rs) == 0 {
			return 0, false // no key: the event is always delivered
		}
		var b strings.Builder
		for _, r := range rs {
			b.WriteString(r.Raw) // raw JSON: "1" and 1 are different keys
			b.WriteByte(0)
		}
		return xxhash.Sum64String(b.String()), true
	}, nil
}

// Filter returns the events of a part whose key was not delivered within the retention (nor
// earlier in the same batch) and the number dropped. The kept events' keys are remembered only
// by Commit, once the pipeline accepted them.
func (f *Filter) Filter(events []string) (kept []string, dropped int) {
	kept = events[:0:0]
	for _, ev := range events {
		fp, ok := f.key(ev)
		if !ok {
			kept = append(kept, ev)
			continue
		}
		if _, dup := f.inWindow[fp]; dup || f.has(fp) {
			dropped++
			continue
		}
		f.inWindow[fp] = struct{}{}
		f.pending = append(f.pending, fp)
		kept = append(kept, ev)
	}
	return kept, dropped
}

// Abandon forgets the keys of the last Filter call: the pipeline did not take the events.
func (f *Filter) Abandon() {
	f.pending = f.pending[:0]
	clear(f.inWindow)
}

// Commit remembers the keys of the events kept since the last Commit (the pipeline accepted
// them) and persists them before the caller saves its checkpoint.
func (f *Filter) Commit() error {
	if len(f.pending) == 0 {
		return nil
	}
	now := f.o.Now()
	f.expire(now)
	seg := f.current(now)
	fps := make([]uint64, 0, len(f.pending))
	for _, fp := range f.pending {
		if _, ok := seg.live[fp]; !ok {
			seg.live[fp] = struct{}{}
			fps = append(fps, fp)
			f.keys++
		}
	}
	f.Abandon()
	f.enforceMax()
	if f.o.Store == nil || len(fps) == 0 {
		return nil
	}
	return f.persist(seg, fps)
}

// Len is the number of keys remembered.
func (f *Filter) Len() int { return f.keys }

func (f *Filter) has(fp uint64) bool {
	cutoff := f.o.Now().Add(-f.o.Retention).Unix()
	for _, s := range f.segs {
		if s.start+f.segLen <= cutoff {
			continue // expired, not yet dropped
		}
		if _, ok := s.live[fp]; ok {
			return true
		}
		if _, ok := slices.BinarySearch(s.sorted, fp); ok {
			return true
		}
	}
	return false
}

// current returns the segment now falls in, sealing the previous one.
func (f *Filter) current(now time.Time) *segment {
	start := now.Unix() / f.segLen * f.segLen
	if n := len(f.segs); n > 0 && f.segs[n-1].start == start {
		return f.segs[n-1]
	}
	if n := len(f.segs); n > 0 {
		f.segs[n-1].seal()
	}
	s := &segment{start: start, live: map[uint64]struct{}{}}
	f.segs = append(f.segs, s)
	return s
}

// seal moves the live keys into the sorted slice (8 bytes a key).
func (s *segment) seal() {
	if len(s.live) == 0 {
		return
	}
	for fp := range s.live {
		s.sorted = append(s.sorted, fp)
	}
	slices.Sort(s.sorted)
	s.sorted = slices.Clip(s.sorted)
	s.live = map[uint64]struct{}{}
}

func (s *segment) size() int { return len(s.sorted) + len(s.live) }

// expire drops the segments wholly older than the retention.
func (f *Filter) expire(now time.Time) {
	cutoff := now.Add(-f.o.Retention).Unix()
	for len(f.segs) > 0 && f.segs[0].start+f.segLen <= cutoff {
		f.drop()
	}
}

// enforceMax forgets the oldest segments while over MaxKeys (never the current one).
func (f *Filter) enforceMax() {
	for f.keys > f.o.MaxKeys && len(f.segs) > 1 {
		f.drop()
	}
}

func (f *Filter) drop() {
	s := f.segs[0]
	f.keys -= s.size()
	f.segs = f.segs[1:]
	if f.o.Store != nil {
		f.forget(s)
	}
}
