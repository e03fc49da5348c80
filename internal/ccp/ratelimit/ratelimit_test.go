package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSpacingAndDelay(t *testing.T) {
	l := New(50) // 20 ms apart
	start := time.Now()
	for i := 0; i < 4; i++ {
		require.NoError(t, l.Wait(context.Background()))
	}
	assert.GreaterOrEqual(t, time.Since(start), 60*time.Millisecond, "three gaps of 20 ms")

	u := New(0)
	start = time.Now()
	for i := 0; i < 100; i++ {
		require.NoError(t, u.Wait(context.Background()))
	}
	assert.Less(t, time.Since(start), time.Second, "unlimited does not wait")

	u.Delay(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, u.Wait(ctx), context.DeadlineExceeded, "a delay is honoured and cancellable")
}
