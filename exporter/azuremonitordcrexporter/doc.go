// Package azuremonitordcrexporter exports logs to the Azure Monitor Logs Ingestion API
// (data collection rules and their streams), authenticating with Entra ID through azidentity.
//
// Records are written as JSON straight from pdata into a gzip stream; each request is closed just
// before max_request_bytes measured on the wire, so requests are nearly full and never over the
// limit. Concurrent pushes share one open request per destination (coalesce.go); each push returns
// only once all its records have their outcome. 413 answers split a request, 400 answers are
// bisected to isolate and drop only the rows the service refuses, 429/5xx/network errors go back
// to exporterhelper's retry (honouring Retry-After) with only the records not yet accepted.
//
// Files: routing.go (record → destination), push.go (a push and its records' outcomes),
// place.go (rows into the open request), coalesce.go (when an open request is sent), sender.go
// (sending, and halves after 413/400), response.go (what an answer means), http.go (the round
// trip), packer.go (gzip to the wire limit), rowmap.go and json.go (record → JSON row).
package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

//go:generate mdatagen metadata.yaml
