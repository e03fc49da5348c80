package poller

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-ccp/otelcol-ccp/internal/ccp/auth"
)

const echoedKey = "k3y-0123456789-secret"

// echoServer answers status with a body that quotes the request's Authorization and X-Key
// headers back, as some vendor APIs do in their error messages.
func echoServer(t *testing.T, status int) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"data": [{"id": 1}], "status": "bad", "error": "invalid credentials: Authorization=` +
			r.Header.Get("Authorization") + ` key=` + r.Header.Get("X-Key") + `"}`))
	}))
	t.Cleanup(ts.Close)
	return ts
}

func assertNoSecret(t *testing.T, err error, logs *observer.ObservedLogs, secrets ...string) {
	t.Helper()
	var all strings.Builder
	if err != nil {
		all.WriteString(err.Error())
	}
	for _, e := range logs.All() {
		all.WriteString("\n" + e.Message)
		for k, v := range e.ContextMap() {
			all.WriteString(" " + k + "=")
			all.WriteString(strings.TrimSpace(strings.ReplaceAll(fmtAny(v), "\n", " ")))
		}
	}
	for _, s := range secrets {
		assert.NotContains(t, all.String(), s)
	}
}

func fmtAny(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if e, ok := v.(error); ok {
		return e.Error()
	}
	return ""
}

// A 401 body that echoes the API key and the Authorization value: neither reaches the
// RequestError (component status) nor the logs.
func TestErrorBodyIsScrubbed(t *testing.T) {
	for name, def := range map[string]string{
		"key in Authorization": `{"type": "APIKey", "ApiKey": "` + echoedKey + `", "ApiKeyName": "Authorization", "ApiKeyIdentifier": "Token"}`,
		"key in X-Key":         `{"type": "APIKey", "ApiKey": "` + echoedKey + `", "ApiKeyName": "X-Key"}`,
	} {
		t.Run(name, func(t *testing.T) {
			ts := echoServer(t, http.StatusUnauthorized)
			core, logs := observer.New(zap.DebugLevel)
			e := hostileEngine(t, ts.URL, `{"auth": `+def+`, "request": {"apiEndpoint": "{{base}}/e", "retryCount": 0, "timeoutInSeconds": 5},
			  "response": {"eventsJsonPaths": ["$.data"]}}`, Options{Logger: zap.New(core)})
			a, err := auth.New(e.def.Auth, auth.Settings{HTTPClient: ts.Client()})
			require.NoError(t, err)
			e.o.Auth = a
			_, err = pollAll(e)
			var re *RequestError
			require.True(t, errors.As(err, &re), "%v", err)
			assert.Equal(t, http.StatusUnauthorized, re.Status)
			assert.Contains(t, re.Msg, "invalid credentials", "the rest of the body stays readable")
			assert.Contains(t, re.Msg, "[REDACTED]")
			assertNoSecret(t, err, logs, echoedKey)
		})
	}
}

// An Authenticator from outside internal/auth (no Scrubber) still has what it put on the
// request scrubbed: the engine removes the credential headers it sent.
func TestErrorBodyIsScrubbedWithoutScrubber(t *testing.T) {
	ts := echoServer(t, http.StatusForbidden)
	core, logs := observer.New(zap.DebugLevel)
	e := hostileEngine(t, ts.URL, `{"auth": {"type": "None"}, "request": {"apiEndpoint": "{{base}}/e", "retryCount": 0,
	  "timeoutInSeconds": 5, "headers": {"X-Key": "`+echoedKey+`"}}, "response": {"eventsJsonPaths": ["$.data"]}}`, Options{Logger: zap.New(core)})
	e.o.Auth = basicForTest{}
	_, err := pollAll(e)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid credentials")
	assertNoSecret(t, err, logs, echoedKey, "Basic dTpw", "dTpw")
}

// A success status check and the logResponseContent debug log quote the body too.
func TestSuccessBodyQuotesAreScrubbed(t *testing.T) {
	ts := echoServer(t, http.StatusOK)
	core, logs := observer.New(zap.DebugLevel)
	e := hostileEngine(t, ts.URL, `{"auth": {"type": "None"}, "request": {"apiEndpoint": "{{base}}/e", "retryCount": 0,
	  "timeoutInSeconds": 5, "logResponseContent": true, "headers": {"X-Key": "`+echoedKey+`"}},
	  "response": {"eventsJsonPaths": ["$.data"], "successStatusJsonPath": "$.error", "successStatusValue": "ok"}}`, Options{Logger: zap.New(core)})
	_, err := pollAll(e)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "successStatusJsonPath")
	require.NotEmpty(t, logs.FilterMessageSnippet("response content").All())
	assertNoSecret(t, err, logs, echoedKey)
}

// A secret cut by the read limit must not leave its first characters behind: the padding
// collapses, so a cut secret would otherwise be inside the excerpt shown.
func TestExcerptDoesNotLeakACutSecret(t *testing.T) {
	secret := "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	scrub := func(s string) string { return strings.ReplaceAll(s, secret, "[REDACTED]") }
	for pad := errorReadLen - 60; pad < errorReadLen+10; pad++ {
		body := strings.Repeat(" ", pad) + "key " + secret + " tail"
		got := errorSnippet(strings.NewReader(body), scrub)
		require.NotContains(t, got, secret[:4], "pad %d: %q", pad, got)
		if pad+4+len(secret) < errorReadLen {
			require.Contains(t, got, "key [REDACTED]", "pad %d", pad)
		}
	}
}
