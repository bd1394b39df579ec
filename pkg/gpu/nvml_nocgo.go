//go:build !cgo

package gpu

import (
	"errors"

	"github.com/gsched/gsched/pkg/api"
)

func discoverNVML() ([]api.GPU, Versions, error) {
	return nil, Versions{}, errors.New("NVML support was not built in (CGO_ENABLED=0)")
}
