package gpu

// Sample is one GPU's usage as NVML measured it.
type Sample struct {
	Index int
	// Utilization is the share (0..1) of the last sample period in
	// which a kernel ran.
	Utilization    float64
	HasUtilization bool
	// MemUsed and MemTotal are in bytes.
	MemUsed, MemTotal int64
	HasMem            bool
}
