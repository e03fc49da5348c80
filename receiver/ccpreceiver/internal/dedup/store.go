package dedup

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
)

// Store is where remembered keys survive a restart: the storage extension's client.
type Store interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte) error
	Delete(ctx context.Context, key string) error
}

const indexKey = "dedup.index"

// index lists the persisted segments: the storage interface cannot list keys.
type index struct {
	Segments []indexEntry `json:"segments"`
}

type indexEntry struct {
	Start  int64 `json:"start"`
	Chunks int   `json:"chunks"`
}

func chunkKey(start int64, n int) string { return fmt.Sprintf("dedup.%d.%d", start, n) }

// persist writes the new keys of seg as one chunk, then the index that names it.
func (f *Filter) persist(seg *segment, fps []uint64) error {
	ctx := context.Background()
	buf := make([]byte, 8*len(fps))
	for i, fp := range fps {
		binary.LittleEndian.PutUint64(buf[8*i:], fp)
	}
	if err := f.o.Store.Set(ctx, chunkKey(seg.start, seg.chunks), buf); err != nil {
		return fmt.Errorf("dedup: saving keys: %w", err)
	}
	seg.chunks++
	return f.saveIndex(ctx)
}

// forget deletes a dropped segment's chunks (after the index no longer names them).
func (f *Filter) forget(s *segment) {
	ctx := context.Background()
	if f.saveIndex(ctx) != nil {
		return // the chunks stay named; a later save retries
	}
	for n := 0; n < s.chunks; n++ {
		_ = f.o.Store.Delete(ctx, chunkKey(s.start, n))
	}
}

func (f *Filter) saveIndex(ctx context.Context) error {
	var ix index
	for _, s := range f.segs {
		if s.chunks > 0 {
			ix.Segments = append(ix.Segments, indexEntry{Start: s.start, Chunks: s.chunks})
		}
	}
	b, err := json.Marshal(ix)
	if err != nil {
		return err
	}
	return f.o.Store.Set(ctx, indexKey, b)
}

// load reads the segments the index names, as sealed segments, dropping the expired ones.
func (f *Filter) load() error {
	ctx := context.Background()
	b, err := f.o.Store.Get(ctx, indexKey)
	if err != nil || b == nil {
		return err
	}
	var ix index
	if err := json.Unmarshal(b, &ix); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	for _, e := range ix.Segments {
		s := &segment{start: e.Start, chunks: e.Chunks, live: map[uint64]struct{}{}}
		for n := 0; n < e.Chunks; n++ {
			c, err := f.o.Store.Get(ctx, chunkKey(e.Start, n))
			if err != nil {
				return err
			}
			for i := 0; i+8 <= len(c); i += 8 {
				s.sorted = append(s.sorted, binary.LittleEndian.Uint64(c[i:]))
			}
		}
		slices.Sort(s.sorted)
		s.sorted = slices.Compact(s.sorted)
		f.keys += len(s.sorted)
		f.segs = append(f.segs, s)
	}
	slices.SortFunc(f.segs, func(a, b *segment) int { return int(a.start - b.start) })
	f.expire(f.o.Now())
	f.enforceMax()
	return nil
}
