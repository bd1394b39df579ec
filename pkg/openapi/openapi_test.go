package openapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

type color string

type inner struct {
	N int `json:"n"`
}

type base struct {
	ID   uint64 `json:"id"`
	Name string `json:"name,omitempty"`
}

type outer struct {
	base
	Color   color            `json:"color"`
	When    time.Time        `json:"when,omitempty"` // omitempty never omits a struct
	Later   time.Time        `json:"later,omitzero"`
	Tags    []string         `json:"tags"`
	Opt     []int            `json:"opt,omitempty"`
	Counts  map[string]int64 `json:"counts,omitempty"`
	ByIndex map[int][]int    `json:"by_index,omitempty"`
	In      inner            `json:"in"`
	Ptr     *inner           `json:"ptr,omitempty"`
	Ratio   float64          `json:"ratio"`
	On      bool             `json:"on,omitempty"`
	Skipped string           `json:"-"`
	hidden  int
}

func reflected(t *testing.T) (*Reflector, *Schema) {
	t.Helper()
	r := NewReflector()
	r.Enum(color(""), "red", "green")
	s := r.Of(outer{})
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return r, s
}

func TestReflectorSchema(t *testing.T) {
	r, s := reflected(t)
	if s.Ref != "#/components/schemas/outer" {
		t.Fatalf("ref %q", s.Ref)
	}
	o := r.Schemas["outer"]
	wantReq := []string{"color", "id", "in", "ratio", "tags", "when"}
	if !reflect.DeepEqual(o.Required, wantReq) {
		t.Errorf("required %v, want %v", o.Required, wantReq)
	}
	var names []string
	for k := range o.Properties {
		names = append(names, k)
	}
	if len(names) != 13 || o.Properties["Skipped"] != nil || o.Properties["hidden"] != nil {
		t.Errorf("properties %v", names)
	}
	tests := []struct {
		prop string
		want string
	}{
		{"id", `{"type":"integer","format":"int64","minimum":0}`},
		{"color", `{"type":"string","enum":["red","green"]}`},
		{"when", `{"type":"string","format":"date-time"}`},
		{"tags", `{"type":"array","nullable":true,"items":{"type":"string"}}`},
		{"opt", `{"type":"array","items":{"type":"integer","format":"int32"}}`},
		{"counts", `{"type":"object","additionalProperties":{"type":"integer","format":"int64"}}`},
		{"by_index", `{"type":"object","additionalProperties":{"type":"array","items":{"type":"integer","format":"int32"}}}`},
		{"in", `{"$ref":"#/components/schemas/inner"}`},
		{"ptr", `{"allOf":[{"$ref":"#/components/schemas/inner"}],"nullable":true}`},
		{"ratio", `{"type":"number","format":"double"}`},
	}
	for _, tc := range tests {
		b, err := json.Marshal(o.Properties[tc.prop])
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%s: %s\nwant %s", tc.prop, b, tc.want)
		}
	}
	b, err := json.Marshal(r.Schemas["inner"])
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"object","properties":{"n":{"type":"integer","format":"int32"}},"required":["n"],"additionalProperties":false}`; string(b) != want {
		t.Errorf("inner: %s\nwant %s", b, want)
	}
}

func TestReflectorErrors(t *testing.T) {
	type badKey struct {
		M map[[2]int]int `json:"m"`
	}
	type fn struct {
		F func() `json:"f"`
	}
	for _, v := range []any{badKey{}, fn{}} {
		r := NewReflector()
		r.Of(v)
		if r.Err() == nil {
			t.Errorf("%T: no error", v)
		}
	}
}

func TestSchemaJSONRoundTrip(t *testing.T) {
	r, _ := reflected(t)
	b, err := json.Marshal(r.Schemas)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]*Schema
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r.Schemas) {
		b2, _ := json.Marshal(back)
		t.Fatalf("round trip changed the schemas:\n%s\n%s", b, b2)
	}
}

func TestValidate(t *testing.T) {
	r, s := reflected(t)
	good, err := json.Marshal(outer{base: base{ID: 7}, Color: "red", Tags: []string{"a"}, Ptr: &inner{N: 1},
		Counts: map[string]int64{"x": 1}, ByIndex: map[int][]int{0: {1}}})
	if err != nil {
		t.Fatal(err)
	}
	nilSlices, err := json.Marshal(outer{Color: "green"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the errors, in order
	}{
		{"encoded value", string(good), nil},
		{"nil slices are null", string(nilSlices), nil},
		{"missing required", `{"id":1,"color":"red","when":"2025-01-01T00:00:00Z","tags":[],"in":{"n":1}}`,
			[]string{`$: required property "ratio" is missing`}},
		{"undeclared property", `{"id":1,"color":"red","when":"2025-01-01T00:00:00Z","tags":[],"in":{"n":1,"m":2},"ratio":1}`,
			[]string{`$.in: property "m" is not in the schema`}},
		{"wrong types", `{"id":-1,"color":"blue","when":"yesterday","tags":[1],"in":{"n":1.5},"ratio":"x","on":1,"ptr":null}`,
			[]string{`$.color: "blue" is not one of`, `$.id: -1 is below the minimum`, `$.in.n: 1.5 is not an integer`,
				`$.on: json.Number, want a boolean`, `$.ratio: string, want a number`, `$.tags[0]: json.Number, want a string`,
				`$.when: "yesterday" is not an RFC 3339`}},
		{"null where not nullable", `{"id":1,"color":"red","when":"2025-01-01T00:00:00Z","tags":null,"in":null,"ratio":1}`,
			[]string{`$.in: null, want object`}},
		{"map values checked", `{"id":1,"color":"red","when":"2025-01-01T00:00:00Z","tags":null,"in":{"n":1},"ratio":1,"counts":{"a":"b"}}`,
			[]string{`$.counts.a: string, want a integer`}},
		{"not an object", `[1]`, []string{`$: []interface {}, want an object`}},
		{"not JSON", `{`, []string{`$: not JSON`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := Validate(r.Schemas, s, []byte(tc.doc))
			if len(errs) != len(tc.want) {
				t.Fatalf("errors %v, want %d like %q", errs, len(tc.want), tc.want)
			}
			for i, e := range errs {
				if !strings.Contains(e.Error(), tc.want[i]) {
					t.Errorf("error %d: %q, want %q", i, e, tc.want[i])
				}
			}
		})
	}
}

// FuzzValidate: any bytes against a real schema never panic.
func FuzzValidate(f *testing.F) {
	r := NewReflector()
	r.Enum(color(""), "red", "green")
	s := r.Of(outer{})
	f.Add([]byte(`{"id":1,"in":{"n":1},"counts":{"a":1},"ptr":{"n":2},"tags":["x"]}`))
	f.Add([]byte(`[[[[[[[[[]]]]]]]]]`))
	f.Add([]byte(`{"id":1e400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, err := range Validate(r.Schemas, s, data) {
			if !strings.HasPrefix(err.Error(), "$") {
				t.Fatalf("error without a path: %v", err)
			}
		}
	})
}

// A pointer tagged openapi:"nonnull" is described as its target: required
// and not nullable, so that a null there fails validation.
func TestReflectorNonNullPointer(t *testing.T) {
	type holder struct {
		Set *inner `json:"set" openapi:"nonnull"`
		Opt *inner `json:"opt"`
	}
	r := NewReflector()
	s := r.Of(holder{})
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	h := r.Schemas["holder"]
	if !reflect.DeepEqual(h.Required, []string{"opt", "set"}) {
		t.Errorf("required %v", h.Required)
	}
	for prop, want := range map[string]string{
		"set": `{"$ref":"#/components/schemas/inner"}`,
		"opt": `{"allOf":[{"$ref":"#/components/schemas/inner"}],"nullable":true}`,
	} {
		b, err := json.Marshal(h.Properties[prop])
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("%s: %s\nwant %s", prop, b, want)
		}
	}
	if errs := Validate(r.Schemas, s, []byte(`{"set":null,"opt":null}`)); len(errs) != 1 || !strings.Contains(errs[0].Error(), "$.set: null") {
		t.Errorf("null for a nonnull pointer: errors %v", errs)
	}
	if errs := Validate(r.Schemas, s, []byte(`{"set":{"n":1},"opt":null}`)); len(errs) != 0 {
		t.Errorf("valid value: errors %v", errs)
	}
}
