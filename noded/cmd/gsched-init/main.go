// Command gsched-init is the in-container init of jobs that run from an
// OCI image. gnoded itself is linked against the C library (NVML needs
// cgo), which an image may not have, so `make build` builds this small
// static binary (CGO_ENABLED=0) of the same init code; gnoded binds it
// into image containers as /.gsched-init. It is not meant to be run by
// hand.
package main

import (
	"fmt"
	"os"

	"github.com/gsched/gsched/pkg/runtime/runc"
)

func main() {
	runc.Main() // never returns when started as /.gsched-init
	fmt.Fprintln(os.Stderr, "gsched-init: this is the init of gsched's image containers; gnoded starts it")
	os.Exit(2)
}
