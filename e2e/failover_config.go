package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/otelcol-ccp/otelcol-ccp/internal/emulator/demoenv"
)

// EtcdPrefix is the coordinator's key prefix in the cluster's etcd.
const EtcdPrefix = "/otelcol-ccp-ha/"

// writeConfig writes the one collector config every replica runs; a replica's name and metrics
// port come from its environment (CCP_HA_REPLICA, CCP_HA_METRICS_PORT).
func (c *HACluster) writeConfig() error {
	var b strings.Builder
	b.WriteString("extensions:\n")
	if !c.Opts.NoCoordinator {
		fmt.Fprintf(&b, `  ccp_coordinator:
    etcd:
      endpoints: [%s]
      prefix: %s
    identity: ${env:CCP_HA_REPLICA}
    lease_duration: %s
    renew_deadline: %s
    retry_period: %s
`, c.Etcd.Endpoint, EtcdPrefix, c.Opts.Lease, c.Opts.Renew, c.Opts.Retry)
	}
	b.WriteString("receivers:\n")
	var ids []string
	for i := range c.Opts.Connectors {
		c.writeReceiver(&b, i)
		ids = append(ids, c.Connector(i))
	}
	fmt.Fprintf(&b, `exporters:
  azure_monitor_dcr:
    endpoint: %[1]s
    dcr_immutable_id: %[2]s
    stream_name: %[3]s
    auth:
      type: client_secret
      tenant_id: %[4]s
      client_id: %[5]s
      client_secret: %[6]s
      authority_host: %[7]s
    tls:
      ca_file: %[8]s
service:
  extensions: [%[9]s]
  telemetry:
    logs:
      level: info
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: ${env:CCP_HA_METRICS_PORT}
                without_type_suffix: true
                without_units: true
  pipelines:
    logs:
      receivers: [%[10]s]
      exporters: [azure_monitor_dcr]
`, c.Ingest.IngestURL(), demoenv.DCRImmutableID, c.Stream(0), demoenv.TenantID, demoenv.ClientID,
		demoenv.ClientSecret, c.Ingest.AuthorityHost(), c.Ingest.CAFile(), c.extensions(), strings.Join(ids, ", "))
	c.config = filepath.Join(c.Opts.Dir, "collector.yaml")
	return os.WriteFile(c.config, []byte(b.String()), 0o600)
}

func (c *HACluster) extensions() string {
	if c.Opts.NoCoordinator {
		return ""
	}
	return "ccp_coordinator"
}

// writeReceiver writes connector i: 1-minute windows over its own vendor API, its replica
// marker header, its own stream.
func (c *HACluster) writeReceiver(b *strings.Builder, i int) {
	coordinator := "    coordinator: ccp_coordinator\n"
	if c.Opts.NoCoordinator {
		coordinator = ""
	}
	fmt.Fprintf(b, `  %[1]s:
%[2]s    initial_lookback: %[3]s
    max_in_flight: 1   # a failover re-sends at most the one part in flight
    client:
      headers:
        %[4]s: ${env:CCP_HA_REPLICA}
    parameters:
      apiBase: %[5]s
      apiKey: %[6]s
    polling_config:
      dataType: HA%[7]d_CL
      dcrConfig:
        dataCollectionEndpoint: %[8]s
        dataCollectionRuleImmutableId: %[9]s
        streamName: %[10]s
      auth: {type: APIKey, ApiKeyName: %[11]s, ApiKey: "{{apiKey}}"}
      request:
        apiEndpoint: "{{apiBase}}/api/v1/events"
        queryWindowInMin: 1
        queryTimeFormat: yyyy-MM-ddTHH:mm:ssZ
        startTimeAttributeName: since
        endTimeAttributeName: until
        retryCount: 3
        timeoutInSeconds: 10
      paging:
        pagingType: NextPageToken
        nextPageTokenJsonPath: $.next_page_token
        nextPageParaName: page_token
        pageSize: %[12]d
        pageSizeParaName: limit
      response: {eventsJsonPaths: ["$.data"], format: json}
`, c.Connector(i), coordinator, c.Opts.Lookback, ReplicaHeader, c.vendorURLs[i], demoenv.APIKey, i,
		c.Ingest.IngestURL(), demoenv.DCRImmutableID, c.Stream(i), demoenv.APIKeyHeader, c.Opts.PageSize)
}
