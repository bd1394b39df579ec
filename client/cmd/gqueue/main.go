// Command gqueue is gsched's gqueue; see client/cli and man/man1/gqueue.1.
package main

import (
	"os"

	"github.com/gsched/gsched/client/cli"
)

func main() { os.Exit(cli.RunGqueue(os.Args)) }
