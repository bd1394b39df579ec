package server

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/openapi"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json")

const openAPIFile = "../../docs/openapi.json"

// restCtl is a controller in process with user_listen on, two nodes, a
// running job of alice's (1) and a pending one of bob's (2).
type restCtl struct {
	*fuzzCtl
	alice, bob, root string // bearer tokens
}

func startRESTCtl(t *testing.T) *restCtl {
	t.Helper()
	dir := t.TempDir()
	cfg := fuzzConfig(dir)
	cfg.Controller.UserListen = "127.0.0.1:0"
	s, err := New(Options{Config: cfg, Key: fuzzKey})
	if err != nil {
		t.Fatal(err)
	}
	c := &restCtl{fuzzCtl: &fuzzCtl{s: s, dir: dir}}
	t.Cleanup(func() { s.remoteL.Close(); c.close() })
	for _, n := range []api.Node{
		{Name: "n1", CPUs: 16, MemBytes: 64 << 30, GPUs: []api.GPU{{Index: 0, Model: "A100"}, {Index: 1, Model: "A100"}}},
		{Name: "n2", CPUs: 8, MemBytes: 32 << 30},
	} {
		if _, err := s.registerNode(context.Background(), &api.RegisterRequest{Node: n}); err != nil {
			t.Fatal(err)
		}
	}
	for i, spec := range []api.JobSpec{
		{Name: "train", WorkDir: "/home/alice", Output: "/home/alice/out-%j", Script: "#!/bin/sh\nsecret-alice\n", GPUs: 1, Account: "ml"},
		{Name: "big", WorkDir: "/home/bob", Script: "#!/bin/sh\nsecret-bob\n", Env: []string{"K=v"}, NTasks: 16, Partition: "long", Hold: true},
	} {
		ctx := auth.WithPeer(context.Background(), fuzzUsers[i])
		if _, err := s.submit(ctx, &api.SubmitRequest{Spec: spec}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.schedulePass(); err != nil {
		t.Fatal(err)
	}
	tok := func(p auth.Peer) string {
		tk, _, err := s.tokens.Issue(auth.Identity{UID: p.UID, GID: p.GID, User: p.User}, "", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	c.alice, c.bob, c.root = tok(fuzzUsers[0]), tok(fuzzUsers[1]), tok(fuzzUsers[2])
	return c
}

// req describes one request to a REST route.
type req struct {
	method, path string
	body         string
	bearer       string     // over TCP with this token
	cookie       string     // over TCP with this session cookie
	peer         *auth.Peer // on the Unix socket as this caller
	remote       string     // client address (default loopback)
}

func (c *restCtl) do(t *testing.T, r req) *httptest.ResponseRecorder {
	t.Helper()
	hr := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	hr.RemoteAddr = "127.0.0.1:40000"
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.cookie != "" {
		hr.AddCookie(&http.Cookie{Name: sessionCookie, Value: r.cookie})
	}
	h := http.Handler(c.s.remoteSrv)
	if r.peer != nil {
		hr = hr.WithContext(auth.WithPeer(hr.Context(), *r.peer))
		h = c.s.userSrv
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, hr)
	return w
}

func TestOpenAPIDocInSync(t *testing.T) {
	doc, err := buildOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(openAPIFile, doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, file) {
		t.Fatalf("%s is stale: run go test ./ctld/server -run TestOpenAPIDocInSync -update", filepath.Base(openAPIFile))
	}
	c := startRESTCtl(t)
	w := c.do(t, req{method: "GET", path: "/api/v1/openapi.json", bearer: c.bob})
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), file) {
		t.Fatalf("served document (HTTP %d, %d bytes) differs from %s", w.Code, w.Body.Len(), openAPIFile)
	}
}

func loadDoc(t *testing.T) *openapi.Doc {
	t.Helper()
	b, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc openapi.Doc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return &doc
}

// Every route is in the checked-in document and every operation there is
// served: a request to it is not answered "no such resource" or 405.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc := loadDoc(t)
	described := map[string]bool{}
	for path, item := range doc.Paths {
		for method, op := range *item {
			if op.Summary == "" || op.Responses == nil {
				t.Errorf("%s %s: no summary or responses", method, path)
			}
			described[strings.ToUpper(method)+" "+path] = true
		}
	}
	for _, rt := range restRoutes {
		key := rt.method + " " + rt.pattern
		if !described[key] {
			t.Errorf("route %s is not in %s", key, openAPIFile)
		}
		delete(described, key)
	}
	for key := range described {
		t.Errorf("%s describes %s, which is not a route", openAPIFile, key)
	}
	c := startRESTCtl(t)
	for path, item := range doc.Paths {
		for method := range *item {
			p := strings.NewReplacer("{id}", "999", "{name}", "nosuchnode").Replace(path)
			w := c.do(t, req{method: strings.ToUpper(method), path: p, bearer: c.root, body: "{}"})
			if w.Code == http.StatusMethodNotAllowed || strings.Contains(w.Body.String(), "no such resource") {
				t.Errorf("%s %s: HTTP %d %s", method, p, w.Code, w.Body)
			}
		}
	}
}

// The answers of a real controller carry exactly the fields the schema
// declares, for each operation and for an error.
func TestRESTAnswersMatchSchema(t *testing.T) {
	c := startRESTCtl(t)
	doc := loadDoc(t)
	schemaOf := func(method, path string, code int) *openapi.Schema {
		op := (*doc.Paths[path])[strings.ToLower(method)]
		if op == nil {
			t.Fatalf("%s %s not in the document", method, path)
		}
		resp := op.Responses[strconv.Itoa(code)]
		if resp == nil {
			t.Fatalf("%s %s: no %d answer described", method, path, code)
		}
		return resp.Content["application/json"].Schema
	}
	tests := []struct {
		r       req
		pattern string
		code    int
	}{
		{req{method: "GET", path: "/api/v1/jobs?state=all", bearer: c.alice}, "/api/v1/jobs", 200},
		{req{method: "GET", path: "/api/v1/jobs?limit=1", peer: &fuzzUsers[1]}, "/api/v1/jobs", 200},
		{req{method: "GET", path: "/api/v1/jobs/1", bearer: c.alice}, "/api/v1/jobs/{id}", 200},
		{req{method: "GET", path: "/api/v1/jobs/2", bearer: c.alice}, "/api/v1/jobs/{id}", 200},
		{req{method: "GET", path: "/api/v1/nodes", bearer: c.alice}, "/api/v1/nodes", 200},
		{req{method: "GET", path: "/api/v1/nodes/n1", bearer: c.alice}, "/api/v1/nodes/{name}", 200},
		{req{method: "GET", path: "/api/v1/partitions", bearer: c.alice}, "/api/v1/partitions", 200},
		{req{method: "GET", path: "/api/v1/accounts", bearer: c.alice}, "/api/v1/accounts", 200},
		{req{method: "GET", path: "/api/v1/cluster", bearer: c.alice}, "/api/v1/cluster", 200},
		{req{method: "GET", path: "/api/v1/whoami", bearer: c.alice}, "/api/v1/whoami", 200},
		{req{method: "POST", path: "/api/v1/jobs", bearer: c.alice,
			body: `{"name":"rest","work_dir":"/home/alice","script":"#!/bin/sh\ntrue\n"}`}, "/api/v1/jobs", 201},
		{req{method: "DELETE", path: "/api/v1/jobs/1", bearer: c.alice}, "/api/v1/jobs/{id}", 200},
		{req{method: "POST", path: "/api/v1/login-links", bearer: c.alice}, "/api/v1/login-links", 201},
		{req{method: "GET", path: "/api/v1/jobs/77", bearer: c.alice}, "/api/v1/jobs/{id}", 404},
	}
	for _, tc := range tests {
		w := c.do(t, tc.r)
		if w.Code != tc.code {
			t.Errorf("%s %s: HTTP %d %s, want %d", tc.r.method, tc.r.path, w.Code, w.Body, tc.code)
			continue
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: content type %q", tc.r.method, tc.r.path, ct)
		}
		for _, err := range openapi.Validate(doc.Components.Schemas, schemaOf(tc.r.method, tc.pattern, tc.code), w.Body.Bytes()) {
			t.Errorf("%s %s: %v", tc.r.method, tc.r.path, err)
		}
	}
}

// Authentication and visibility: the API applies the RPCs' rules, and
// hides more of others' jobs (work dir, output paths).
func TestRESTAuthAndVisibility(t *testing.T) {
	c := startRESTCtl(t)
	tests := []struct {
		name     string
		r        req
		wantCode int
		want     []string // in the body
		notWant  []string
	}{
		{"no token", req{method: "GET", path: "/api/v1/jobs"}, 401, []string{`"code":"unauthenticated"`, "Bearer"}, nil},
		{"damaged token", req{method: "GET", path: "/api/v1/jobs", bearer: c.alice + "x"}, 401, []string{"unauthenticated"}, nil},
		{"JWT without secret", req{method: "GET", path: "/api/v1/jobs", bearer: strings.Split(c.alice, "~")[0]}, 401, []string{"invalid token"}, nil},
		{"bearer over plain HTTP from afar", req{method: "GET", path: "/api/v1/jobs", bearer: c.alice, remote: "192.0.2.7:5000"}, 403,
			[]string{"over TLS, or from loopback"}, nil},
		{"cookie may read", req{method: "GET", path: "/api/v1/whoami", cookie: c.alice}, 200, []string{`"user":"alice"`}, nil},
		{"cookie may not submit", req{method: "POST", path: "/api/v1/jobs", cookie: c.alice,
			body: `{"work_dir":"/home/alice","script":"#!/bin/sh\ntrue\n"}`}, 401, []string{"unauthenticated"}, nil},
		{"cookie may not cancel", req{method: "DELETE", path: "/api/v1/jobs/1", cookie: c.alice}, 401, nil, nil},
		{"own job in full", req{method: "GET", path: "/api/v1/jobs/1", bearer: c.alice}, 200,
			[]string{"secret-alice", `"work_dir":"/home/alice"`, "out-%j"}, nil},
		{"others' job without details", req{method: "GET", path: "/api/v1/jobs/2", bearer: c.alice}, 200,
			[]string{`"user":"bob"`, `"state":"PENDING"`}, []string{"secret-bob", "/home/bob", "K=v"}},
		{"others' jobs listed without details", req{method: "GET", path: "/api/v1/jobs", bearer: c.alice}, 200,
			[]string{`"total":2`, "secret-alice"}, []string{"secret-bob", "/home/bob"}},
		{"operator sees all", req{method: "GET", path: "/api/v1/jobs/2", bearer: c.root}, 200, []string{"secret-bob", "/home/bob", "K=v"}, nil},
		{"local caller sees own", req{method: "GET", path: "/api/v1/jobs/2", peer: &fuzzUsers[1]}, 200, []string{"secret-bob"}, nil},
		{"local caller not others'", req{method: "GET", path: "/api/v1/jobs/1", peer: &fuzzUsers[1]}, 200, nil, []string{"secret-alice"}},
		{"pending reason and priority", req{method: "GET", path: "/api/v1/jobs?state=PD", bearer: c.bob}, 200, []string{`"reason":"JobHeldUser"`}, nil},
		{"filters", req{method: "GET", path: "/api/v1/jobs?user=alice&partition=main&account=ml", bearer: c.bob}, 200,
			[]string{`"total":1`, `"name":"train"`}, []string{`"name":"big"`}},
		{"filter by other account", req{method: "GET", path: "/api/v1/jobs?account=nobody", bearer: c.bob}, 200, []string{`"total":0`, `"jobs":[]`}, nil},
		{"limit", req{method: "GET", path: "/api/v1/jobs?limit=1", bearer: c.bob}, 200, []string{`"total":2`, `"name":"train"`}, []string{`"name":"big"`}},
		{"unknown parameter", req{method: "GET", path: "/api/v1/jobs?usr=bob", bearer: c.bob}, 400, []string{`unknown query parameter \"usr\"`}, nil},
		{"bad state", req{method: "GET", path: "/api/v1/jobs?state=sleeping", bearer: c.bob}, 400, []string{"unknown job state"}, nil},
		{"bad id", req{method: "GET", path: "/api/v1/jobs/x1", bearer: c.bob}, 400, []string{"invalid job id"}, nil},
		{"no such job", req{method: "GET", path: "/api/v1/jobs/99", bearer: c.bob}, 404, []string{`"code":"not_found"`}, nil},
		{"no such node", req{method: "GET", path: "/api/v1/nodes/n9", bearer: c.bob}, 404, []string{"not_found"}, nil},
		{"node", req{method: "GET", path: "/api/v1/nodes/n1", bearer: c.bob}, 200, []string{`"name":"n1"`, `"A100"`}, nil},
		{"cancel another's job", req{method: "DELETE", path: "/api/v1/jobs/1", bearer: c.bob}, 403, []string{"permission_denied", "belongs to alice"}, nil},
		{"cancel a missing job", req{method: "DELETE", path: "/api/v1/jobs/99", bearer: c.bob}, 404, nil, nil},
		{"submit with an unknown field", req{method: "POST", path: "/api/v1/jobs", bearer: c.bob,
			body: `{"work_dir":"/home/bob","script":"#!/bin/sh\n","gpuz":1}`}, 400, []string{`unknown field \"gpuz\"`}, nil},
		{"submit without script", req{method: "POST", path: "/api/v1/jobs", bearer: c.bob, body: `{"work_dir":"/home/bob"}`}, 400,
			[]string{"no script"}, nil},
		{"wrong method", req{method: "PUT", path: "/api/v1/jobs/1", bearer: c.bob}, 405, []string{"allowed: GET, DELETE"}, nil},
		{"unknown resource", req{method: "GET", path: "/api/v1/queues", bearer: c.bob}, 404, []string{"no such resource"}, nil},
		{"cluster summary", req{method: "GET", path: "/api/v1/cluster", bearer: c.bob}, 200,
			[]string{`"node_count":2`, `"gpus":2`, `"gpus_alloc":1`, `"PENDING":1`, `"RUNNING":1`}, nil},
		{"partitions", req{method: "GET", path: "/api/v1/partitions", bearer: c.bob}, 200, []string{`"name":"main"`, `"name":"long"`}, nil},
		{"accounts", req{method: "GET", path: "/api/v1/accounts", bearer: c.bob}, 200, []string{`"account":"ml"`, `"user":"alice"`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := c.do(t, tc.r)
			body := w.Body.String()
			if w.Code != tc.wantCode {
				t.Fatalf("HTTP %d %s, want %d", w.Code, body, tc.wantCode)
			}
			for _, s := range tc.want {
				if !strings.Contains(body, s) {
					t.Errorf("answer lacks %q: %s", s, body)
				}
			}
			for _, s := range tc.notWant {
				if strings.Contains(body, s) {
					t.Errorf("answer shows %q: %s", s, body)
				}
			}
		})
	}
	// The successful submit and cancel really happened, as their caller.
	w := c.do(t, req{method: "POST", path: "/api/v1/jobs", bearer: c.bob, body: `{"work_dir":"/home/bob","script":"#!/bin/sh\ntrue\n","hold":true}`})
	var sr api.SubmitResponse
	if w.Code != 201 || json.Unmarshal(w.Body.Bytes(), &sr) != nil || w.Header().Get("Location") != "/api/v1/jobs/"+sr.JobID.String() {
		t.Fatalf("submit: HTTP %d %s, Location %q", w.Code, w.Body, w.Header().Get("Location"))
	}
	if j := c.s.Snapshot().Job(nil, sr.JobID); j == nil || j.User != "bob" || j.UID != 1001 {
		t.Fatalf("submitted job %+v, want bob's", j)
	}
	if w := c.do(t, req{method: "DELETE", path: "/api/v1/jobs/" + sr.JobID.String(), bearer: c.bob}); w.Code != 200 {
		t.Fatalf("cancel: HTTP %d %s", w.Code, w.Body)
	}
	if j := c.s.Snapshot().Job(nil, sr.JobID); j.State != api.StateCancelled {
		t.Fatalf("cancelled job is %s", j.State)
	}
}

func TestParseJobQuery(t *testing.T) {
	tests := []struct {
		query   string
		want    jobQuery
		wantErr string
	}{
		{"", jobQuery{limit: defaultJobLimit}, ""},
		{"state=pd,R&state=running", jobQuery{filter: api.JobFilter{States: []api.JobState{api.StatePending, api.StateRunning}}, limit: defaultJobLimit}, ""},
		{"state=all", jobQuery{filter: api.JobFilter{IncludeFinished: true}, limit: defaultJobLimit}, ""},
		{"user=a,b&user=b&partition=p&account=x,,y&limit=5",
			jobQuery{filter: api.JobFilter{Users: []string{"a", "b"}, Partitions: []string{"p"}}, accounts: []string{"x", "y"}, limit: 5}, ""},
		{"state=all,PD", jobQuery{}, "do not mix"},
		{"limit=0", jobQuery{}, "limit must be"},
		{"limit=100001", jobQuery{}, "limit must be"},
		{"limit=ten", jobQuery{}, "limit must be"},
		{"user=a%07b", jobQuery{}, "control character"},
		{"id=3", jobQuery{}, "unknown query parameter"},
		{"state=zombie", jobQuery{}, "unknown job state"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseJobQuery(v)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || api.CodeOf(err) != api.CodeInvalid {
					t.Fatalf("error %v, want %q (invalid)", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gb, _ := json.Marshal([]any{got.filter, got.accounts, got.limit})
			wb, _ := json.Marshal([]any{tc.want.filter, tc.want.accounts, tc.want.limit})
			if !bytes.Equal(gb, wb) {
				t.Fatalf("got %s, want %s", gb, wb)
			}
		})
	}
}

// FuzzParseJobQuery: any query string gives a filter or an invalid-request
// error with a short one-line message.
func FuzzParseJobQuery(f *testing.F) {
	for _, s := range []string{"state=all", "user=a,b&limit=3", "state=PD,R&partition=x", "limit=-1", "x=%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseJobQuery(v)
		if err != nil {
			if api.CodeOf(err) != api.CodeInvalid || strings.Contains(err.Error(), "\n") || len(err.Error()) > maxErrorLen {
				t.Fatalf("error %q", err)
			}
			return
		}
		if q.limit < 1 || q.limit > maxJobLimit || (q.filter.IncludeFinished && len(q.filter.States) > 0) {
			t.Fatalf("accepted %q as %+v", raw, q)
		}
	})
}
