package runc

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// deleteStopped removes the recorded cgroups (with the cgroups below
// them) and the state directory of a plain stopped container, and leaves
// everything as it was for runc when the state is not what it expects.
func TestDeleteStopped(t *testing.T) {
	tests := []struct {
		name    string
		pid     int // the init the caller reaped
		state   func(cg string) string
		extra   func(t *testing.T, cg string) // what else is in the cgroups
		wantErr error                         // nil: deleted
		anyErr  bool                          // an error, not errNotPlain
	}{
		{name: "plain", pid: 42, state: func(cg string) string {
			return `{"init_process_pid":42,"cgroup_paths":{"memory":"` + cg + `/memory/job","cpu":"` + cg + `/cpu/job","pids":"` + cg + `/cpu/job"},"config":{"hooks":{}}}`
		}},
		{name: "a cgroup below the container's", pid: 42, state: func(cg string) string {
			return `{"init_process_pid":42,"cgroup_paths":{"memory":"` + cg + `/memory/job"}}`
		}, extra: func(t *testing.T, cg string) { mkdir(t, filepath.Join(cg, "memory/job/sub/deeper")) }},
		{name: "a cgroup already gone", pid: 42, state: func(cg string) string {
			return `{"init_process_pid":42,"cgroup_paths":{"memory":"` + cg + `/memory/gone"}}`
		}},
		{name: "another init", pid: 43, wantErr: errNotPlain, state: func(cg string) string {
			return `{"init_process_pid":42,"cgroup_paths":{"memory":"` + cg + `/memory/job"}}`
		}},
		{name: "poststop hooks", pid: 42, wantErr: errNotPlain, state: func(cg string) string {
			return `{"init_process_pid":42,"cgroup_paths":{"memory":"` + cg + `/memory/job"},"config":{"hooks":{"poststop":[{"path":"/bin/true"}]}}}`
		}},
		{name: "relative cgroup path", pid: 42, wantErr: errNotPlain, state: func(cg string) string {
			return `{"init_process_pid":42,"cgroup_paths":{"memory":"memory/job"}}`
		}},
		{name: "unreadable state", pid: 42, anyErr: true, state: func(string) string { return `{"init_process_pid":` }},
		{name: "a cgroup that is not empty", pid: 42, anyErr: true, state: func(cg string) string {
			return `{"init_process_pid":42,"cgroup_paths":{"memory":"` + cg + `/memory/job"}}`
		}, extra: func(t *testing.T, cg string) {
			// A regular directory with a file: rmdir fails (ENOTEMPTY),
			// not retried as a busy cgroup would be.
			if err := os.WriteFile(filepath.Join(cg, "memory/job/file"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, cg := t.TempDir(), t.TempDir()
			dir := filepath.Join(root, "job-1")
			mkdir(t, dir)
			state := tt.state(cg)
			if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(state), 0o600); err != nil {
				t.Fatal(err)
			}
			var st runcState
			_ = json.Unmarshal([]byte(state), &st)
			for _, p := range st.CgroupPaths {
				if filepath.IsAbs(p) && filepath.Base(p) != "gone" {
					mkdir(t, p)
				}
			}
			if tt.extra != nil {
				tt.extra(t, cg)
			}
			err := deleteStopped(root, "job-1", tt.pid)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
			case tt.anyErr:
				if err == nil || errors.Is(err, errNotPlain) {
					t.Fatalf("err %v, want a failure", err)
				}
			case err != nil:
				t.Fatal(err)
			}
			_, statErr := os.Stat(dir)
			if deleted := errors.Is(statErr, os.ErrNotExist); deleted != (err == nil) {
				t.Fatalf("state dir deleted %v, err %v", deleted, err)
			}
			for _, p := range st.CgroupPaths {
				if !filepath.IsAbs(p) {
					continue
				}
				_, statErr := os.Stat(p)
				gone := errors.Is(statErr, os.ErrNotExist)
				if err == nil && !gone {
					t.Errorf("cgroup %s left", p)
				}
				if errors.Is(err, errNotPlain) && !gone != (filepath.Base(p) != "gone") {
					t.Errorf("cgroup %s touched although the container is not plain", p)
				}
			}
		})
	}
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o700); err != nil {
		t.Fatal(err)
	}
}
