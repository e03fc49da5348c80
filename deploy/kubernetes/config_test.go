package kubernetes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter"
	"github.com/otelcol-ccp/otelcol-ccp/extension/ccpcoordinatorextension"
	"github.com/otelcol-ccp/otelcol-ccp/extension/ccpstatusextension"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccphealthreceiver"
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver"
)

// config is a decoded collector config.
type config struct{ m map[string]any }

// get walks nested maps; nil when a key is missing.
func (c config) get(path ...string) any {
	var v any = c.m
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func (c config) keys(path ...string) []string {
	m, _ := c.get(path...).(map[string]any)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func collectorConfig(t *testing.T, o *objects) config {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(o.cm.Data["config.yaml"]), &m))
	return config{m}
}

// componentTypes maps each module the distro can list in builder-config.yaml to the component
// type it registers. A module missing here fails the test: add it with its type.
var componentTypes = map[string]string{
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver":                                          "ccp",
	"github.com/otelcol-ccp/otelcol-ccp/receiver/ccphealthreceiver":                                    "ccp_health",
	"github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter":                              "azure_monitor_dcr",
	"github.com/otelcol-ccp/otelcol-ccp/extension/ccpstatusextension":                                  "ccp_status",
	"github.com/otelcol-ccp/otelcol-ccp/extension/ccpcoordinatorextension":                             "ccp_coordinator",
	"go.opentelemetry.io/collector/receiver/otlpreceiver":                                              "otlp",
	"go.opentelemetry.io/collector/exporter/debugexporter":                                             "debug",
	"go.opentelemetry.io/collector/exporter/otlpexporter":                                              "otlp",
	"go.opentelemetry.io/collector/exporter/otlphttpexporter":                                          "otlphttp",
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter":                  "file",
	"go.opentelemetry.io/collector/processor/batchprocessor":                                           "batch",
	"go.opentelemetry.io/collector/processor/memorylimiterprocessor":                                   "memory_limiter",
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/transformprocessor":           "transform",
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage":          "file_storage",
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/healthcheckextension":         "health_check",
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/oauth2clientauthextension":    "oauth2client",
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/healthcheckv2extension":       "healthcheckv2",
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/dbstorage":            "db_storage",
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/attributesprocessor":          "attributes",
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/filterprocessor":              "filter",
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/resourceprocessor":            "resource",
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/pprofextension":               "pprof",
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/basicauthextension":           "basicauth",
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/bearertokenauthextension":     "bearertokenauth",
	"go.opentelemetry.io/collector/extension/zpagesextension":                                          "zpages",
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusremotewriteexporter": "prometheusremotewrite",
}

// distro reads builder-config.yaml: the component types of the distro, by class.
func distro(t *testing.T) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "builder-config.yaml"))
	require.NoError(t, err)
	// dist and providers have other shapes: decode the component lists only.
	var top map[string]yaml.Node
	require.NoError(t, yaml.Unmarshal(raw, &top))
	out := map[string][]string{}
	for _, class := range []string{"receivers", "processors", "exporters", "extensions", "connectors"} {
		n, ok := top[class]
		if !ok {
			continue
		}
		var list []struct {
			GoMod  string `yaml:"gomod"`
			Import string `yaml:"import"`
		}
		require.NoError(t, n.Decode(&list), class)
		for _, e := range list {
			mod := e.Import
			if mod == "" {
				mod, _, _ = strings.Cut(e.GoMod, " ")
			}
			typ, ok := componentTypes[mod]
			require.True(t, ok, "builder-config.yaml lists %s: add its component type to componentTypes", mod)
			out[class] = append(out[class], typ)
		}
	}
	return out
}

// The types of this repository's components, as their factories register them.
func TestComponentTypesOfLocalModules(t *testing.T) {
	for mod, typ := range map[string]string{
		"github.com/otelcol-ccp/otelcol-ccp/receiver/ccpreceiver":              ccpreceiver.NewFactory().Type().String(),
		"github.com/otelcol-ccp/otelcol-ccp/receiver/ccphealthreceiver":        ccphealthreceiver.NewFactory().Type().String(),
		"github.com/otelcol-ccp/otelcol-ccp/exporter/azuremonitordcrexporter":  azuremonitordcrexporter.NewFactory().Type().String(),
		"github.com/otelcol-ccp/otelcol-ccp/extension/ccpstatusextension":      ccpstatusextension.NewFactory().Type().String(),
		"github.com/otelcol-ccp/otelcol-ccp/extension/ccpcoordinatorextension": ccpcoordinatorextension.NewFactory().Type().String(),
	} {
		assert.Equal(t, typ, componentTypes[mod], mod)
	}
}

// The ConfigMap's collector config uses only components of the distro, every ccp receiver
// campaigns through the one coordinator, which uses the kubernetes backend with the pod's name
// as its identity, and the exporter's queue is persistent.
func TestCollectorConfigRunsOnTheDistro(t *testing.T) {
	o := load(t)
	cfg := collectorConfig(t, o)
	have := distro(t)
	for _, class := range []string{"receivers", "processors", "exporters", "extensions", "connectors"} {
		for _, id := range cfg.keys(class) {
			typ, _, _ := strings.Cut(id, "/")
			assert.Contains(t, have[class], typ, "%s %s is not in builder-config.yaml", class, id)
		}
	}

	assert.Equal(t, "${env:POD_NAME}", cfg.get("extensions", "ccp_coordinator", "identity"))
	assert.NotNil(t, cfg.get("extensions", "ccp_coordinator", "kubernetes"))
	assert.Nil(t, cfg.get("extensions", "ccp_coordinator", "etcd"), "exactly one backend")
	assert.Equal(t, "${env:POD_NAMESPACE}", cfg.get("extensions", "ccp_coordinator", "kubernetes", "namespace"))
	var ccp []string
	for _, id := range cfg.keys("receivers") {
		if typ, _, _ := strings.Cut(id, "/"); typ == "ccp" {
			ccp = append(ccp, id)
			assert.Equal(t, "ccp_coordinator", cfg.get("receivers", id, "coordinator"), id)
			assert.Nil(t, cfg.get("receivers", id, "storage"), "%s: with a coordinator the state lives in the Lease", id)
		}
	}
	assert.Len(t, ccp, 2)
	assert.ElementsMatch(t, ccp, cfg.get("service", "pipelines", "logs", "receivers"))
	assert.Equal(t, "file_storage", cfg.get("exporters", "azure_monitor_dcr", "sending_queue", "storage"))
	assert.Contains(t, cfg.get("service", "extensions"), "ccp_coordinator")
	assert.Contains(t, cfg.get("service", "extensions"), "file_storage")
}

// podEnv is what a pod's environment and the README's Secret give the config, for the test.
var podEnv = map[string]string{
	"POD_NAME": "otelcol-ccp-0", "POD_NAMESPACE": "observability", "POD_IP": "10.0.0.7",
	"OKTA_DOMAIN": "example.okta.com", "OKTA_API_TOKEN": "okta-token",
	"GITHUB_ENTERPRISE": "example", "GITHUB_TOKEN": "github-token",
	"DCE_ENDPOINT":     "https://my-dce.westeurope-1.ingest.monitor.azure.com",
	"DCR_IMMUTABLE_ID": "dcr-00000000000000000000000000000000",
}

// This repository's components accept their part of the config (unmarshalled and validated by
// their own factories) once the environment is filled in.
func TestOwnComponentsAcceptTheConfig(t *testing.T) {
	text := load(t).cm.Data["config.yaml"]
	for k, v := range podEnv {
		text = strings.ReplaceAll(text, "${env:"+k+"}", v)
	}
	require.NotContains(t, text, "${env:", "every variable has a test value")
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(text), &m))
	cfg := config{m}
	check := func(f component.Factory, path ...string) {
		t.Helper()
		raw, ok := cfg.get(path...).(map[string]any)
		require.True(t, ok, "%v", path)
		c := f.CreateDefaultConfig()
		require.NoError(t, confmap.NewFromStringMap(raw).Unmarshal(c), "%v", path)
		if v, ok := c.(interface{ Validate() error }); ok {
			require.NoError(t, v.Validate(), "%v", path)
		}
	}
	check(ccpcoordinatorextension.NewFactory(), "extensions", "ccp_coordinator")
	check(azuremonitordcrexporter.NewFactory(), "exporters", "azure_monitor_dcr")
	for _, id := range cfg.keys("receivers") {
		check(ccpreceiver.NewFactory(), "receivers", id)
	}
}
