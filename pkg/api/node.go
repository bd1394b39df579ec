package api

import (
	"strings"
	"time"
)

// NodeState is the administrative/health state the controller stores.
// IDLE, MIXED and ALLOCATED are derived for display (see DisplayState).
type NodeState string

// Node states.
const (
	NodeUp    NodeState = "UP"
	NodeDown  NodeState = "DOWN"
	NodeDrain NodeState = "DRAIN"
)

// GPU is one GPU of a node, as discovered by NVML or declared in the config.
type GPU struct {
	// Index is the node-local index used in allocations.
	Index int `json:"index"`
	// Minor is the device minor number: the device is /dev/nvidia<Minor>,
	// char major 195. It is not always equal to Index.
	Minor    int    `json:"minor"`
	UUID     string `json:"uuid,omitempty"`
	Model    string `json:"model,omitempty"`
	MemBytes int64  `json:"mem_bytes,omitempty"`
	PCIBusID string `json:"pci_bus_id,omitempty"`
	// DevicePath is the device node on the host (normally /dev/nvidiaN;
	// fake GPUs may live elsewhere).
	DevicePath string `json:"device_path"`
	// MIG is set when the GPU is in MIG mode (NVML).
	MIG bool `json:"mig,omitempty"`
}

// Node is a compute node as registered with the controller.
type Node struct {
	Name string `json:"name"`
	// Addr is the node daemon's address, informational for now.
	Addr     string `json:"addr,omitempty"`
	CPUs     int    `json:"cpus"`
	MemBytes int64  `json:"mem_bytes"`
	GPUs     []GPU  `json:"gpus,omitempty"`
	// GPUSource says where the GPU list came from: "nvml", "config" or "none".
	GPUSource string `json:"gpu_source,omitempty"`
	// DriverVersion and CUDAVersion are the NVIDIA driver's version and
	// the CUDA version it supports (NVML only).
	DriverVersion string `json:"driver_version,omitempty"`
	CUDAVersion   string `json:"cuda_version,omitempty"`
	// ExtraDevices are the control devices present on the node
	// (nvidiactl, nvidia-uvm, ...) that GPU jobs also get.
	ExtraDevices []string `json:"extra_devices,omitempty"`
	// Topology of the GPUs (nil: unknown, all pairs treated alike).
	Topology   *GPUTopology `json:"topology,omitempty"`
	Partitions []string     `json:"partitions,omitempty"`
	// Features are the node's labels for --constraint (from the config).
	Features []string  `json:"features,omitempty"`
	State    NodeState `json:"state"`
	Reason   string    `json:"reason,omitempty"`
	// HeldDown marks a node an operator took DOWN: it stays DOWN when its
	// daemon registers again, until resumed.
	HeldDown      bool      `json:"held_down,omitempty"`
	BootID        string    `json:"boot_id,omitempty"`
	RegisterTime  time.Time `json:"register_time"`
	LastHeartbeat time.Time `json:"last_heartbeat"`
	Version       string    `json:"version,omitempty"`

	// HealthDrain marks a node drained by its own health check, not by an
	// operator: it returns to service when the check passes again.
	HealthDrain bool `json:"health_drain,omitempty"`
	// Health is the node's latest health-check result (nil: none run).
	Health *NodeHealth `json:"health,omitempty"`
	// Reserved is what the node keeps for the host (nil: nothing).
	Reserved *NodeReserved `json:"reserved,omitempty"`
}

// NodeUsage is what a node has allocated right now (derived from running jobs).
type NodeUsage struct {
	CPUs     int   `json:"cpus"`
	MemBytes int64 `json:"mem_bytes"`
	GPUs     []int `json:"gpus,omitempty"`
	Jobs     int   `json:"jobs"`
}

// Add counts one job's allocation on the node.
func (u *NodeUsage) Add(a *Allocation) {
	u.CPUs += a.CPUs
	u.MemBytes += a.MemBytes
	u.GPUs = append(u.GPUs, a.GPUs...)
	u.Jobs++
}

// NodeInfo is a node plus its current usage, as ginfo shows it.
type NodeInfo struct {
	Node
	Alloc        NodeUsage `json:"alloc"`
	DisplayState string    `json:"display_state"`
	// GPUUsage is the GPUs' utilisation and memory use from the node's
	// latest heartbeat (NVML GPUs only; absent when the node sent none,
	// is DOWN, or its report is older than three heartbeats), and
	// GPUUsageTime when the controller received it.
	GPUUsage     []GPUUsage `json:"gpu_usage,omitempty"`
	GPUUsageTime time.Time  `json:"gpu_usage_time,omitzero"`
}

// DisplayState is the sinfo-style state: DOWN, DRAIN, IDLE, MIXED or ALLOCATED.
func DisplayState(n *Node, u NodeUsage) string {
	switch n.State {
	case NodeDown:
		return "DOWN"
	case NodeDrain:
		return "DRAIN"
	}
	if u.Jobs == 0 {
		return "IDLE"
	}
	if u.CPUs >= n.CPUs || (len(n.GPUs) > 0 && len(u.GPUs) >= len(n.GPUs)) || u.MemBytes >= n.MemBytes {
		return "ALLOCATED"
	}
	return "MIXED"
}

// Partition is a named set of nodes with limits.
type Partition struct {
	Name    string   `json:"name"`
	Nodes   []string `json:"nodes"` // empty = every node
	Default bool     `json:"default,omitempty"`
	// DefaultTime and MaxTime are in seconds; 0 means unlimited.
	DefaultTime int64  `json:"default_time_s,omitempty"`
	MaxTime     int64  `json:"max_time_s,omitempty"`
	State       string `json:"state"`
	// PriorityTier orders partitions for scheduling (higher first);
	// PriorityJobFactor feeds the partition priority factor.
	PriorityTier      int      `json:"priority_tier,omitempty"`
	PriorityJobFactor int      `json:"priority_job_factor,omitempty"`
	AllowAccounts     []string `json:"allow_accounts,omitempty"` // empty = all
	DefaultQOS        string   `json:"default_qos,omitempty"`
}

// GPUTopology describes how a node's GPUs (and NICs) are connected. Links
// is a symmetric matrix indexed by GPU.Index (indices 0..n-1) holding the
// link level between two GPUs, as pkg/topology defines them (0 the same
// GPU, then NVLink, one PCIe switch, several switches, host bridge, same
// NUMA node, across sockets). NVLinks counts direct NVLink connections per
// pair (0 when none or unknown).
type GPUTopology struct {
	// Source is "nvml", a preset name ("dgx-h100", ...) or "matrix".
	Source  string  `json:"source,omitempty"`
	Links   [][]int `json:"links"`
	NVLinks [][]int `json:"nvlinks,omitempty"`
	// NUMA is each GPU's NUMA node (-1 unknown).
	NUMA []int `json:"numa"`
	// CPUs lists the CPU ids of each NUMA node (for CPU binding).
	CPUs map[int][]int `json:"cpus,omitempty"`
	NICs []NIC         `json:"nics,omitempty"`
}

// NIC is a network device (e.g. an RDMA HCA) with its distance to each GPU.
type NIC struct {
	Name string `json:"name"`
	NUMA int    `json:"numa"`
	// Links holds the link level from the NIC to each GPU (by index).
	Links []int `json:"links"`
}

// HasFeatures reports whether the node has every feature listed.
func (n *Node) HasFeatures(features []string) bool {
	for _, f := range features {
		found := false
		for _, have := range n.Features {
			if strings.EqualFold(have, f) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// MatchingGPUs counts the node's GPUs that satisfy the job's GPU type and
// memory requirements.
func (n *Node) MatchingGPUs(s *JobSpec) int {
	c := 0
	for i := range n.GPUs {
		if s.GPUMatches(&n.GPUs[i]) {
			c++
		}
	}
	return c
}
