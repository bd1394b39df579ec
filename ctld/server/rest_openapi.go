package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/openapi"
)

// The OpenAPI document of the REST API: schemas reflected from the wire
// types, operations described here. docs/openapi.json is a copy, which a
// test keeps equal (go test ./ctld/server -run TestOpenAPIDocInSync -update
// rewrites it).

// APIVersion is the REST API's version in the OpenAPI document.
const APIVersion = "1.0.0"

// restOp describes one operation of restRoutes.
type restOp struct {
	id, summary, desc string
	tag               string
	query             []openapi.Parameter
	body              any // request body type (nil: none)
	status            int // success status
	resp              any // success body type
}

func queryParam(name, desc string, s *openapi.Schema) openapi.Parameter {
	return openapi.Parameter{Name: name, In: "query", Description: desc, Schema: s}
}

// restOps describes restRoutes, by "METHOD pattern".
func restOps() map[string]restOp {
	str := &openapi.Schema{Type: "string"}
	return map[string]restOp{
		"GET /api/v1/jobs": {id: "listJobs", tag: "jobs", summary: "List jobs",
			desc: "Live jobs (PENDING, RUNNING, COMPLETING) by default, every user's, in job id order. " +
				"Other users' jobs come without script, arguments, environment, work dir and output paths unless the caller is an operator.",
			query: []openapi.Parameter{
				queryParam("state", "Job states, comma-separated or repeated (full names or gqueue's short codes); `all` includes finished jobs.", str),
				queryParam("user", "User names, comma-separated or repeated.", str),
				queryParam("partition", "Partition names, comma-separated or repeated.", str),
				queryParam("account", "Account names, comma-separated or repeated.", str),
				queryParam("limit", fmt.Sprintf("At most this many jobs (default %d, at most %d); `total` counts all that matched.", defaultJobLimit, maxJobLimit),
					&openapi.Schema{Type: "integer", Format: "int32"}),
			},
			status: http.StatusOK, resp: api.JobPage{}},
		"POST /api/v1/jobs": {id: "submitJob", tag: "jobs", summary: "Submit a job",
			desc: "The body is a job spec as `gsub --print-spec` prints it; work_dir (absolute) and script (starting with #!) are required. " +
				"The job runs as the caller. Accepted with a bearer token or on the Unix socket, never with the dashboard's cookie.",
			body: api.JobSpec{}, status: http.StatusCreated, resp: api.SubmitResponse{}},
		"GET /api/v1/jobs/{id}": {id: "getJob", tag: "jobs", summary: "Get one job",
			desc: "Finished jobs too, while they are kept (controller.job_retention).", status: http.StatusOK, resp: api.Job{}},
		"DELETE /api/v1/jobs/{id}": {id: "cancelJob", tag: "jobs", summary: "Cancel a job",
			desc: "As gcancel: the caller's own jobs, any job for operators; a job array's id cancels all its tasks. " +
				"Not with the dashboard's cookie.",
			status: http.StatusOK, resp: api.CancelResponse{}},
		"GET /api/v1/nodes": {id: "listNodes", tag: "nodes", summary: "List nodes",
			desc:   "Each node with its GPUs, what is allocated (alloc.gpus are GPU indices) and its sinfo-style display_state.",
			status: http.StatusOK, resp: api.NodePage{}},
		"GET /api/v1/nodes/{name}": {id: "getNode", tag: "nodes", summary: "Get one node", status: http.StatusOK, resp: api.NodeInfo{}},
		"GET /api/v1/partitions":   {id: "listPartitions", tag: "nodes", summary: "List partitions", status: http.StatusOK, resp: api.PartitionPage{}},
		"GET /api/v1/accounts": {id: "listAccounts", tag: "accounts", summary: "Fair-share tree",
			desc:   "Accounts and their users with shares, usage and fair-share factor, as gshare (sshare) shows them.",
			status: http.StatusOK, resp: api.ShareList{}},
		"GET /api/v1/cluster": {id: "getCluster", tag: "cluster", summary: "Cluster summary",
			desc:   "Nodes by state, CPUs, memory and GPUs (total and allocated), live jobs by state.",
			status: http.StatusOK, resp: api.ClusterSummary{}},
		"GET /api/v1/whoami": {id: "whoAmI", tag: "cluster", summary: "Who the controller takes the caller for",
			status: http.StatusOK, resp: api.WhoAmI{}},
		"POST /api/v1/login-links": {id: "createLoginLink", tag: "dashboard", summary: "A one-time dashboard login link",
			desc: "A link (valid for a minute, usable once) that logs a browser into the dashboard as the caller: with the caller's own " +
				"token, or on the Unix socket with a new token of the default lifespan (as `gcontrol token`).",
			status: http.StatusCreated, resp: api.LoginLink{}},
		"GET /api/v1/openapi.json": {id: "getOpenAPI", tag: "cluster", summary: "This document",
			status: http.StatusOK, resp: nil},
	}
}

// errorStatuses are the error answers every operation may give.
var errorStatuses = map[int]string{
	http.StatusBadRequest:            "Invalid request (code invalid)",
	http.StatusUnauthorized:          "No valid token (code unauthenticated)",
	http.StatusForbidden:             "Not allowed for the caller (code permission_denied)",
	http.StatusNotFound:              "No such job, node or resource (code not_found)",
	http.StatusConflict:              "The job is in a state that does not allow it (code conflict)",
	http.StatusRequestEntityTooLarge: "Body over 4 MiB (code too_large)",
	http.StatusServiceUnavailable:    "No leader just now, or the leader did not answer (codes no_leader, unavailable): retry",
	http.StatusInternalServerError:   "Internal error (code internal)",
}

// openAPIDoc builds the document (indented JSON, with a final newline).
func (s *Server) openAPIDoc() ([]byte, error) { return buildOpenAPI() }

func buildOpenAPI() ([]byte, error) {
	r := openapi.NewReflector()
	states := make([]string, len(api.AllJobStates))
	for i, st := range api.AllJobStates {
		states[i] = string(st)
	}
	r.Enum(api.JobState(""), states...)
	r.Enum(api.NodeState(""), string(api.NodeUp), string(api.NodeDown), string(api.NodeDrain))
	errSchema := r.Of(api.ErrorResponse{})
	doc := &openapi.Doc{
		OpenAPI: "3.0.3",
		Info: openapi.Info{Title: "gsched REST API", Version: APIVersion,
			Description: "The gsched controller's REST API, served on controller.user_listen and on its Unix socket under /api/v1. " +
				"Authenticate with a token from `gcontrol token` as `Authorization: Bearer JWT~SECRET` (over TLS or from loopback), " +
				"or on the Unix socket as yourself. Errors are {\"error\":{\"code\",\"message\"}}. See docs/API.md."},
		Paths: map[string]*openapi.PathItem{},
		Components: openapi.Components{Schemas: r.Schemas, SecuritySchemes: map[string]*openapi.SecurityScheme{
			"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "JWT~SECRET",
				Description: "A token printed by `gcontrol token` (the part after GSCHED_TOKEN=)."},
			"cookie": {Type: "apiKey", In: "cookie", Name: sessionCookie,
				Description: "The dashboard's session cookie (HttpOnly, SameSite=Strict); GET requests only."},
		}},
		Security: []map[string][]string{{"bearer": {}}, {"cookie": {}}},
		Tags:     []openapi.Tag{{Name: "jobs"}, {Name: "nodes"}, {Name: "accounts"}, {Name: "cluster"}, {Name: "dashboard"}},
	}
	ops := restOps()
	for _, rt := range restRoutes {
		key := rt.method + " " + rt.pattern
		o, ok := ops[key]
		if !ok {
			return nil, fmt.Errorf("openapi: route %s is not described", key)
		}
		op := &openapi.Operation{OperationID: o.id, Summary: o.summary, Description: o.desc, Tags: []string{o.tag},
			Parameters: o.query, Responses: map[string]*openapi.Response{}}
		for _, seg := range strings.Split(rt.pattern, "/") {
			if name, ok := strings.CutPrefix(seg, "{"); ok {
				name = strings.TrimSuffix(name, "}")
				ps := &openapi.Schema{Type: "string"}
				if name == "id" {
					zero := 1.0
					ps = &openapi.Schema{Type: "integer", Format: "int64", Minimum: &zero}
				}
				op.Parameters = append([]openapi.Parameter{{Name: name, In: "path", Required: true, Schema: ps}}, op.Parameters...)
			}
		}
		if rt.method != http.MethodGet {
			op.Security = []map[string][]string{{"bearer": {}}}
		}
		if o.body != nil {
			op.RequestBody = &openapi.RequestBody{Required: true, Content: openapi.JSON(r.Of(o.body))}
		}
		ok200 := &openapi.Response{Description: http.StatusText(o.status)}
		if o.resp != nil {
			ok200.Content = openapi.JSON(r.Of(o.resp))
		} else {
			ok200.Content = openapi.JSON(&openapi.Schema{Type: "object", Description: "An OpenAPI 3.0 document"})
		}
		op.Responses[fmt.Sprint(o.status)] = ok200
		for code, desc := range errorStatuses {
			op.Responses[fmt.Sprint(code)] = &openapi.Response{Description: desc, Content: openapi.JSON(errSchema)}
		}
		item := doc.Paths[rt.pattern]
		if item == nil {
			item = &openapi.PathItem{}
			doc.Paths[rt.pattern] = item
		}
		(*item)[strings.ToLower(rt.method)] = op
	}
	if len(ops) != len(restRoutes) {
		return nil, fmt.Errorf("openapi: %d operations described, %d routes", len(ops), len(restRoutes))
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return append(b, '\n'), nil
}
