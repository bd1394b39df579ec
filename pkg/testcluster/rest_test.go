package testcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/openapi"
)

// restClient talks to the controller's user address with a bearer token.
type restClient struct {
	t     *testing.T
	base  string
	token string
}

func (rc *restClient) do(method, path string, body any, out any) (int, []byte) {
	rc.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			rc.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, rc.base+path, rd)
	if err != nil {
		rc.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+rc.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		rc.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		rc.t.Fatal(err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			rc.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return resp.StatusCode, data
}

// The REST API on a real cluster, over TCP with a token from `gcontrol
// token`: nobody submits a job that runc runs as nobody, lists and reads
// it, sees root's job without its details, cancels their own; every
// answer carries exactly the fields docs/openapi.json declares.
func TestRESTAPIOnCluster(t *testing.T) {
	c := Start(t, Options{GPUsPerNode: 2})
	dir := c.WorkDir(nobody, nobody)
	rc := &restClient{t: t, base: "http://" + c.UserAddr, token: getToken(t, c, nobody, dir)}
	held := c.Submit(api.JobSpec{Name: "roots-held", Hold: true, Script: "#!/bin/sh\nroot-secret\n"})

	var sub api.SubmitResponse
	code, body := rc.do("POST", "/api/v1/jobs", api.JobSpec{Name: "rest-job", WorkDir: dir, GPUs: 1, MemBytes: 64 << 20,
		Script: "#!/bin/sh\nid -u > uid.txt\nsleep 60\n"}, &sub)
	if code != http.StatusCreated || sub.JobID == 0 {
		t.Fatalf("submit: HTTP %d %s", code, body)
	}
	j := c.WaitFor(sub.JobID, 30*time.Second, func(j api.Job) bool { return j.State == api.StateRunning })
	if j.User != "nobody" || len(j.Allocs) != 1 || len(j.Allocs[0].GPUs) != 1 {
		t.Fatalf("job %+v, want nobody's with one GPU", j)
	}

	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out, err := os.ReadFile(filepath.Join(dir, "uid.txt"))
		if err == nil && string(out) == "65534\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job wrote uid %q (%v), want nobody's 65534", out, err)
		}
	}

	raw, err := os.ReadFile("../../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc openapi.Doc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		path, pattern string
		want          []string
		notWant       []string
	}{
		{"/api/v1/jobs", "/api/v1/jobs", []string{`"name":"rest-job"`, `"name":"roots-held"`, `"reason":"JobHeldUser"`}, []string{"root-secret"}},
		{"/api/v1/jobs/" + sub.JobID.String(), "/api/v1/jobs/{id}", []string{`"state":"RUNNING"`, "sleep 60", dir}, nil},
		{"/api/v1/jobs/" + held.String(), "/api/v1/jobs/{id}", []string{`"user":"root"`}, []string{"root-secret", `"work_dir":"/`}},
		{"/api/v1/nodes", "/api/v1/nodes", []string{`"name":"n1"`, `"fake-gpu"`}, nil},
		{"/api/v1/nodes/n1", "/api/v1/nodes/{name}", []string{`"display_state":"MIXED"`}, nil},
		{"/api/v1/partitions", "/api/v1/partitions", []string{`"name":"main"`}, nil},
		{"/api/v1/accounts", "/api/v1/accounts", []string{`"rows"`}, nil},
		{"/api/v1/cluster", "/api/v1/cluster", []string{`"gpus":2`, `"gpus_alloc":1`, `"RUNNING":1`, `"PENDING":1`}, nil},
		{"/api/v1/whoami", "/api/v1/whoami", []string{`"user":"nobody"`, `"operator":false`}, nil},
	}
	for _, ch := range checks {
		code, body := rc.do("GET", ch.path, nil, nil)
		if code != 200 {
			t.Errorf("GET %s: HTTP %d %s", ch.path, code, body)
			continue
		}
		for _, s := range ch.want {
			if !strings.Contains(string(body), s) {
				t.Errorf("GET %s lacks %q: %s", ch.path, s, body)
			}
		}
		for _, s := range ch.notWant {
			if strings.Contains(string(body), s) {
				t.Errorf("GET %s shows %q: %s", ch.path, s, body)
			}
		}
		schema := (*doc.Paths[ch.pattern])["get"].Responses["200"].Content["application/json"].Schema
		for _, err := range openapi.Validate(doc.Components.Schemas, schema, body) {
			t.Errorf("GET %s: %v", ch.path, err)
		}
	}
	if code, body := rc.do("DELETE", "/api/v1/jobs/"+held.String(), nil, nil); code != http.StatusForbidden || !strings.Contains(string(body), "permission_denied") {
		t.Errorf("nobody cancelling root's job: HTTP %d %s", code, body)
	}
	if code, body := rc.do("DELETE", "/api/v1/jobs/"+sub.JobID.String(), nil, nil); code != 200 {
		t.Fatalf("cancel: HTTP %d %s", code, body)
	}
	if j := c.WaitJob(sub.JobID, 30*time.Second); j.State != api.StateCancelled {
		t.Fatalf("cancelled job ended %s", j.State)
	}
}

// chromium finds the browser, or skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH: apt-get install chromium (make test-deps) to test the dashboard in a browser")
	return ""
}

// dumpDOM loads url in headless chromium (a fresh profile) and returns
// the DOM after the page's scripts ran for a few (virtual) seconds.
func dumpDOM(t *testing.T, browser, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--user-data-dir="+t.TempDir(), "--virtual-time-budget=5000", "--dump-dom", url)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, errb.String())
	}
	return out.String()
}

// The dashboard in a real browser: a one-time login link (from the REST
// API with nobody's token) sets the session cookie, the pages load, and
// their script refreshes the tables from the REST API.
func TestDashboardInChromium(t *testing.T) {
	browser := chromium(t)
	c := Start(t, Options{GPUsPerNode: 2})
	dir := c.WorkDir(nobody, nobody)
	rc := &restClient{t: t, base: "http://" + c.UserAddr, token: getToken(t, c, nobody, dir)}
	var sub api.SubmitResponse
	if code, body := rc.do("POST", "/api/v1/jobs", api.JobSpec{Name: "dash-job", WorkDir: dir, GPUs: 1, MemBytes: 64 << 20,
		Script: "#!/bin/sh\nsleep 60\n"}, &sub); code != http.StatusCreated {
		t.Fatalf("submit: HTTP %d %s", code, body)
	}
	c.WaitFor(sub.JobID, 30*time.Second, func(j api.Job) bool { return j.State == api.StateRunning })
	held := c.Submit(api.JobSpec{Name: "held-job", Hold: true, Script: "#!/bin/sh\ntrue\n"})
	// A node with NVML GPUs reports their usage; n1's declared GPUs have none.
	nvmlNode(t, c, "nv1", 2, []api.GPUUsage{{Index: 0, Utilization: 0.73, HasUtilization: true, MemUsed: 12 << 30, HasMemUsed: true},
		{Index: 1, MemUsed: 1 << 30, HasMemUsed: true}})

	link := func(next string) string {
		var l api.LoginLink
		if code, body := rc.do("POST", "/api/v1/login-links", nil, &l); code != http.StatusCreated || l.URL == "" {
			t.Fatalf("login link: HTTP %d %s", code, body)
		}
		return l.URL + "&next=" + next
	}
	pages := []struct {
		name string
		next string
		want []string
	}{
		{"overview", "/ui/", []string{`data-live="ok"`, `data-job="` + sub.JobID.String() + `"`, "dash-job", `data-job="` + held.String() + `"`,
			"JobHeldUser", `data-node="n1"`, `class="gpu busy"`, "live · updated", "nobody",
			`<span class="use">n/a</span>`, `data-node="nv1"`, `<span class="use">73% · 12G</span><span class="fill"><span data-pct="73" style="width: 73%;">`,
			`<span class="use">n/a · 1G</span></span>`}},
		{"job", "/ui/jobs/" + sub.JobID.String(), []string{`data-live="ok"`, "Job " + sub.JobID.String(), "dash-job", "RUNNING", "sleep 60", "GPUs"}},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			start := time.Now()
			dom := dumpDOM(t, browser, link(p.next))
			t.Logf("%s loaded and refreshed in %s", p.next, time.Since(start).Round(time.Millisecond))
			for _, s := range p.want {
				if !strings.Contains(dom, s) {
					t.Errorf("page lacks %q:\n%s", s, dom)
				}
			}
		})
	}
	// Without a session the browser lands on the login form.
	if dom := dumpDOM(t, browser, "http://"+c.UserAddr+"/ui/"); !strings.Contains(dom, `name="token"`) || strings.Contains(dom, "dash-job") {
		t.Errorf("no session: not the login form:\n%s", dom)
	}
}
