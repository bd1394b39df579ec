// Package metrics holds gsched's Prometheus collectors and the /metrics
// HTTP endpoint of both daemons.
//
// State that the controller already keeps (jobs by state, partition and
// user; pending reasons; each node's CPUs, memory and GPUs allocated
// against its total) is read from one consistent view at scrape time by
// Cluster, so no counter can drift from the store. Events (submissions,
// job starts and ends, scheduling passes, RPC latency, raft applies) are
// counters and histograms in Controller; the node daemon's are in Node.
//
// The package imports only pkg/api, client_golang and zap: the daemons hand it
// functions that read their state (see ClusterView, RaftStatus,
// NodeView), so the node daemon does not pull in the controller's store.
// Every metric is described in docs/METRICS.md.
package metrics
