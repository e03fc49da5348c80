package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
)

func init() { Register("Basic", newBasic) }

// basicAuth sends Authorization: Basic base64(user:pass) on every API request (§3.1).
type basicAuth struct {
	fixedAuth
	header string
}

func newBasic(def definition.Auth, s Settings) (Authenticator, error) {
	f := def.Fields
	var user, pass string
	if err := readFields(f,
		fieldRead{&user, s.Credentials.Username, []string{"UserName", "Username", "User"}},
		fieldRead{&pass, s.Credentials.Password, []string{"Password"}}); err != nil {
		return nil, err
	}
	if user == "" {
		return nil, errors.New("UserName is missing; set auth.UserName (legacy APIPolling files: supply username and password in the receiver config)")
	}
	if pass == "" {
		return nil, errors.New("Password is missing; set auth.Password (legacy APIPolling files: supply username and password in the receiver config)")
	}
	a := &basicAuth{header: "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
	a.sec.add(pass, strings.TrimPrefix(a.header, "Basic "))
	return a, nil
}

func (a *basicAuth) Apply(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", a.header)
	return nil
}
