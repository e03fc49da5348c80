package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

type colMap struct{ key, col string }

// mapper turns a log record into the JSON object of one row.
type mapper struct {
	tgCol       string
	tgSource    string
	tgOverwrite bool
	stringBody  string
	attrs       []colMap
	resAttrs    []colMap
}

func newMapper(cfg *Config) mapper {
	m := mapper{
		tgCol:       cfg.TimeGenerated.Column,
		tgSource:    cfg.TimeGenerated.Source,
		tgOverwrite: cfg.TimeGenerated.Overwrite,
		stringBody:  cfg.Columns.StringBody,
	}
	for k, c := range cfg.Columns.Attributes {
		m.attrs = append(m.attrs, colMap{k, c})
	}
	for k, c := range cfg.Columns.ResourceAttributes {
		m.resAttrs = append(m.resAttrs, colMap{k, c})
	}
	byKey := func(a, b colMap) int {
		if a.key < b.key {
			return -1
		}
		if a.key > b.key {
			return 1
		}
		return 0
	}
	slices.SortFunc(m.attrs, byKey)
	slices.SortFunc(m.resAttrs, byKey)
	return m
}

// recordTime is the TimeGenerated value of a record (unix nanoseconds).
func (m *mapper) recordTime(lr plog.LogRecord, now int64) int64 {
	switch m.tgSource {
	case TimeSourceRecord:
		if ts := lr.Timestamp(); ts != 0 {
			return int64(ts)
		}
		return now
	case TimeSourceObserved:
		if ts := lr.ObservedTimestamp(); ts != 0 {
			return int64(ts)
		}
		return now
	case TimeSourceNow:
		return now
	default:
		if ts := lr.Timestamp(); ts != 0 {
			return int64(ts)
		}
		if ts := lr.ObservedTimestamp(); ts != 0 {
			return int64(ts)
		}
		return now
	}
}

// appendRecord appends the JSON object for lr. Explicitly mapped attribute columns win over body keys
// of the same name; a body key named like the TimeGenerated column wins unless overwrite is set.
func (m *mapper) appendRecord(dst []byte, res pcommon.Resource, lr plog.LogRecord, tg int64) []byte {
	var exBuf [8]string
	explicit := presentCols(exBuf[:0], m.attrs, lr.Attributes())
	explicit = presentCols(explicit, m.resAttrs, res.Attributes())
	writeTG := m.tgSource != TimeSourceNone && !slices.Contains(explicit, m.tgCol)
	dst = append(dst, '{')
	first := true
	sep := func() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
	}
	body := lr.Body()
	switch body.Type() {
	case pcommon.ValueTypeMap:
		for k, v := range body.Map().All() {
			if len(explicit) > 0 && slices.Contains(explicit, k) {
				continue
			}
			if writeTG && k == m.tgCol {
				if m.tgOverwrite {
					continue
				}
				writeTG = false
			}
			sep()
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			dst = appendJSONValue(dst, v)
		}
	case pcommon.ValueTypeEmpty:
	default:
		if !slices.Contains(explicit, m.stringBody) {
			if m.stringBody == m.tgCol {
				writeTG = false
			}
			sep()
			dst = appendJSONString(dst, m.stringBody)
			dst = append(dst, ':')
			dst = appendJSONValue(dst, body)
		}
	}
	for _, src := range [2]struct {
		cols  []colMap
		attrs pcommon.Map
	}{{m.attrs, lr.Attributes()}, {m.resAttrs, res.Attributes()}} {
		for _, c := range src.cols {
			if v, ok := src.attrs.Get(c.key); ok {
				sep()
				dst = appendJSONString(dst, c.col)
				dst = append(dst, ':')
				dst = appendJSONValue(dst, v)
			}
		}
	}
	if writeTG {
		sep()
		dst = appendJSONString(dst, m.tgCol)
		dst = append(dst, ':')
		dst = appendTime(dst, time.Unix(0, tg))
	}
	return append(dst, '}')
}

// presentCols appends the columns of cols whose attribute is present in attrs.
func presentCols(dst []string, cols []colMap, attrs pcommon.Map) []string {
	for _, c := range cols {
		if _, ok := attrs.Get(c.key); ok {
			dst = append(dst, c.col)
		}
	}
	return dst
}
