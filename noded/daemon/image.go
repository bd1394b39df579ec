package daemon

import (
	"os"
	"path/filepath"
)

// staticInitName is the static init of image jobs (noded/cmd/gsched-init).
const staticInitName = "gsched-init"

// findStaticInit looks for gsched-init beside this executable, then
// beside runc (make build puts all three in bin/); "" when there is none,
// and image jobs then fail with a message that says so.
func findStaticInit(runcPath string) string {
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Dir(exe))
	}
	if filepath.IsAbs(runcPath) {
		dirs = append(dirs, filepath.Dir(runcPath))
	}
	for _, d := range dirs {
		p := filepath.Join(d, staticInitName)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}
