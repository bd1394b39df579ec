// Package queuefmt lays out job listings as squeue and sacct do: gqueue's
// rows (array tasks folded as 123_[5-99]), its default table, squeue's -o
// format letters and -S sort keys, and the fixed-width columns that
// gacct -o shares. gqueue uses it to print a listing, and the controller
// to print one for gqueue itself (a large queue then travels as its text,
// not as job records: see api.PathQueueText).
package queuefmt
