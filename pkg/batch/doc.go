// Package batch reads the options embedded in a batch script, with
// sbatch's rules.
//
// The script must start with "#!". Options are taken from lines that begin
// (in the first column) with "#GSUB" or "#SBATCH" followed by white space,
// in the comment block at the top of the script only: scanning stops at
// the first line that is neither blank nor a comment. Each directive line
// is split into words like a shell would, without expansions: single and
// double quotes group words, a backslash escapes the next character
// (inside double quotes only before '"', '\\' and '$'), and a word that
// starts with '#' begins a comment that runs to the end of the line. Lines
// such as "##SBATCH", "# SBATCH" or "  #SBATCH" are ordinary comments.
//
// The result is an argv-like list ("--job-name=x", "-t", "10") that the
// command line parses with the same flag definitions as its own arguments.
package batch
