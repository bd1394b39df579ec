// Command grun is gsched's step launcher; see client/cli and man/man1/grun.1.
package main

import (
	"os"

	"github.com/gsched/gsched/client/cli"
)

func main() { os.Exit(cli.RunGrun(os.Args)) }
