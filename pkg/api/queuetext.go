package api

// PathQueueText asks the controller to lay out gqueue's listing itself.
const PathQueueText = "/v1/jobs/queue-text"

// QueueTextRequest asks for gqueue's listing as text, laid out on the
// controller by pkg/queuefmt exactly as gqueue lays out a JobList: a
// queue of 100,000 jobs then travels as its 8 MB of lines rather than as
// 70 MB of job records for the client to decode. The answer is that text
// itself, not JSON (Content-Type text/plain; rpc.Raw). Scripts, environments
// and arguments appear in no column, so every caller sees the same text
// for a job.
type QueueTextRequest struct {
	Filter JobFilter `json:"filter"`
	// Format is squeue's -o format; "" prints gqueue's aligned default
	// table.
	Format string `json:"format,omitempty"`
	// Sort is squeue's -S keys; "" sorts by job ID.
	Sort string `json:"sort,omitempty"`
	// Array prints one row per array task (gqueue -r) instead of folding
	// pending tasks as 123_[5-99].
	Array bool `json:"array,omitempty"`
	// NoHeader leaves the title line out (gqueue -h).
	NoHeader bool `json:"no_header,omitempty"`
	// Date prints the date line before the titles (gqueue -l).
	Date bool `json:"date,omitempty"`
	// BitstrLen bounds a folded task list in characters
	// (SLURM_BITSTR_LEN; 0 or less: no bound).
	BitstrLen int `json:"bitstr_len"`
	// TimeZone is the client's IANA time zone ("Europe/Paris"), which
	// the time fields (%S, %e, %V) and the date line need; a request
	// that shows times without one, or shows group names (%g), which
	// only the client's host can resolve, is refused as invalid.
	TimeZone string `json:"time_zone,omitempty"`
}
