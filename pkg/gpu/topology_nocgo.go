//go:build !cgo

package gpu

import (
	"errors"

	"github.com/gsched/gsched/pkg/api"
)

// DiscoverTopology needs NVML, which is not built in without cgo.
func DiscoverTopology(gpus []api.GPU) (*api.GPUTopology, error) {
	return nil, errors.New("NVML support was not built in (CGO_ENABLED=0)")
}
