package main

import (
	"flag"
	"testing"

	"github.com/gsched/gsched/pkg/clidoc"
)

var update = flag.Bool("update", false, "rewrite the generated sections of the man page (make man)")

// TestManPage keeps gnoded.8's OPTIONS section generated from
// newApp's flags: it fails when they differ, saying to run make man,
// which runs it with -update.
func TestManPage(t *testing.T) {
	if _, err := clidoc.SyncPage("../man/man8/gnoded.8", newApp(), *update); err != nil {
		t.Fatal(err)
	}
}
