package testcluster

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// With HA, a follower serves the REST API too: it runs the calls at the
// leader, as the caller (a bearer token over TCP, or the kernel's word
// on its Unix socket).
func TestRESTOnHAFollower(t *testing.T) {
	c := Start(t, Options{Controllers: 3, Nodes: 1})
	leader := c.Leader()
	if leader == 0 {
		t.Fatal("no leader")
	}
	follower := leader%3 + 1
	fconf := c.ctls[follower-1].conf.Controller
	leaderID := c.ctls[leader-1].conf.Controller.ID
	dir := c.WorkDir(nobody, nobody)
	rc := &restClient{t: t, base: "http://" + fconf.UserListen, token: getToken(t, c, nobody, dir)}

	var who api.WhoAmI
	if code, body := rc.do("GET", "/api/v1/whoami", nil, &who); code != 200 || who.User != "nobody" || who.Controller != leaderID {
		t.Fatalf("whoami via follower c%d: HTTP %d %s, want nobody answered by the leader %s", follower, code, body, leaderID)
	}
	var sub api.SubmitResponse
	if code, body := rc.do("POST", "/api/v1/jobs", api.JobSpec{Name: "via-follower", WorkDir: dir, Hold: true, MemBytes: 16 << 20,
		Script: "#!/bin/sh\ntrue\n"}, &sub); code != http.StatusCreated {
		t.Fatalf("submit via follower: HTTP %d %s", code, body)
	}
	if j := c.Job(sub.JobID); j.User != "nobody" || j.Spec.Name != "via-follower" {
		t.Fatalf("job %+v", j)
	}

	// Root on the follower's Unix socket.
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", fconf.Socket)
	}}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "DELETE", "http://gsched/api/v1/jobs/"+sub.JobID.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var cr api.CancelResponse
	if resp.StatusCode != 200 || json.Unmarshal(body, &cr) != nil || len(cr.Done) != 1 {
		t.Fatalf("root's cancel on the follower's socket: HTTP %d %s", resp.StatusCode, body)
	}
	if j := c.WaitJob(sub.JobID, 20*time.Second); j.State != api.StateCancelled {
		t.Fatalf("job %s after cancel via the follower", j.State)
	}
	var page api.JobPage
	if code, body := rc.do("GET", "/api/v1/jobs?state=all&user=nobody", nil, &page); code != 200 || page.Total != 1 ||
		!strings.Contains(string(body), `"state":"CANCELLED"`) {
		t.Fatalf("list via follower: HTTP %d %s", code, body)
	}
}
