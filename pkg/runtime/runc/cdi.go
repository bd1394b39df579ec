package runc

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"tags.cncf.io/container-device-interface/pkg/cdi"

	"github.com/gsched/gsched/pkg/runtime"
)

// DefaultCDISpecDirs are where CDI specs live by convention (the NVIDIA
// Container Toolkit writes /etc/cdi/nvidia.yaml, or /var/run/cdi).
var DefaultCDISpecDirs = []string{"/etc/cdi", "/var/run/cdi"}

// CDI is used for image tasks only. A host-rootfs task already sees the
// host's driver libraries under its read-only /usr, and a CDI spec's
// mounts, and the hooks that update ld.so.cache or create symlinks, would
// write into that shared host tree; its GPUs stay plain device nodes.

// splitCDI returns the devices no CDI spec defines (passed on as plain
// device nodes) and the CDI names of the others.
func (r *Runtime) splitCDI(devs []runtime.Device) ([]runtime.Device, []string, error) {
	want := false
	for _, d := range devs {
		want = want || d.CDI != ""
	}
	if !want {
		return devs, nil, nil
	}
	cache, err := r.cdiCache()
	if err != nil {
		return nil, nil, err
	}
	var plain []runtime.Device
	var names []string
	for _, d := range devs {
		name := ""
		for _, n := range strings.Split(d.CDI, ",") {
			if cache.GetDevice(n) != nil {
				name = n
				break
			}
		}
		if name == "" {
			plain = append(plain, d)
			continue
		}
		names = append(names, name)
	}
	return plain, names, nil
}

// cdiCache reads the CDI specs afresh (a driver update rewrites them).
func (r *Runtime) cdiCache() (*cdi.Cache, error) {
	c, err := cdi.NewCache(cdi.WithSpecDirs(r.opts.CDISpecDirs...), cdi.WithAutoRefresh(false))
	if err != nil {
		return nil, fmt.Errorf("cdi: %w", err)
	}
	return c, nil
}

// injectCDI applies the CDI edits of the named devices to s: device
// nodes (with their cgroup rules), mounts, env and hooks.
func (r *Runtime) injectCDI(s *specs.Spec, names []string) error {
	cache, err := r.cdiCache()
	if err != nil {
		return err
	}
	if _, err := cache.InjectDevices(s, names...); err != nil {
		return fmt.Errorf("cdi: %w", err)
	}
	return nil
}
