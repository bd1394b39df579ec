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
// Select is exact whenever it can be: GPUs that are interchangeable (the
// same links to all others, NUMA node and NIC distance) form classes, and
// it scores every way of taking n GPUs from the classes, abandoning
// partial sets whose worst link or link sum is already beaten. That is at
// most C(16,8) = 12870 sets on a 16-GPU node and a handful on symmetric
// machines (DGX, PCIe boxes). Past 1<<15 choices or 64 free GPUs it grows
// a set greedily from every free GPU instead and keeps the best.
//
// The topology should cover every GPU of the node (Validate); Select and
// the other functions never fail on one that does not, they treat what is
// missing as SYS and unknown NUMA.
package topology
