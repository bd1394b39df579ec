package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gsched/gsched/pkg/api"
)

// serveUI sends a browser-like request over TCP from loopback.
func (c *restCtl) serveUI(method, target string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	r.RemoteAddr = "127.0.0.1:40001"
	for _, ck := range cookies {
		r.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	c.s.remoteSrv.ServeHTTP(w, r)
	return w
}

func cookieOf(w *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, ck := range w.Result().Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

func TestDashboardLoginForm(t *testing.T) {
	c := startRESTCtl(t)
	if w := c.serveUI("GET", "/ui/", nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/login?next=%2Fui%2F" {
		t.Fatalf("no session: HTTP %d to %q, want the login form", w.Code, w.Header().Get("Location"))
	}
	form := c.serveUI("GET", "/ui/login?next=/ui/jobs/1", nil)
	csrf := cookieOf(form, csrfCookie)
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]{32})"`).FindStringSubmatch(form.Body.String())
	if form.Code != 200 || csrf == nil || !csrf.HttpOnly || csrf.SameSite != http.SameSiteStrictMode || m == nil || m[1] != csrf.Value {
		t.Fatalf("login form: HTTP %d, csrf cookie %+v, field %v", form.Code, csrf, m)
	}
	if csp := form.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	tests := []struct {
		name     string
		form     url.Values
		cookies  []*http.Cookie
		wantCode int
		want     string
	}{
		{"no CSRF cookie", url.Values{"csrf": {csrf.Value}, "token": {c.alice}}, nil, 403, "another site"},
		{"CSRF mismatch", url.Values{"csrf": {strings.Repeat("0", 32)}, "token": {c.alice}}, []*http.Cookie{csrf}, 403, "another site"},
		{"bad token", url.Values{"csrf": {csrf.Value}, "token": {c.alice + "x"}}, []*http.Cookie{csrf}, 401, "unauthenticated"},
		{"good, as printed, with an open redirect", url.Values{"csrf": {csrf.Value}, "token": {"GSCHED_TOKEN=" + c.alice},
			"next": {"//evil.example/"}}, []*http.Cookie{csrf}, http.StatusSeeOther, "/ui/"},
		{"good, to a job", url.Values{"csrf": {csrf.Value}, "token": {c.alice}, "next": {"/ui/jobs/1"}}, []*http.Cookie{csrf}, http.StatusSeeOther, "/ui/jobs/1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := c.serveUI("POST", "/ui/login", tc.form, tc.cookies...)
			if w.Code != tc.wantCode {
				t.Fatalf("HTTP %d %s, want %d", w.Code, w.Body, tc.wantCode)
			}
			sess := cookieOf(w, sessionCookie)
			if tc.wantCode != http.StatusSeeOther {
				if sess != nil || !strings.Contains(w.Body.String(), tc.want) {
					t.Fatalf("refused login set %+v, body %s", sess, w.Body)
				}
				return
			}
			if loc := w.Header().Get("Location"); loc != tc.want {
				t.Fatalf("redirect to %q, want %q", loc, tc.want)
			}
			if sess == nil || sess.Value != c.alice || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.MaxAge <= 0 {
				t.Fatalf("session cookie %+v", sess)
			}
			page := c.serveUI("GET", tc.want, nil, sess)
			if page.Code != 200 || !strings.Contains(page.Body.String(), "alice") {
				t.Fatalf("page with the session: HTTP %d %s", page.Code, page.Body)
			}
		})
	}
	// A cross-site post with the right pair is still refused by Origin.
	r := httptest.NewRequest("POST", "/ui/login", strings.NewReader(url.Values{"csrf": {csrf.Value}, "token": {c.alice}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "https://evil.example")
	r.RemoteAddr = "127.0.0.1:40002"
	r.AddCookie(csrf)
	w := httptest.NewRecorder()
	c.s.remoteSrv.ServeHTTP(w, r)
	if w.Code != 403 || cookieOf(w, sessionCookie) != nil {
		t.Fatalf("cross-origin login: HTTP %d", w.Code)
	}
}

func TestDashboardLoginLinkAndPages(t *testing.T) {
	c := startRESTCtl(t)
	// bob asks for a link with his token; it logs a browser in once.
	w := c.do(t, req{method: "POST", path: "/api/v1/login-links", bearer: c.bob})
	var link api.LoginLink
	if w.Code != 201 || json.Unmarshal(w.Body.Bytes(), &link) != nil || !strings.HasPrefix(link.URL, "http://"+c.s.UserAddr()+"/ui/login?ticket=") {
		t.Fatalf("login link: HTTP %d %s", w.Code, w.Body)
	}
	if until := time.Until(link.Expires); until <= 0 || until > ticketLife {
		t.Fatalf("link expires in %s", until)
	}
	land := c.serveUI("GET", link.Path+"&next=/ui/jobs/2", nil)
	sess := cookieOf(land, sessionCookie)
	if land.Code != http.StatusSeeOther || land.Header().Get("Location") != "/ui/jobs/2" || sess == nil || sess.Value != c.bob {
		t.Fatalf("link landing: HTTP %d to %q, cookie %+v", land.Code, land.Header().Get("Location"), sess)
	}
	if again := c.serveUI("GET", link.Path, nil); again.Code != http.StatusUnauthorized || cookieOf(again, sessionCookie) != nil {
		t.Fatalf("second use of the link: HTTP %d", again.Code)
	}
	// A Unix-socket caller gets a link with a fresh token of their own.
	w = c.do(t, req{method: "POST", path: "/api/v1/login-links", peer: &fuzzUsers[0]})
	if w.Code != 201 || json.Unmarshal(w.Body.Bytes(), &link) != nil {
		t.Fatalf("local login link: HTTP %d %s", w.Code, w.Body)
	}
	asAlice := cookieOf(c.serveUI("GET", link.Path, nil), sessionCookie)
	if asAlice == nil {
		t.Fatal("no session from alice's local link")
	}

	pages := []struct {
		name    string
		path    string
		cookie  *http.Cookie
		code    int
		want    []string
		notWant []string
	}{
		{"overview", "/ui/", sess, 200, []string{`data-job="1"`, `data-job="2"`, "JobHeldUser", `data-node="n1"`, `class="gpu busy"`,
			`class="gpu free"`, "Fair share", "bob"}, []string{"secret-"}},
		{"own job", "/ui/jobs/2", sess, 200, []string{"Job 2", "secret-bob", "/home/bob", "JobHeldUser"}, nil},
		{"another's job", "/ui/jobs/1", sess, 200, []string{"Job 1", "alice"}, []string{"secret-alice", "/home/alice"}},
		{"alice sees her view only", "/ui/jobs/2", asAlice, 200, []string{"Job 2"}, []string{"secret-bob"}},
		{"no such job", "/ui/jobs/99", sess, 404, []string{"invalid job id"}, nil},
		{"bad job id", "/ui/jobs/abc", sess, 400, []string{"invalid job id"}, nil},
		{"unknown page", "/ui/nope", sess, 404, []string{"No such page"}, nil},
		{"static script", "/ui/static/dashboard.js", nil, 200, []string{"/api/v1"}, nil},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			var cks []*http.Cookie
			if p.cookie != nil {
				cks = append(cks, p.cookie)
			}
			w := c.serveUI("GET", p.path, nil, cks...)
			body := w.Body.String()
			if w.Code != p.code {
				t.Fatalf("HTTP %d %s", w.Code, body)
			}
			for _, s := range p.want {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range p.notWant {
				if strings.Contains(body, s) {
					t.Errorf("page shows %q", s)
				}
			}
		})
	}
	if w := c.serveUI("POST", "/ui/logout", nil, sess); w.Code != http.StatusSeeOther || cookieOf(w, sessionCookie) == nil || cookieOf(w, sessionCookie).MaxAge >= 0 {
		t.Fatalf("logout: HTTP %d, cookie %+v", w.Code, cookieOf(w, sessionCookie))
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"": "/ui/", "/ui/jobs/3": "/ui/jobs/3", "//evil.example": "/ui/", "/ui//evil.example": "/ui/",
		"https://evil.example/ui/": "/ui/", "/ui/\\evil": "/ui/", "/api/v1/jobs": "/ui/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
