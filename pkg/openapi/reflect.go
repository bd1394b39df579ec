package openapi

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Reflector turns Go types into schemas: every named struct becomes a
// component (referenced by $ref), everything else is inline. A field is
// required when encoding/json always writes it: no omitempty (or
// omitempty on a struct, which encoding/json never omits) and no
// omitzero. Slices, maps and pointers that encoding/json may write as
// null are nullable, unless tagged `openapi:"nonnull"` (a pointer the
// server always sets).
type Reflector struct {
	// Schemas are the components so far, by type name.
	Schemas map[string]*Schema
	enums   map[reflect.Type][]string
	descs   map[reflect.Type]string
	types   map[string]reflect.Type
	errs    []error
}

// NewReflector returns an empty reflector.
func NewReflector() *Reflector {
	return &Reflector{Schemas: map[string]*Schema{}, enums: map[reflect.Type][]string{},
		descs: map[reflect.Type]string{}, types: map[string]reflect.Type{}}
}

// Enum declares the values of a named string type (of v).
func (r *Reflector) Enum(v any, values ...string) {
	r.enums[reflect.TypeOf(v)] = values
}

// Describe sets the description of the schema of v's type.
func (r *Reflector) Describe(v any, desc string) {
	r.descs[reflect.TypeOf(v)] = desc
}

// Err reports the types that could not be described (two types of one
// name, an unsupported kind).
func (r *Reflector) Err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("openapi: %w", r.errs[0])
}

// Of returns the schema of v's type (a $ref for a named struct).
func (r *Reflector) Of(v any) *Schema { return r.schema(reflect.TypeOf(v)) }

var timeType = reflect.TypeOf(time.Time{})

func (r *Reflector) schema(t reflect.Type) *Schema {
	if t == timeType {
		return &Schema{Type: "string", Format: "date-time"}
	}
	if vals, ok := r.enums[t]; ok {
		return &Schema{Type: "string", Enum: vals, Description: r.descs[t]}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := r.schema(t.Elem())
		if s.Ref != "" {
			// OpenAPI 3.0 ignores the siblings of a $ref: wrap it.
			return &Schema{Nullable: true, AllOf: []*Schema{s}}
		}
		s.Nullable = true
		return s
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32:
		return &Schema{Type: "integer", Format: "int32"}
	case reflect.Int64:
		return &Schema{Type: "integer", Format: "int64"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		zero := 0.0
		f := "int64"
		if t.Kind() != reflect.Uint64 && t.Kind() != reflect.Uint {
			f = "int32"
		}
		return &Schema{Type: "integer", Format: f, Minimum: &zero}
	case reflect.Float32, reflect.Float64:
		return &Schema{Type: "number", Format: "double"}
	case reflect.String:
		return &Schema{Type: "string"}
	case reflect.Slice, reflect.Array:
		return &Schema{Type: "array", Items: r.schema(t.Elem())}
	case reflect.Map:
		switch t.Key().Kind() {
		case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		default:
			r.errs = append(r.errs, fmt.Errorf("%s: map key %s cannot be a JSON object key", t, t.Key()))
		}
		return &Schema{Type: "object", AdditionalProperties: r.schema(t.Elem())}
	case reflect.Interface:
		return &Schema{}
	case reflect.Struct:
		if t.Name() == "" {
			return r.object(t)
		}
		name := t.Name()
		if prev, ok := r.types[name]; ok && prev != t {
			r.errs = append(r.errs, fmt.Errorf("two types named %s: %s and %s", name, prev, t))
		}
		if _, ok := r.Schemas[name]; !ok {
			r.types[name] = t
			r.Schemas[name] = &Schema{} // a placeholder, for recursive types
			s := r.object(t)
			s.Description = r.descs[t]
			r.Schemas[name] = s
		}
		return &Schema{Ref: "#/components/schemas/" + name}
	}
	r.errs = append(r.errs, fmt.Errorf("%s: kind %s has no JSON form", t, t.Kind()))
	return &Schema{}
}

// object describes a struct's fields as encoding/json writes them.
func (r *Reflector) object(t reflect.Type) *Schema {
	s := &Schema{Type: "object", Properties: map[string]*Schema{}, Closed: true}
	r.fields(t, s)
	slices.Sort(s.Required)
	return s
}

func (r *Reflector) fields(t reflect.Type, s *Schema) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				r.fields(ft, s)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs := r.schema(f.Type)
		if f.Type.Kind() == reflect.Pointer && f.Tag.Get("openapi") == "nonnull" {
			// A pointer the server always sets: described as its target.
			fs = r.schema(f.Type.Elem())
		}
		omitEmpty, omitZero := hasOpt(opts, "omitempty"), hasOpt(opts, "omitzero")
		switch k := f.Type.Kind(); {
		case omitZero:
		case omitEmpty && k != reflect.Struct:
		default:
			s.Required = append(s.Required, name)
			if (k == reflect.Slice || k == reflect.Map) && fs.Ref == "" {
				fs.Nullable = true // a nil slice or map is written as null
			}
		}
		s.Properties[name] = fs
	}
}

func hasOpt(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}
