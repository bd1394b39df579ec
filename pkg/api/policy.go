package api

// Assoc is a user's association with an account: the unit fair-share and
// usage are tracked by (Slurm's "association").
type Assoc struct {
	Account string `json:"account"`
	User    string `json:"user"`
}

// Account is a node of the fair-share tree. The root account is "root";
// every other account names its parent.
type Account struct {
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"` // "" means "root"
	// Shares is the account's raw shares among its siblings (Slurm's
	// Fairshare=N); 0 is taken as 1.
	Shares int `json:"shares"`
	// Users are the users associated with this account; each user
	// association has UserShares shares among the account's children.
	Users      []string `json:"users,omitempty"`
	UserShares int      `json:"user_shares,omitempty"`
}

// TRES is a trackable-resource vector (Slurm's TRES): what a job holds or
// what a limit allows. Zero fields mean "none" in usage and "no limit" in
// limits.
type TRES struct {
	CPUs     int   `json:"cpus,omitempty"`
	MemBytes int64 `json:"mem_bytes,omitempty"`
	GPUs     int   `json:"gpus,omitempty"`
	Nodes    int   `json:"nodes,omitempty"`
}

// Preemption modes of a QOS.
const (
	PreemptOff     = "OFF"
	PreemptCancel  = "CANCEL"
	PreemptRequeue = "REQUEUE"
)

// QOS is a quality of service: a priority and limits, and which other QOS
// its jobs may preempt.
type QOS struct {
	Name     string `json:"name"`
	Priority int64  `json:"priority"`
	// Limits (0 = none). Per-user limits count the user's jobs in this
	// QOS; Grp limits count every job in it.
	MaxTRESPerUser       TRES  `json:"max_tres_per_user"`
	MaxJobsPerUser       int   `json:"max_jobs_per_user,omitempty"`
	MaxSubmitJobsPerUser int   `json:"max_submit_jobs_per_user,omitempty"`
	GrpTRES              TRES  `json:"grp_tres"`
	MaxWall              int64 `json:"max_wall_s,omitempty"`
	// Preempt lists the QOS whose running jobs this QOS may preempt.
	Preempt     []string `json:"preempt,omitempty"`
	PreemptMode string   `json:"preempt_mode,omitempty"`
	// GraceTime is the seconds a preempted job gets between SIGTERM and
	// SIGKILL.
	GraceTime int64 `json:"grace_time_s,omitempty"`
}

// More pending reasons (Slurm's names).
const (
	ReasonQOSMaxJobsPerUser = "QOSMaxJobsPerUserLimit"
	ReasonQOSMaxTRESPerUser = "QOSMaxTRESPerUser"
	ReasonQOSMaxGRESPerUser = "QOSMaxGRESPerUser"
	ReasonQOSGrpTRES        = "QOSGrpTRES"
	ReasonPartitionTime     = "PartitionTimeLimit"
	ReasonBeginTime         = "BeginTime"
	ReasonDependency        = "Dependency"
)
