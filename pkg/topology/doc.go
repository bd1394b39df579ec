// Package topology models how the GPUs of one node are connected (NVLink,
// NVSwitch, PCIe switches, host bridges, NUMA nodes) and chooses which free
// GPUs a job should get.
//
// Link levels follow the legend of `nvidia-smi topo -m`, from best to worst:
// X (the same GPU), NV# (NVLink, direct or through an NVSwitch), PIX (one
// PCIe switch), PXB (several PCIe switches), PHB (one host bridge), NODE
// (host bridges of one NUMA node) and SYS (across sockets). The values are
// stored in api.GPUTopology.Links, which this package fills from presets
// (Preset) or from `nvidia-smi topo -m` text (ParseMatrix), and checks
// (Validate). pkg/gpu fills it from NVML and sysfs.
//
// Select is pure and deterministic: the scheduler calls it with the free GPU
// indices of a node and gets the set to allocate. Its rules, in order:
//
//  1. the worst link inside the set, then the sum of the links of all its
//     pairs (lower is better);
//  2. the number of NUMA nodes the set spans (an unknown node counts as its
//     own);
//  3. with Options.NearNIC (multi-node jobs), the worst and then the sum of
//     each GPU's best link to a NIC;
//  4. anti-stranding: the GPUs left free should stay in large well-connected
//     groups. For every link level L present among the free GPUs, from the
//     best level up, the free GPUs left over are split into groups
//     connected by links no worse than L, and the sum of the squares of the
//     group sizes is compared (larger wins: fewer, bigger groups); then the
//     same for groups by NUMA node. Summing squares makes the choice
//     best-fit: a job is carved out of the smallest group that holds it, so
//     an intact NVLink pair, PCIe switch or socket stays whole for a later
//     job;
//  5. without NearNIC, keep GPUs close to a NIC free for multi-node jobs
//     (prefer the set whose GPUs are farther from their nearest NIC);
//  6. the lexicographically smallest index list.
//
// Select searches every subset when there are at most 1<<15 of them (all
// cases up to 16 GPUs, C(16,8) = 12870) and otherwise grows a set greedily
// from every free GPU and keeps the best.
package topology
