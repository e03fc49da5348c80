package ccpcoordinatorextension

import (
	"context"
	"errors"
	"time"
)

// engine is one coordination backend (etcd or Kubernetes Leases). The coordinator above it
// decides when to campaign, renews terms and enforces the renew deadline; the engine only
// talks to the store.
type engine interface {
	// publish announces this replica as alive, with the connectors it joined and how many it
	// leads. Called every retry period; it doubles as the replica's presence heartbeat.
	publish(ctx context.Context, self member) error
	// members lists the live replicas, this one included once published.
	members(ctx context.Context) ([]member, error)
	// tryLead tries to take the connector's lease, waiting at most wait. It returns a nil hold
	// and nil error when another replica leads.
	tryLead(ctx context.Context, connector string, wait time.Duration) (hold, error)
	// leader is the identity leading the connector, "" when nobody does.
	leader(ctx context.Context, connector string) (string, error)
	// close withdraws this replica's presence and releases what it holds.
	close(ctx context.Context) error
}

// member is one live replica as published.
type member struct {
	Identity   string   `json:"identity"`
	Connectors []string `json:"connectors"`
	Leading    int      `json:"leading"`
}

// hold is one acquired lease on a connector: the fencing token of a term.
type hold interface {
	// renew extends the lease once. It returns an error wrapping errLost when the lease is
	// provably no longer this term's (another replica took it, or it expired).
	renew(ctx context.Context) error
	// release stops renewing and gives the lease up so another replica can take it at once;
	// it changes nothing when the lease is already someone else's.
	release(ctx context.Context) error
	// get reads one key of the connector's state (nil when absent).
	get(ctx context.Context, key string) ([]byte, error)
	// commit applies writes atomically, only while this term still holds the lease; otherwise
	// it returns an error wrapping coordination.ErrFenced and changes nothing.
	commit(ctx context.Context, writes []write) error
	// fence describes the fencing token for logs (e.g. "revision 42").
	fence() string
}

// write is one Set (or Delete) of a batch.
type write struct {
	key    string
	value  []byte
	delete bool
}

// errLost marks a renewal that proved the lease is gone (as opposed to a store that could not
// be reached).
var errLost = errors.New("lease lost")
