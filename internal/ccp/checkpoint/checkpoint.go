// Package checkpoint persists a poller's progress through the collector's storage extension
// (or a coordinator's fenced state): the end of the last fully delivered window, how far into
// the next one delivery got, and the server-side cursors (PersistentToken, PersistentLinkHeader)
// that survive windows and restarts. Its Tracker is the only code that saves them.
package checkpoint

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

const (
	stateKey       = "ccp.checkpoint"
	currentVersion = 1
)

// State is what a poller needs to resume. Fingerprint identifies the definition it was taken
// with, so cursors of an edited definition are not reused.
type State struct {
	Version     int       `json:"v"`
	Fingerprint string    `json:"fp"`
	WindowEnd   time.Time `json:"window_end"`
	Cursor      string    `json:"cursor,omitempty"` // persistent token or link
	// Partial is the window in progress when the state was saved: the pages up to Resume
	// were delivered, so a restart continues there instead of re-sending them.
	Partial *Partial `json:"partial,omitempty"`
}

// Partial marks how far into the window that starts at WindowEnd delivery got.
type Partial struct {
	End    time.Time `json:"end"`
	Resume string    `json:"resume"`
	// Skip counts the records of the page at Resume already delivered (consume_batch_size
	// hands a page over in parts).
	Skip int `json:"skip,omitempty"`
}

// Store reads and writes State under one key of a storage client.
type Store struct {
	client storage.Client
}

// New wraps a storage client; use storage.NewNopClient() for in-memory-only operation.
func New(client storage.Client) *Store { return &Store{client: client} }

// Load returns the saved state; ok is false when there is none or it cannot be decoded (a
// corrupt value is reported in err but does not stop the caller from starting fresh).
func (s *Store) Load(ctx context.Context) (State, bool, error) {
	b, err := s.client.Get(ctx, stateKey)
	if err != nil {
		return State{}, false, fmt.Errorf("reading checkpoint: %w", err)
	}
	if b == nil {
		return State{}, false, nil
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, false, fmt.Errorf("checkpoint is corrupt, starting fresh: %w", err)
	}
	if st.Version > currentVersion {
		return State{}, false, fmt.Errorf("checkpoint version %d is newer than this collector understands (%d)", st.Version, currentVersion)
	}
	return st, true, nil
}

// Save writes the state.
func (s *Store) Save(ctx context.Context, st State) error {
	st.Version = currentVersion
	st.WindowEnd = st.WindowEnd.UTC()
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := s.client.Set(ctx, stateKey, b); err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	return nil
}

// Get and Set expose the same client under a namespaced key, for auth state (rotated
// refresh tokens) that must survive restarts too.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	return s.client.Get(ctx, "ccp.auth."+key)
}

// Set stores auth state; see Get.
func (s *Store) Set(ctx context.Context, key string, v []byte) error {
	return s.client.Set(ctx, "ccp.auth."+key, v)
}
