package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccpattr"
)

// route is a destination: one DCR and one of its streams.
type route struct{ dcr, stream string }

// recRef is one log record of a push with its resource.
type recRef struct {
	res pcommon.Resource
	lr  plog.LogRecord
}

// routed holds the records of one push in order, and their indexes grouped by destination in
// the order the destinations first appear.
type routed struct {
	refs    []recRef
	order   []route
	byRoute map[route][]int
}

// routeRecords finds each record's destination: the record's ccp.dcr.* attributes, else its
// resource's, else the configured default.
func (e *dcrExporter) routeRecords(ld plog.Logs) routed {
	n := ld.LogRecordCount()
	rt := routed{refs: make([]recRef, 0, n), byRoute: map[route][]int{}}
	def := route{e.cfg.DCRImmutableID, e.cfg.StreamName}
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := rl.Resource()
		rr := routeFrom(def, res.Attributes())
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				r := rr
				if lr.Attributes().Len() > 0 {
					r = routeFrom(rr, lr.Attributes())
				}
				rt.add(r, recRef{res: res, lr: lr}, n)
			}
		}
	}
	return rt
}

func (rt *routed) add(r route, ref recRef, total int) {
	idx := len(rt.refs)
	rt.refs = append(rt.refs, ref)
	list, ok := rt.byRoute[r]
	if !ok {
		c := 16
		if len(rt.order) == 0 {
			c = total // the common case: one destination for the whole batch
		}
		rt.order = append(rt.order, r)
		list = make([]int, 0, c)
	}
	rt.byRoute[r] = append(list, idx)
}

// routeFrom overrides the DCR and stream of r with the string attributes of attrs, if set.
func routeFrom(r route, attrs pcommon.Map) route {
	if v := stringAttr(attrs, ccpattr.DCRImmutableID); v != "" {
		r.dcr = v
	}
	if v := stringAttr(attrs, ccpattr.DCRStreamName); v != "" {
		r.stream = v
	}
	return r
}

func stringAttr(m pcommon.Map, key string) string {
	if v, ok := m.Get(key); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}
