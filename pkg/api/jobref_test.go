package api

import (
	"errors"
	"strings"
	"testing"
)

func TestParseJobRef(t *testing.T) {
	tests := []struct {
		in      string
		want    JobRef
		wantErr string
	}{
		{in: "123", want: JobRef{ID: 123}},
		{in: "123_7", want: JobRef{ID: 123, Task: 7, HasTask: true}},
		{in: "123_0", want: JobRef{ID: 123, Task: 0, HasTask: true}},
		{in: "0", wantErr: "invalid job id"},
		{in: "", wantErr: "invalid job id"},
		{in: "+5", wantErr: "invalid job id"},
		{in: "12x", wantErr: "invalid job id"},
		{in: "_7", wantErr: "invalid job id"},
		{in: "123_", wantErr: "invalid array task"},
		{in: "123_-1", wantErr: "invalid array task"},
		{in: "123_+1", wantErr: "invalid array task"},
		{in: "123_7_8", wantErr: "invalid array task"},
		{in: "123_[1-3]", wantErr: "invalid array task"},
		{in: "123_4000001", wantErr: "invalid array task"},
		{in: "18446744073709551616", wantErr: "invalid job id"},
	}
	for _, tt := range tests {
		got, err := ParseJobRef(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalid) {
				t.Errorf("ParseJobRef(%q) = %+v, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseJobRef(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("%+v.String() = %q, want %q", got, got.String(), tt.in)
		}
	}
}

func TestJobRefMatches(t *testing.T) {
	plain := Job{ID: 50}
	head := Job{ID: 123, ArrayJobID: 123, ArrayTaskID: 0}
	task7 := Job{ID: 130, ArrayJobID: 123, ArrayTaskID: 7}
	other := Job{ID: 131, ArrayJobID: 131, ArrayTaskID: 7}
	tests := []struct {
		ref  string
		job  Job
		want bool
	}{
		{"50", plain, true},
		{"51", plain, false},
		{"50_0", plain, false},
		{"123", head, true},
		{"123", task7, true},
		{"123", other, false},
		{"130", task7, true}, // a task's own job ID names it
		{"123_7", task7, true},
		{"123_7", head, false},
		{"123_7", other, false},
		{"131_7", other, true},
		{"123_0", head, true},
	}
	for _, tt := range tests {
		r, err := ParseJobRef(tt.ref)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Matches(&tt.job); got != tt.want {
			t.Errorf("%s matches %s (id %d) = %v, want %v", tt.ref, tt.job.DisplayID(), tt.job.ID, got, tt.want)
		}
	}
	if MatchesAny(nil, &plain) || !MatchesAny([]JobRef{{ID: 1}, {ID: 50}}, &plain) {
		t.Errorf("MatchesAny")
	}
}
