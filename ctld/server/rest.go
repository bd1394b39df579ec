package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/rpc"
)

// The REST API (docs/API.md) is a thin layer over the user RPCs: each
// route turns its path, query and body into an RPC request, runs the very
// handler the commands use (policy, visibility and validation included),
// and shapes the answer. On an HA follower the RPC goes to the leader,
// signed with the caller's own token (or, for a local caller, a token the
// follower mints as it does for forwarded RPCs), so every controller
// serves the whole API.
//
// Callers: on the Unix socket, the kernel's SO_PEERCRED; on user_listen,
// a token from `gcontrol token` as "Authorization: Bearer JWT~SECRET", or
// the dashboard's cookie for GET requests (never for POST and DELETE, so
// no other site can make a browser change anything: no CSRF).

// restRoute is one REST operation.
type restRoute struct {
	method, pattern string
	h               func(a *restAPI, w http.ResponseWriter, r *http.Request, c caller)
}

// restRoutes are every operation of the API, as registered. The OpenAPI
// document (rest_openapi.go) describes each; a test checks both ways.
var restRoutes = []restRoute{
	{method: http.MethodGet, pattern: "/api/v1/jobs", h: (*restAPI).listJobs},
	{method: http.MethodPost, pattern: "/api/v1/jobs", h: (*restAPI).submitJob},
	{method: http.MethodGet, pattern: "/api/v1/jobs/{id}", h: (*restAPI).getJob},
	{method: http.MethodDelete, pattern: "/api/v1/jobs/{id}", h: (*restAPI).cancelJob},
	{method: http.MethodGet, pattern: "/api/v1/nodes", h: (*restAPI).listNodes},
	{method: http.MethodGet, pattern: "/api/v1/nodes/{name}", h: (*restAPI).getNode},
	{method: http.MethodGet, pattern: "/api/v1/partitions", h: (*restAPI).listPartitions},
	{method: http.MethodGet, pattern: "/api/v1/accounts", h: (*restAPI).listAccounts},
	{method: http.MethodGet, pattern: "/api/v1/cluster", h: (*restAPI).cluster},
	{method: http.MethodGet, pattern: "/api/v1/whoami", h: (*restAPI).whoAmI},
	{method: http.MethodPost, pattern: "/api/v1/login-links", h: (*restAPI).loginLink},
	{method: http.MethodGet, pattern: "/api/v1/openapi.json", h: (*restAPI).openAPI},
}

// Job listing bounds.
const (
	defaultJobLimit = 1000
	maxJobLimit     = 100_000
)

// restAPI serves the API (and the dashboard, dashboard.go) on one listener.
type restAPI struct {
	s     *Server
	local bool // the Unix socket: callers identified by the kernel
	rpcs  map[string]rpc.HandlerFunc
	errs  *rpc.Server // writes errors as the RPCs do
	fwd   *forwarder
	mux   *http.ServeMux
	log   *zap.Logger
}

// webShared is what the REST API and the dashboard keep, for both listeners.
type webShared struct {
	apiDoc  []byte // the OpenAPI document, as served
	tickets *ticketStore
}

// caller is who a REST request comes from.
type caller struct {
	peer auth.Peer
	op   bool
	// token is the bearer token a remote caller presented (to sign the
	// RPCs forwarded for it), host the host it named.
	token, host string
	expires     time.Time // the token's
}

// mountREST serves the REST API and the dashboard on the user listeners.
func (s *Server) mountREST() error {
	doc, err := s.openAPIDoc()
	if err != nil {
		return err
	}
	s.web = &webShared{apiDoc: doc, tickets: newTicketStore(s.now)}
	fwd := newForwarder(s, s.forwardTLS)
	for _, m := range []struct {
		srv   *rpc.Server
		local bool
	}{{s.userSrv, true}, {s.remoteSrv, false}} {
		if m.srv == nil {
			continue
		}
		a := &restAPI{s: s, local: m.local, rpcs: s.userSrv.Handlers(), errs: m.srv, fwd: fwd,
			mux: http.NewServeMux(), log: s.log.Named("rest")}
		for _, rt := range restRoutes {
			a.mux.HandleFunc(rt.method+" "+rt.pattern, a.wrap(rt))
		}
		allow := map[string][]string{}
		for _, rt := range restRoutes {
			allow[rt.pattern] = append(allow[rt.pattern], rt.method)
		}
		for pattern, methods := range allow {
			// Any other method on a known path: 405 with Allow.
			a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Allow", strings.Join(methods, ", "))
				a.reply(w, http.StatusMethodNotAllowed, api.ErrorResponse{Error: api.RemoteError{Code: api.CodeInvalid,
					Message: fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, pattern, strings.Join(methods, ", "))}})
			})
		}
		a.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
			a.fail(w, r, fmt.Errorf("%w: no such resource %s %s (see /api/v1/openapi.json)", api.ErrNotFound, r.Method, r.URL.Path))
		})
		a.mountDashboard()
		m.srv.Mount("/api/", a.mux)
		m.srv.Mount("/ui", a.mux)
	}
	return nil
}

// wrap authenticates, bounds and answers one route.
func (a *restAPI) wrap(rt restRoute) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		r.Body = http.MaxBytesReader(w, r.Body, api.MaxRequestBytes)
		c, err := a.authenticate(r, r.Method == http.MethodGet || r.Method == http.MethodHead)
		if err != nil {
			a.log.Warn("rejected unauthenticated request", zap.String("method", r.Method), zap.String("path", r.URL.Path),
				zap.String("remote", r.RemoteAddr), zap.Error(err))
			a.fail(w, r, err)
			return
		}
		rt.h(a, w, r, c)
	}
}

// authenticate finds the caller: the kernel's word on the Unix socket;
// a bearer token (or, when cookieOK, the dashboard's cookie) over TCP.
func (a *restAPI) authenticate(r *http.Request, cookieOK bool) (caller, error) {
	if a.local {
		p, ok := auth.PeerFrom(r.Context())
		if !ok {
			return caller{}, fmt.Errorf("%w: caller identity unknown", api.ErrUnauthenticated)
		}
		return caller{peer: p, op: a.s.cfg.IsOperator(p.UID, p.User)}, nil
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok && cookieOK {
		if ck, err := r.Cookie(sessionCookie); err == nil {
			tok, ok = ck.Value, true
		}
	}
	if !ok {
		return caller{}, fmt.Errorf("%w: send \"Authorization: Bearer TOKEN\" with a token from `gcontrol token`", api.ErrUnauthenticated)
	}
	if err := a.bearerAllowed(r); err != nil {
		return caller{}, err
	}
	host := r.Header.Get(auth.HeaderHost)
	bt, err := a.s.tokens.AuthenticateBearer(tok, host)
	if err != nil {
		return caller{}, err
	}
	p := bt.Peer
	return caller{peer: p, op: a.s.cfg.IsOperator(p.UID, p.User), token: strings.TrimSpace(tok), host: host, expires: bt.Expires}, nil
}

// bearerAllowed refuses bearer tokens over plain HTTP from other hosts
// unless controller.api_plaintext_tokens says so: a token seen on the
// wire could be replayed until it expires.
func (a *restAPI) bearerAllowed(r *http.Request) error {
	if r.TLS != nil || a.s.cfg.Controller.APIPlaintextTokens {
		return nil
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: bearer tokens are accepted over TLS, or from loopback, only (see controller.api_plaintext_tokens)", api.ErrPermission)
}

// fail answers with an error as the RPCs do: {"error":{"code","message"}}.
func (a *restAPI) fail(w http.ResponseWriter, r *http.Request, err error) {
	a.errs.WriteError(w, r.URL.Path, err)
}

// reply writes v as JSON with status code.
func (a *restAPI) reply(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		a.errs.WriteError(w, "", fmt.Errorf("encode answer: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if _, err := w.Write(append(data, '\n')); err != nil {
		a.log.Debug("write answer", zap.Error(err))
	}
}

// call runs the user RPC at path for c: here when this controller leads
// (or is alone), else at the leader, signed for c.
func (a *restAPI) call(ctx context.Context, c caller, path string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if a.s.raft.single || a.s.raft.isLeader() {
		h, ok := a.rpcs[path]
		if !ok {
			return fmt.Errorf("%w: no handler for %s", api.ErrInternal, path)
		}
		out, err := h(auth.WithPeer(ctx, c.peer), body)
		if err != nil {
			return err
		}
		data, err := json.Marshal(out)
		if err != nil {
			return fmt.Errorf("encode %s answer: %w", path, err)
		}
		return json.Unmarshal(data, resp)
	}
	return a.forward(ctx, c, path, body, resp)
}

// forward sends one RPC to the leader's user address for c.
func (a *restAPI) forward(ctx context.Context, c caller, path string, body []byte, resp any) error {
	lid := a.s.raft.leaderID()
	leader, ok := a.s.cfg.Peer(lid)
	if !ok || lid == a.fwd.self {
		return api.ErrNoLeader
	}
	var signer *auth.TokenSigner
	var err error
	if c.token != "" {
		signer, err = auth.ParseToken(c.token, c.host)
	} else {
		signer, err = a.fwd.token(c.peer)
	}
	if err != nil {
		return fmt.Errorf("%w: forward to the leader: %v", api.ErrUnauthenticated, err)
	}
	cl := rpc.DialToken(leader.User, signer)
	if a.s.forwardTLS != nil {
		cl = cl.WithTLS(a.s.forwardTLS)
	}
	defer cl.Close()
	return cl.Call(ctx, path, json.RawMessage(body), resp)
}

// redact hides, beyond what the RPCs hide (script, arguments,
// environment), where another user's job reads and writes: the API is
// reachable from browsers and scripts on other hosts.
func redact(j *api.Job, c caller) {
	if c.op || j.UID == c.peer.UID {
		return
	}
	s := j.OwnSpec()
	s.WorkDir, s.Output, s.Error = "", "", ""
}

// jobQuery is GET /api/v1/jobs's query.
type jobQuery struct {
	filter   api.JobFilter
	accounts []string
	limit    int
}

// parseJobQuery reads state, user, partition, account (each repeated or
// comma-separated) and limit; "state=all" includes finished jobs.
func parseJobQuery(q url.Values) (jobQuery, error) {
	out := jobQuery{limit: defaultJobLimit}
	list := func(key string) []string {
		var vals []string
		for _, v := range q[key] {
			for _, f := range strings.Split(v, ",") {
				if f = strings.TrimSpace(f); f != "" && !slices.Contains(vals, f) {
					vals = append(vals, f)
				}
			}
		}
		return vals
	}
	for key := range q {
		switch key {
		case "state", "user", "partition", "account", "limit":
		default:
			return out, fmt.Errorf("%w: unknown query parameter %q (state, user, partition, account, limit)", api.ErrInvalid, truncate(key, 40))
		}
	}
	for _, st := range list("state") {
		if strings.EqualFold(st, "all") {
			out.filter.IncludeFinished = true
			continue
		}
		js, err := api.ParseJobState(st)
		if err != nil {
			return out, fmt.Errorf("state: %w", err)
		}
		if !slices.Contains(out.filter.States, js) {
			out.filter.States = append(out.filter.States, js)
		}
	}
	if out.filter.IncludeFinished && len(out.filter.States) > 0 {
		return out, fmt.Errorf("%w: state=all and a list of states do not mix", api.ErrInvalid)
	}
	out.filter.Users = list("user")
	out.filter.Partitions = list("partition")
	out.accounts = list("account")
	for _, l := range [][]string{out.filter.Users, out.filter.Partitions, out.accounts} {
		for _, v := range l {
			if err := checkLine("filter value", v, maxNameLen); err != nil {
				return out, err
			}
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxJobLimit {
			return out, fmt.Errorf("%w: limit must be 1 to %d, got %q", api.ErrInvalid, maxJobLimit, truncate(v, 20))
		}
		out.limit = n
	}
	return out, nil
}

func (a *restAPI) listJobs(w http.ResponseWriter, r *http.Request, c caller) {
	q, err := parseJobQuery(r.URL.Query())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var jl api.JobList
	if err := a.call(r.Context(), c, api.PathListJobs, &q.filter, &jl); err != nil {
		a.fail(w, r, err)
		return
	}
	page := api.JobPage{Jobs: []api.Job{}, Now: jl.Now}
	for i := range jl.Jobs {
		j := &jl.Jobs[i]
		if len(q.accounts) > 0 && !slices.Contains(q.accounts, j.Spec.Account) {
			continue
		}
		page.Total++
		if len(page.Jobs) < q.limit {
			redact(j, c)
			page.Jobs = append(page.Jobs, *j)
		}
	}
	a.reply(w, http.StatusOK, page)
}

// pathJobID reads the {id} of a job path.
func pathJobID(r *http.Request) (api.JobID, error) {
	v := r.PathValue("id")
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%w: invalid job id %q", api.ErrInvalid, truncate(v, 40))
	}
	return api.JobID(n), nil
}

func (a *restAPI) getJob(w http.ResponseWriter, r *http.Request, c caller) {
	id, err := pathJobID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	j, err := a.job(r.Context(), c, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusOK, j)
}

// job returns one job as c may see it.
func (a *restAPI) job(ctx context.Context, c caller, id api.JobID) (*api.Job, error) {
	var jl api.JobList
	if err := a.call(ctx, c, api.PathListJobs, &api.JobFilter{IDs: []api.JobID{id}}, &jl); err != nil {
		return nil, err
	}
	if len(jl.Jobs) == 0 {
		return nil, fmt.Errorf("%w: job %d: invalid job id specified", api.ErrNotFound, id)
	}
	j := jl.Jobs[0]
	redact(&j, c)
	return &j, nil
}

func (a *restAPI) submitJob(w http.ResponseWriter, r *http.Request, c caller) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		a.fail(w, r, fmt.Errorf("%w: request body: %v", api.ErrTooLarge, err))
		return
	}
	var spec api.JobSpec
	if err := rpc.Decode(body, &spec); err != nil {
		a.fail(w, r, err)
		return
	}
	var resp api.SubmitResponse
	if err := a.call(r.Context(), c, api.PathSubmit, &api.SubmitRequest{Spec: spec}, &resp); err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.Info("job submitted over the REST API", zap.Uint64("job", uint64(resp.JobID)), zap.String("user", c.peer.User))
	w.Header().Set("Location", api.RESTPrefix+"/jobs/"+resp.JobID.String())
	a.reply(w, http.StatusCreated, resp)
}

func (a *restAPI) cancelJob(w http.ResponseWriter, r *http.Request, c caller) {
	id, err := pathJobID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var resp api.CancelResponse
	if err := a.call(r.Context(), c, api.PathCancel, &api.CancelRequest{IDs: []api.JobID{id}}, &resp); err != nil {
		a.fail(w, r, err)
		return
	}
	if len(resp.Done) == 0 && len(resp.Errors) > 0 {
		e := resp.Errors[0]
		a.fail(w, r, &api.RemoteError{Code: e.Code, Message: fmt.Sprintf("job %d: %s", e.JobID, e.Message)})
		return
	}
	a.reply(w, http.StatusOK, resp)
}

func (a *restAPI) nodes(ctx context.Context, c caller) (*api.NodeList, error) {
	var nl api.NodeList
	if err := a.call(ctx, c, api.PathListNodes, struct{}{}, &nl); err != nil {
		return nil, err
	}
	return &nl, nil
}

func (a *restAPI) listNodes(w http.ResponseWriter, r *http.Request, c caller) {
	nl, err := a.nodes(r.Context(), c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusOK, api.NodePage{Nodes: nl.Nodes})
}

func (a *restAPI) getNode(w http.ResponseWriter, r *http.Request, c caller) {
	nl, err := a.nodes(r.Context(), c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	name := r.PathValue("name")
	for _, n := range nl.Nodes {
		if n.Name == name {
			a.reply(w, http.StatusOK, n)
			return
		}
	}
	a.fail(w, r, fmt.Errorf("%w: node %q", api.ErrNotFound, truncate(name, 64)))
}

func (a *restAPI) listPartitions(w http.ResponseWriter, r *http.Request, c caller) {
	nl, err := a.nodes(r.Context(), c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	parts := nl.Partitions
	if parts == nil {
		parts = []api.Partition{}
	}
	a.reply(w, http.StatusOK, api.PartitionPage{Partitions: parts})
}

func (a *restAPI) listAccounts(w http.ResponseWriter, r *http.Request, c caller) {
	var sl api.ShareList
	if err := a.call(r.Context(), c, api.PathShares, struct{}{}, &sl); err != nil {
		a.fail(w, r, err)
		return
	}
	if sl.Rows == nil {
		sl.Rows = []api.ShareRow{}
	}
	a.reply(w, http.StatusOK, sl)
}

func (a *restAPI) whoAmI(w http.ResponseWriter, r *http.Request, c caller) {
	var who api.WhoAmI
	if err := a.call(r.Context(), c, api.PathWhoAmI, struct{}{}, &who); err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusOK, who)
}

// summary adds up the nodes and the live jobs.
func (a *restAPI) summary(ctx context.Context, c caller) (*api.ClusterSummary, error) {
	var who api.WhoAmI
	if err := a.call(ctx, c, api.PathWhoAmI, struct{}{}, &who); err != nil {
		return nil, err
	}
	nl, err := a.nodes(ctx, c)
	if err != nil {
		return nil, err
	}
	var jl api.JobList
	if err := a.call(ctx, c, api.PathListJobs, &api.JobFilter{}, &jl); err != nil {
		return nil, err
	}
	sum := &api.ClusterSummary{Name: a.s.cfg.ClusterName, Controller: who.Controller, Now: jl.Now,
		Nodes: map[string]int{}, Jobs: map[string]int{}}
	for _, n := range nl.Nodes {
		sum.Nodes[n.DisplayState]++
		sum.NodeCount++
		sum.CPUs += n.CPUs
		sum.CPUsAlloc += n.Alloc.CPUs
		sum.MemBytes += n.MemBytes
		sum.MemAlloc += n.Alloc.MemBytes
		sum.GPUs += len(n.GPUs)
		sum.GPUsAlloc += len(n.Alloc.GPUs)
	}
	for _, j := range jl.Jobs {
		if !j.IsArrayHead() {
			sum.Jobs[string(j.State)]++
		}
	}
	return sum, nil
}

func (a *restAPI) cluster(w http.ResponseWriter, r *http.Request, c caller) {
	sum, err := a.summary(r.Context(), c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusOK, sum)
}

func (a *restAPI) openAPI(w http.ResponseWriter, _ *http.Request, _ caller) {
	w.Header().Set("Content-Type", "application/json")
	if _, err := w.Write(a.s.web.apiDoc); err != nil {
		a.log.Debug("write openapi.json", zap.Error(err))
	}
}
