// Command ghostnames is gsched's ghostnames (expand or compress a
// hostlist, like scontrol show hostnames); see client/cli and
// man/man1/ghostnames.1.
package main

import (
	"os"

	"github.com/gsched/gsched/client/cli"
)

func main() { os.Exit(cli.RunGhostnames(os.Args)) }
