package agent

import (
	"strconv"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/runtime"
)

// cdiKind is the CDI kind of NVIDIA GPUs (nvidia-ctk cdi generate).
const cdiKind = "nvidia.com/gpu"

// cdiNames are the CDI names GPU g may have: by index, then by UUID.
// Only image jobs use CDI (see pkg/runtime/runc/cdi.go): "" otherwise.
func cdiNames(g api.GPU, image bool) string {
	if !image {
		return ""
	}
	s := cdiKind + "=" + strconv.Itoa(g.Index)
	if g.UUID != "" {
		s += "," + cdiKind + "=" + g.UUID
	}
	return s
}

// imageSpec is the runtime's view of a job's --image and mounts (nil:
// the host's root filesystem).
func imageSpec(s *api.JobSpec) *runtime.ImageSpec {
	if s.Image == "" {
		return nil
	}
	is := &runtime.ImageSpec{Ref: s.Image, UseWorkdir: !s.ChdirSet}
	for _, m := range s.ContainerMounts {
		is.Mounts = append(is.Mounts, runtime.Mount{Source: m.Source, Destination: m.Destination, ReadOnly: m.ReadOnly})
	}
	return is
}
