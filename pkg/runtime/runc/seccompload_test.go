package runc

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestDecodeBPF(t *testing.T) {
	// BPF_RET|BPF_K, k = SECCOMP_RET_ALLOW (0x7fff0000), little endian.
	allow := []byte{0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x7f}
	many := func(n int) []byte {
		var b []byte
		for range n {
			b = append(b, allow...)
		}
		return b
	}
	tests := []struct {
		name string
		in   []byte
		n    int // instructions; 0 = error
	}{
		{"empty", nil, 0},
		{"one", allow, 1},
		{"partial instruction", allow[:7], 0},
		{"one and a half", append(append([]byte(nil), allow...), allow[:4]...), 0},
		{"limit", many(bpfMaxInsns), bpfMaxInsns},
		{"over the limit", many(bpfMaxInsns + 1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog, err := decodeBPF(tt.in)
			if tt.n == 0 {
				if err == nil {
					t.Fatalf("accepted %d bytes", len(tt.in))
				}
				return
			}
			if err != nil || len(prog) != tt.n {
				t.Fatalf("got %d instructions, %v; want %d", len(prog), err, tt.n)
			}
			want := unix.SockFilter{Code: 0x06, K: 0x7fff0000}
			if prog[0] != want || prog[tt.n-1] != want {
				t.Fatalf("decoded %+v, want %+v", prog[0], want)
			}
		})
	}
}
