// Command gcontrol is gsched's gcontrol; see client/cli and man/man1/gcontrol.1.
package main

import (
	"os"

	"github.com/gsched/gsched/client/cli"
)

func main() { os.Exit(cli.RunGcontrol(os.Args)) }
