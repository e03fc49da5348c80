package ccpcoordinatorextension

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const testKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "%s"}
users:
- name: me
  user: {token: not-a-real-token}
contexts:
- name: local
  context: {cluster: local, user: me, namespace: from-context}
current-context: local
`

// kubeConfig auth reads KUBECONFIG; the namespace defaults to the context's.
func TestLeaseClientFromKubeconfig(t *testing.T) {
	paths := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`))
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "config")
	require.NoError(t, os.WriteFile(path, fmt.Appendf(nil, testKubeconfig, srv.URL), 0o600))
	t.Setenv("KUBECONFIG", path)
	for ns, cfg := range map[string]*KubernetesConfig{
		"from-context": {AuthType: AuthKubeConfig},
		"explicit":     {AuthType: AuthKubeConfig, Namespace: "explicit"},
	} {
		api, err := newLeaseClient(cfg)
		require.NoError(t, err)
		_, err = api.Get(context.Background(), "otelcol-ccp-x", metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "%v", err)
		assert.Equal(t, "/apis/coordination.k8s.io/v1/namespaces/"+ns+"/leases/otelcol-ccp-x", <-paths)
	}
}

// serviceAccount auth outside a pod fails with what to do about it.
func TestLeaseClientServiceAccountOutsidePod(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	_, err := newLeaseClient(&KubernetesConfig{AuthType: AuthServiceAccount})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "serviceAccount needs to run in a pod (or use kubeConfig)")
}

func TestPodNamespaceFromEnv(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "observability")
	assert.Equal(t, "observability", podNamespace())
}

// Lease names are valid DNS names and distinct connectors never share one.
func TestLeaseNames(t *testing.T) {
	k := newK8sEngine(nil, "otelcol-ccp-", "pod-0", realClock(), 0)
	a, b := k.leaseName("", "ccp/Okta"), k.leaseName("", "ccp_okta")
	assert.Regexp(t, `^otelcol-ccp-ccp-okta-[0-9a-f]{8}$`, a)
	assert.NotEqual(t, a, b)
	long := k.leaseName("member-", string(make([]byte, 300)))
	assert.LessOrEqual(t, len(long), 253)
	assert.Regexp(t, `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, long)
}
