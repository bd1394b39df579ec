// Command gattach opens a shell inside a running job; see client/cli and man/man1/gattach.1.
package main

import (
	"os"

	"github.com/gsched/gsched/client/cli"
)

func main() { os.Exit(cli.RunGattach(os.Args)) }
