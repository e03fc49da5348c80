package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// The OTLP records have the vendor emulator's event fields (id, time, user, src_ip, action,
// severity, seq and a message, about eventSize bytes of JSON), as a map body.
const eventSize = 1024

var (
	users   = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	actions = []string{"login", "logout", "login_failed", "mfa_challenge", "file_download", "api_call"}
	levels  = []string{"info", "info", "low", "medium", "high", "critical"}
	words   = strings.Fields(`access accepted account action admin agent alert allowed api app audit auth
		blocked browser cache certificate change client cloud config connection console context create
		data delete denied device directory disabled domain download email enabled endpoint error event
		failed file firewall group host identity key login logout mailbox network object password
		permission policy process read remote request resource role rule session share sign token update
		upload user`)
)

// message is about n bytes of log text: words drawn from the sequence number's hash, so gzip
// compresses it about as much as real log messages (several times, not dozens).
func message(h uint64, n int) string {
	var b strings.Builder
	b.Grow(n + 16)
	for b.Len() < n {
		h = mix(h)
		b.WriteString(words[h%uint64(len(words))])
		b.WriteByte(' ')
		b.WriteString(strconv.FormatUint((h>>8)%10000, 10))
		b.WriteByte(' ')
	}
	return b.String()[:n]
}

// mix is the splitmix64 finaliser: varied field values from the sequence number.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// otlpBatch is an OTLP/HTTP protobuf export request of n log records numbered from seq0.
func otlpBatch(seq0, n int, at time.Time) ([]byte, error) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "bench-fleet")
	recs := rl.ScopeLogs().AppendEmpty().LogRecords()
	recs.EnsureCapacity(n)
	ts := pcommon.NewTimestampFromTime(at)
	for i := range n {
		seq := seq0 + i
		h := mix(uint64(seq))
		r := recs.AppendEmpty()
		r.SetTimestamp(ts)
		r.SetObservedTimestamp(ts)
		m := r.Body().SetEmptyMap()
		m.EnsureCapacity(8)
		m.PutStr("id", fmt.Sprintf("evt-%010d", seq))
		m.PutStr("time", at.UTC().Format(time.RFC3339Nano))
		m.PutStr("user", users[h%uint64(len(users))]+"@example.com")
		m.PutStr("src_ip", fmt.Sprintf("10.%d.%d.%d", (h>>8)&0xff, (h>>16)&0xff, (h>>24)&0xff))
		m.PutStr("action", actions[(h>>32)%uint64(len(actions))])
		m.PutStr("severity", levels[(h>>40)%uint64(len(levels))])
		m.PutInt("seq", int64(seq))
		// The fields above take about 190 bytes of JSON.
		m.PutStr("message", message(h, eventSize-190))
	}
	return plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
}

// otlpLoad sends batches of batchSize records to url from senders goroutines, each sending its
// share of total records one batch at a time (a batch waits for the collector's answer).
type otlpLoad struct {
	url       string
	senders   int
	batchSize int
	total     int
	payloads  [][]byte // pre-built, sent in turn, so building them costs nothing during the run
}

func newOTLPLoad(url string, senders, batchSize, total int) (*otlpLoad, error) {
	l := &otlpLoad{url: url, senders: senders, batchSize: batchSize, total: total}
	now := time.Now()
	for i := range min(16, max(1, total/batchSize)) {
		b, err := otlpBatch(i*batchSize, batchSize, now)
		if err != nil {
			return nil, err
		}
		l.payloads = append(l.payloads, b)
	}
	return l, nil
}

// run sends every batch and returns the first error; it stops at deadline.
func (l *otlpLoad) run(deadline time.Time) error {
	batches := l.total / l.batchSize
	next := make(chan int, batches)
	for i := range batches {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	errs := make(chan error, l.senders)
	for range l.senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- l.sender(next, deadline)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (l *otlpLoad) sender(next <-chan int, deadline time.Time) error {
	c := &http.Client{Timeout: 60 * time.Second}
	defer c.CloseIdleConnections()
	for i := range next {
		if time.Now().After(deadline) {
			return fmt.Errorf("OTLP load: deadline passed before batch %d", i)
		}
		resp, err := c.Post(l.url, "application/x-protobuf", bytes.NewReader(l.payloads[i%len(l.payloads)]))
		if err != nil {
			return fmt.Errorf("OTLP load: batch %d: %w", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("OTLP load: batch %d answered %s", i, strconv.Itoa(resp.StatusCode))
		}
	}
	return nil
}
