package vendorapi

import (
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"time"
)

// store computes events from their index; nothing per event is kept.
type store struct {
	n        int
	start    int64 // unix ns of the span start
	span     int64
	step     int64 // floor(span/n), jitter bound
	seed     uint64
	jitter   bool
	lateThr  uint64 // event is late when hash < lateThr
	lateBy   int64
	size     int
	padding  string
	idPrefix string
}

const idPrefix = "evt-"

func newStore(c Config) *store {
	s := &store{
		n:        c.Events,
		start:    c.End.UnixNano() - int64(c.Span),
		span:     int64(c.Span),
		seed:     uint64(c.Seed),
		jitter:   c.Seed != 0,
		lateBy:   int64(c.LateBy),
		size:     c.EventSize,
		idPrefix: idPrefix,
	}
	if s.n > 0 {
		s.step = s.span / int64(s.n)
	}
	switch {
	case c.LateFraction >= 1:
		s.lateThr = ^uint64(0)
	case c.LateFraction > 0:
		s.lateThr = uint64(c.LateFraction * float64(1<<63) * 2)
	}
	s.padding = logText(c.EventSize)
	return s
}

// logWords are what the messages are made of: the vocabulary of security logs.
var logWords = strings.Fields(`user login logon logoff failed succeeded success failure denied allowed blocked
session token expired refreshed issued revoked password reset mfa challenge push sms totp verified
account locked unlocked disabled enabled created deleted updated modified added removed group role
admin administrator member policy rule firewall connection inbound outbound tcp udp port source
destination address host hostname device endpoint agent process parent command line executed file
path hash sha256 download upload read write access request response status code error warning info
debug alert severity high medium low critical threat malware detected quarantined scan signature
client server application service api key secret credential certificate tls handshake cipher
protocol http https get post put patch delete url uri query parameter header cookie browser
os windows linux macos version build region zone tenant organization domain email message sent
received forwarded spam phishing attachment link clicked reported incident case ticket assigned
closed opened escalated investigation analyst rule triggered correlation event audit log record
change configuration setting value old new from to by on at in for with via after before during
the a an of and or not is was has been is being`)

// logText is the padding events' messages are sliced from: a megabyte of text in the words of
// security logs, so that a page compresses about as well as real logs do. A repeated alphabet
// compressed 25×, which no log does, and made request-packing figures meaningless.
func logText(eventSize int) string {
	var b strings.Builder
	b.Grow(1<<20 + eventSize + 64)
	for i := uint64(0); b.Len() < 1<<20+eventSize+64; i++ {
		h := mix(i)
		// The smaller of two draws: frequent words are frequent, as in text.
		n := uint64(len(logWords))
		b.WriteString(logWords[min(h%n, (h>>20)%n)])
		if h>>60 == 0 { // now and then a number: an id, a count, a port
			b.WriteString(" " + strconv.FormatUint((h>>24)%100000, 10))
		}
		b.WriteByte(' ')
	}
	return b.String()
}

// splitmix64 finaliser: a cheap, well-mixed hash.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (s *store) hash(i int, salt uint64) uint64 {
	return mix(uint64(i)*0x9e3779b97f4a7c15 ^ s.seed ^ salt)
}

// timeNS returns the event time of index i in unix ns.
func (s *store) timeNS(i int) int64 {
	// i*span/n without overflow: 128-bit product.
	hi, lo := bits.Mul64(uint64(i), uint64(s.span))
	q, _ := bits.Div64(hi, lo, uint64(s.n))
	t := s.start + int64(q)
	if s.jitter && s.step > 1 {
		t += int64(s.hash(i, 0x7177) % uint64(s.step))
	}
	return t
}

func (s *store) isLate(i int) bool {
	return s.lateThr != 0 && s.hash(i, 0x1a7e) < s.lateThr
}

// publishNS is when event i becomes visible.
func (s *store) publishNS(i int) int64 {
	t := s.timeNS(i)
	if s.isLate(i) {
		t += s.lateBy
	}
	return t
}

// maxDelay is the largest publication delay of any event.
func (s *store) maxDelay() int64 {
	if s.lateThr == 0 {
		return 0
	}
	return s.lateBy
}

// lowerBound returns the first index whose time is >= t (n if none).
func (s *store) lowerBound(t int64) int {
	return sort.Search(s.n, func(i int) bool { return s.timeNS(i) >= t })
}

// indexRange returns [lo, hi) of the events with time in [since, until).
func (s *store) indexRange(since, until int64) (int, int) {
	lo := s.lowerBound(since)
	hi := s.lowerBound(until)
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

func (s *store) id(i int) string {
	return string(s.appendID(nil, i))
}

func (s *store) appendID(dst []byte, i int) []byte {
	dst = append(dst, s.idPrefix...)
	var b [20]byte
	d := strconv.AppendInt(b[:0], int64(i), 10)
	for k := len(d); k < 10; k++ {
		dst = append(dst, '0')
	}
	return append(dst, d...)
}

// parseID returns the index of an event id.
func (s *store) parseID(id string) (int, bool) {
	rest, ok := strings.CutPrefix(id, s.idPrefix)
	if !ok || len(rest) < 10 {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 0 || i >= s.n || s.id(i) != id {
		return 0, false
	}
	return i, true
}

var (
	users    = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "svc-backup"}
	actions  = []string{"login", "logout", "login_failed", "mfa_challenge", "password_change", "file_download", "file_upload", "policy_update", "api_call", "session_refresh"}
	severity = []string{"info", "info", "info", "low", "low", "medium", "high", "critical"}
)

// appendEvent appends the JSON of event i (about s.size bytes) to dst.
func (s *store) appendEvent(dst []byte, i int) []byte {
	start := len(dst)
	h := s.hash(i, 0xf1e1d)
	dst = append(dst, `{"id":"`...)
	dst = s.appendID(dst, i)
	dst = append(dst, `","time":"`...)
	dst = time.Unix(0, s.timeNS(i)).UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","user":"`...)
	dst = append(dst, users[h%uint64(len(users))]...)
	dst = append(dst, `@example.com","src_ip":"10.`...)
	dst = strconv.AppendUint(dst, (h>>8)&0xff, 10)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, (h>>16)&0xff, 10)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, (h>>24)&0xff, 10)
	dst = append(dst, `","action":"`...)
	dst = append(dst, actions[(h>>32)%uint64(len(actions))]...)
	dst = append(dst, `","severity":"`...)
	dst = append(dst, severity[(h>>40)%uint64(len(severity))]...)
	dst = append(dst, `","seq":`...)
	dst = strconv.AppendInt(dst, int64(i), 10)
	dst = append(dst, `,"message":"`...)
	pad := s.size - (len(dst) - start) - 2
	if pad < 16 {
		pad = 16
	}
	off := int((h >> 12) % uint64(len(s.padding)-pad))
	dst = append(dst, s.padding[off:off+pad]...)
	return append(dst, `"}`...)
}
