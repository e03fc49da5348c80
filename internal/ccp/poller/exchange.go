package poller

// One HTTP exchange of the engine, in three steps: build the request (headers and credentials
// for the API's own origin only), send it and classify the answer, read the page.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/origin"
)

// exchange is one request from building to reading, with what errors, logs and traces need
// to describe it without a secret.
type exchange struct {
	fullURL  string
	endpoint string // the URL as errors name it
	req      *http.Request
	sent     []string            // what the request carries that may be secret
	scrub    func(string) string // removes those and the auth's secrets from a text
	trace    Trace
}

// once performs a single HTTP exchange. wait > 0 is a server-requested delay before a retry.
func (e *Engine) once(ctx context.Context, spec *reqSpec) (pageResult, []string, time.Duration, error) {
	rctx, cancel := context.WithTimeout(ctx, time.Duration(e.def.Request.TimeoutInSeconds)*time.Second)
	defer cancel()
	x, err := e.build(rctx, spec)
	if err != nil {
		return pageResult{}, nil, 0, err
	}
	defer e.traced(x)
	resp, wait, err := e.send(ctx, x)
	if err != nil {
		return pageResult{}, nil, wait, err
	}
	defer drain(resp.Body)
	pg, events, err := e.readPage(rctx, resp, x)
	var re *RequestError
	if errors.As(err, &re) {
		// Messages may quote the body (a status value, a decode error): an API may echo a secret.
		re.Msg = x.scrub(re.Msg)
	}
	pg.reqURL = x.fullURL
	x.trace.Bytes = pg.bytes
	return pg, events, 0, err
}

// build turns spec into an exchange whose request is ready to send.
func (e *Engine) build(ctx context.Context, spec *reqSpec) (*exchange, error) {
	x := &exchange{endpoint: e.endpoint(spec.base), fullURL: spec.URL()}
	var err error
	if x.req, x.sent, err = e.newRequest(ctx, spec, x.fullURL, x.endpoint); err != nil {
		return nil, err
	}
	x.scrub = e.scrubber(x.sent)
	x.trace = Trace{Time: time.Now(), Method: x.req.Method}
	return x, nil
}

// send performs the request and classifies the answer: a non-success status becomes a
// RequestError (its body read for the message and closed), with the server's requested wait.
// On success the caller reads and closes the body.
func (e *Engine) send(ctx context.Context, x *exchange) (*http.Response, time.Duration, error) {
	resp, err := e.client.Do(x.req)
	if err != nil {
		x.trace.Error = "no answer"
		e.o.Observer.Request("error")
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, &RequestError{Endpoint: x.endpoint, Msg: e.scrubber(nil)(redactErr(err, x.fullURL)), Retryable: true}
	}
	e.o.Observer.Request(statusClass(resp.StatusCode))
	x.trace.Status = resp.StatusCode
	if !e.successCode(resp.StatusCode) {
		re, wait := e.failure(resp, x.endpoint, x.scrub)
		drain(resp.Body)
		return nil, wait, re
	}
	e.proactiveThrottle(resp.Header)
	return resp, 0, nil
}

// drain reads a little of what is left of a body before closing it, so that the connection
// can be reused.
func drain(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 64<<10)
	body.Close()
}

// newRequest builds the HTTP request for spec with its headers and, for the API's own origin
// only, its credentials. sent lists what the request carries that may be secret, so that an
// echo of it in the answer can be scrubbed.
func (e *Engine) newRequest(ctx context.Context, spec *reqSpec, fullURL, endpoint string) (req *http.Request, sent []string, err error) {
	body, ctype := spec.Body()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err = http.NewRequestWithContext(ctx, spec.method, fullURL, rd)
	if err != nil {
		return nil, nil, &RequestError{Endpoint: endpoint, Msg: "cannot build request: " + e.scrubber(nil)(redactErr(err, fullURL))}
	}
	// Same scheme too: an http:// link on the API's host would carry the credential in clear text.
	sameOrigin := e.origin.Allows(req.URL)
	hasCT := false
	for _, h := range spec.headers {
		if !sameOrigin && !harmlessHeader(h.name) {
			continue // configured headers may carry vendor secrets
		}
		req.Header.Set(h.name, h.value)
		if strings.EqualFold(h.name, "Content-Type") {
			hasCT = true
		}
	}
	if body != nil && !hasCT {
		req.Header.Set("Content-Type", ctype)
	}
	query := req.URL.RawQuery
	if err := e.authorize(ctx, req, sameOrigin, endpoint); err != nil {
		return nil, nil, err
	}
	return req, sentSecrets(req, query, e.templateKey()), nil
}

// authorize applies the credentials to a request for the API's own origin; a request
// elsewhere (a paging link) goes without them, with a warning once per origin.
func (e *Engine) authorize(ctx context.Context, req *http.Request, sameOrigin bool, endpoint string) error {
	if e.o.Auth == nil {
		return nil
	}
	if sameOrigin {
		if err := e.o.Auth.Apply(ctx, req); err != nil {
			return &RequestError{Endpoint: endpoint, Msg: "authentication failed: " + auth.Scrub(e.o.Auth, err.Error()),
				Retryable: !errors.Is(err, context.Canceled), Auth: true}
		}
	} else if linkOrigin := origin.Of(req.URL).String(); !e.warnedOnce(linkOrigin) {
		e.o.Logger.Warn("paging link points to another origin (scheme, host or port); sending it without credentials",
			zap.String("link_origin", linkOrigin), zap.String("api_origin", e.origin.String()))
	}
	return nil
}
