package sched

import "time"

// Backfill modes (Config.Backfill.Mode).
const (
	// BackfillNone (also the empty string) is strict priority order per partition: once a job
	// cannot start, lower-priority jobs of its partition wait (FIFO).
	BackfillNone = "none"
	// BackfillEASY reserves resources for the highest-priority waiting job
	// of each partition; lower-priority jobs start only where they do not
	// delay that reservation.
	BackfillEASY = "easy"
	// BackfillConservative gives every waiting job it tests a reservation;
	// a job starts early only if it delays none of them.
	BackfillConservative = "conservative"
)

// Config selects and tunes the scheduling policy. Names follow Slurm's
// (bf_window, PriorityWeightAge, ...) where one exists.
type Config struct {
	Backfill BackfillConfig
	Priority PriorityConfig
}

// BackfillConfig tunes backfill (Slurm's SchedulerParameters bf_*).
type BackfillConfig struct {
	// Mode is one of the Backfill* constants (any case); anything else
	// counts as BackfillNone.
	Mode string
	// Window is how far ahead reservations are planned (bf_window);
	// a job whose earliest start lies beyond it gets no reservation and
	// protects nothing. 0 means no limit.
	Window time.Duration
	// MaxJobTest bounds the jobs conservative backfill tests per pass
	// (bf_max_job_test): each job that reaches placement (started, given
	// a reservation, or found unplaceable) counts; later jobs wait with
	// reason Priority. 0 means all of them. EASY tests every job.
	MaxJobTest int
	// Resolution rounds reservation start times up to a multiple of it on
	// the wall clock (bf_resolution); 0 means no rounding.
	Resolution time.Duration
}

// PriorityConfig holds the multifactor priority weights
// (PriorityWeight*), PriorityMaxAge and PriorityFavorSmall. When every
// weight and Site are zero, jobs keep their stored Priority (Slurm's
// priority/basic); otherwise Schedule computes it (package priority).
type PriorityConfig struct {
	WeightAge       int64
	WeightFairShare int64
	WeightJobSize   int64
	WeightPartition int64
	WeightQOS       int64
	// WeightTRES weights each resource's share of the cluster total
	// (keys "cpu", "mem", "gpu"): PriorityWeightTRES.
	WeightTRES map[string]int64
	// MaxAge caps the age factor (it reaches 1 at MaxAge).
	MaxAge time.Duration
	// FavorSmall makes the job-size factor favour small jobs.
	FavorSmall bool
	// Site is added to every job's priority.
	Site int64
}

// DefaultConfig is Slurm-like: EASY backfill over a one-day window,
// fair-share weighted highest.
func DefaultConfig() Config {
	return Config{
		Backfill: BackfillConfig{Mode: BackfillEASY, Window: 24 * time.Hour, Resolution: time.Minute},
		Priority: PriorityConfig{
			WeightAge: 1000, WeightFairShare: 10000, WeightJobSize: 1000, WeightPartition: 1000, WeightQOS: 1000,
			MaxAge: 7 * 24 * time.Hour,
		},
	}
}
