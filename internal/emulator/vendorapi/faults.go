package vendorapi

import (
	"time"
)

// Faults configures injected failures on the events endpoint, after the
// credentials are checked (the token
// endpoint is never faulted). Probabilities are drawn from a generator seeded
// by Config.Seed, so a single-threaded request sequence is reproducible.
type Faults struct {
	// ErrorRate is the fraction of requests answered 500 (JSON body).
	ErrorRate float64
	// ThrottleRate is the probability that a request starts a burst of
	// ThrottleBurst (default 1) consecutive 429 responses, each with
	// "Retry-After: <RetryAfter in whole seconds, at least 1>".
	ThrottleRate  float64
	ThrottleBurst int
	RetryAfter    time.Duration
	// SlowRate of the requests (1 = all) are delayed by SlowDelay before
	// being answered (the delay ends early if the client goes away).
	SlowRate  float64
	SlowDelay time.Duration
	// StatusErrorRate of the 200 responses carry StatusField: "error"
	// instead of StatusValue and no events (needs Config.StatusField).
	StatusErrorRate float64
	// Gzip compresses every 200 body with Content-Encoding: gzip, whether or
	// not the client sent Accept-Encoding.
	Gzip bool
}

type faultDecision struct {
	status     int // 0, 429 or 500
	retryAfter int
	delay      time.Duration
	statusErr  bool
	gzip       bool
}

// SetFaults replaces the fault configuration; safe for concurrent use.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Faults returns the current fault configuration.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Throttle makes the next n authenticated events-endpoint requests answer 429 with
// Retry-After (Faults.RetryAfter, at least 1 s).
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	s.throttleLeft += n
	s.mu.Unlock()
}

// FailNext makes the next n authenticated events-endpoint requests answer 500.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	s.failLeft += n
	s.mu.Unlock()
}

// ExpireTokens invalidates every OAuth2 access token issued so far; API calls
// with them get 401 until the client fetches a new token.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

func (s *Server) decideFaults() faultDecision {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	d := faultDecision{gzip: f.Gzip}
	ra := int((f.RetryAfter + time.Second - 1) / time.Second)
	if ra < 1 {
		ra = 1
	}
	if f.SlowRate > 0 && f.SlowDelay > 0 && s.rng.Float64() < f.SlowRate {
		d.delay = f.SlowDelay
	}
	switch {
	case s.throttleLeft > 0:
		s.throttleLeft--
		d.status, d.retryAfter = 429, ra
		return d
	case s.failLeft > 0:
		s.failLeft--
		d.status = 500
		return d
	}
	if f.ThrottleRate > 0 && s.rng.Float64() < f.ThrottleRate {
		burst := f.ThrottleBurst
		if burst < 1 {
			burst = 1
		}
		s.throttleLeft += burst - 1
		d.status, d.retryAfter = 429, ra
		return d
	}
	if f.ErrorRate > 0 && s.rng.Float64() < f.ErrorRate {
		d.status = 500
		return d
	}
	if f.StatusErrorRate > 0 && s.rng.Float64() < f.StatusErrorRate {
		d.statusErr = true
	}
	return d
}
