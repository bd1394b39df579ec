package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// conf/gsched.conf.example must load, and must mention every key.
func TestExampleConfigLoadsAndDocumentsEveryKey(t *testing.T) {
	const path = "../../conf/gsched.conf.example"
	c, err := Load(path)
	if err != nil {
		t.Fatalf("the example config does not load: %v", err)
	}
	if c.Controller.NodeTimeout.Duration <= c.Controller.HeartbeatInterval.Duration {
		t.Fatalf("example timeouts make no sense: %+v", c.Controller)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	var missing []string
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			key := strings.Split(f.Tag.Get("toml"), ",")[0]
			if key == "" || key == "-" {
				continue
			}
			if !regexp.MustCompile(`(?m)^\s*#?\s*(\[\[?)?(\w+\.)?` + regexp.QuoteMeta(key) + `\b`).MatchString(text) {
				missing = append(missing, key)
			}
			ft := f.Type
			if ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(Duration{}) {
				walk(ft)
			}
		}
	}
	walk(reflect.TypeOf(Config{}))
	if len(missing) > 0 {
		t.Fatalf("keys not documented in %s: %v", path, missing)
	}
}
