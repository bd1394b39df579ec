// Package sched is gsched's scheduler as a pure function: Schedule takes an
// immutable Input (nodes with their free resources, pending and running
// jobs, partitions, QOS, the time) and returns a Plan (placements, a pending
// reason for every job left waiting, expected starts of reserved jobs and
// the priorities it used). It uses no store, no RPC, no goroutines and no
// wall clock, iterates in sorted order and breaks ties stably, so the same
// input always gives the same plan.
//
// One pass:
//
//  1. priorities: Slurm's multifactor priority (package priority), or the
//     jobs' stored priorities when every weight is zero (priority/basic);
//  2. queue order: partition PriorityTier desc, then priority desc, submit
//     time, job ID;
//  3. per job: held → JobHeldUser; unknown partition → ReqNodeNotAvail;
//     partition not UP → PartitionDown; QOS limits (MaxJobsPerUser,
//     MaxTRESPerUser, GrpTRES, over running jobs and jobs placed earlier in
//     the pass) → the limit's reason, without blocking anyone;
//  4. placement by Config.Backfill.Mode:
//     - none: first fit by node name; the first job of a partition that
//     cannot start blocks the rest of it (Priority);
//     - easy: the first job of each partition that cannot start gets a
//     reservation at its earliest start (Resources); later jobs start now
//     only where they delay no reservation, else wait (Priority);
//     - conservative: every job tested (up to MaxJobTest) starts now if it
//     delays no reservation, else gets its own reservation (Resources);
//  5. preemption (QOS Preempt lists, Slurm's preempt/qos): each job left
//     waiting with reason Resources whose QOS may preempt others picks, on
//     one node of its partition, the fewest running jobs of those QOS that
//     let it fit once they end (Plan.Preemptions); it stays waiting and
//     starts in a later pass.
//
// Jobs with requirements (GPU model or memory, node features) use only
// eligible nodes and matching GPUs, by a scan of the partition's eligible
// nodes; a job no node could ever take waits with ReqNodeNotAvail (see
// require.go).
//
// Reservations are planned on a per-node timeline of free resources
// (profile): what is free now, plus what running jobs give back at their
// deadlines, minus placements and reservations over their intervals. A job
// that fits a node's profile over its whole run delays no reservation.
// See README.md for the data structures and their costs.
package sched
