// gsched dashboard: refresh the page's tables in place from the REST API
// every few seconds (the browser sends the session cookie; GET only).
"use strict";
(function () {
  const every = 5000;
  const api = (p) => fetch("/api/v1" + p, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((r) => r.ok ? r.json() : Promise.reject(new Error(r.status + " " + r.statusText)));
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "title") e.title = v; else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(k == null ? "" : String(k)));
    return e;
  };
  const td = (...kids) => el("td", null, ...kids);
  const zero = (t) => !t || t.startsWith("0001-01-01");
  const when = (t) => zero(t) ? "" : new Date(t).toLocaleString();
  const mem = (b) => {
    const u = ["B", "K", "M", "G", "T", "P"]; let i = 0;
    while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
    return (Math.round(b * 10) / 10) + u[i];
  };
  const dur = (s) => {
    s = Math.max(0, Math.floor(s));
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60, x = s % 60;
    const p = (n) => String(n).padStart(2, "0");
    return (d ? d + "-" + p(h) : String(h)) + ":" + p(m) + ":" + p(x);
  };
  const jobID = (j) => j.array_job_id ? j.array_job_id + "_" + (j.array_task_id || 0) : String(j.id);
  const nodeCount = (s) => Math.max(s.nodes || 0, 1);
  const gpusOnNode = (s) => s.gpus_per_node || (s.gpus_per_task ? s.gpus_per_task * Math.max(s.ntasks_per_node || Math.ceil(Math.max(s.ntasks, 1) / nodeCount(s)), 1) : Math.ceil((s.gpus || 0) / nodeCount(s)));
  const fill = (id, rows, cols, empty) => {
    const body = document.getElementById(id);
    if (!body) return;
    body.replaceChildren(...(rows.length ? rows : [el("tr", { class: "empty" }, el("td", { colspan: cols }, empty))]));
  };
  const setSum = (k, v) => { const e = document.querySelector('[data-sum="' + k + '"]'); if (e) e.textContent = v; };
  // gpuUse writes a GPU's usage as the server does (gpuUseText in gpuusage.go).
  const gpuUse = (u) => {
    if (!u || (!u.has_utilization && !u.has_mem_used)) return "n/a";
    return (u.has_utilization ? Math.round(u.utilization * 100) + "%" : "n/a") + (u.has_mem_used ? " · " + (u.mem_used > 0 ? mem(u.mem_used) : "0") : "");
  };
  const bars = () => document.querySelectorAll("[data-pct]").forEach((b) => { b.style.width = b.dataset.pct + "%"; });

  function overview() {
    return Promise.all([api("/cluster"), api("/nodes"), api("/jobs?limit=500"), api("/accounts")]).then(([sum, nodes, page, shares]) => {
      const n = sum.jobs || {};
      setSum("nodes", sum.node_count);
      setSum("nodestates", Object.entries(sum.nodes || {}).map(([k, v]) => v + " " + k).join(" "));
      setSum("gpus", sum.gpus_alloc + " / " + sum.gpus);
      setSum("cpus", sum.cpus_alloc + " / " + sum.cpus);
      setSum("mem", mem(sum.mem_alloc) + " / " + mem(sum.mem_bytes));
      setSum("running", (n.RUNNING || 0) + " running");
      setSum("pending", (n.PENDING || 0) + " pending");
      const bar = document.querySelector("[data-pct]");
      if (bar) bar.dataset.pct = sum.gpus ? Math.floor(sum.gpus_alloc * 100 / sum.gpus) : 0;
      const now = new Date(page.now);
      const holder = {};
      fill("queue-rows", page.jobs.map((j) => {
        for (const a of j.allocs || []) if (!a.done && (j.state === "RUNNING" || j.state === "COMPLETING")) for (const g of a.gpus || []) holder[a.node + "/" + g] = j.id;
        const el2 = zero(j.start_time) ? 0 : ((zero(j.end_time) ? now : new Date(j.end_time)) - new Date(j.start_time)) / 1000;
        const where = j.state === "PENDING" ? (j.reason || "") : (j.allocs || []).map((a) => a.node).join(",");
        return el("tr", { class: "st-" + j.state.toLowerCase(), "data-job": j.id },
          td(el("a", { href: "/ui/jobs/" + j.id }, jobID(j))), td(j.spec.name), td(j.user), td(j.spec.partition),
          td(el("span", { class: "state" }, j.state)), td(dur(el2)), td(nodeCount(j.spec)), td(gpusOnNode(j.spec) * nodeCount(j.spec)),
          td(where), td(when(j.expected_start)));
      }), 10, "No jobs in the queue.");
      fill("node-rows", nodes.nodes.map((nd) => el("tr", { "data-node": nd.name },
        td(nd.name), td(el("span", { class: "state ns-" + nd.display_state.toLowerCase() }, nd.display_state), nd.reason ? " " + nd.reason : ""),
        td(nd.alloc.cpus + " / " + nd.cpus), td(mem(nd.alloc.mem_bytes) + " / " + mem(nd.mem_bytes)),
        td((nd.alloc.gpus || []).length + " / " + (nd.gpus || []).length),
        el("td", { class: "gpus" }, ...(nd.gpus || []).map((g) => {
          const busy = (nd.alloc.gpus || []).includes(g.index), job = holder[nd.name + "/" + g.index];
          const u = (nd.gpu_usage || []).find((x) => x.index === g.index), use = gpuUse(u);
          const fillBar = u && u.has_utilization ? [el("span", { class: "fill" }, el("span", { "data-pct": Math.round(u.utilization * 100) }))] : [];
          return el("span", { class: "gpu " + (busy ? "busy" : "free"), title: "GPU " + g.index + " " + (g.model || "") + (busy ? ": job " + (job || "?") : ": free") + "; use " + use },
            g.index, el("span", { class: "use" }, use), ...fillBar);
        })),
        td((nd.partitions || []).join(", ")))), 7, "No nodes registered.");
      fill("share-rows", shares.rows.map((r) => el("tr", null, el("td", { class: "depth-" + r.depth }, r.account), td(r.user || ""),
        td(r.raw_shares), td(r.norm_shares.toFixed(4)), td(r.raw_usage.toFixed(0)), td(r.effective_usage.toFixed(4)), td(r.fairshare.toFixed(4)))),
        7, "No accounts configured.");
    });
  }

  function job(id) {
    return api("/jobs/" + id).then((j) => {
      const set = (k, v) => { const e = document.querySelector('[data-field="' + k + '"]'); if (e) e.textContent = v; };
      set("state", j.state);
      set("reason", (j.reason || "") + (j.end_reason || ""));
      set("priority", j.priority);
      set("expected_start", when(j.expected_start));
      set("start_time", when(j.start_time));
      set("end_time", when(j.end_time));
      set("exit_code", j.exit_code + (j.signal ? " (signal " + j.signal + ")" : ""));
      set("allocs", (j.allocs || []).map((a) => a.node + ": " + a.cpus + " CPUs" + ((a.gpus || []).length ? ", GPUs " + a.gpus.join(",") : "") + "; ").join(""));
    });
  }

  function tick() {
    const page = document.querySelector("[data-live]");
    if (!page) return;
    const done = page.dataset.live === "job" ? job(page.dataset.id) : overview();
    const stamp = document.getElementById("updated");
    done.then(() => {
      bars();
      document.body.dataset.live = "ok";
      if (stamp) stamp.textContent = "live · updated " + new Date().toLocaleTimeString();
    }).catch((e) => {
      document.body.dataset.live = "error";
      if (stamp) stamp.textContent = "not updated: " + e.message;
    }).finally(() => setTimeout(tick, every));
  }
  document.addEventListener("DOMContentLoaded", () => { bars(); tick(); });
})();
