package testcluster

import (
	"os"
	"testing"

	"github.com/gsched/gsched/pkg/runtime/runc"
)

func TestMain(m *testing.M) {
	if runc.Main() { // this binary is also the task supervisor and init
		return
	}
	code := m.Run()
	removeJobRoot()
	os.Exit(code)
}
