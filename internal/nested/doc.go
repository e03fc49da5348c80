// Package nested runs the nested API steps of a CCP poller (stepInfo / stepCollectorConfigs,
// public preview) on top of the unchanged polling engine. The contract and the KQL subset
// are described in full once the runner lands; this file currently documents kql.go only.
package nested
