// Package ccpreceiver runs a Microsoft Sentinel Codeless Connector Platform (CCP) polling
// definition inside the collector: it polls the vendor API window by window exactly as CCP
// does and emits one log record per event, checkpointing through a storage extension.
//
//go:generate mdatagen metadata.yaml
package ccpreceiver
