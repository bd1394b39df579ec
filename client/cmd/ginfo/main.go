// Command ginfo is gsched's ginfo; see client/cli and man/man1/ginfo.1.
package main

import (
	"os"

	"github.com/gsched/gsched/client/cli"
)

func main() { os.Exit(cli.RunGinfo(os.Args)) }
