// Package units parses and formats the values users type on gsched's
// command lines and in #GSUB/#SBATCH directives, with Slurm's syntax:
// time limits (ParseTimeLimit, FormatTimeLimit, FormatDuration), memory
// sizes (ParseMemory, FormatMemory), GPU requests (ParseGPUs, ParseGres)
// and output file name patterns (ExpandOutputPattern).
//
// Every parser is pure, bounded and never panics; errors are *Error values
// that match api.ErrInvalid with errors.Is and read as one line a user can
// act on.
package units
