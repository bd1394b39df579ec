// Package hooks runs the site's programs around gsched's own work: the
// node health check, node prologs and epilogs (gnoded) and controller
// prologs and epilogs (gctld). Run executes one as root with a time limit
// (its whole process group is killed when the limit passes) and keeps the
// first line of its output as the reason a failure is reported with;
// JobEnv builds the GSCHED_* and SLURM_* variables a job's scripts get.
package hooks
