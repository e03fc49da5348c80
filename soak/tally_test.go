package soak

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/demoenv"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/logsingestion"
)

// tally counts stored rows per event index as the emulator stores them. It is installed as the
// emulator's RejectRow hook, which sees every row of a request right before the request's rows
// are stored (after the injected 503/429 answers and the incident refusals, before a dropped
// connection), and never rejects anything. The final figures are recomputed from Emulator.Rows.
//
// It also notes, for each copy after the first, which collector process (start number) stored
// the first copy and which stored this one, to tell duplicates within one process (retries)
// from those across a kill -9, and the order in which rows were stored, to tell which rows of
// a dropped connection have been sent again.
type tally struct {
	mu       sync.Mutex
	counts   []uint16
	firstGen []uint16
	firstAt  []int64 // unix ns the first copy was stored
	lastPos  []int32 // position in order of the last stored copy; -1 = none
	order    []int32 // event index of every stored row, in storage order (-1: no event id)
	gen      uint16  // current collector start number, 1-based
	unique   int
	rows     int
	noID     int
	dups     []dupCopy
	// dead is set while no collector runs (after a kill -9, before the restart); rows stored
	// then come from requests the killed process had fully sent.
	dead          bool
	rowsWhileDead int
	// incident is set while an Azure incident refuses every request; rows stored then come
	// from requests that had passed the emulator's checks before it began.
	incident         bool
	rowsWhileRefused int
}

type dupCopy struct {
	index         int
	firstGen, gen uint16
	firstAt, at   int64
}

func newTally(n int) *tally {
	t := &tally{counts: make([]uint16, n), firstGen: make([]uint16, n), firstAt: make([]int64, n), lastPos: make([]int32, n)}
	for i := range t.lastPos {
		t.lastPos[i] = -1
	}
	return t
}

func (t *tally) setDead() (rowsWhileDead int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dead = true
	return t.rowsWhileDead
}

func (t *tally) setGen(g int) {
	t.mu.Lock()
	t.gen = uint16(g)
	t.dead = false
	t.mu.Unlock()
}

// setIncident marks the start or end of the incident and returns the rows stored while it was
// marked so far.
func (t *tally) setIncident(on bool) (rowsWhileRefused int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.incident = on
	return t.rowsWhileRefused
}

func (t *tally) see(row map[string]any) bool {
	i, ok := eventIndex(row, len(t.counts))
	now := time.Now().UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rows++
	if t.dead {
		t.rowsWhileDead++
	}
	if t.incident {
		t.rowsWhileRefused++
	}
	if !ok {
		t.noID++
		t.order = append(t.order, -1)
		return false
	}
	t.lastPos[i] = int32(len(t.order))
	t.order = append(t.order, int32(i))
	if t.counts[i] == 0 {
		t.unique++
		t.firstGen[i] = t.gen
		t.firstAt[i] = now
	} else if len(t.dups) < 1<<20 {
		t.dups = append(t.dups, dupCopy{index: i, firstGen: t.firstGen[i], gen: t.gen, firstAt: t.firstAt[i], at: now})
	}
	if t.counts[i] < ^uint16(0) {
		t.counts[i]++
	}
	return false
}

func (t *tally) snapshot() (unique, rows int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.unique, t.rows
}

// unresent counts the rows stored in a dropped connection whose event has no later stored copy
// (yet). The client saw a network error for them, so an at-least-once client must send each
// again; 0 once every such retry has landed. Stored rows are matched to the emulator's request
// log by order: exact while one request is in flight at a time, which the exporter's defaults
// give (wait_for_result, one receiver; see README.md).
func (t *tally) unresent(reqs []logsingestion.Request) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	pos, n := 0, 0
	for _, q := range reqs {
		if !storedRows(q) {
			continue
		}
		if pos+q.Rows > len(t.order) {
			break
		}
		if q.DroppedConn {
			for k := pos; k < pos+q.Rows; k++ {
				if i := t.order[k]; i >= 0 && int(t.lastPos[i]) <= k {
					n++
				}
			}
		}
		pos += q.Rows
	}
	return n
}

// storedRows tells whether the emulator stored the rows of request q (answered 204, or stored
// and then dropped the connection) on the soak's DCR and stream.
func storedRows(q logsingestion.Request) bool {
	return q.Rows > 0 && (q.Status == 204 || q.DroppedConn) &&
		q.DCR == demoenv.DCRImmutableID && q.Stream == demoenv.StreamName
}

// eventIndex parses the vendor emulator's id "evt-%010d".
func eventIndex(row map[string]any, n int) (int, bool) {
	id, _ := row["id"].(string)
	s, ok := strings.CutPrefix(id, "evt-")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i >= n {
		return 0, false
	}
	return i, true
}
