// Package sim is gsim's discrete-event workload simulator: it replays a job
// trace on a simulated cluster through the real scheduler (sched.Schedule)
// and measures waits, slowdowns, utilisation and fairness.
//
// The simulated clock jumps from event to event. Events are job arrivals
// (the trace's submit times), job ends (start + min(run time, requested
// time): a job that would run past its requested time is killed at its
// limit, as the controller does) and periodic passes (every Options.Tick
// of simulated time while jobs wait). Like the controller, gsim also runs
// a pass after every arrival and end; events at the same second share one
// pass (Options.NoEventPasses keeps only the periodic ones). Each pass
// builds a sched.Input from the simulated state (free resources per node,
// pending and running jobs, fair-share factors) and starts every placement
// of the plan at once, refusing any placement that would oversubscribe a
// node.
//
// Fair-share follows the controller: a job's usage, billing rate ×
// seconds run, is charged when it ends and decays with Options.HalfLife;
// at each pass the running jobs' accrued usage is added, and the factors
// of pkg/sched/fairshare feed Input.FairShare and the job priorities.
//
// Inputs: a cluster (ParseCluster for TOML, ParseAlibabaNodes for the
// Alibaba node list) and a trace (ParseSWF, ParseCSV; Generate makes
// synthetic ones). Outputs: per-job results (WriteJobsCSV), a Summary
// (WriteTable) and a plot of queue length and GPU utilisation (WriteSVG).
// docs/SCHEDULING.md describes the formats, mappings and metrics.
package sim
