package ccpreceiver

import (
	"context"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// fencedClient is a term's state client that counts the writes the coordinator refused,
// whichever part of the connector made them (checkpoint, refresh token, dedup keys).
type fencedClient struct {
	storage.Client
	r *ccpReceiver
}

func (c *fencedClient) Set(ctx context.Context, key string, value []byte) error {
	err := c.Client.Set(ctx, key, value)
	c.r.countFenced(err)
	return err
}

func (c *fencedClient) Delete(ctx context.Context, key string) error {
	err := c.Client.Delete(ctx, key)
	c.r.countFenced(err)
	return err
}

func (c *fencedClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	err := c.Client.Batch(ctx, ops...)
	c.r.countFenced(err)
	return err
}

// Close leaves the term's client to the coordinator.
func (c *fencedClient) Close(context.Context) error { return nil }
