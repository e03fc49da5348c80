package azuremonitordcrexporter

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

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

func TestPermanentErrors(t *testing.T) {
	emu := startEmulator(t, func(o *logsingestion.Options) {
		o.Publishers = map[string][]string{otherDCR: {"someone-else"}}
	})
	cases := []struct {
		name, dcr, stream, want string
	}{
		{"forbidden", otherDCR, otherStrm, `assign the role "Monitoring Metrics Publisher"`},
		{"unknown dcr", "dcr-00000000000000000000000000000099", testStream, "check dcr_immutable_id"},
		{"invalid stream", testDCR, "Custom-Nope_CL", "is not declared in DCR"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := emulatorConfig(emu)
			cfg.DCRImmutableID, cfg.StreamName = c.dcr, c.stream
			_, err := startRaw(t, cfg)
			require.ErrorContains(t, err, "startup check failed")
			require.ErrorContains(t, err, c.want)

			cfg.StartupCheck = false
			e := mustStartRaw(t, cfg)
			before := emu.Stats().Requests
			err = e.pushLogs(context.Background(), genLogs(2000, 1024, "p"))
			require.Error(t, err)
			assert.True(t, consumererror.IsPermanent(err))
			assert.ErrorContains(t, err, c.want)
			assert.Equal(t, 1, emu.Stats().Requests-before, "a destination error stops that destination after one request")
		})
	}
	t.Run("bad secret", func(t *testing.T) {
		cfg := emulatorConfig(emu)
		cfg.Auth.ClientSecret = "wrong"
		_, err := startRaw(t, cfg)
		require.ErrorContains(t, err, "Entra ID refused the credential")
		cfg.StartupCheck = false
		e := mustStartRaw(t, cfg)
		err = e.pushLogs(context.Background(), genLogs(10, 100, "q"))
		assert.True(t, consumererror.IsPermanent(err))
	})
	t.Run("wrong scope", func(t *testing.T) {
		cfg := emulatorConfig(emu)
		cfg.Auth.Scope = "https://management.azure.com/.default"
		_, err := startRaw(t, cfg)
		require.ErrorContains(t, err, "AADSTS70011")
	})
	t.Run("good and bad destinations in one batch", func(t *testing.T) {
		cfg := emulatorConfig(emu)
		e := mustStartRaw(t, cfg)
		ld := genLogs(20, 200, "m")
		lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		for i := 0; i < 5; i++ {
			lrs.At(i).Attributes().PutStr(ccpattr.DCRStreamName, "Custom-Nope_CL")
		}
		before := len(emu.Rows(testDCR, testStream))
		err := e.pushLogs(context.Background(), ld)
		assert.True(t, consumererror.IsPermanent(err))
		assert.Len(t, emu.Rows(testDCR, testStream), before+15)
	})
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

func TestEveryRowRefusedStopsBisecting(t *testing.T) {
	emu := startEmulator(t, func(o *logsingestion.Options) {
		o.Faults.RejectRow = func(map[string]any) bool { return true }
	})
	e := mustStartRaw(t, emulatorConfig(emu))
	err := e.pushLogs(context.Background(), genLogs(5000, 1024, "all"))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.ErrorContains(t, err, "every row sent to DCR")
	assert.Less(t, emu.Stats().RequestsByStatus[400], 200, "no request storm")
	assert.Zero(t, emu.RowCount())
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
