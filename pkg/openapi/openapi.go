// Package openapi writes OpenAPI 3.0 documents whose schemas come from Go
// types by reflection (the JSON that encoding/json makes of them), and
// checks JSON values against those schemas. It covers what gsched's wire
// types use: structs with json tags (embedded structs flattened), named
// scalars, slices, maps with string or integer keys, pointers and
// time.Time. It is small on purpose: the libraries that do this (kin-openapi,
// swaggest) bring half a dozen modules for features gsched does not need.
package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Doc is an OpenAPI 3.0 document (the parts gsched uses).
type Doc struct {
	OpenAPI    string                `json:"openapi"`
	Info       Info                  `json:"info"`
	Paths      map[string]*PathItem  `json:"paths"`
	Components Components            `json:"components"`
	Security   []map[string][]string `json:"security,omitempty"`
	Tags       []Tag                 `json:"tags,omitempty"`
}

// Info describes the API.
type Info struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

// Tag groups operations.
type Tag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// PathItem holds a path's operations by lower-case method.
type PathItem map[string]*Operation

// Operation is one method on one path.
type Operation struct {
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary"`
	Description string                `json:"description,omitempty"`
	Tags        []string              `json:"tags,omitempty"`
	Parameters  []Parameter           `json:"parameters,omitempty"`
	RequestBody *RequestBody          `json:"requestBody,omitempty"`
	Responses   map[string]*Response  `json:"responses"`
	Security    []map[string][]string `json:"security,omitempty"`
}

// Parameter is a path or query parameter.
type Parameter struct {
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Description string  `json:"description,omitempty"`
	Required    bool    `json:"required,omitempty"`
	Schema      *Schema `json:"schema"`
}

// RequestBody is an operation's JSON body.
type RequestBody struct {
	Required bool                 `json:"required"`
	Content  map[string]MediaType `json:"content"`
}

// Response is one status code's answer.
type Response struct {
	Description string               `json:"description"`
	Content     map[string]MediaType `json:"content,omitempty"`
}

// MediaType carries a schema.
type MediaType struct {
	Schema *Schema `json:"schema"`
}

// Components holds the named schemas and security schemes.
type Components struct {
	Schemas         map[string]*Schema         `json:"schemas"`
	SecuritySchemes map[string]*SecurityScheme `json:"securitySchemes,omitempty"`
}

// SecurityScheme is an authentication method.
type SecurityScheme struct {
	Type         string `json:"type"`
	Scheme       string `json:"scheme,omitempty"`
	BearerFormat string `json:"bearerFormat,omitempty"`
	In           string `json:"in,omitempty"`
	Name         string `json:"name,omitempty"`
	Description  string `json:"description,omitempty"`
}

// Schema is an OpenAPI 3.0 schema object (a subset).
type Schema struct {
	Ref         string             `json:"$ref,omitempty"`
	AllOf       []*Schema          `json:"allOf,omitempty"`
	Type        string             `json:"type,omitempty"`
	Format      string             `json:"format,omitempty"`
	Description string             `json:"description,omitempty"`
	Nullable    bool               `json:"nullable,omitempty"`
	Enum        []string           `json:"enum,omitempty"`
	Minimum     *float64           `json:"minimum,omitempty"`
	Items       *Schema            `json:"items,omitempty"`
	Properties  map[string]*Schema `json:"properties,omitempty"`
	Required    []string           `json:"required,omitempty"`
	// AdditionalProperties is a map's value schema; Closed (with
	// Properties) says no other property may appear.
	AdditionalProperties *Schema `json:"-"`
	Closed               bool    `json:"-"`
}

// MarshalJSON writes additionalProperties as a schema or false.
func (s Schema) MarshalJSON() ([]byte, error) {
	type plain Schema
	b, err := json.Marshal(plain(s))
	if err != nil {
		return nil, err
	}
	var extra []byte
	switch {
	case s.AdditionalProperties != nil:
		ap, err := json.Marshal(s.AdditionalProperties)
		if err != nil {
			return nil, err
		}
		extra = append([]byte(`"additionalProperties":`), ap...)
	case s.Closed:
		extra = []byte(`"additionalProperties":false`)
	default:
		return b, nil
	}
	if bytes.Equal(b, []byte("{}")) {
		return append(append([]byte("{"), extra...), '}'), nil
	}
	return append(append(append(b[:len(b)-1], ','), extra...), '}'), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Schema) UnmarshalJSON(b []byte) error {
	type plain Schema
	var raw struct {
		plain
		AP json.RawMessage `json:"additionalProperties"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*s = Schema(raw.plain)
	switch ap := bytes.TrimSpace(raw.AP); {
	case len(ap) == 0 || string(ap) == "true":
	case string(ap) == "false":
		s.Closed = true
	default:
		s.AdditionalProperties = new(Schema)
		if err := json.Unmarshal(ap, s.AdditionalProperties); err != nil {
			return fmt.Errorf("additionalProperties: %w", err)
		}
	}
	return nil
}

// JSON is the schema for a JSON body.
func JSON(s *Schema) map[string]MediaType {
	return map[string]MediaType{"application/json": {Schema: s}}
}
