package azuremonitordcrexporter // import "github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.uber.org/zap"
)

func (e *dcrExporter) routeURL(r route) string {
	e.urlMu.Lock()
	defer e.urlMu.Unlock()
	if u, ok := e.urls[r]; ok {
		return u
	}
	u := strings.TrimRight(e.cfg.ClientConfig.Endpoint, "/") + "/dataCollectionRules/" + url.PathEscape(r.dcr) +
		"/streams/" + url.PathEscape(r.stream) + "?api-version=" + url.QueryEscape(e.cfg.APIVersion)
	if len(e.urls) < 1024 {
		e.urls[r] = u
	}
	return u
}

type postResult struct {
	status    int
	header    http.Header
	code, msg string
	requestID string
	err       error // no answer (network) or no token
	permanent bool  // err can never succeed (the request cannot be built)
	refused   bool  // err is Entra ID refusing the credential: waited out like a 403
}

func (e *dcrExporter) post(ctx context.Context, r route, body []byte, rawLen int) postResult {
	if e.testPost != nil {
		return e.testPost(body, rawLen)
	}
	u := e.routeURL(r)
	var tok string
	if e.tokens != nil {
		var err error
		if tok, err = e.tokens.token(ctx, ""); err != nil {
			return e.tokenError(err)
		}
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return postResult{err: consumererror.NewPermanent(err), permanent: true}
		}
		h := req.Header
		h.Set("Content-Type", "application/json")
		h.Set("Content-Encoding", "gzip")
		h.Set("Accept", "application/json")
		h.Set("User-Agent", e.ua)
		h.Set("x-ms-client-request-id", newGUID())
		if tok != "" {
			h.Set("Authorization", "Bearer "+tok)
		}
		e.tb.AzureMonitorDcrRequestWireBytes.Record(ctx, int64(len(body)))
		e.tb.AzureMonitorDcrRequestUncompressedBytes.Record(ctx, int64(rawLen))
		resp, err := e.client.Do(req)
		if err != nil {
			e.count(ctx, "network_error", 0)
			return postResult{err: fmt.Errorf("sending to the Logs Ingestion API: %w", err)}
		}
		res := postResult{status: resp.StatusCode, header: resp.Header, requestID: resp.Header.Get("x-ms-request-id")}
		if resp.StatusCode >= 300 {
			res.code, res.msg = parseError(resp)
		}
		_, _ = io.CopyN(io.Discard, resp.Body, maxErrorBody)
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 && e.tokens != nil {
			e.count(ctx, "unauthorized", resp.StatusCode)
			e.logger.Info("Access token refused (401); acquiring a new one and retrying once",
				zap.String("error_code", res.code))
			if tok, err = e.tokens.token(ctx, tok); err != nil {
				return e.tokenError(err)
			}
			continue
		}
		return res
	}
}

func (e *dcrExporter) tokenError(err error) postResult {
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		if s := afe.RawResponse.StatusCode; s == http.StatusBadRequest || s == http.StatusUnauthorized || s == http.StatusForbidden || s == http.StatusNotFound {
			return postResult{err: fmt.Errorf("Entra ID refused the credential (check auth::tenant_id, auth::client_id and the secret/certificate/federated token; a rotated secret must be updated in the configuration): %w", err), refused: true}
		}
	}
	return postResult{err: fmt.Errorf("acquiring an Entra ID token: %w", err)}
}

func parseError(resp *http.Response) (string, string) {
	code := resp.Header.Get("x-ms-error-code")
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := ""
	if json.Unmarshal(b, &body) == nil {
		if code == "" {
			code = body.Error.Code
		}
		msg = body.Error.Message
	} else {
		msg = strings.TrimSpace(string(b))
		if len(msg) > 512 {
			msg = msg[:512]
		}
	}
	return code, msg
}

// retryAfter reads the delay the service asks for (retryafter.Parse), caps it and adds up to 10 % (at most 2 s) of jitter.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
