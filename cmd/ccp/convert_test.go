package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

const (
	testDCE = "https://my-dce.westeurope-1.ingest.monitor.azure.com"
	testDCR = "dcr-0123456789abcdef0123456789abcdef"
)

func TestConvertLegacyLabelsAndPasswordEnv(t *testing.T) {
	f := corpusFile(t, "AtlassianJiraAudit__azuredeploy_Jira_native_poller_connector.json")
	code, out, errs := runCCP(t, "convert", f, "--parameters", "domain=acme.atlassian.net", "username=u@example.com", "password=s3cr3t-pw")
	require.Equal(t, exitOK, code, errs)
	// labels from the UI as comments, the password as an env reference, never inlined
	assert.Contains(t, out, "    parameters:\n      # Domain Name\n      \"domain\": \"acme.atlassian.net\"\n")
	assert.Contains(t, out, "    credentials:\n      # Username\n      \"username\": \"u@example.com\"\n      # Password\n      \"password\": \"${env:PASSWORD}\"\n")
	assert.NotContains(t, out, "s3cr3t-pw")
	assert.Contains(t, out, "    definition: "+yq(f)+"\n")
	assert.Contains(t, out, "  file_storage:\n")
	// no dcrConfig in a legacy file: the exporter asks for the values
	assert.Contains(t, out, `endpoint: "" # required: give --parameters dataCollectionEndpoint=...`)
	assert.Contains(t, out, `client_secret: "${env:AZURE_CLIENT_SECRET}"`)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(out), &doc))
}

func TestConvertPlaceholdersAndMultiplePollers(t *testing.T) {
	f := corpusFile(t, "1Password__1Password_PollingConfig.json")
	code, out, errs := runCCP(t, "convert", f, "--parameters", "BaseUrl=https://events.1password.com", "ApiToken=tok-123456")
	require.Equal(t, exitOK, code, errs)
	var doc struct {
		Receivers map[string]struct {
			Definition string            `yaml:"definition"`
			Connector  string            `yaml:"connector"`
			Storage    string            `yaml:"storage"`
			Parameters map[string]string `yaml:"parameters"`
		} `yaml:"receivers"`
		Exporters map[string]map[string]any `yaml:"exporters"`
		Service   struct {
			Pipelines map[string]struct {
				Receivers []string `yaml:"receivers"`
				Exporters []string `yaml:"exporters"`
			} `yaml:"pipelines"`
		} `yaml:"service"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(out), &doc), out)
	require.Len(t, doc.Receivers, 3)
	for _, name := range []string{"OnePasswordSignInEvents", "OnePasswordAuditEvents", "OnePasswordItemUsageEvents"} {
		r, ok := doc.Receivers["ccp/"+name]
		require.True(t, ok, name)
		assert.Equal(t, f, r.Definition)
		assert.Equal(t, name, r.Connector)
		assert.Equal(t, "file_storage", r.Storage)
		assert.Equal(t, "${env:API_TOKEN}", r.Parameters["ApiToken"])
		assert.Equal(t, "https://events.1password.com", r.Parameters["BaseUrl"])
		assert.Contains(t, r.Parameters, "dataCollectionEndpoint")
		assert.Contains(t, r.Parameters, "dataCollectionRuleImmutableId")
	}
	assert.NotContains(t, out, "tok-123456")
	// one stream in the file: one exporter, one pipeline with the three receivers
	require.Len(t, doc.Exporters, 1)
	exp := doc.Exporters["azure_monitor_dcr/OnePasswordEventLogs_CL"]
	require.NotNil(t, exp, out)
	assert.Equal(t, "Custom-OnePasswordEventLogs_CL", exp["stream_name"])
	a := exp["auth"].(map[string]any)
	assert.Equal(t, "client_secret", a["type"])
	assert.Equal(t, "${env:AZURE_CLIENT_SECRET}", a["client_secret"])
	require.Len(t, doc.Service.Pipelines, 1)
	for _, p := range doc.Service.Pipelines {
		assert.Len(t, p.Receivers, 3)
		assert.Equal(t, []string{"azure_monitor_dcr/OnePasswordEventLogs_CL"}, p.Exporters)
	}
}

func TestConvertCommentsOutUnsupported(t *testing.T) {
	f := corpusFile(t, "Proofpoint_On_demand(POD)_Email_Security__ProofpointPOD_PollingConfig.json")
	code, out, _ := runCCP(t, "convert", f)
	require.Equal(t, exitOK, code)
	assert.Equal(t, 2, strings.Count(out, "  # UNSUPPORTED "), out)
	assert.Contains(t, out, "not an HTTP poller")
	var doc struct {
		Receivers map[string]any `yaml:"receivers"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(out), &doc))
	assert.Len(t, doc.Receivers, 0)

	// Nested-step pollers are converted like the others.
	f = corpusFile(t, "CrowdStrike_Falcon_Endpoint_Protection__CrowdStrikeAPI_multiconfig_PollingConfig.json")
	code, out, _ = runCCP(t, "convert", f)
	require.Equal(t, exitOK, code)
	assert.NotContains(t, out, "  # UNSUPPORTED ")
	require.NoError(t, yaml.Unmarshal([]byte(out), &doc))
	assert.Len(t, doc.Receivers, 5)
}

// TestConvertOutputValidatesWithTheDistro runs the built collector's validate command on
// convert output with every parameter given.
func TestConvertOutputValidatesWithTheDistro(t *testing.T) {
	bin, err := filepath.Abs("../../bin/otelcol-ccp")
	require.NoError(t, err)
	if _, err := os.Stat(bin); err != nil {
		t.Skip("bin/otelcol-ccp is absent (make build creates it); skipping only the validate-through-the-distro check")
	}
	cases := []struct {
		file   string
		params []string
		env    []string
	}{
		{"1Password__1Password_PollingConfig.json",
			[]string{"BaseUrl=https://events.1password.com", "ApiToken=x", "dataCollectionEndpoint=" + testDCE, "dataCollectionRuleImmutableId=" + testDCR},
			[]string{"API_TOKEN=tok"}},
		{"AtlassianJiraAudit__azuredeploy_Jira_native_poller_connector.json",
			[]string{"domain=acme.atlassian.net", "username=u@example.com", "password=x", "dataCollectionEndpoint=" + testDCE, "dataCollectionRuleImmutableId=" + testDCR, "streamName=Custom-JiraAudit_CL"},
			[]string{"PASSWORD=pw"}},
		{"Auth0__PollingConfig.json",
			[]string{"Domain=https://acme.eu.auth0.com", "ClientId=cid", "ClientSecret=x", "dataCollectionEndpoint=" + testDCE, "dataCollectionRuleImmutableId=" + testDCR},
			[]string{"CLIENT_SECRET=sec", "CLIENT_ID=cid", "DOMAIN=https://acme.eu.auth0.com"}}, // Domain builds the token audience
		{"Okta_Single_Sign-On__OktaSSOv2_PollingConfig.json",
			[]string{"domainname=acme.okta.com", "apikey=x", "dataCollectionEndpoint=" + testDCE, "dataCollectionRuleImmutableId=" + testDCR},
			[]string{"APIKEY=k"}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			f := corpusFile(t, tc.file)
			args := append([]string{"convert", f, "--parameters"}, tc.params...)
			code, out, errs := runCCP(t, args...)
			require.Equal(t, exitOK, code, errs)
			require.NotContains(t, out, "# required", "every parameter given:\n%s", out)
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.yaml")
			require.NoError(t, os.WriteFile(cfg, []byte(out), 0o600))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "validate", "--config", cfg)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "AZURE_TENANT_ID=00000000-0000-0000-0000-000000000001",
				"AZURE_CLIENT_ID=00000000-0000-0000-0000-000000000002", "AZURE_CLIENT_SECRET=s")
			cmd.Env = append(cmd.Env, tc.env...)
			b, err := cmd.CombinedOutput()
			require.NoError(t, err, "otelcol-ccp validate:\n%s\nconfig:\n%s", b, out)
		})
	}
}
