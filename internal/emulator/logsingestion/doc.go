// Package logsingestion is a strict local emulator of the Azure Monitor Logs Ingestion API
// (the DCR-based "Logs Ingestion" endpoint), of the Entra ID token endpoint (STS) that issues
// tokens for it, and of the managed-identity endpoints (App Service style and IMDS style).
//
// It exists for tests, benchmarks and the demo program: it answers like the real service where
// the service's behaviour is known (see ../../../../shared/research/logs-ingestion.md §9), and
// refuses whatever the real service refuses. Answers whose exact form is not documented anywhere
// are marked [assumed] below.
//
// # Starting it
//
//	emu, err := logsingestion.Start(logsingestion.Options{
//		DCRs:         map[string][]string{"dcr-00000000000000000000000000000001": {"Custom-MyTable_CL"}},
//		TenantID:     "tenant-1",
//		ClientID:     "client-1",
//		ClientSecret: "secret-1",
//	})
//	defer emu.Close()
//
// Everything listens on 127.0.0.1 only (Options.Addr, default "127.0.0.1:0"). The ingestion
// endpoint and the fake STS share one HTTPS listener whose certificate (valid for 127.0.0.1 and
// localhost) is signed by a CA generated at start. The CA is written as PEM to Options.CAFile
// (or to a file in a private temp directory; see CAFile) so a collector subprocess can trust it
// with `tls: {ca_file: ...}`, and it is available in-process as CertPool / HTTPClient.
// The managed-identity endpoints are served over plain HTTP on a second 127.0.0.1 listener, as
// App Service / IMDS endpoints are in reality.
//
// # Addresses
//
//   - IngestURL(): the "Data Collection Endpoint" base URL. Requests go to
//     POST {IngestURL}/dataCollectionRules/{dcrImmutableId}/streams/{stream}?api-version=2023-01-01
//     (also 2021-11-01-preview and 2023-04-01-preview).
//   - AuthorityHost(): the https authority host for azidentity (cloud.Configuration
//     ActiveDirectoryAuthorityHost, or the exporter's auth.authority_host). Serves
//     GET /{tenant}/v2.0/.well-known/openid-configuration, GET /common/discovery/instance and
//     POST /{tenant}/oauth2/v2.0/token (client_secret, client certificate assertions signed PS256
//     or RS256 with a registered certificate, and federated assertions for workload identity).
//     Clients must use DisableInstanceDiscovery or route login.microsoftonline.com here.
//   - IdentityEndpoint() / IdentityHeader(): values for the IDENTITY_ENDPOINT / IDENTITY_HEADER
//     environment variables, which make azidentity's ManagedIdentityCredential use the App Service
//     flow (GET ?api-version=2019-08-01&resource=... with X-IDENTITY-HEADER). IMDSURL() serves the
//     IMDS form (/metadata/identity/oauth2/token, header Metadata: true) for clients whose transport
//     can be redirected.
//
// # What the ingestion endpoint checks, in order
//
//  1. Path /dataCollectionRules/{id}/streams/{stream} (literal segments case-insensitive), else
//     404 NotFound [assumed body]; method POST, else 405 [assumed].
//  2. api-version present and known, else 400 MissingApiVersionParameter / UnsupportedApiVersion [assumed].
//  3. Authorization: Bearer token minted by this emulator, not expired, not revoked, audience equal to
//     Options.Audience (default https://monitor.azure.com), application token; else 401
//     InvalidAuthenticationToken [assumed] / InvalidAudience / UnsupportedAccessTokenType.
//  4. DCR known, else 404 NotFound "Data collection rule with immutable Id '<id>' not found.".
//  5. The token's principal holds "Monitoring Metrics Publisher" on the DCR (Options.Publishers), else
//     403 OperationFailed.
//  6. Stream declared in the DCR, else 400 InvalidStream.
//  7. Per-DCR rolling 60 s limits (Options.RequestsPerMinute, BytesPerMinute) → 429 TooManyRequests
//     with Retry-After (seconds, ≥ 1).
//  8. Bytes on the wire > Options.MaxWireBytes (default 1,048,576) → 413 ContentLengthLimitExceeded.
//  9. Content-Encoding gzip (or zlib-framed deflate, which the real service tolerates) or none; other
//     encodings or corrupt gzip → 400 InvalidContentEncoding [assumed]; decompressed size over
//     Options.MaxDecompressedBytes (default 50 MiB) → 413 PayloadSizeLimitExceeded [assumed status].
//  10. Content-Type application/json, else 415 UnsupportedMediaType [assumed].
//  11. Body valid UTF-8 JSON, else 400 InvalidJson [assumed]. A top-level object is answered 204 and its
//     data silently dropped (as the real service does; counted in Stats.SilentlyDroppedBodies).
//     Non-object array elements are dropped and counted.
//  12. Options.AuxiliaryStreams: rows whose TimeGenerated values span more than 30 minutes → 400
//     RecordsTimeRangeIsMoreThan30Minutes [status assumed].
//  13. Faults.RejectRow: if any row matches, the whole request is refused with 400 InvalidPayload
//     [assumed] and nothing is stored (the real service refuses whole requests, never single rows).
//  14. Options.Columns (optional stream declaration): undeclared properties are dropped from the stored
//     row and counted (Stats.ColumnsDropped), as the real service does.
//
// Success is 204 No Content with an empty body and x-ms-request-id. Every error carries
// Content-Type application/json, x-ms-error-code, x-ms-request-id and {"error":{"code","message"}}.
//
// # Faults
//
// Options.Faults / SetFaults inject: 503 for a fraction of (or the next N) requests, bursts of 429
// with Retry-After (sub-second values as retry-after-ms), "store the rows then drop the connection"
// (the client sees a network error although the rows were stored, which is the only way duplicates
// can arise), added latency (for all or the next N requests), and 400 for requests holding a row
// matching RejectRow. SkipRequests lets N requests through before faults start. Requests that fail
// the checks above never reach fault injection.
//
// # Reading back
//
// Rows(dcr, stream) returns copies of the stored rows in arrival order; RowCount() counts all stored
// rows; Requests() returns a record per ingestion request (status, wire and decompressed size, row
// count, ...); Stats() returns counters (requests by status, token requests by grant, dropped
// connections and the rows stored in them, ...). Stats().Wire sums the bytes on the wire of the
// accepted requests that carried rows (count, total, largest, most recent; MeanFill excludes the
// most recent, the partial request ending a flush), and each Request records its Content-Length
// and the bytes read. Options.DiscardRows counts rows without keeping them (long benchmarks).
// Reset() clears rows, requests and counters.
package logsingestion
