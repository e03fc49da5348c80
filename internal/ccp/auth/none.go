package auth

import (
	"context"
	"net/http"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
)

func init() { Register("None", newNone) }

// noneAuth sends no credentials (open APIs).
type noneAuth struct{}

func newNone(definition.Auth, Settings) (Authenticator, error) { return noneAuth{}, nil }

func (noneAuth) Apply(context.Context, *http.Request) error { return nil }
func (noneAuth) Invalidate()                                {}
func (noneAuth) Scrub(s string) string                      { return s }
