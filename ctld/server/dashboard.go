package server

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gsched/gsched/pkg/api"
	"github.com/gsched/gsched/pkg/auth"
	"github.com/gsched/gsched/pkg/units"
)

// The web dashboard (/ui/): server-rendered pages from the REST layer's
// calls (so a user sees exactly what the API shows them), refreshed in
// place by a few lines of JavaScript that poll the REST API. A browser
// logs in with a token (a form, or a one-time link from POST
// /api/v1/login-links); the token then lives in an HttpOnly,
// SameSite=Strict cookie that the API accepts for GET requests only.

//go:embed web/*.html web/static/*
var webFS embed.FS

var pageTmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"mem":   units.FormatMemoryHuman,
	"limit": units.FormatTimeLimit,
	"when":  fmtTime,
	"elapsed": func(j api.Job, now time.Time) string {
		return units.FormatDuration(int64(j.Elapsed(now) / time.Second))
	},
	"lower":    func(s any) string { return strings.ToLower(fmt.Sprint(s)) },
	"gpuSlots": gpuSlots,
	"nodeList": func(j api.Job) string { return j.NodeList() },
	"pct": func(a, b int64) int64 {
		if b <= 0 {
			return 0
		}
		return a * 100 / b
	},
	"i64": func(v int) int64 { return int64(v) },
}).ParseFS(webFS, "web/*.html"))

// Cookie names and lifetimes.
const (
	sessionCookie = "gsched_session"
	csrfCookie    = "gsched_csrf"
	ticketLife    = time.Minute
	maxTickets    = 1024
)

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// gpuSlot is one GPU of a node as the dashboard draws it.
type gpuSlot struct {
	Index int
	Model string
	Job   api.JobID // 0: free
	// Use is the GPU's utilisation and memory use ("73% · 12G"), "n/a"
	// when its node reported neither (gpuUseText); Pct is the
	// utilisation in percent, -1 when unknown.
	Use string
	Pct int
}

// gpuSlots lists a node's GPUs with the job holding each.
func gpuSlots(n api.NodeInfo, jobs []api.Job) []gpuSlot {
	holder := map[int]api.JobID{}
	for _, j := range jobs {
		for _, a := range j.Allocs {
			if a.Node == n.Name && !a.Done && (j.State == api.StateRunning || j.State == api.StateCompleting) {
				for _, g := range a.GPUs {
					holder[g] = j.ID
				}
			}
		}
	}
	for _, g := range n.Alloc.GPUs {
		if _, ok := holder[g]; !ok {
			holder[g] = 0
		}
	}
	use := map[int]*api.GPUUsage{}
	for i := range n.GPUUsage {
		use[n.GPUUsage[i].Index] = &n.GPUUsage[i]
	}
	out := make([]gpuSlot, 0, len(n.GPUs))
	for _, g := range n.GPUs {
		s := gpuSlot{Index: g.Index, Model: g.Model, Job: holder[g.Index], Pct: -1}
		s.Use = gpuUseText(use[g.Index])
		if u := use[g.Index]; u != nil && u.HasUtilization {
			s.Pct = utilPct(u.Utilization)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Index < out[b].Index })
	return out
}

// ticketStore holds one-time login links: a random id for a token, for a minute.
type ticketStore struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]loginTicket
}

type loginTicket struct {
	token    string
	expires  time.Time // the ticket's
	tokenExp time.Time // the token's
}

func newTicketStore(now func() time.Time) *ticketStore {
	return &ticketStore{now: now, m: map[string]loginTicket{}}
}

// add stores a ticket for token and returns its id and expiry.
func (t *ticketStore) add(token string, tokenExp time.Time) (string, time.Time, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", time.Time{}, fmt.Errorf("login ticket: %w", err)
	}
	id := hex.EncodeToString(b)
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, v := range t.m {
		if now.After(v.expires) {
			delete(t.m, k)
		}
	}
	if len(t.m) >= maxTickets {
		return "", time.Time{}, fmt.Errorf("%w: too many login links outstanding; try again in a minute", api.ErrUnavailable)
	}
	exp := now.Add(ticketLife)
	t.m[id] = loginTicket{token: token, expires: exp, tokenExp: tokenExp}
	return id, exp, nil
}

// take returns and forgets a live ticket.
func (t *ticketStore) take(id string) (loginTicket, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tk, ok := t.m[id]
	delete(t.m, id)
	if !ok || t.now().After(tk.expires) {
		return loginTicket{}, false
	}
	return tk, true
}

// loginLink is POST /api/v1/login-links.
func (a *restAPI) loginLink(w http.ResponseWriter, r *http.Request, c caller) {
	tok, exp := c.token, c.expires
	if tok == "" {
		// The Unix socket: the kernel vouches for the caller, who could
		// run `gcontrol token` as well.
		var err error
		id := auth.Identity{UID: c.peer.UID, GID: c.peer.GID, User: c.peer.User}
		if tok, exp, err = a.s.tokens.Issue(id, "", a.s.cfg.Auth.TokenLifespan.Duration); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	id, texp, err := a.s.web.tickets.add(tok, exp)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	link := api.LoginLink{Path: "/ui/login?ticket=" + id, Expires: texp.UTC()}
	if addr := a.s.cfg.Controller.UserAddress; addr != "" || a.s.UserAddr() != "" {
		if addr == "" {
			addr = a.s.UserAddr()
		}
		scheme := "http://"
		if a.s.cfg.TLS.Enabled() {
			scheme = "https://"
		}
		link.URL = scheme + addr + link.Path
	}
	a.log.Info("dashboard login link issued", zap.String("user", c.peer.User), zap.Time("expires", texp))
	a.reply(w, http.StatusCreated, link)
}

// mountDashboard registers the dashboard's pages on a.mux.
func (a *restAPI) mountDashboard() {
	static, err := fs.Sub(webFS, "web/static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	fileSrv := http.StripPrefix("/ui/static/", http.FileServer(http.FS(static)))
	a.mux.Handle("GET /ui/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		fileSrv.ServeHTTP(w, r)
	}))
	a.mux.HandleFunc("GET /ui", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
	})
	a.mux.HandleFunc("GET /ui/{$}", a.page(a.overview))
	a.mux.HandleFunc("GET /ui/jobs/{id}", a.page(a.jobPage))
	a.mux.HandleFunc("GET /ui/login", a.loginForm)
	a.mux.HandleFunc("POST /ui/login", a.loginPost)
	a.mux.HandleFunc("POST /ui/logout", a.logout)
	a.mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		a.render(w, http.StatusNotFound, "error.html", map[string]any{"Title": "Not found", "Message": "No such page."})
	})
}

// secureHeaders are set on every dashboard page.
func secureHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (a *restAPI) render(w http.ResponseWriter, code int, name string, data map[string]any) {
	secureHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if err := pageTmpl.ExecuteTemplate(w, name, data); err != nil {
		a.log.Warn("render dashboard page", zap.String("page", name), zap.Error(err))
	}
}

// page authenticates a dashboard page; without a valid session the
// browser goes to the login form.
func (a *restAPI) page(fn func(w http.ResponseWriter, r *http.Request, c caller) (string, map[string]any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := a.authenticate(r, true)
		if err != nil {
			http.Redirect(w, r, "/ui/login?next="+template.URLQueryEscaper(r.URL.Path), http.StatusSeeOther)
			return
		}
		name, data, err := fn(w, r, c)
		if err != nil {
			code := http.StatusInternalServerError
			switch api.CodeOf(err) {
			case api.CodeNotFound:
				code = http.StatusNotFound
			case api.CodeInvalid:
				code = http.StatusBadRequest
			case api.CodeUnavailable, api.CodeNoLeader:
				code = http.StatusServiceUnavailable
			}
			a.render(w, code, "error.html", map[string]any{"Title": "Error", "Message": err.Error(), "User": c.peer.User})
			return
		}
		data["User"] = c.peer.User
		data["Operator"] = c.op
		data["Local"] = a.local
		a.render(w, http.StatusOK, name, data)
	}
}

// dashboardJobLimit bounds the queue the overview shows.
const dashboardJobLimit = 500

func (a *restAPI) overview(_ http.ResponseWriter, r *http.Request, c caller) (string, map[string]any, error) {
	ctx := r.Context()
	sum, err := a.summary(ctx, c)
	if err != nil {
		return "", nil, err
	}
	nl, err := a.nodes(ctx, c)
	if err != nil {
		return "", nil, err
	}
	var jl api.JobList
	if err := a.call(ctx, c, api.PathListJobs, &api.JobFilter{}, &jl); err != nil {
		return "", nil, err
	}
	var shares api.ShareList
	if err := a.call(ctx, c, api.PathShares, struct{}{}, &shares); err != nil {
		return "", nil, err
	}
	jobs := jl.Jobs
	if len(jobs) > dashboardJobLimit {
		jobs = jobs[:dashboardJobLimit]
	}
	return "overview.html", map[string]any{"Title": "Overview", "Sum": sum, "Nodes": nl.Nodes, "Jobs": jobs,
		"AllJobs": jl.Jobs, "Shares": shares, "Now": jl.Now, "Limit": dashboardJobLimit}, nil
}

func (a *restAPI) jobPage(_ http.ResponseWriter, r *http.Request, c caller) (string, map[string]any, error) {
	id, err := pathJobID(r)
	if err != nil {
		return "", nil, err
	}
	j, err := a.job(r.Context(), c, id)
	if err != nil {
		return "", nil, err
	}
	return "job.html", map[string]any{"Title": "Job " + j.DisplayID(), "Job": j, "Now": a.s.now(),
		"Own": c.op || j.UID == c.peer.UID}, nil
}

// safeNext is where to go after login: a dashboard path only (no open redirect).
func safeNext(next string) string {
	if strings.HasPrefix(next, "/ui/") && !strings.ContainsAny(next, "\\\r\n") && !strings.HasPrefix(next, "/ui//") {
		return next
	}
	return "/ui/"
}

func (a *restAPI) setSession(w http.ResponseWriter, r *http.Request, token string, exp time.Time) {
	ck := &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil}
	if !exp.IsZero() {
		ck.Expires = exp
		ck.MaxAge = int(time.Until(exp) / time.Second)
	}
	http.SetCookie(w, ck)
}

// loginForm is GET /ui/login: a one-time link's landing, or the form.
func (a *restAPI) loginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if id := r.URL.Query().Get("ticket"); id != "" {
		tk, ok := a.s.web.tickets.take(id)
		if !ok {
			a.log.Warn("dashboard login with an unknown or used link", zap.String("remote", r.RemoteAddr))
			a.showLogin(w, r, http.StatusUnauthorized, next, "This login link is unknown, used or expired: ask for a new one.")
			return
		}
		if err := a.bearerAllowed(r); err != nil {
			a.showLogin(w, r, http.StatusForbidden, next, err.Error())
			return
		}
		a.setSession(w, r, tk.token, tk.tokenExp)
		secureHeaders(w)
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	a.showLogin(w, r, http.StatusOK, next, "")
}

// showLogin renders the form with a fresh CSRF token (double-submit: a
// cookie and a hidden field that must match on POST).
func (a *restAPI) showLogin(w http.ResponseWriter, r *http.Request, code int, next, msg string) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		a.render(w, http.StatusInternalServerError, "error.html", map[string]any{"Title": "Error", "Message": "no randomness"})
		return
	}
	csrf := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: csrf, Path: "/ui/login", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: 3600})
	a.render(w, code, "login.html", map[string]any{"Title": "Log in", "CSRF": csrf, "Next": next, "Message": msg,
		"Local": a.local})
}

// sameOrigin refuses a cross-site form post (when the browser says where
// it comes from).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		return true
	}
	return o == "http://"+r.Host || o == "https://"+r.Host
}

// loginPost is POST /ui/login: check the CSRF pair and the token, then
// set the session cookie.
func (a *restAPI) loginPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		a.showLogin(w, r, http.StatusBadRequest, "/ui/", "Malformed form.")
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	ck, err := r.Cookie(csrfCookie)
	field := r.PostForm.Get("csrf")
	if err != nil || field == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(field)) != 1 || !sameOrigin(r) {
		a.log.Warn("dashboard login without a matching CSRF token", zap.String("remote", r.RemoteAddr))
		a.showLogin(w, r, http.StatusForbidden, next, "The form expired or came from another site: try again.")
		return
	}
	if err := a.bearerAllowed(r); err != nil {
		a.showLogin(w, r, http.StatusForbidden, next, err.Error())
		return
	}
	tok := strings.TrimPrefix(strings.TrimSpace(r.PostForm.Get("token")), "GSCHED_TOKEN=")
	bt, err := a.s.tokens.AuthenticateBearer(tok, "")
	if err != nil {
		a.log.Warn("dashboard login refused", zap.String("remote", r.RemoteAddr), zap.Error(err))
		a.showLogin(w, r, http.StatusUnauthorized, next, err.Error())
		return
	}
	a.log.Info("dashboard login", zap.String("user", bt.Peer.User), zap.String("remote", r.RemoteAddr))
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: "", Path: "/ui/login", MaxAge: -1})
	a.setSession(w, r, strings.TrimSpace(tok), bt.Expires)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (a *restAPI) logout(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		a.render(w, http.StatusForbidden, "error.html", map[string]any{"Title": "Error", "Message": "Cross-site request refused."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}
