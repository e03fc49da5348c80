// Package ccpattr names the log-record attributes that the ccp receiver sets and the
// azure_monitor_dcr exporter reads, so the two components agree on one spelling.
package ccpattr

const (
	// Connector is the poller's name (the resource name, or the receiver ID when unnamed).
	Connector = "ccp.connector"
	// DataType is the definition's dataType (the destination table named by the connector).
	DataType = "ccp.data_type"
	// DCRImmutableID is dcrConfig.dataCollectionRuleImmutableId; the exporter routes on it.
	DCRImmutableID = "ccp.dcr.immutable_id"
	// DCRStreamName is dcrConfig.streamName; the exporter routes on it.
	DCRStreamName = "ccp.dcr.stream_name"
	// DCREndpoint is dcrConfig.dataCollectionEndpoint, informational: the exporter never sends
	// credentials to an endpoint it was not configured with.
	DCREndpoint = "ccp.dcr.endpoint"
)
