package api

// GPUUsage is one GPU's usage as its node daemon last sampled it through
// NVML. Nodes with declared (fake) GPUs send none. A figure NVML could not
// give (a GPU in MIG mode has no whole-GPU utilisation) has its Has flag
// false and its value 0.
type GPUUsage struct {
	// Index is the node-local GPU index (GPU.Index).
	Index int `json:"index"`
	// Utilization is the share (0..1) of NVML's last sample period in
	// which a kernel ran on the GPU.
	Utilization    float64 `json:"utilization"`
	HasUtilization bool    `json:"has_utilization"`
	// MemUsed is the GPU memory in use, in bytes (every process's).
	MemUsed    int64 `json:"mem_used"`
	HasMemUsed bool  `json:"has_mem_used"`
}
