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

// PriorityRow is one pending job's priority and its factors, each in
// [0,1] before weighting (what gqueue --priority shows, like sprio).
type PriorityRow struct {
	JobID     JobID              `json:"job_id"`
	User      string             `json:"user"`
	Account   string             `json:"account,omitempty"`
	Partition string             `json:"partition"`
	QOS       string             `json:"qos,omitempty"`
	Priority  int64              `json:"priority"`
	Age       float64            `json:"age"`
	FairShare float64            `json:"fairshare"`
	JobSize   float64            `json:"jobsize"`
	PartPrio  float64            `json:"partition_factor"`
	QOSPrio   float64            `json:"qos_factor"`
	TRES      map[string]float64 `json:"tres,omitempty"`
	Nice      int                `json:"nice"`
}

// PriorityList answers PathPriority: the rows and the weights in force.
type PriorityList struct {
	Rows    []PriorityRow    `json:"rows"`
	Weights map[string]int64 `json:"weights"`
}

// ShareRow is one line of the fair-share report (like sshare): an
// account (User empty) or a user association.
type ShareRow struct {
	Account        string  `json:"account"`
	User           string  `json:"user,omitempty"`
	Depth          int     `json:"depth"`
	RawShares      int     `json:"raw_shares"`
	NormShares     float64 `json:"norm_shares"`
	RawUsage       float64 `json:"raw_usage"`
	NormUsage      float64 `json:"norm_usage"`
	EffectiveUsage float64 `json:"effective_usage"`
	// LevelFS is S/U at the row's level (Fair Tree); -1 stands for
	// infinity (no usage), which JSON cannot carry.
	LevelFS   float64 `json:"level_fs"`
	FairShare float64 `json:"fairshare"`
}

// ShareList answers PathShares.
type ShareList struct {
	Algorithm string     `json:"algorithm"`
	Rows      []ShareRow `json:"rows"`
}
