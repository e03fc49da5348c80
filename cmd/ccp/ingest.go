package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/definition"
	"github.com/otelcol-ccp/otelcol-ccp/internal/ccpattr"
	"github.com/otelcol-ccp/otelcol-ccp/internal/pdatajson"
)

// ingestTimeout bounds the push of --ingest: the exporter's defaults retry without a deadline
// (a collector waits out an Azure incident), a one-shot test must end.
var ingestTimeout = 2 * time.Minute

// recordsSentMetric is the exporter's count of rows the Logs Ingestion API accepted.
const recordsSentMetric = "otelcol_azure_monitor_dcr_records_sent"

// ingestTarget is the azure_monitor_dcr exporter chosen in a collector configuration.
type ingestTarget struct {
	id  component.ID
	cfg *azuremonitordcrexporter.Config
}

// loadIngestTarget reads a collector configuration file (${env:...} expanded as the collector
// does) and returns its azure_monitor_dcr exporter: the one named by want ("azure_monitor_dcr/x"
// or "x"), or the only one.
func loadIngestTarget(ctx context.Context, path, want string) (*ingestTarget, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	res, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              []string{"file:" + abs},
		ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
		DefaultScheme:     "env",
	})
	if err != nil {
		return nil, err
	}
	conf, err := res.Resolve(ctx)
	if err != nil {
		return nil, fmt.Errorf("--ingest %s: %w", path, err)
	}
	f := azuremonitordcrexporter.NewFactory()
	exporters, err := conf.Sub("exporters")
	if err != nil {
		return nil, fmt.Errorf("--ingest %s: exporters: %w", path, err)
	}
	var found []component.ID
	for key := range exporters.ToStringMap() {
		var id component.ID
		if id.UnmarshalText([]byte(key)) == nil && id.Type() == f.Type() {
			found = append(found, id)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].String() < found[j].String() })
	id, err := pickExporter(found, want, path)
	if err != nil {
		return nil, err
	}
	cfg := f.CreateDefaultConfig().(*azuremonitordcrexporter.Config)
	sub, err := exporters.Sub(id.String())
	if err == nil {
		err = sub.Unmarshal(cfg)
	}
	if err == nil {
		err = confmap.Validate(cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("--ingest %s: exporter %s: %w", path, id, err)
	}
	if cfg.Auth.Authenticator != nil {
		return nil, fmt.Errorf("--ingest %s: exporter %s uses the auth extension %s; ccp poll runs no extensions: use an auth type (client_secret, managed_identity, azure_cli, ...)", path, id, cfg.Auth.Authenticator)
	}
	return &ingestTarget{id: id, cfg: cfg}, nil
}

// pickExporter selects the exporter named want, or the only one.
func pickExporter(found []component.ID, want, path string) (component.ID, error) {
	names := make([]string, len(found))
	for i, id := range found {
		names[i] = id.String()
	}
	if want != "" {
		for _, id := range found {
			if id.String() == want || id.Name() == want {
				return id, nil
			}
		}
		return component.ID{}, fmt.Errorf("--exporter %q: %s has no such azure_monitor_dcr exporter (it has: %s)", want, path, strings.Join(names, ", "))
	}
	switch len(found) {
	case 0:
		return component.ID{}, fmt.Errorf("--ingest %s: no azure_monitor_dcr exporter under exporters", path)
	case 1:
		return found[0], nil
	}
	return component.ID{}, fmt.Errorf("--ingest %s holds %d azure_monitor_dcr exporters (%s); pick one with --exporter NAME", path, len(found), strings.Join(names, ", "))
}

// ingestBatch holds the polled events as the ccp receiver would emit them: the same body
// (addOnAttributes added) and the same ccp.* attributes, so the exporter routes them alike.
type ingestBatch struct {
	logs  plog.Logs
	recs  plog.LogRecordSlice
	attrs pcommon.Map
	addOn []definition.Param
}

func newIngestBatch(name string, def *definition.Definition) *ingestBatch {
	b := &ingestBatch{logs: plog.NewLogs(), attrs: pcommon.NewMap(), addOn: def.AddOnAttributes}
	sl := b.logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	sl.Scope().SetName("github.com/otelcol-ccp/otelcol-ccp/cmd/ccp")
	b.recs = sl.LogRecords()
	b.attrs.PutStr(ccpattr.Connector, name)
	for k, v := range map[string]string{
		ccpattr.DataType: def.DataType, ccpattr.DCRImmutableID: def.DCR.DataCollectionRuleImmutableID,
		ccpattr.DCRStreamName: def.DCR.StreamName, ccpattr.DCREndpoint: def.DCR.DataCollectionEndpoint,
	} {
		if v != "" {
			b.attrs.PutStr(k, v)
		}
	}
	return b
}

// add appends one event (raw JSON, or any text: a non-JSON event becomes a string body).
func (b *ingestBatch) add(ev string, now pcommon.Timestamp) {
	lr := b.recs.AppendEmpty()
	lr.SetObservedTimestamp(now)
	body := lr.Body()
	pdatajson.SetValue(body, ev)
	if body.Type() == pcommon.ValueTypeMap {
		for _, a := range b.addOn {
			body.Map().PutStr(a.Name, a.ValueString())
		}
	}
	b.attrs.CopyTo(lr.Attributes())
}

// destination is where the exporter sends the batch: the records' DCR and stream, else the
// exporter's defaults.
func (b *ingestBatch) destination(cfg *azuremonitordcrexporter.Config) (dcr, stream string) {
	dcr, stream = cfg.DCRImmutableID, cfg.StreamName
	if v, ok := b.attrs.Get(ccpattr.DCRImmutableID); ok {
		dcr = v.Str()
	}
	if v, ok := b.attrs.Get(ccpattr.DCRStreamName); ok {
		stream = v.Str()
	}
	return dcr, stream
}

// ingestRun is ccp poll --ingest: the exporter chosen before polling, the events collected
// while polling, and the push afterwards. A nil *ingestRun (no --ingest) does nothing.
type ingestRun struct {
	target *ingestTarget
	batch  *ingestBatch
	now    pcommon.Timestamp
}

// startIngest loads the exporter settings before the API is called, so a wrong configuration
// costs no poll.
func startIngest(ctx context.Context, o *options, name string, def *definition.Definition) (*ingestRun, error) {
	if o.ingest == "" {
		return nil, nil
	}
	t, err := loadIngestTarget(ctx, o.ingest, o.exporter)
	if err != nil {
		return nil, err
	}
	return &ingestRun{target: t, batch: newIngestBatch(name, def), now: pcommon.NewTimestampFromTime(time.Now())}, nil
}

func (r *ingestRun) add(ev string) {
	if r != nil {
		r.batch.add(ev, r.now)
	}
}

// finish pushes the events through the exporter and prints, on out, the rows the Logs
// Ingestion API accepted per DCR and stream. The count is the exporter's own
// otelcol_azure_monitor_dcr_records_sent (rows answered 204), not what was offered: rows it
// refused as bad (400) or too large are printed apart and make the command fail.
func (r *ingestRun) finish(ctx context.Context, out io.Writer) error {
	if r == nil {
		return nil
	}
	a := r.target.cfg.Auth
	sw := scrubWriter{mu: new(sync.Mutex), w: out, s: newScrubber(nil, []string{string(a.ClientSecret), string(a.CertificatePassword)})}
	enc := zap.NewDevelopmentEncoderConfig()
	enc.TimeKey = ""
	log := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), sw, zap.InfoLevel))

	tel := componenttest.NewTelemetry()
	defer func() { _ = tel.Shutdown(context.WithoutCancel(ctx)) }()
	set := exporter.Settings{ID: r.target.id, TelemetrySettings: tel.NewTelemetrySettings(), BuildInfo: component.NewDefaultBuildInfo()}
	set.Logger = log
	cfg := *r.target.cfg
	// One synchronous push: without a queue ConsumeLogs returns once the service answered
	// (after the exporter's retries), so nothing is left in memory when the command ends.
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	exp, err := azuremonitordcrexporter.NewFactory().CreateLogs(ctx, set, &cfg)
	if err != nil {
		return fmt.Errorf("exporter %s: %w", r.target.id, err)
	}
	if err := exp.Start(ctx, componenttest.NewNopHost()); err != nil {
		return fmt.Errorf("exporter %s: %w", r.target.id, err)
	}
	defer func() { _ = exp.Shutdown(context.WithoutCancel(ctx)) }()

	n := r.batch.recs.Len()
	var perr error
	if n > 0 {
		pushCtx, cancel := context.WithTimeout(ctx, ingestTimeout)
		perr = exp.ConsumeLogs(pushCtx, r.batch.logs)
		cancel()
	}
	sent := counterValue(tel, recordsSentMetric)
	refused := counterValue(tel, "otelcol_azure_monitor_dcr_records_dropped_bad") +
		counterValue(tel, "otelcol_azure_monitor_dcr_records_too_large")
	dcr, stream := r.batch.destination(&cfg)
	fmt.Fprintf(sw, "ingested: %d of %d rows accepted by DCR %s stream %s (exporter %s, %s)\n", sent, n, dcr, stream, r.target.id, cfg.ClientConfig.Endpoint)
	if refused > 0 {
		fmt.Fprintf(sw, "refused: %d rows (400 bad rows or rows too large for one request; see the exporter's error log above)\n", refused)
	}
	switch {
	case perr != nil:
		return fmt.Errorf("ingest through %s: %w", r.target.id, perr)
	case sent != int64(n):
		return fmt.Errorf("ingest through %s: %d of %d rows were not accepted", r.target.id, int64(n)-sent, n)
	}
	return nil
}

// counterValue sums an int counter of the exporter's telemetry (0 when never recorded).
func counterValue(tel *componenttest.Telemetry, name string) int64 {
	m, err := tel.GetMetric(name)
	if err != nil {
		return 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		return 0
	}
	var n int64
	for _, dp := range sum.DataPoints {
		n += dp.Value
	}
	return n
}
