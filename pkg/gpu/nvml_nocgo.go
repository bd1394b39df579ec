//go:build !cgo

package gpu

import (
	"errors"

	"github.com/gsched/gsched/pkg/api"
)

func discoverNVML() ([]api.GPU, string, error) {
	return nil, "", errors.New("NVML support was not built in (CGO_ENABLED=0)")
}
