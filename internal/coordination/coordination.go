// Package coordination is the contract between a ccp receiver and the ccp_coordinator
// extension: one leader per connector across replicas, and the connector's state kept by the
// coordination engine with every write fenced on the writer still leading.
package coordination

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// ErrFenced is returned (wrapped) by a Term's state client for a write made after the term
// ended: a deposed leader can never overwrite its successor's state.
var ErrFenced = errors.New("write refused: this replica no longer leads the connector")

// Coordinator is implemented by the ccp_coordinator extension.
type Coordinator interface {
	// Join enrols one connector (named the same on every replica, e.g. the receiver ID) in its
	// election. It returns at once; Candidate.Lead waits for leadership.
	Join(ctx context.Context, connector string) (Candidate, error)
}

// Candidate is this replica's place in one connector's election.
type Candidate interface {
	// Lead blocks until this replica leads the connector, or ctx ends. While this replica
	// leads already it returns the term in progress. It fails at once after Close or once the
	// coordinator shut down.
	Lead(ctx context.Context) (Term, error)
	// Close withdraws from the election, resigning a term in progress.
	Close(ctx context.Context) error
}

// Term is one uninterrupted leadership of a connector.
type Term interface {
	// Done is closed when the term ends: the lease was lost, or could not be renewed within
	// the renew deadline (before another replica can take it over). The holder stops polling.
	Done() <-chan struct{}
	// State is the connector's shared state. Reads see the last fenced write of any term;
	// every write fails with ErrFenced once this term is over (the engine refuses it too, so
	// a write racing the end of the term cannot land after a successor's). A Batch is one
	// fenced transaction; its Gets see its earlier writes.
	State() storage.Client
	// Leader is this replica's identity, for logs and status.
	Leader() string
	// Resign ends the term early and lets another replica lead.
	Resign(ctx context.Context) error
}
