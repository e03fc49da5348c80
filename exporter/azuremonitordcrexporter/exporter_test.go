package azuremonitordcrexporter

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccpattr"
	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/logsingestion"
)

func TestSendClientSecret(t *testing.T) {
	emu := startEmulator(t, nil)
	cfg := emulatorConfig(emu)
	cfg.Columns.ResourceAttributes = map[string]string{"host.name": "HostName"}
	e := mustStartRaw(t, cfg)
	require.NoError(t, e.pushLogs(context.Background(), genLogs(1000, 1024, "a")))
	rows := emu.Rows(testDCR, testStream)
	require.Len(t, rows, 1000)
	got := ids(rows)
	for i := 0; i < 1000; i++ {
		require.Equal(t, 1, got[fmt.Sprintf("a-%d", i)])
	}
	tg, ok := rows[0]["TimeGenerated"].(string)
	require.True(t, ok)
	ts, err := time.Parse(time.RFC3339Nano, tg)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), ts, 2*time.Minute)
	assert.Equal(t, "test-host", rows[0]["HostName"])
	assert.Contains(t, rows[0], "Properties")
	// one startup check + one request
	assert.Equal(t, 2, emu.Stats().RequestsByStatus[204])
	assert.Equal(t, 1, emu.Stats().TokenRequests["client_secret"])
	for _, r := range emu.Requests() {
		assert.Equal(t, "gzip", r.ContentEncoding)
		assert.Equal(t, "2023-01-01", r.APIVersion)
		assert.NotEmpty(t, r.ClientRequestID)
	}
}

func TestStringBodyAndColumns(t *testing.T) {
	emu := startEmulator(t, nil)
	cfg := emulatorConfig(emu)
	cfg.Columns.Attributes = map[string]string{"sev": "Severity", "id": "id"}
	e := mustStartRaw(t, cfg)
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	lr := lrs.AppendEmpty()
	lr.Body().SetStr("line \"one\"\n\x01 ünï \xff")
	lr.Attributes().PutStr("sev", "high")
	lr.Attributes().PutStr("id", "s-1")
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)))
	lr2 := lrs.AppendEmpty()
	m := lr2.Body().SetEmptyMap()
	m.PutStr("id", "body-id-loses")
	m.PutStr("TimeGenerated", "2026-01-01T00:00:00Z")
	m.PutEmptySlice("list").AppendEmpty().SetInt(5)
	m.PutEmptyBytes("raw").FromRaw([]byte{1, 2, 3})
	lr2.Attributes().PutStr("id", "s-2")
	require.NoError(t, e.pushLogs(context.Background(), ld))
	rows := emu.Rows(testDCR, testStream)
	require.Len(t, rows, 2)
	assert.Equal(t, "line \"one\"\n\x01 ünï \ufffd", rows[0]["RawData"])
	assert.Equal(t, "high", rows[0]["Severity"])
	assert.Equal(t, "2026-01-02T03:04:05.1234567Z", rows[0]["TimeGenerated"])
	assert.Equal(t, "s-2", rows[1]["id"])
	assert.Equal(t, "2026-01-01T00:00:00Z", rows[1]["TimeGenerated"], "a body TimeGenerated wins by default")
	assert.Equal(t, []any{jsonNumber("5")}, rows[1]["list"])
	assert.Equal(t, "AQID", rows[1]["raw"])
}

func TestRoutingByAttributes(t *testing.T) {
	emu := startEmulator(t, nil)
	e := mustStartRaw(t, emulatorConfig(emu))
	ld := genLogs(30, 300, "r")
	rl := ld.ResourceLogs().At(0)
	lrs := rl.ScopeLogs().At(0).LogRecords()
	for i := 0; i < 10; i++ {
		lrs.At(i).Attributes().PutStr(ccpattr.DCRStreamName, otherStrm)
	}
	rl2 := ld.ResourceLogs().AppendEmpty()
	rl2.Resource().Attributes().PutStr(ccpattr.DCRImmutableID, otherDCR)
	rl2.Resource().Attributes().PutStr(ccpattr.DCRStreamName, otherStrm)
	genLogs(5, 300, "o").ResourceLogs().At(0).ScopeLogs().MoveAndAppendTo(rl2.ScopeLogs())
	require.NoError(t, e.pushLogs(context.Background(), ld))
	assert.Len(t, emu.Rows(testDCR, testStream), 20)
	assert.Len(t, emu.Rows(testDCR, otherStrm), 10)
	assert.Len(t, emu.Rows(otherDCR, otherStrm), 5)
}

func TestTenMegabyteBurstPackedUnderWireLimit(t *testing.T) {
	emu := startEmulator(t, nil)
	e := mustStartRaw(t, emulatorConfig(emu))
	ld := genLogs(10000, 1100, "b") // ≈ 10.5 MB of JSON
	require.NoError(t, e.pushLogs(context.Background(), ld))
	require.Equal(t, 10000, emu.RowCount())
	reqs := emu.Requests()[1:] // skip the startup check
	var raw int64
	for _, r := range reqs {
		require.Equal(t, 204, r.Status)
		require.LessOrEqual(t, r.WireBytes, int64(logsingestion.DefaultMaxWireBytes))
		raw += r.DecompressedBytes
	}
	require.Greater(t, raw, int64(10_000_000))
	require.GreaterOrEqual(t, len(reqs), 2)
	var fill float64
	for _, r := range reqs[:len(reqs)-1] {
		fill += float64(r.WireBytes) / float64(logsingestion.DefaultMaxWireBytes)
	}
	fill /= float64(len(reqs) - 1)
	t.Logf("%d requests for %d raw bytes; mean fill of full requests %.4f", len(reqs), raw, fill)
	assert.GreaterOrEqual(t, fill, 0.95)
	got := ids(emu.Rows(testDCR, testStream))
	assert.Len(t, got, 10000)
	for id, n := range got {
		require.Equal(t, 1, n, id)
	}
}

func TestOneBadRowAmongTenThousand(t *testing.T) {
	emu := startEmulator(t, func(o *logsingestion.Options) {
		o.Faults.RejectRow = func(r map[string]any) bool { return r["id"] == "x-4321" }
	})
	e := mustStartRaw(t, emulatorConfig(emu))
	require.NoError(t, e.pushLogs(context.Background(), genLogs(10000, 1024, "x")))
	got := ids(emu.Rows(testDCR, testStream))
	assert.Len(t, got, 9999)
	assert.NotContains(t, got, "x-4321")
	for id, n := range got {
		require.Equal(t, 1, n, id)
	}
	assert.Equal(t, 9999, emu.RowCount())
	assertCounter(t, e.tel, "otelcol_azure_monitor_dcr_records_dropped_bad", 1)
	assertCounter(t, e.tel, "otelcol_azure_monitor_dcr_records_sent", 9999)
	t.Logf("requests: %v", emu.Stats().RequestsByStatus)
}

func TestSplitOn413(t *testing.T) {
	// The service limit is smaller than what the exporter packs to: every full request gets a 413.
	emu := startEmulator(t, func(o *logsingestion.Options) { o.MaxWireBytes = 100_000 })
	cfg := emulatorConfig(emu)
	e := mustStartRaw(t, cfg)
	require.NoError(t, e.pushLogs(context.Background(), genLogs(3000, 1024, "s")))
	got := ids(emu.Rows(testDCR, testStream))
	assert.Len(t, got, 3000)
	for id, n := range got {
		require.Equal(t, 1, n, id)
	}
	assert.Positive(t, emu.Stats().RequestsByStatus[413])
}

func TestRecordTooLargeAlone(t *testing.T) {
	emu := startEmulator(t, nil)
	cfg := emulatorConfig(emu)
	cfg.MaxRequestBytes = 64 << 10
	cfg.MaxUncompressedBytes = 1 << 20
	e := mustStartRaw(t, cfg)
	ld := genLogs(10, 500, "t")
	lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	// incompressible 100 KB value: does not fit in 64 KiB on the wire
	big := make([]byte, 100<<10)
	for i := range big {
		big[i] = words[i%len(words)][0] + byte(i*7919%13)
	}
	lrs.At(3).Body().Map().PutStr("Message", string(big))
	// compressible 200 KB value: fits once compressed
	lrs.At(5).Body().Map().PutStr("Message", strings.Repeat("a", 200<<10))
	// over max_uncompressed_bytes
	lrs.At(7).Body().Map().PutStr("Message", strings.Repeat("b", 2<<20))
	require.NoError(t, e.pushLogs(context.Background(), ld))
	got := ids(emu.Rows(testDCR, testStream))
	assert.Len(t, got, 8)
	assert.NotContains(t, got, "t-3")
	assert.NotContains(t, got, "t-7")
	assert.Contains(t, got, "t-5")
	assertCounter(t, e.tel, "otelcol_azure_monitor_dcr_records_too_large", 2)
	assert.Zero(t, emu.Stats().RequestsByStatus[413])
}

// TestDestinationRefusalsAreWaitedOut: a missing role, an unknown DCR or stream, a refused
// secret or scope are incidents of the destination, not of the rows. Nothing is dropped: the
// start goes on (status and an error log say what to fix) and a push returns every record for
// retry after one request.
func TestDestinationRefusalsAreWaitedOut(t *testing.T) {
	emu := startEmulator(t, func(o *logsingestion.Options) {
		o.Publishers = map[string][]string{otherDCR: {"someone-else"}}
	})
	cases := []struct {
		name, dcr, stream, want string
		mod                     func(*Config)
	}{
		{"forbidden", otherDCR, otherStrm, `assign the role "Monitoring Metrics Publisher"`, nil},
		{"unknown dcr", "dcr-00000000000000000000000000000099", testStream, "check dcr_immutable_id", nil},
		{"invalid stream", testDCR, "Custom-Nope_CL", "is not declared in DCR", nil},
		{"bad secret", testDCR, testStream, "Entra ID refused the credential", func(c *Config) { c.Auth.ClientSecret = "wrong" }},
		{"wrong scope", testDCR, testStream, "AADSTS70011", func(c *Config) { c.Auth.Scope = "https://management.azure.com/.default" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := emulatorConfig(emu)
			cfg.DCRImmutableID, cfg.StreamName = c.dcr, c.stream
			if c.mod != nil {
				c.mod(cfg)
			}
			e := mustStartRaw(t, cfg) // the start never fails on a refusal
			ev := e.status.last()
			require.NotNil(t, ev, "the startup check reports a status")
			assert.Equal(t, componentstatus.StatusRecoverableError, ev.Status())
			require.ErrorContains(t, ev.Err(), c.want)
			assert.Positive(t, e.logs.FilterLevelExact(zap.ErrorLevel).FilterMessageSnippet("nothing is dropped").Len())

			before := emu.Stats().Requests
			err := e.pushLogs(context.Background(), genLogs(2000, 1024, "p"))
			require.Error(t, err)
			assert.False(t, consumererror.IsPermanent(err), "a destination refusal is retried, never dropped")
			assert.ErrorContains(t, err, c.want)
			var le consumererror.Logs
			require.ErrorAs(t, err, &le)
			assert.Equal(t, 2000, le.Data().LogRecordCount(), "every record goes back to the retry")
			assert.LessOrEqual(t, emu.Stats().Requests-before, 1, "one request finds the destination refusing")
		})
	}
	t.Run("good and bad destinations in one batch", func(t *testing.T) {
		e := mustStartRaw(t, emulatorConfig(emu))
		ld := genLogs(20, 200, "m")
		lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		for i := 0; i < 5; i++ {
			lrs.At(i).Attributes().PutStr(ccpattr.DCRStreamName, "Custom-Nope_CL")
		}
		before := len(emu.Rows(testDCR, testStream))
		err := e.pushLogs(context.Background(), ld)
		require.Error(t, err)
		assert.False(t, consumererror.IsPermanent(err))
		var le consumererror.Logs
		require.ErrorAs(t, err, &le)
		assert.Equal(t, 5, le.Data().LogRecordCount(), "only the refused destination's records are retried")
		assert.Len(t, emu.Rows(testDCR, testStream), before+15)
	})
}

// TestIncidentLosesNothing walks through a 403, a 404 for the DCR and a rotated client secret,
// then the recovery: every record is stored exactly once and the status returns to OK.
func TestIncidentLosesNothing(t *testing.T) {
	emu := startEmulator(t, nil)
	e := mustStartRaw(t, emulatorConfig(emu))
	pending := genLogs(300, 400, "inc")
	for _, f := range []logsingestion.Faults{{Forbidden: true}, {DCRNotFound: true}, {RefuseClientSecret: true}} {
		emu.SetFaults(f)
		emu.RevokeTokens() // so the refused secret is actually asked for
		time.Sleep(1100 * time.Millisecond)
		err := e.pushLogs(context.Background(), pending)
		require.Error(t, err)
		require.False(t, consumererror.IsPermanent(err), "%+v: %v", f, err)
		var le consumererror.Logs
		require.ErrorAs(t, err, &le)
		pending = le.Data()
		assert.Equal(t, componentstatus.StatusRecoverableError, e.status.last().Status())
	}
	assert.Equal(t, 300, pending.LogRecordCount())
	assert.Zero(t, emu.RowCount())
	emu.SetFaults(logsingestion.Faults{})
	require.NoError(t, e.pushLogs(context.Background(), pending))
	got := ids(emu.Rows(testDCR, testStream))
	assert.Len(t, got, 300)
	for id, n := range got {
		require.Equal(t, 1, n, id)
	}
	assert.Equal(t, componentstatus.StatusOK, e.status.last().Status())
	assert.Equal(t, 1, e.logs.FilterMessageSnippet("accepts requests again").Len())
}

func TestUnauthorizedRefreshesTokenOnce(t *testing.T) {
	emu := startEmulator(t, nil)
	e := mustStartRaw(t, emulatorConfig(emu))
	require.NoError(t, e.pushLogs(context.Background(), genLogs(100, 500, "u1")))
	time.Sleep(1100 * time.Millisecond) // new tokens must have a later iat than the revocation
	emu.RevokeTokens()
	time.Sleep(1100 * time.Millisecond)
	require.NoError(t, e.pushLogs(context.Background(), genLogs(100, 500, "u2")))
	assert.Equal(t, 200, emu.RowCount())
	assert.Equal(t, 1, emu.Stats().RequestsByStatus[401])
	assert.Equal(t, 2, emu.Stats().TokenRequests["client_secret"])
	assertCounter(t, e.tel, "otelcol_azure_monitor_dcr_token_refreshes", 2)
}

func TestTokenExpiryMidStream(t *testing.T) {
	emu := startEmulator(t, func(o *logsingestion.Options) { o.TokenTTL = 2 * time.Second })
	e := mustStartRaw(t, emulatorConfig(emu))
	for i := 0; i < 3; i++ {
		require.NoError(t, e.pushLogs(context.Background(), genLogs(50, 300, fmt.Sprintf("e%d", i))))
		time.Sleep(1100 * time.Millisecond)
	}
	assert.Equal(t, 150, emu.RowCount())
	assert.Zero(t, emu.Stats().RequestsByStatus[401], "tokens are renewed before they expire")
	assert.GreaterOrEqual(t, emu.Stats().TokenRequests["client_secret"], 2)
}

func TestRetryableErrorsReturnOnlyUnsent(t *testing.T) {
	emu := startEmulator(t, nil)
	cfg := emulatorConfig(emu)
	cfg.MaxRequestBytes = 64 << 10
	e := mustStartRaw(t, cfg)
	ld := genLogs(3000, 1024, "w")
	// Let three requests through, then answer 503 with Retry-After.
	emu.SetFaults(logsingestion.Faults{SkipRequests: 3, Fail503Next: 1, RetryAfter: 1500 * time.Millisecond})
	err := e.pushLogs(context.Background(), ld)
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
	var le consumererror.Logs
	require.ErrorAs(t, err, &le)
	rem := le.Data()
	stored := emu.RowCount()
	assert.Positive(t, stored)
	assert.Equal(t, 3000-stored, rem.LogRecordCount(), "only the records not accepted are returned")
	assert.Contains(t, err.Error(), "Throttle")
	require.NoError(t, e.pushLogs(context.Background(), rem))
	got := ids(emu.Rows(testDCR, testStream))
	assert.Len(t, got, 3000)
	for id, n := range got {
		require.Equal(t, 1, n, id)
	}
}

func TestAuxiliaryTableMode(t *testing.T) {
	emu := startEmulator(t, func(o *logsingestion.Options) {
		o.AuxiliaryStreams = map[string]bool{testStream: true}
	})
	mk := func(prefix string) plog.Logs {
		ld := genLogs(240, 300, prefix)
		lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		base := time.Now().Add(-3 * time.Hour)
		for i := 0; i < lrs.Len(); i++ { // one record per 30 s over 2 hours
			lrs.At(i).SetTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(i) * 30 * time.Second)))
		}
		return ld
	}
	cfg := emulatorConfig(emu)
	cfg.AuxiliaryTableMode = true
	e := mustStartRaw(t, cfg)
	require.NoError(t, e.pushLogs(context.Background(), mk("aux")))
	assert.Len(t, ids(emu.Rows(testDCR, testStream)), 240)
	assert.Zero(t, emu.Stats().RequestsByStatus[400])
	assert.GreaterOrEqual(t, emu.Stats().RequestsByStatus[204], 1+4)

	// Without the mode the 400 answers are bisected until each request fits: nothing is lost either.
	cfg = emulatorConfig(emu)
	e = mustStartRaw(t, cfg)
	require.NoError(t, e.pushLogs(context.Background(), mk("noaux")))
	assert.Len(t, ids(emu.Rows(testDCR, testStream)), 480)
	assert.Positive(t, emu.Stats().ErrorsByCode["RecordsTimeRangeIsMoreThan30Minutes"])
}

// TestBisectionKeepsEveryGoodRow: rows refused with 400 are isolated by bisection and only they
// are dropped, however many there are. The cost is bounded by 1 + 2·b·⌈log2 n⌉ requests for b bad
// rows among n (each bad row fails at most one request per level of the bisection tree).
func TestBisectionKeepsEveryGoodRow(t *testing.T) {
	const n = 1024
	cases := []struct {
		name string
		bad  func(i int) bool
		nBad int
	}{
		{"16 bad rows at the head", func(i int) bool { return i < 16 }, 16},
		{"16 bad rows spread evenly (worst case)", func(i int) bool { return i%64 == 0 }, 16},
		{"every row bad", func(int) bool { return true }, n},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			emu := startEmulator(t, func(o *logsingestion.Options) {
				o.Faults.RejectRow = func(row map[string]any) bool {
					var i int
					_, err := fmt.Sscanf(row["id"].(string), "b-%d", &i)
					return err == nil && c.bad(i)
				}
			})
			e := mustStartRaw(t, emulatorConfig(emu))
			require.NoError(t, e.pushLogs(context.Background(), genLogs(n, 300, "b")))
			got := ids(emu.Rows(testDCR, testStream))
			assert.Len(t, got, n-c.nBad, "every good row is stored")
			assertCounter(t, e.tel, "otelcol_azure_monitor_dcr_records_dropped_bad", int64(c.nBad))
			requests := emu.Stats().Requests - 1 // minus the startup check
			bound := 1 + 2*c.nBad*int(math.Ceil(math.Log2(n)))
			assert.LessOrEqual(t, requests, min(bound, 2*n-1))
			t.Logf("%d bad of %d rows: %d requests (bound %d)", c.nBad, n, requests, min(bound, 2*n-1))
		})
	}
}

func TestSlowResponseTimesOutAndRetries(t *testing.T) {
	emu := startEmulator(t, nil)
	cfg := emulatorConfig(emu)
	cfg.ClientConfig.Timeout = 300 * time.Millisecond
	cfg.QueueConfig.GetOrInsertDefault().WaitForResult = true
	exp, _ := startFull(t, cfg, nil)
	defer func() { require.NoError(t, exp.Shutdown(context.Background())) }()
	emu.SetFaults(logsingestion.Faults{Latency: 2 * time.Second, SlowNext: 1})
	require.NoError(t, exp.ConsumeLogs(context.Background(), genLogs(100, 500, "slow")))
	got := ids(emu.Rows(testDCR, testStream))
	assert.Len(t, got, 100)
	for id, n := range got {
		require.Equal(t, 1, n, id)
	}
	assert.Equal(t, 1, emu.Stats().RequestsByStatus[499])
}

// TestStartupRefusalClearsWhenRecordsGoElsewhere: the start-up probe of the default
// destination is refused, but every record carries its own DCR and stream, which accept: the
// status returns to OK instead of staying on the probe's error.
func TestStartupRefusalClearsWhenRecordsGoElsewhere(t *testing.T) {
	emu := startEmulator(t, func(o *logsingestion.Options) {
		o.Publishers = map[string][]string{otherDCR: {"someone-else"}}
	})
	cfg := emulatorConfig(emu)
	cfg.DCRImmutableID, cfg.StreamName = otherDCR, otherStrm // the probed default is refused (403)
	e := mustStartRaw(t, cfg)
	require.Equal(t, componentstatus.StatusRecoverableError, e.status.last().Status())
	ld := genLogs(10, 200, "elsewhere")
	attrs := ld.ResourceLogs().At(0).Resource().Attributes()
	attrs.PutStr(ccpattr.DCRImmutableID, testDCR)
	attrs.PutStr(ccpattr.DCRStreamName, testStream)
	require.NoError(t, e.pushLogs(context.Background(), ld))
	assert.Len(t, emu.Rows(testDCR, testStream), 10)
	assert.Equal(t, componentstatus.StatusOK, e.status.last().Status())
}
