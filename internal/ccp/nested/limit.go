package nested

import (
	"net/http"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/ratelimit"
)

// limitedClient shares one rateLimitQPS budget among all child calls of a step: each child
// call has its own engine (whose limiter would start afresh), so the spacing is done by the
// transport instead and the child definitions' rateLimitQPS is zeroed.
func limitedClient(c *http.Client, qps float64) *http.Client {
	if qps <= 0 {
		return c
	}
	cc := *c
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cc.Transport = &limitedTransport{base: base, lim: ratelimit.New(qps)}
	return &cc
}

type limitedTransport struct {
	base http.RoundTripper
	lim  *ratelimit.Limiter
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.lim.Wait(req.Context()); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return t.base.RoundTrip(req)
}
