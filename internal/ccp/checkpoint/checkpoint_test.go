package checkpoint

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	client := storagetest.NewInMemoryClient(component.KindReceiver, component.MustNewID("ccp"), "")
	s := New(client)
	_, ok, err := s.Load(ctx)
	require.NoError(t, err)
	assert.False(t, ok)

	end := time.Date(2024, 1, 2, 3, 4, 5, 678900000, time.FixedZone("x", 3600))
	require.NoError(t, s.Save(ctx, State{Fingerprint: "fp", WindowEnd: end, Cursor: "c1"}))
	got, ok, err := New(client).Load(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, got.WindowEnd.Equal(end), "sub-second precision survives")
	assert.Equal(t, "c1", got.Cursor)
	assert.Equal(t, "fp", got.Fingerprint)
	assert.Equal(t, currentVersion, got.Version)

	require.NoError(t, s.Set(ctx, "refresh", []byte("r")))
	v, err := s.Get(ctx, "refresh")
	require.NoError(t, err)
	assert.Equal(t, []byte("r"), v)
}

func TestCorruptCheckpointIsReportedNotFatal(t *testing.T) {
	ctx := context.Background()
	client := storagetest.NewInMemoryClient(component.KindReceiver, component.MustNewID("ccp"), "")
	require.NoError(t, client.Set(ctx, stateKey, []byte("{not json")))
	_, ok, err := New(client).Load(ctx)
	assert.False(t, ok)
	assert.ErrorContains(t, err, "corrupt")
}
