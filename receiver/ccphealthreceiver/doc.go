// Package ccphealthreceiver emits health records, shaped like Microsoft Sentinel's
// SentinelHealth table, for every ccp receiver running in the same collector: one log record
// per finished window attempt and one per status change (Connected, Degraded, Failed, Stalled,
// Standby, Disabled), read from the process-wide connstate registry. Send them to any logs
// pipeline: a custom table through azure_monitor_dcr keeps existing SentinelHealth queries and
// workbooks working.
//
//go:generate mdatagen metadata.yaml
package ccphealthreceiver
