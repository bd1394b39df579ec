package rpc

import (
	"encoding/json"

	gojson "github.com/goccy/go-json"
)

// Answers are the large side of the RPC traffic: a listing of 10,000 jobs
// is 7 MB of JSON, which encoding/json decoded in 203 ms and goccy/go-json
// (a drop-in, encoding/json-compatible codec) in 46 ms
// (BenchmarkGqueueRender). Clients decode answers with it. The server
// still encodes them with encoding/json: goccy was no faster there (its
// omitzero support checks each field by reflection) and encoding/json's
// bytes are the reference the differential tests compare against.
// Requests keep encoding/json both ways, for the strict decoding
// (unknown fields, trailing data) the server and its fuzz targets rely on.

func encodeAnswer(v any) ([]byte, error) { return json.Marshal(v) }

func decodeAnswer(data []byte, v any) error { return gojson.Unmarshal(data, v) }

// Raw is an answer sent as it is, as text, instead of as JSON: a handler
// returns it, and a caller passes a *Raw to receive it. gqueue's listing
// laid out by the controller is 8 MB of text for 100,000 jobs, which JSON
// would take ~30 ms to encode and ~50 ms to decode (goccy/go-json) for
// nothing.
type Raw []byte

const rawContentType = "text/plain; charset=utf-8"
