package runc

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// SeccompSupport is what a runc binary says about its seccomp support:
// runc applies a linux.seccomp profile only when it was built with
// libseccomp (-tags seccomp), and refuses a spec carrying one otherwise.
type SeccompSupport struct {
	Enabled    bool
	Libseccomp string // libseccomp's version, when runc tells it
}

// libseccompAnnotation is the runc features annotation with libseccomp's
// version.
const libseccompAnnotation = "io.github.seccomp.libseccomp.version"

// ProbeSeccomp asks runcPath whether it supports seccomp: `runc features`
// (runc >= 1.1) says so in linux.seccomp.enabled; older runcs, or a
// features answer that does not say, are judged by the "libseccomp:" line
// of `runc --version`, which runc prints only when built with it.
func ProbeSeccomp(ctx context.Context, runcPath string) (SeccompSupport, error) {
	out, ferr := exec.CommandContext(ctx, runcPath, "features").Output()
	if ferr == nil {
		if s, known, err := parseFeatures(out); err == nil && known {
			return s, nil
		}
	}
	out, err := exec.CommandContext(ctx, runcPath, "--version").Output()
	if err != nil {
		return SeccompSupport{}, fmt.Errorf("probe seccomp: %s --version: %w", runcPath, err)
	}
	return parseVersion(string(out)), nil
}

// parseFeatures reads `runc features` output. known is false when it does
// not tell whether seccomp is compiled in. runc leaves linux.seccomp out
// when it is not, which counts as an answer only from a runc that reports
// features it has (a non-empty linux section).
func parseFeatures(b []byte) (s SeccompSupport, known bool, err error) {
	var f features.Features
	if err := json.Unmarshal(b, &f); err != nil {
		return s, false, fmt.Errorf("runc features: %w", err)
	}
	if f.Linux == nil {
		return s, false, nil
	}
	if f.Linux.Seccomp == nil {
		return s, f.Linux.Namespaces != nil, nil
	}
	if f.Linux.Seccomp.Enabled == nil {
		return s, false, nil
	}
	s.Enabled = *f.Linux.Seccomp.Enabled
	if s.Enabled {
		s.Libseccomp = f.Annotations[libseccompAnnotation]
	}
	return s, true, nil
}

// parseVersion reads `runc --version` output.
func parseVersion(out string) SeccompSupport {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "libseccomp:"); ok {
			return SeccompSupport{Enabled: true, Libseccomp: strings.TrimSpace(v)}
		}
	}
	return SeccompSupport{}
}

// seccompProfile is Docker's default seccomp profile (moby/profiles) for s:
// an allow-list of syscalls, every other one failing with EPERM, with the
// rules that depend on a capability kept only when s's bounding set has
// it (a user's job has none, so mount, unshare, setns, bpf... are refused).
func seccompProfile(s *specs.Spec) (*specs.LinuxSeccomp, error) {
	p, err := seccomp.GetDefaultProfile(s)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: %w", err)
	}
	return p, nil
}
