// Package azuremonitordcrexporter exports logs to the Azure Monitor Logs Ingestion API
// (data collection rules and their streams), authenticating with Entra ID through azidentity.
//
// Records are written as JSON straight from pdata into a gzip stream; each request is closed just
// before max_request_bytes measured on the wire, so requests are nearly full and never over the
// limit. 413 answers split a request, 400 answers are bisected to isolate and drop only the rows the
// service refuses, 429/5xx/network errors go back to exporterhelper's retry (honouring Retry-After)
// with only the records not yet accepted.
package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

//go:generate mdatagen metadata.yaml
