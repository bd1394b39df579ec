//go:build cgo

package gpu

import (
	"errors"
	"reflect"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
)

// healthMock is a DGX A100 mock whose GPUs report ecc uncorrectable ECC
// errors each (by index) and whose event set yields the events queued in
// the returned slice, once each.
func healthMock(ecc map[int]uint64) (*dgxa100.Server, *[]nvml.EventData) {
	lib := dgxa100.New()
	for i, d := range lib.Devices {
		dev := d.(*dgxa100.Device)
		i := i
		dev.GetTotalEccErrorsFunc = func(t nvml.MemoryErrorType, c nvml.EccCounterType) (uint64, nvml.Return) {
			if t != nvml.MEMORY_ERROR_TYPE_UNCORRECTED || c != nvml.VOLATILE_ECC {
				return 0, nvml.ERROR_INVALID_ARGUMENT
			}
			return ecc[i], nvml.SUCCESS
		}
		dev.RegisterEventsFunc = func(types uint64, _ nvml.EventSet) nvml.Return {
			if types != nvml.EventTypeXidCriticalError {
				return nvml.ERROR_INVALID_ARGUMENT
			}
			return nvml.SUCCESS
		}
	}
	queue := &[]nvml.EventData{}
	set := &mock.EventSet{
		WaitFunc: func(uint32) (nvml.EventData, nvml.Return) {
			if len(*queue) == 0 {
				return nvml.EventData{}, nvml.ERROR_TIMEOUT
			}
			e := (*queue)[0]
			*queue = (*queue)[1:]
			return e, nvml.SUCCESS
		},
		FreeFunc: func() nvml.Return { return nvml.SUCCESS },
	}
	lib.EventSetCreateFunc = func() (nvml.EventSet, nvml.Return) { return set, nvml.SUCCESS }
	return lib, queue
}

func TestHealthCheckerMock(t *testing.T) {
	tests := []struct {
		name     string
		expected int
		ecc      map[int]uint64
		xids     [][2]int // GPU, XID
		want     []string
	}{
		{name: "healthy", expected: 8},
		{name: "count unchecked", expected: 0},
		{name: "a GPU missing", expected: 9, want: []string{"8 GPUs, expected 9"}},
		{name: "uncorrectable ECC", expected: 8, ecc: map[int]uint64{3: 2},
			want: []string{"GPU 3: 2 uncorrectable ECC errors"}},
		{name: "critical XID", expected: 8, xids: [][2]int{{5, 79}, {5, 79}},
			want: []string{"GPU 5: XID 79"}},
		{name: "application XIDs ignored", expected: 8, xids: [][2]int{{1, 13}, {2, 43}, {0, 31}}},
		{name: "several at once", expected: 7, ecc: map[int]uint64{0: 1}, xids: [][2]int{{6, 48}},
			want: []string{"8 GPUs, expected 7", "GPU 0: 1 uncorrectable ECC errors", "GPU 6: XID 48"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lib, queue := healthMock(tc.ecc)
			for _, x := range tc.xids {
				*queue = append(*queue, nvml.EventData{Device: lib.Devices[x[0]],
					EventType: nvml.EventTypeXidCriticalError, EventData: uint64(x[1])})
			}
			h, err := NewHealthChecker(lib)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			got := h.Check(tc.expected)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Check = %q, want %q", got, tc.want)
			}
			// XIDs stick; everything else is measured again.
			if again := h.Check(tc.expected); !reflect.DeepEqual(again, tc.want) {
				t.Errorf("second Check = %q, want %q", again, tc.want)
			}
		})
	}
}

// NVML that stops answering is a failed check, not a crash.
func TestHealthCheckerNVMLGone(t *testing.T) {
	lib, _ := healthMock(nil)
	h, err := NewHealthChecker(lib)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	lib.DeviceGetCountFunc = func() (int, nvml.Return) { return 0, nvml.ERROR_GPU_IS_LOST }
	lib.ErrorStringFunc = func(r nvml.Return) string { return "GPU is lost" }
	if got := h.Check(8); !reflect.DeepEqual(got, []string{"NVML unreachable: GPU is lost"}) {
		t.Errorf("Check = %q", got)
	}
}

// Without a driver the checker is not opened at all (no other NVML call
// is made: it would kill the process).
func TestHealthCheckerNoDriver(t *testing.T) {
	lib := &mock.Interface{
		InitFunc:        func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND },
		ErrorStringFunc: func(nvml.Return) string { return "Library Not Found" },
	}
	if _, err := NewHealthChecker(lib); !errors.Is(err, errNoNVML) {
		t.Fatalf("err = %v, want errNoNVML", err)
	}
}
