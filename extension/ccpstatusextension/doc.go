// Package ccpstatusextension serves the ccp_status extension: a read-only web page and JSON API
// listing every ccp connector of the collector (from the internal/connstate registry) with its
// status badge, last data received, last completed window, lag, events per hour over 14 days
// as an inline SVG chart and its last (redacted) error, plus one page per connector with its
// connectorUiConfig (description markdown rendered and sanitized, instructions, prerequisites,
// sample queries), window history and the last requests as a redacted trace.
//
// Pages are rendered on the server with html/template; the only script is a same-origin copy
// button helper. Every answer carries a strict Content-Security-Policy. History and hourly
// counts are kept through a storage extension when one is configured, so they survive a restart.
package ccpstatusextension // import "github.com/otelcol-ccp/otelcol-ccp/extension/ccpstatusextension"

//go:generate mdatagen metadata.yaml
