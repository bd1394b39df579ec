package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// Validate checks a JSON document against schema s, resolving $refs in
// schemas (the document's components): types, formats of date-times and
// integers, enums, required properties, and no property that a closed
// object does not declare. It returns every mismatch, each with its JSON
// path ("$.jobs[0].spec.name").
func Validate(schemas map[string]*Schema, s *Schema, data []byte) []error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []error{fmt.Errorf("$: not JSON: %w", err)}
	}
	c := &checker{schemas: schemas}
	c.check("$", s, v)
	return c.errs
}

type checker struct {
	schemas map[string]*Schema
	errs    []error
	depth   int
}

func (c *checker) fail(path, format string, a ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, a...)))
}

func (c *checker) check(path string, s *Schema, v any) {
	if s == nil {
		return
	}
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > 64 {
		c.fail(path, "nested too deeply")
		return
	}
	if s.Ref != "" {
		name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/")
		target := c.schemas[name]
		if !ok || target == nil {
			c.fail(path, "unresolved $ref %q", s.Ref)
			return
		}
		c.check(path, target, v)
		return
	}
	if v == nil {
		if !s.Nullable && (s.Type != "" || len(s.AllOf) > 0) {
			c.fail(path, "null, want %s", c.what(s))
		}
		return
	}
	for _, sub := range s.AllOf {
		c.check(path, sub, v)
	}
	switch s.Type {
	case "":
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			c.fail(path, "%T, want an object", v)
			return
		}
		for _, r := range s.Required {
			if _, ok := m[r]; !ok {
				c.fail(path, "required property %q is missing", r)
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := path + "." + k
			switch ps, declared := s.Properties[k]; {
			case declared:
				c.check(p, ps, m[k])
			case s.AdditionalProperties != nil:
				c.check(p, s.AdditionalProperties, m[k])
			case s.Closed:
				c.fail(path, "property %q is not in the schema", k)
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			c.fail(path, "%T, want an array", v)
			return
		}
		for i, e := range a {
			c.check(fmt.Sprintf("%s[%d]", path, i), s.Items, e)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			c.fail(path, "%T, want a string", v)
			return
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
			c.fail(path, "%q is not one of %v", str, s.Enum)
		}
		if s.Format == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				c.fail(path, "%q is not an RFC 3339 date-time", str)
			}
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			c.fail(path, "%T, want a %s", v, s.Type)
			return
		}
		f, _, err := big.ParseFloat(string(n), 10, 128, big.ToNearestEven)
		if err != nil {
			c.fail(path, "%s is not a number", n)
			return
		}
		if s.Type == "integer" && !f.IsInt() {
			c.fail(path, "%s is not an integer", n)
		}
		if s.Minimum != nil && f.Cmp(big.NewFloat(*s.Minimum)) < 0 {
			c.fail(path, "%s is below the minimum %g", n, *s.Minimum)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			c.fail(path, "%T, want a boolean", v)
		}
	default:
		c.fail(path, "schema type %q is unknown", s.Type)
	}
}

func (c *checker) what(s *Schema) string {
	if s.Type != "" {
		return s.Type
	}
	return "a value"
}
