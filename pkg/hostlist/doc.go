// Package hostlist expands and compresses Slurm-style hostlist
// expressions such as "gpu[01-04,07]".
//
// # Expressions
//
// An expression is a comma-separated list of elements; commas inside
// brackets do not separate elements. Surrounding white space is trimmed
// from the expression and from each element; an empty expression is an
// empty list. An element is a host name in which each bracket group
// "[...]" stands for a comma-separated list of numbers ("7") and ranges
// ("01-04"). Every number or range is written with the width of its first
// number: "[01-10]" gives 01 02 ... 10 and "[8-10]" gives 8 9 10. Several
// bracket groups in one element give their cartesian product, the first
// group varying slowest: "rack[1-2]-node[01-02]" gives rack1-node01
// rack1-node02 rack2-node01 rack2-node02. Names are returned in the order
// written, and duplicates are kept ("a,a" is two names), as scontrol show
// hostnames does.
//
// Expand refuses, with a one-line error wrapping ErrInvalid: empty
// elements ("a,,b", "a[1,]", "a[]"), unbalanced or nested brackets,
// numbers that are not decimal digits or have more than 18 digits, ranges
// whose end comes before their start, and white space or control
// characters inside a name. It refuses, with ErrTooLarge, an expression
// that expands to more than MaxNames names or more than MaxBytes bytes of
// names. Count counts the names of an expression without expanding it.
//
// # Compression
//
// Compress is the inverse: it sorts and de-duplicates names and writes
// them as a canonical expression. Each name is split at its last run of
// decimal digits into prefix, number and suffix ("rack1-node07" is
// "rack1-node", 07, ""); only that last numeric field is compressed, as
// Slurm does, so "rack1-node01,rack1-node02,rack2-node01" becomes
// "rack1-node[01-02],rack2-node01". Names with the same prefix and suffix
// share one bracket group; inside it, consecutive numbers form a range when
// each is written with the width of the range's first number: "n9,n10" is
// "n[9-10]" and "n09,n10" is "n[09-10]", but "n9,n010" is "n[9,010]". A
// group of one name is written without brackets; names without digits
// (or whose last digit run is longer than 18 digits) are written as they
// are.
//
// The order of Compress, and of Sort, is: by prefix, then suffix, then
// names without a number before numbered ones, then by number, then by
// the name itself (so "n09" comes before "n9"). Expand(Compress(names))
// gives the names of the list in that order, once each, provided every
// name is one Expand could return (non-empty, without brackets, commas,
// white space or control characters); Compress skips empty names and
// copies other unrepresentable names unchanged.
package hostlist
