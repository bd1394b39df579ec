// Command gshare is gsched's gshare (fair-share report, like sshare); see
// client/cli and man/man1/gshare.1.
package main

import (
	"os"

	"github.com/gsched/gsched/client/cli"
)

func main() { os.Exit(cli.RunGshare(os.Args)) }
