package main

import (
	"flag"
	"io"
	"testing"

	"github.com/gsched/gsched/pkg/clidoc"
)

var update = flag.Bool("update", false, "rewrite the generated sections of the man page (make man)")

// TestManPage keeps the RUN and GEN OPTIONS sections of gsim.1 generated from
// newApp's flags: it fails when they differ, saying to run make man,
// which runs it with -update.
func TestManPage(t *testing.T) {
	if _, err := clidoc.SyncPage("../../../man/man1/gsim.1", newApp(io.Discard, io.Discard), *update); err != nil {
		t.Fatal(err)
	}
}
