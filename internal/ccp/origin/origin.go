// Package origin decides where credentials may go: only to the scheme, host and port that a
// definition names statically. Every request that carries a credential (API calls, paging
// links, token and login calls, nested child calls) checks its URL, and every redirect of such a
// request, against the origin it was configured for.
package origin

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Origin is a normalised scheme, host and port: "https://api.example.com:443".
type Origin struct{ scheme, host, port string }

// Of returns the origin of u; the port defaults from the scheme (80 for http, 443 for https).
func Of(u *url.URL) Origin {
	scheme := strings.ToLower(u.Scheme)
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	port := u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return Origin{scheme: scheme, host: host, port: port}
}

// Parse returns the origin of a URL string.
func Parse(raw string) (Origin, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Origin{}, err
	}
	if u.Host == "" {
		return Origin{}, fmt.Errorf("%q has no host", raw)
	}
	return Of(u), nil
}

// IsZero reports whether o was never set.
func (o Origin) IsZero() bool { return o == Origin{} }

// Host is the host name (lower case, without port).
func (o Origin) Host() string { return o.host }

// String is scheme://host:port.
func (o Origin) String() string {
	return o.scheme + "://" + net.JoinHostPort(o.host, o.port)
}

// Allows reports whether a credential configured for o may be sent to u: same scheme, host and
// port. An https origin never allows http.
func (o Origin) Allows(u *url.URL) bool {
	return !o.IsZero() && Of(u) == o
}

// ErrCrossOrigin is wrapped by the errors of CheckRedirect.
var ErrCrossOrigin = errors.New("redirect to another origin refused")

// CheckRedirect returns an http.Client CheckRedirect function that follows at most max
// redirects and only within o (so a credential header is never replayed elsewhere, and never
// from https to http).
func CheckRedirect(o Origin, max int) func(req *http.Request, via []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= max {
			return fmt.Errorf("stopped after %d redirects", max)
		}
		if !o.Allows(req.URL) {
			return fmt.Errorf("%w: %s (credentials are only sent to %s)", ErrCrossOrigin, Of(req.URL), o)
		}
		return nil
	}
}
