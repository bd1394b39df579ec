#!/bin/sh
# Summarises `go test -v` output of the fault tests (make faults) as a
# table. The tests log lines "FAULTS <what>: <key> <value>, <key> <value>,
# ...": kill (one per controller kill -9) and total, requeue (one per node
# failure) and its summary, ha (one per leader kill of an HA set) and its
# total, auth (one per forged/replayed-request test),
# load (the 50-client load test). Prints each such line, the table, and
# each test's result; exits non-zero if any test failed.
awk '
  function get(kind, key) { return ((kind, key) in kv) ? kv[kind, key] : "n/a" }
  function row(name, value) { printf "| %-48s | %s |\n", name, value }
  /FAULTS / {
    line = $0; sub(/^.*FAULTS /, "", line)
    detail[++nd] = line
    kind = line; sub(/: .*$/, "", kind)
    rest = line; sub(/^[^:]*: /, "", rest)
    n = split(rest, f, ", ")
    for (i = 1; i <= n; i++) {
      k = f[i]; sub(/ [^ ]*$/, "", k)
      v = f[i]; sub(/^.* /, "", v)
      kv[kind, k] = v
    }
    if (kind ~ /^auth /) {
      authTests++; authA += kv[kind, "attempts"]; authR += kv[kind, "rejected"]
    }
  }
  /^--- (PASS|FAIL|SKIP)/ { res[++nr] = sprintf("  %-50s %s %s", $3, $2, $4); if ($2 == "FAIL:") failed = 1 }
  /^(FAIL|ok)[ \t]/       { pk[++np] = $0; if ($1 == "FAIL") failed = 1 }
  END {
    print "fault test measurements:"
    for (i = 1; i <= nd; i++) print "  " detail[i]
    print ""
    row("measure", "value")
    print "| ------------------------------------------------ | ----- |"
    row("controller kill -9s under submission load", get("total", "controller kills"))
    row("  submissions attempted (most while it is down)", get("total", "attempted"))
    row("  acknowledged", get("total", "acknowledged"))
    row("  acknowledged and lost", get("total", "lost"))
    row("  acknowledged twice or ID reused", get("total", "duplicated"))
    row("HA: leader kill -9s (3 controllers)", get("ha total", "leader kills"))
    row("  acknowledged, lost, duplicated", get("ha total", "acknowledged") ", " get("ha total", "lost") ", " get("ha total", "duplicated"))
    row("  jobs running through the kills, run once", get("ha total", "jobs run"))
    row("  kill to new leader serving, ms min/median/max", get("ha total", "failover ms min/median/max"))
    rq = "n/a"
    if (("requeue", "min") in kv)
      rq = sprintf("min %s, median %s, max %s over %s failures (node timeout %s, heartbeat %s)",
        get("requeue", "min"), get("requeue", "median"), get("requeue", "max"),
        get("requeue", "node failures"), get("requeue", "node timeout"), get("requeue", "heartbeat"))
    row("node failure to the job running elsewhere", rq)
    au = "n/a"
    if (authTests > 0) au = sprintf("%d of %d (%d tests)", authR, authA, authTests)
    row("forged/unsigned/replayed attempts rejected", au)
    row("load: clients, seconds, requests", get("load", "clients") ", " get("load", "seconds") ", " get("load", "requests"))
    row("  submitted, acknowledged", get("load", "submitted") ", " get("load", "acknowledged") " (" get("load", "submit rate") ")")
    row("  rejected as expected", get("load", "rejected as expected") " (of them cross-user cancels: " get("load", "cross-user cancels denied") ")")
    row("  unexpected errors", get("load", "unexpected errors"))
    row("  acknowledged and lost, duplicated", get("load", "lost") ", " get("load", "duplicated"))
    row("  slowest call", get("load", "slowest call"))
    row("  goroutines: before, idle, loaded, stopped", get("load", "goroutines"))
    row("  heap in use MiB: before, loaded, purged", get("load", "heap in use MiB"))
    row("  live heap MiB: before, loaded, purged", get("load", "live heap MiB"))
    print ""
    print "tests:"
    for (i = 1; i <= nr; i++) print res[i]
    for (i = 1; i <= np; i++) print pk[i]
    exit failed
  }'
