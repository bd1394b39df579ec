package api

import "time"

// The REST API (docs/API.md, docs/openapi.json) serves the same calls as
// the RPCs above as resources under RESTPrefix, for curl, scripts and the
// web dashboard. Its answers are these types and the RPCs' own (Job,
// NodeInfo, Partition, ShareList, WhoAmI, SubmitResponse, CancelResponse).

// RESTPrefix is the REST API's path prefix.
const RESTPrefix = "/api/v1"

// JobPage answers GET /api/v1/jobs.
type JobPage struct {
	Jobs []Job `json:"jobs"`
	// Total is the number of jobs that matched, before the limit.
	Total int       `json:"total"`
	Now   time.Time `json:"now"`
}

// NodePage answers GET /api/v1/nodes.
type NodePage struct {
	Nodes []NodeInfo `json:"nodes"`
}

// PartitionPage answers GET /api/v1/partitions.
type PartitionPage struct {
	Partitions []Partition `json:"partitions"`
}

// ClusterSummary answers GET /api/v1/cluster: the whole cluster in a few
// numbers, for the dashboard's header.
type ClusterSummary struct {
	Name string `json:"name"`
	// Controller is the controller that answered (with HA, the leader).
	Controller string    `json:"controller"`
	Now        time.Time `json:"now"`
	// Nodes counts nodes by display state (IDLE, MIXED, ALLOCATED, DRAIN, DOWN).
	Nodes     map[string]int `json:"nodes"`
	NodeCount int            `json:"node_count"`
	CPUs      int            `json:"cpus"`
	CPUsAlloc int            `json:"cpus_alloc"`
	MemBytes  int64          `json:"mem_bytes"`
	MemAlloc  int64          `json:"mem_alloc"`
	GPUs      int            `json:"gpus"`
	GPUsAlloc int            `json:"gpus_alloc"`
	// Jobs counts live jobs by state (PENDING, RUNNING, COMPLETING).
	Jobs map[string]int `json:"jobs"`
}

// LoginLink answers POST /api/v1/login-links: a one-time, short-lived
// link that logs a browser into the dashboard as the caller.
type LoginLink struct {
	// Path is the link's path and query; URL is the whole link when the
	// controller knows its user address.
	Path    string    `json:"path"`
	URL     string    `json:"url,omitempty"`
	Expires time.Time `json:"expires"`
}

// ErrorResponse is the body of every error answer, RPC or REST.
type ErrorResponse struct {
	Error RemoteError `json:"error"`
}
