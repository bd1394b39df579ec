package api

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseContainerMounts(t *testing.T) {
	tests := []struct {
		in      string
		want    []ContainerMount
		wantErr string
	}{
		{in: "/data:/data", want: []ContainerMount{{Source: "/data", Destination: "/data"}}},
		{in: "/data", want: []ContainerMount{{Source: "/data", Destination: "/data"}}},
		{in: "/a:/b:ro,/c:/d:rw", want: []ContainerMount{{Source: "/a", Destination: "/b", ReadOnly: true}, {Source: "/c", Destination: "/d"}}},
		{in: "/a//x/:/b/./y", want: []ContainerMount{{Source: "/a/x", Destination: "/b/y"}}},
		{in: "", wantErr: "empty entry"},
		{in: "/a:/b,", wantErr: "empty entry"},
		{in: "rel:/b", wantErr: "not an absolute path"},
		{in: "/a:rel", wantErr: "not an absolute path"},
		{in: "/a:/b/../../etc", wantErr: `contains ".."`},
		{in: "/a/../etc/shadow:/b", wantErr: `contains ".."`},
		{in: "/a:/", wantErr: "may not be /"},
		{in: "/a:/proc/x", wantErr: "reserved"},
		{in: "/a:/.gsched", wantErr: "reserved"},
		{in: "/a:/dev", wantErr: "reserved"},
		{in: "/a:/b:rslave", wantErr: "not ro or rw"},
		{in: "/a:/b:ro:x", wantErr: "SRC:DST"},
		{in: "/a\n:/b", wantErr: "control character"},
	}
	for _, tt := range tests {
		got, err := ParseContainerMounts(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseContainerMounts(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseContainerMounts(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseDockerMount(t *testing.T) {
	tests := []struct {
		in      string
		want    ContainerMount
		wantErr string
	}{
		{in: "type=bind,source=/a,destination=/b", want: ContainerMount{Source: "/a", Destination: "/b"}},
		{in: "type=bind,src=/a,dst=/b,readonly", want: ContainerMount{Source: "/a", Destination: "/b", ReadOnly: true}},
		{in: "type=bind,src=/a,target=/b,ro=true", want: ContainerMount{Source: "/a", Destination: "/b", ReadOnly: true}},
		{in: "type=bind,src=/a,target=/b,readonly=false", want: ContainerMount{Source: "/a", Destination: "/b"}},
		{in: "src=/a,dst=/b", wantErr: "type=bind is required"},
		{in: "type=volume,src=/a,dst=/b", wantErr: "only type=bind"},
		{in: "type=bind,src=/a,dst=/b,readonly=maybe", wantErr: "not true or false"},
		{in: "type=bind,src=/a,src=/c,dst=/b", wantErr: "given twice"},
		{in: "type=bind,src=/a,dst=/b,bind-propagation=shared", wantErr: "unknown key"},
		{in: "type=bind,src=/a", wantErr: "destination is empty"},
		{in: "type=bind,src=/a,dst=/x/../y", wantErr: `contains ".."`},
		{in: "type=bind,src=a,dst=/b", wantErr: "not an absolute path"},
	}
	for _, tt := range tests {
		got, err := ParseDockerMount(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseDockerMount(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDockerMount(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestCheckContainerSpec(t *testing.T) {
	ok := []ContainerMount{{Source: "/a", Destination: "/b"}}
	tests := []struct {
		image   string
		mounts  []ContainerMount
		wantErr string
	}{
		{image: "", mounts: nil},
		{image: "oci:/img:1", mounts: ok},
		{image: "", mounts: ok, wantErr: "need an image"},
		{image: "a b", wantErr: "space"},
		{image: strings.Repeat("x", MaxImageRefLen+1), wantErr: "longer"},
		{image: "x", mounts: []ContainerMount{{Source: "/a", Destination: "/sys"}}, wantErr: "reserved"},
		{image: "x", mounts: make([]ContainerMount, MaxContainerMounts+1), wantErr: "more than"},
	}
	for _, tt := range tests {
		err := CheckContainerSpec(tt.image, tt.mounts)
		if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("CheckContainerSpec(%.20q, %d mounts) = %v, want %q", tt.image, len(tt.mounts), err, tt.wantErr)
		}
	}
}

// checkMountOut holds for every mount a parser accepts: clean absolute
// paths with no "..", a destination that is neither / nor reserved.
func checkMountOut(t *testing.T, m ContainerMount) {
	t.Helper()
	if err := m.Validate(); err != nil {
		t.Fatalf("accepted mount %+v does not validate: %v", m, err)
	}
	for _, p := range []string{m.Source, m.Destination} {
		if !strings.HasPrefix(p, "/") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.Contains(p, "//") {
			t.Fatalf("accepted path %q is not clean and absolute", p)
		}
	}
}

// FuzzContainerMounts: the mount-spec parsers accept only clean absolute
// paths without "..", never panic, and fail with one-line errors.
func FuzzContainerMounts(f *testing.F) {
	for _, s := range []string{"/data:/data", "/a:/b:ro,/c", "/a:/b/../x", "type=bind,src=/a,dst=/b,readonly",
		"type=bind,source=/a,target=/b,ro=false", "/a:/proc", ",", ":::", "type=bind", "/a\x00:/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseContainerMounts(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error is not one line: %q", err)
			}
		}
		for _, m := range ms {
			checkMountOut(t, m)
		}
		m, err := ParseDockerMount(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		checkMountOut(t, m)
	})
}
