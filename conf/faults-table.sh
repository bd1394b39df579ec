#!/bin/sh
# Summarises `go test -v` output of the fault tests (make faults): the
# FAULTS lines the tests log, the requeue latency, and each test's result.
# Exits non-zero if any test failed.
awk '
  /FAULTS /              { sub(/^.*FAULTS /, ""); faults[++nf] = $0 }
  /node kill to the job/ { sub(/^.*node kill to the job running again elsewhere: /, ""); requeue = $0 }
  /^--- (PASS|FAIL)/     { res[++nr] = sprintf("  %-50s %s %s", $3, $2, $4); if ($2 == "FAIL:") failed = 1 }
  /^(FAIL|ok) /          { pk[++np] = $0 }
  END {
    print "controller kill -9 under submission load:"
    for (i = 1; i <= nf; i++) print "  " faults[i]
    if (requeue != "") print "node failure to the job running elsewhere: " requeue
    print "tests:"
    for (i = 1; i <= nr; i++) print res[i]
    for (i = 1; i <= np; i++) print pk[i]
    exit failed
  }'
