package agent

import (
	"reflect"
	"testing"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/runtime"
)

func TestImageSpecAndCDINames(t *testing.T) {
	tests := []struct {
		name string
		in   api.JobSpec
		want *runtime.ImageSpec
	}{
		{name: "host rootfs", in: api.JobSpec{}, want: nil},
		{name: "image, no chdir", in: api.JobSpec{Image: "oci:/i"}, want: &runtime.ImageSpec{Ref: "oci:/i", UseWorkdir: true}},
		{name: "image, chdir, mounts", in: api.JobSpec{Image: "/i", ChdirSet: true,
			ContainerMounts: []api.ContainerMount{{Source: "/a", Destination: "/b", ReadOnly: true}}},
			want: &runtime.ImageSpec{Ref: "/i", Mounts: []runtime.Mount{{Source: "/a", Destination: "/b", ReadOnly: true}}}},
	}
	for _, tt := range tests {
		if got := imageSpec(&tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
	for _, c := range []struct {
		g     api.GPU
		image bool
		want  string
	}{
		{api.GPU{Index: 3}, true, "nvidia.com/gpu=3"},
		{api.GPU{Index: 0, UUID: "GPU-abc"}, true, "nvidia.com/gpu=0,nvidia.com/gpu=GPU-abc"},
		{api.GPU{Index: 0, UUID: "GPU-abc"}, false, ""},
	} {
		if got := cdiNames(c.g, c.image); got != c.want {
			t.Errorf("cdiNames(%+v, %v) = %q, want %q", c.g, c.image, got, c.want)
		}
	}
}
