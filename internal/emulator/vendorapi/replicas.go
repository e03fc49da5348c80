package vendorapi

import (
	"slices"
	"time"
)

// ReplicaRequest is one events-endpoint request of a replica (Config.ReplicaHeader's value).
// Start and End are wall-clock: End is when the response was written.
type ReplicaRequest struct {
	Replica    string
	Start, End time.Time
	Status     int
}

// Overlap is a span during which two replicas both polled one connector: each had a
// request within the span, inside runs of requests no further apart than the gap
// Overlaps was given.
type Overlap struct {
	Connector  string
	Replicas   [2]string // the replica that was polling first, then the other
	Start, End time.Time
	Requests   int // requests of either replica that intersect [Start, End]
}

// Length is how long both replicas were polling.
func (o Overlap) Length() time.Duration { return o.End.Sub(o.Start) }

// recordReplica adds one request to the bounded replica record.
func (s *Server) recordReplica(replica string, start time.Time, status int) {
	rr := ReplicaRequest{Replica: replica, Start: start, End: time.Now(), Status: status}
	s.replicaMu.Lock()
	defer s.replicaMu.Unlock()
	if len(s.replicaLog) >= s.cfg.ReplicaLogSize {
		// Drop the older half at once: amortised O(1) per request.
		n := copy(s.replicaLog, s.replicaLog[len(s.replicaLog)/2:])
		s.replicaLog = s.replicaLog[:n]
	}
	s.replicaLog = append(s.replicaLog, rr)
}

// ReplicaRequests returns the recorded requests in arrival order (empty unless
// Config.ReplicaHeader is set).
func (s *Server) ReplicaRequests() []ReplicaRequest {
	s.replicaMu.Lock()
	defer s.replicaMu.Unlock()
	return slices.Clone(s.replicaLog)
}

// RequestsByReplica counts the recorded requests per replica.
func (s *Server) RequestsByReplica() map[string]int {
	out := map[string]int{}
	for _, r := range s.ReplicaRequests() {
		out[r.Replica]++
	}
	return out
}

// Overlaps reports the spans during which two different replicas polled this Server's
// connector (Config.Connector). gap is how far apart two requests of one replica may be and
// still count as one stretch of polling: use about the client's period between requests
// while it works through windows and pages. A replica's stretches that intersect another
// replica's are overlaps, earliest first.
func (s *Server) Overlaps(gap time.Duration) []Overlap {
	return FindOverlaps(s.cfg.Connector, s.ReplicaRequests(), gap)
}

// stretch is one replica's run of requests no further than the gap apart.
type stretch struct {
	replica    string
	start, end time.Time
}

// FindOverlaps is Overlaps over any record of one connector's requests.
func FindOverlaps(connector string, reqs []ReplicaRequest, gap time.Duration) []Overlap {
	sorted := slices.Clone(reqs)
	slices.SortStableFunc(sorted, func(a, b ReplicaRequest) int { return a.Start.Compare(b.Start) })
	st := stretches(sorted, gap)
	var out []Overlap
	for i, a := range st {
		for _, b := range st[i+1:] {
			if !b.start.Before(a.end) {
				break // stretches are in start order: no later one meets a
			}
			if a.replica == b.replica {
				continue
			}
			o := Overlap{Connector: connector, Replicas: [2]string{a.replica, b.replica}, Start: b.start, End: minTime(a.end, b.end)}
			o.Requests = countWithin(sorted, o)
			out = append(out, o)
		}
	}
	slices.SortStableFunc(out, func(a, b Overlap) int { return a.Start.Compare(b.Start) })
	return out
}

// stretches groups requests (in start order) into per-replica stretches, in start order.
func stretches(sorted []ReplicaRequest, gap time.Duration) []stretch {
	var out []stretch
	open := map[string]int{} // replica -> index in out of its current stretch
	for _, r := range sorted {
		k, ok := open[r.Replica]
		if ok && r.Start.Sub(out[k].end) <= gap {
			out[k].end = maxTime(out[k].end, r.End)
			continue
		}
		open[r.Replica] = len(out)
		out = append(out, stretch{replica: r.Replica, start: r.Start, end: r.End})
	}
	return out
}

// countWithin counts the requests of o's two replicas that intersect o's span.
func countWithin(sorted []ReplicaRequest, o Overlap) int {
	n := 0
	for _, r := range sorted {
		if (r.Replica == o.Replicas[0] || r.Replica == o.Replicas[1]) && r.Start.Before(o.End) && r.End.After(o.Start) {
			n++
		}
	}
	return n
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
