package ccpcoordinatorextension

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-ccp/otelcol-ccp/extension/ccpcoordinatorextension/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	t.Setenv("POD_NAME", "otelcol-ccp-1")
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg
}

func TestConfigEtcd(t *testing.T) {
	cfg := loadConfig(t, "etcd")
	require.NoError(t, cfg.Validate())
	require.True(t, cfg.Etcd.HasValue())
	assert.False(t, cfg.Kubernetes.HasValue())
	ec := cfg.Etcd.Get()
	assert.Equal(t, []string{"etcd-0:2379", "etcd-1:2379"}, ec.Endpoints)
	assert.Equal(t, "/prod/", ec.Prefix)
	assert.Equal(t, 5*time.Second, ec.DialTimeout, "default kept")
	assert.Equal(t, "replica-0", cfg.identity())
	assert.Equal(t, 20*time.Second, cfg.LeaseDuration)
	assert.NotContains(t, ec.Password.String(), "s3cret", "the password prints masked")
}

func TestConfigKubernetesDefaults(t *testing.T) {
	cfg := loadConfig(t, "k8s")
	require.NoError(t, cfg.Validate())
	kc := cfg.Kubernetes.Get()
	assert.Equal(t, "observability", kc.Namespace)
	assert.Equal(t, "otelcol-ccp-", kc.LeasePrefix)
	assert.Equal(t, AuthServiceAccount, kc.AuthType)
	assert.Equal(t, 15*time.Second, cfg.LeaseDuration)
	assert.Equal(t, 10*time.Second, cfg.RenewDeadline)
	assert.Equal(t, 2*time.Second, cfg.RetryPeriod)
}

func TestConfigDefaultIdentity(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Regexp(t, `^.+_\d+$`, cfg.identity(), "hostname_pid")
}

func TestConfigValidateNamesFieldAndFix(t *testing.T) {
	for name, want := range map[string][]string{
		"both":     {"keep exactly one backend"},
		"none":     {"set etcd (endpoints"},
		"deadline": {"renew_deadline (10s) must be shorter than lease_duration (10s)"},
		"badauth":  {`kubernetes::auth_type "token": use serviceAccount`, `kubernetes::lease_prefix "Otelcol_"`},
	} {
		t.Run(name, func(t *testing.T) {
			err := loadConfig(t, name).Validate()
			require.Error(t, err)
			for _, w := range want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
