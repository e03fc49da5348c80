package window

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestWindowsAreContiguousAndDelayed(t *testing.T) {
	s := Schedule{Size: 5 * time.Minute, Delay: 30 * time.Minute}
	now := time.Date(2024, 1, 2, 12, 0, 30, 0, time.UTC)
	start := s.FirstStart(now, time.Hour)
	assert.Equal(t, time.Date(2024, 1, 2, 10, 30, 0, 0, time.UTC), start)

	var got []Window
	for i := 0; i < 100; i++ { // bounded: catch-up must end within 12 windows
		w, wait := s.Next(start, now)
		if wait > 0 {
			assert.Equal(t, time.Date(2024, 1, 2, 11, 30, 0, 0, time.UTC), w.Start)
			assert.Equal(t, 4*time.Minute+30*time.Second, wait)
			break
		}
		if len(got) > 0 {
			assert.Equal(t, got[len(got)-1].End, w.Start, "no gap, no overlap")
		}
		assert.Equal(t, 5*time.Minute, w.End.Sub(w.Start))
		assert.False(t, w.End.After(now.Add(-s.Delay)), "never polls a window the delay still covers")
		got = append(got, w)
		start = w.End
	}
	assert.Len(t, got, 12)
}

func TestFirstStartDefaultsToOneWindow(t *testing.T) {
	s := Schedule{Size: 10 * time.Minute}
	now := time.Date(2024, 1, 2, 12, 7, 59, 0, time.UTC)
	assert.Equal(t, time.Date(2024, 1, 2, 11, 57, 0, 0, time.UTC), s.FirstStart(now, 0))
	w, wait := s.Next(s.FirstStart(now, 0), now)
	assert.Zero(t, wait)
	assert.Equal(t, time.Date(2024, 1, 2, 12, 7, 0, 0, time.UTC), w.End)
}
