package imageref

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Ref
		wantErr string
	}{
		{in: "oci:/img/layout", want: Ref{Transport: Layout, Path: "/img/layout"}},
		{in: "oci:/img/layout:v1", want: Ref{Transport: Layout, Path: "/img/layout", Tag: "v1"}},
		{in: "oci:/a:b/layout", want: Ref{Transport: Layout, Path: "/a:b/layout"}},
		{in: "oci-archive:/x.tar:latest", want: Ref{Transport: OCIArchive, Path: "/x.tar", Tag: "latest"}},
		{in: "docker-archive:/x.tar", want: Ref{Transport: DockerArchive, Path: "/x.tar"}},
		{in: "docker-archive:/x.tar:reg.io/a/b:v1", want: Ref{Transport: DockerArchive, Path: "/x.tar", Tag: "reg.io/a/b:v1"}},
		{in: "docker-archive:/x.tar:localhost:5000/b:v1", want: Ref{Transport: DockerArchive, Path: "/x.tar", Tag: "localhost:5000/b:v1"}},
		{in: "/srv/images/busybox", want: Ref{Transport: Local, Path: "/srv/images/busybox"}},
		{in: "/srv/images/busybox.tar", want: Ref{Transport: Local, Path: "/srv/images/busybox.tar"}},
		{in: "docker://ubuntu:24.04", want: Ref{Transport: Registry, Name: "ubuntu:24.04"}},
		{in: "ubuntu:24.04", want: Ref{Transport: Registry, Name: "ubuntu:24.04"}},
		{in: "nvcr.io#nvidia/pytorch:24.01-py3", want: Ref{Transport: Registry, Name: "nvcr.io/nvidia/pytorch:24.01-py3"}},
		{in: "docker://127.0.0.1:5000/a/b@sha256:" + strings.Repeat("a", 64), want: Ref{Transport: Registry, Name: "127.0.0.1:5000/a/b@sha256:" + strings.Repeat("a", 64)}},
		{in: "", wantErr: "empty"},
		{in: "oci:rel/dir", wantErr: "absolute"},
		{in: "oci:/a/../etc", wantErr: `".."`},
		{in: "/a/../../etc/shadow", wantErr: `".."`},
		{in: "oci:/x:bad*tag", wantErr: "invalid tag"},
		{in: "docker-archive:/x.tar:", wantErr: "invalid repository:tag"},
		{in: "docker-archive:/x.tar:v1", wantErr: "invalid repository:tag"},
		{in: "oci-archive:/x.tar:", wantErr: "invalid tag"},
		{in: "a b", wantErr: "space"},
		{in: "Ubuntu", wantErr: "registry name"},
		{in: "docker://../x", wantErr: "registry name"},
		{in: "oci://x", wantErr: "registry name"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q) = %+v, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParse: a reference is refused with a one-line error, or names an
// absolute local path without "..", or a registry name without spaces.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"oci:/a:v1", "oci-archive:/x.tar", "docker-archive:/x.tar:t", "/a/b", "docker://x/y:z",
		"nvcr.io#a/b:c", "oci:/a/../b", "\x00", "oci:", ":", "docker://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		switch r.Transport {
		case Registry:
			if r.Name == "" || strings.ContainsAny(r.Name, " \t\n\x00") || r.Path != "" {
				t.Fatalf("bad registry ref %+v", r)
			}
		case Layout, OCIArchive, DockerArchive, Local:
			if !strings.HasPrefix(r.Path, "/") || strings.Contains("/"+r.Path+"/", "/../") {
				t.Fatalf("bad local path in %+v", r)
			}
			if r.Tag != "" && !tagRE().MatchString(r.Tag) && !(r.Transport == DockerArchive && dockerTagRE().MatchString(r.Tag)) {
				t.Fatalf("bad tag in %+v", r)
			}
		default:
			t.Fatalf("unknown transport in %+v", r)
		}
		if r2, err := Parse(r.String()); err != nil || r2.Transport != r.Transport {
			t.Fatalf("Parse(%q) = %+v, %v; it came from %+v", r.String(), r2, err, r)
		}
	})
}
