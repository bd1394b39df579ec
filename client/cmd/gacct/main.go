// Command gacct is gsched's gacct; see client/cli and man/man1/gacct.1.
package main

import (
	"os"

	"github.com/gsched/gsched/client/cli"
)

func main() { os.Exit(cli.RunGacct(os.Args)) }
