package clidoc

// DefaultArgs names the argument of flags that every command shares, when
// a page's Extras give no name.
var DefaultArgs = map[string]string{"config": "file"}

// ManExtras is the hand-written part of the generated OPTIONS sections: for
// each section (a command, or "gsim run" for a subcommand), the argument
// names and the roff text that follow each flag's usage sentence. The
// usage sentence itself is the flag's Usage, exactly as --help prints it;
// what is too long for --help lives here, next to the other pages' text,
// rather than in the flag definitions. make man fails when a key here
// names a flag that no longer exists.
var ManExtras = map[string]Extras{
	"gsub": {
		"job-name": {Arg: "name", Text: `With \-\-wrap the default is
.BR wrap ,
for standard input
.BR gsub .`},
		"partition": {Arg: "name"},
		"nodes": {Arg: "n", Text: `That is, as many of the partition's largest GPU nodes as \-\-gpus needs.
A multi-node job gets all its nodes at once or waits holding nothing; its
script runs on the first node, and
.BR grun (1)
starts its tasks on all of them.`},
		"ntasks":          {Arg: "n"},
		"ntasks-per-node": {Arg: "n"},
		"gpus-per-task":   {Arg: "n"},
		"cpus-per-gpu":    {Arg: "n", Text: `Instead of tasks \(mu CPUs per task.`},
		"switches":        {Arg: `\fIn\fR[@\fItime\fR]`, Text: `The leaf switches are those of the configured network topology.`},
		"cpus-per-task":   {Arg: "n"},
		"mem": {Arg: "size", Text: `A plain number is MiB; the suffixes K, M, G and T (any case, optionally
followed by B) are binary multiples: 512M, 4G, 1T. At most 1 PiB.
Without it the controller's default applies.`},
		"gpus":          {Arg: "n"},
		"gpus-per-node": {Arg: "n"},
		"gres": {Arg: `gpu[:\fIn\fR]`, Text: `GPUs on each node, in Slurm's generic resource syntax; only
.B gpu
is known. Use only one of \-\-gpus, \-\-gpus\-per\-node and \-\-gres (at most
1024 GPUs). A type before the count (\fB\-\-gpus=h100:4\fR,
\fB\-\-gres=gpu:a100:2\fR) restricts the job to GPUs whose model contains
it, ignoring case ("h100" matches "NVIDIA H100 80GB HBM3").`},
		"time": {Arg: "limit", Text: `Hours may exceed 24 (48:00:00);
.B INFINITE
is the same as UNLIMITED, and so is a limit of 0. At most 365 days.
Without it the partition's default applies.`},
		"output": {Arg: "pattern", Text: `Relative to the work directory unless absolute; see FILENAME PATTERNS.`},
		"error":  {Arg: "pattern"},
		"open-mode": {Arg: `\fBappend\fR|\fBtruncate\fR`, Text: `A requeued job's output is always appended
to.`},
		"chdir": {Arg: "dir", Text: `A relative directory is taken from the current directory.`},
		"image": {Arg: "ref", Text: `The job's tasks then see the image's files as their root filesystem, with
a writable layer of their own that goes when the job ends, instead of the
host's read-only one; the submit directory, the output directories and
the home directory are bound in as on the host. Local paths must be
readable by the submitting user. Each layer is unpacked once per node and
cached. The batch script still runs as the job's command, through the
image's interpreter (its #! line), as the submitting user (never root),
with the image's Env under the job's environment (the image's PATH wins)
and, without \-\-chdir, in the image's WorkingDir. Pyxis's name
\-\-container\-image is accepted too. GPUs come through CDI when the
node has a CDI spec for them. See docs/CONTAINERS.md in gsched's source.`},
		"container-mounts": {Arg: `\fIsrc\fR[:\fIdst\fR[:\fBro\fR|\fBrw\fR]][,...]`, Text: `Needs \-\-image. Both paths
absolute, without "..", and the destination not /, /proc, /sys, /dev or
gsched's /.gsched. The node opens each source as the submitting user, who
must be able to read it (and write it for
.BR rw ,
the default).`},
		"mount": {Arg: `\fBtype=bind,src=\fIsrc\fB,dst=\fIdst\fR[\fB,readonly\fR]`, Text: `The same as an entry of
\-\-container\-mounts; may be repeated. source, target and ro are accepted
too.`},
		"export": {Arg: "list", Text: `.B ALL
passes the whole environment of gsub;
.B NONE
passes none of it; otherwise the list holds
.I NAME
items (copied from the environment) and
.IR NAME = value
items, added to the whole environment when the list holds ALL, e.g.
.B ALL,OMP_NUM_THREADS=4
or
.BR PATH,DEBUG=1 .`},
		"account": {Arg: "account", Text: `The job's usage is charged to this fair-share account: by default the
first account that lists you. Refused if you are not in the account.`},
		"gpu-mem":     {Arg: "size", Text: `Small jobs can go to small GPUs, large models to 80 GB ones.`},
		"mem-per-gpu": {Arg: "size"},
		"constraint":  {Arg: "features", Text: `The job needs all of them; nodes list theirs in \fBnode.features\fR.`},
		"qos":         {Arg: "qos", Text: `Jobs that could never run under the QOS limits are refused at submission.`},
		"nice":        {Arg: "N"},
		"wrap":        {Arg: "command"},
		"wait":        {Text: `See EXIT STATUS.`},
		"exclusive":   {Text: `With a GPU type or \-\-gpu\-mem: every GPU that meets it; the others stay idle.`},
		"requeue": {Text: `If a node of the running job fails (stops answering for
.B node_timeout
and is marked DOWN), the job goes back to the queue and runs again from
the start, as a new attempt:
.B GSCHED_RESTART_COUNT
(and
.BR SLURM_RESTART_COUNT )
counts the attempts, and the output files are appended to.
A job being cancelled, or whose script has already ended, is not requeued.
When the failed node comes back, its containers of the old attempt are
killed.`},
		"config": {Arg: "file", Text: `See ENVIRONMENT.`},
	},
	"grun": {
		"ntasks":          {Arg: "n"},
		"ntasks-per-node": {Arg: "n", Text: `At most the job's.`},
		"jobid":           {Arg: "id"},
		"label":           {Text: `The prefix is the rank and ": ".`},
		"kill-on-bad-exit": {Arg: `[\fB0\fR|\fB1\fR]`, Text: `The value is optional; a bare \-K means 1. As with srun, a value must be
attached (\-K0, \-\-kill\-on\-bad\-exit=0).`},
		"pty": {Text: `The task runs on a pseudo\-terminal in the job's container, and grun's
terminal stands in for it: grun's terminal is put in raw mode, so that
every key, Ctrl\-C and Ctrl\-Z included, travels to the remote terminal,
whose line discipline acts on it (Ctrl\-C interrupts the remote foreground
command, not grun); standard input is forwarded; the window size is sent
at the start and again on every SIGWINCH. The terminal is restored when
grun exits, and grun exits with the command's status. SIGTERM or SIGHUP to
grun hangs the remote session up and ends the step. Outside a job the
allocation is released afterwards, as for any step. Refused with \-n or
\-\-ntasks\-per\-node above 1 and with \-\-label.`},
		"overlap": {Text: `In gsched no step holds resources apart from its job's, so steps may
always run beside the job's own tasks; \-\-overlap also gives the task all
the job's GPUs on its node (instead of its own with \-\-gpus\-per\-task),
and lets an operator start the step in another user's job, as
.BR gattach (1)
does; it runs as the job's user.`},
		"io-host":  {Arg: "host", Text: `The nodes send the tasks' output there.`},
		"chdir":    {Arg: "dir"},
		"nodelist": {Arg: "hostlist"},
		"cpu-bind": {Arg: "none", Text: `Accepted for srun's callers (Open MPI's mpirun passes \-\-cpu_bind=none);
other values are refused.`},
		"mpi": {Arg: "none", Text: `There is no PMI/PMIx plugin; other values are refused.`},
		"nodes": {Arg: "n", Text: `Inside a job, the first
.I n
of its nodes after those of \-\-nodelist; each runs the job's tasks per
node unless \-n or \-\-ntasks\-per\-node say.`},
		"cpus-per-task": {Arg: "n", Text: `The allocation options, used outside a job only, are those of
.BR gsub (1).`},
		"mem":           {Arg: "size"},
		"gpus":          {Arg: "n"},
		"gpus-per-node": {Arg: "n"},
		"gpus-per-task": {Arg: "n"},
		"cpus-per-gpu":  {Arg: "n"},
		"partition":     {Arg: "name"},
		"time":          {Arg: "limit"},
		"job-name":      {Arg: "name"},
		"account":       {Arg: "account"},
		"qos":           {Arg: "qos"},
		"constraint":    {Arg: "features"},
		"switches":      {Arg: `\fIn\fR[@\fItime\fR]`},
	},
	"gattach": {
		"nodelist": {Arg: "node", Text: `One of the job's nodes, e.g.
.BR n2 .`},
		"io-host": {Arg: "host", Text: `The node connects there to relay the terminal.`},
	},
	"gqueue": {
		"user": {Arg: "list"},
		"jobs": {Arg: "list", Text: `In any state: a job ID (for an array, every task of it),
.B 123_7
for task 7 of array 123, or
.B 123_[1\-3,7]
for those tasks.`},
		"format": {Arg: "format", Text: `Text with fields
.BI % [ . | \- ][ width ] letter\fR.
A width pads the value to that many characters, on the left with
.B .
(right\-justified), else on the right, and cuts longer values to their
first
.I width
characters;
.B %%
is a percent sign. The title line uses the same layout. For example
squeue's default:
.BR "\(dq%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R\(dq" .
See FIELDS.`},
		"sort": {Arg: "list", Text: `Field letters (those of \-\-format), each optionally prefixed by
.B \-
for descending, e.g.
.B \-t,P,i
or squeue's default
.BR P,t,\-p .
Ties, and the default order, go by job ID and array task. States sort by
life cycle (pending first).`},
		"long": {Text: `After a line with the time:
.BR "%.18i %.9P %.8j %.8u %.8T %.10M %.9l %.6D %R" .
\-\-format and SQUEUE_FORMAT win over it.`},
		"states": {Arg: "list", Text: `Names (PENDING, RUNNING, COMPLETED...) or codes (PD, R, CD...), any case,
or
.B all
for every state, finished ones included.`},
		"partition": {Arg: "list"},
		"name":      {Arg: "list"},
		"me":        {Text: `As the controller identifies me.`},
		"start": {Text: `The START_TIME column holds the start of the backfill reservation the
scheduler holds for the job, or N/A.`},
		"priority": {Text: `Columns: JOBID PARTITION USER ACCOUNT PRIORITY AGE FAIRSHARE JOBSIZE
PARTITION QOS NICE, each factor multiplied by its weight. With \-\-json, the
unweighted factors in [0,1] and the weights.`},
	},
	"gcancel": {
		"user": {Arg: "name"},
		"name": {Arg: "name"},
		"state": {Arg: "list", Text: `Names or codes, e.g.
.BR PENDING .`},
		"signal": {Arg: "signal", Text: `The running jobs get the signal and go on; a name may be given with or
without SIG
.RB ( USR1 ,
.BR SIGTERM ,
any case), a number from 1 to 64.`},
	},
	"ginfo": {
		"partition": {Arg: "list"},
		"json":      {Text: `The nodes, their usage and the partitions.`},
		"list-reasons": {Text: `Like sinfo \-R: REASON SOURCE STATE NODELIST for every drained or down
node. SOURCE is operator, health (the node's health check drained it; it
comes back by itself once the check passes), prolog or epilog (a failed
node prolog or epilog; an operator must resume it), or gsched (no
heartbeat, resources shrunk).`},
	},
	"gacct": {
		"jobs": {Arg: "list", Text: `A job ID (for an array, every task of it), or
.B 123_7
for task 7 of array 123.`},
		"endtime": {Arg: "time", Text: `Same forms as \-\-starttime: with \-\-starttime, the jobs that were
in the system during that window.`},
		"accounts": {Arg: "list"},
		"format": {Arg: "list", Text: `A comma list of names in any case (a prefix that names one field will do:
.B node
is NodeList), each optionally followed by
.BI % width
(a negative width left\-justifies). Without \-\-parsable the columns have
sacct's widths, a title line and a line of dashes; a longer value is cut and
ends in
.BR + .
See FIELDS.`},
		"allocations": {Text: `gacct prints no job step lines, so this changes nothing; it is accepted
for sacct scripts.`},
		"user": {Arg: "list"},
		"starttime": {Arg: "time", Text: `The unit of
.BI now\- N unit
may also be written s, m, h, d or w, e.g.
.BR now\-1hour .`},
		"state": {Arg: "list", Text: `COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL or their
codes.`},
		"partition": {Arg: "list"},
	},
	"gshare": {
		"user": {Arg: "list"},
		"json": {Text: `LevelFS infinity is written as \-1.`},
	},
	"gcontrol": {
		"json": {Text: `Jobs, nodes and partitions as the controller sends them.`},
	},
	"ghostnames": {
		"compress": {Text: `Each argument or word of standard input (one or more per line) may itself
be a hostlist; the result is sorted and without duplicates, and nothing is
printed when there are no names.
Only the last number of a name is compressed, as in Slurm:
.B gpu01 gpu02 gpu03 gpu07
gives
.BR gpu[01\-03,07] ,
and
.B rack1\-n1 rack1\-n2 rack2\-n1
gives
.BR rack1\-n[1\-2],rack2\-n1 .
Names with the same text around that number share one bracket group, and
consecutive numbers form a range when each is written with the width of
the range's first number:
.B n9 n10
gives
.BR n[9\-10] ,
.B n09 n10
gives
.BR n[09\-10] ,
but
.B n9 n010
gives
.BR n[9,010] .
Names without digits are printed as they are.`},
	},
	"gsim run": {
		"cluster": {Arg: "file", Text: `TOML: [[node]] groups with name, count, cpus, mem, gpus, partitions;
optional [[partition]] and [[account]] tables.`},
		"trace": {Arg: "file"},
		"format": {Arg: `\fBswf\fR|\fBcsv\fR`, Text: `CSV needs the columns job_id, user, submit_s, run_s, requested_time_s,
gpus, nodes, cpus and uses memory_mib, gpu_milli, account and partition
when present.`},
		"policy":    {Arg: "list", Text: `fifo has no backfill.`},
		"fairshare": {Arg: "list"},
		"jobs-out": {Text: `Columns: job_id, user, account, submit, start, end, wait, run, gpus,
cpus, mem_mib, node, state, bounded_slowdown.`},
		"svg-until":        {Arg: "duration"},
		"title":            {Arg: "title"},
		"output":           {Arg: `\fBtext\fR|\fBmarkdown\fR|\fBcsv\fR`},
		"no-timing":        {Text: `The output is then the same on every run.`},
		"every-kth-node":   {Arg: "K"},
		"limit":            {Arg: "N"},
		"tick":             {Arg: "duration"},
		"half-life":        {Arg: "duration"},
		"run-factor":       {Arg: "F"},
		"default-time":     {Arg: "duration"},
		"arrival-scale":    {Arg: "F"},
		"users":            {Arg: "N"},
		"bf-window":        {Arg: "duration", Text: `Slurm's bf_window.`},
		"bf-max-job-test":  {Arg: "N", Text: `Slurm's bf_max_job_test.`},
		"bf-resolution":    {Arg: "duration", Text: `Slurm's bf_resolution.`},
		"weight-age":       {Arg: "N"},
		"weight-fairshare": {Arg: "N"},
		"weight-job-size":  {Arg: "N"},
		"max-age":          {Arg: "duration"},
	},
	"gsim gen": {
		"seed":         {Arg: "N"},
		"jobs":         {Arg: "N"},
		"users":        {Arg: "N"},
		"rate":         {Arg: "R"},
		"run-median":   {Arg: "duration"},
		"run-sigma":    {Arg: "S"},
		"max-run":      {Arg: "duration"},
		"gpus":         {Arg: `\fICOUNT\fR:\fIWEIGHT\fR,...`},
		"cpus-per-gpu": {Arg: "N"},
		"mem-per-gpu":  {Arg: "size"},
		"req-factor":   {Arg: "F"},
	},
	"gctld": {
		"config":    {Arg: "file"},
		"log-level": {Arg: "level"},
		"keygen": {Text: `The key file is \fBauth.key_file\fR: 64 hex characters. Copy it to every
node.`},
	},
	"gnoded": {
		"config":    {Arg: "file"},
		"log-level": {Arg: "level"},
		"name": {Arg: "node", Text: `Several daemons can share one machine and one config file with different
names and state directories.`},
		"state-dir": {Arg: "dir"},
	},
}
