// Command gsub is gsched's gsub; see client/cli and man/man1/gsub.1.
package main

import (
	"os"

	"github.com/gsched/gsched/client/cli"
)

func main() { os.Exit(cli.RunGsub(os.Args)) }
