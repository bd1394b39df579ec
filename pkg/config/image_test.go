package config

import (
	"strings"
	"testing"
)

func TestImageKeys(t *testing.T) {
	tests := []struct {
		size    string
		dirs    []string
		want    int64
		wantErr string
	}{
		{size: "", want: 20 << 30},
		{size: "0", want: 0},
		{size: "512M", want: 512 << 20},
		{size: "lots", wantErr: "image_cache_size"},
		{size: "1G", dirs: []string{"/etc/cdi", "cdi"}, want: 1 << 30, wantErr: "cdi_spec_dirs"},
	}
	for _, tt := range tests {
		c := Default()
		c.Node.ImageCacheSize, c.Node.CDISpecDirs = tt.size, tt.dirs
		err := c.Validate()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("size %q dirs %v: Validate = %v, want %q", tt.size, tt.dirs, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("size %q: %v", tt.size, err)
			continue
		}
		if got, err := c.Node.ImageCacheBytes(); err != nil || got != tt.want {
			t.Errorf("size %q: %d %v, want %d", tt.size, got, err, tt.want)
		}
	}
}
