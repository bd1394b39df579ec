package api

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func equalTestSpec() *JobSpec {
	return &JobSpec{Name: "gbench", Hold: true, Script: "#!/bin/sh\ntrue\n", WorkDir: "/var/tmp/w", Output: "/dev/null",
		Env: []string{"PATH=/usr/bin:/bin", "HOME=/var/tmp/w"}, Args: []string{"a"}, CPUsPerTask: 1, MemBytes: 256 << 20,
		ContainerMounts: []ContainerMount{{Source: "/data", Destination: "/data"}}}
}

// Equal looks at every field: a copy is equal, and a copy with any one
// field changed is not. A field added to JobSpec without a comparison in
// Equal fails here (equal specs are shared in memory, so a field left
// out would give a job another job's value).
func TestJobSpecEqualEveryField(t *testing.T) {
	base := equalTestSpec()
	cp := *base
	cp.Env, cp.Args, cp.ContainerMounts = slices.Clone(base.Env), slices.Clone(base.Args), slices.Clone(base.ContainerMounts)
	if !base.Equal(&cp) || !cp.Equal(base) || !base.Equal(base) {
		t.Fatal("a copy is not equal")
	}
	if base.Equal(nil) || (*JobSpec)(nil).Equal(base) || !(*JobSpec)(nil).Equal(nil) {
		t.Fatal("nil specs")
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	begin := *base
	begin.Begin = at
	sameInstant := begin
	sameInstant.Begin = at.In(time.FixedZone("X", 3600))
	if !begin.Equal(&sameInstant) {
		t.Error("Begin: the same instant in another zone is not equal")
	}
	rt := reflect.TypeOf(JobSpec{})
	for i := range rt.NumField() {
		f := rt.Field(i)
		changed := *base
		v := reflect.ValueOf(&changed).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString(v.String() + "x")
		case reflect.Int, reflect.Int64:
			v.SetInt(v.Int() + 1)
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.Slice:
			v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
		case reflect.Struct:
			if f.Type != reflect.TypeOf(time.Time{}) {
				t.Fatalf("field %s: a struct the test does not know how to change", f.Name)
			}
			v.Set(reflect.ValueOf(at))
		default:
			t.Fatalf("field %s: kind %s the test does not know how to change", f.Name, v.Kind())
		}
		if base.Equal(&changed) || changed.Equal(base) {
			t.Errorf("field %s changed, still equal", f.Name)
		}
	}
}

func BenchmarkJobSpecEqual(b *testing.B) {
	x, y := equalTestSpec(), equalTestSpec()
	for b.Loop() {
		if !x.Equal(y) {
			b.Fatal("not equal")
		}
	}
}
