// Command gcancel is gsched's gcancel; see client/cli and man/man1/gcancel.1.
package main

import (
	"os"

	"github.com/gsched/gsched/client/cli"
)

func main() { os.Exit(cli.RunGcancel(os.Args)) }
