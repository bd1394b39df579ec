package api

import "time"

// NodeHealth is a node daemon's latest health-check result: its own
// program (node.health_check_program) and the built-in GPU checks. It
// travels in the node's register and sync requests.
type NodeHealth struct {
	// OK is false when any check failed.
	OK bool `json:"ok"`
	// Reason says what failed ("7 GPUs, expected 8"; the first line of
	// the program's output); empty when OK.
	Reason string `json:"reason,omitempty"`
	// Time is when the checks ran (the node's clock).
	Time time.Time `json:"time"`
}

// HealthReasonPrefix starts the reason of a node drained by its health
// check ("health: 7 GPUs, expected 8").
const HealthReasonPrefix = "health: "

// NodeReserved is what a node keeps for the host's own use
// (node.reserved_cpus, reserved_memory, reserved_gpus): the registered
// CPUs, memory and GPUs already exclude it.
type NodeReserved struct {
	// CPUs are the reserved CPU ids; jobs' cpusets never include them.
	CPUs     []int `json:"cpus,omitempty"`
	MemBytes int64 `json:"mem_bytes,omitempty"`
	// GPUs are the reserved GPU indices (left out of Node.GPUs; a GPU
	// topology still covers them, indexed by GPU index).
	GPUs []int `json:"gpus,omitempty"`
	// UsableCPUs are the CPU ids jobs may run on (empty: every CPU).
	UsableCPUs []int `json:"usable_cpus,omitempty"`
}

// MaxHealthReason bounds a health or prolog/epilog reason on the wire.
const MaxHealthReason = 256

// ReasonPrologFailed is the pending reason of a job requeued because
// node.prolog failed on one of its nodes.
const ReasonPrologFailed = "PrologFailed"
