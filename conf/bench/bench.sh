#!/usr/bin/env bash
# bench.sh - the Slurm peer's measurements (../shared/peers/slurm/bench.sh),
# taken the same way on a running gsched cluster (conf/bench/cluster.sh
# start): the same commands as a user types them (gsub, gqueue, gcancel
# for sbatch, squeue, scancel), the same polling, the same keys, so that
# conf/bench/compare.sh can put the two side by side.
#
#   (c) idle-cluster latency of one job: submit -> RUNNING, -> script start,
#       -> COMPLETED (median of LAT_RUNS, each after a random 0.2-3.2 s gap)
#   (a) CLI submission throughput, N `gsub --wrap true`, 1 client and CLIENTS
#   (b) pipeline: first submit -> all N COMPLETED, for both
#   (a') N held jobs from 1 client, HELD-N from CLIENTS clients
#   (d) gqueue / gqueue -u root | wc -l with HELD held jobs, gcancel of them
#   (e) gctld RSS idle and with HELD held jobs
#
# Knobs as the peer's: N=1000 CLIENTS=4 HELD=10000 LAT_RUNS=20 WAIT_MAX=900
# WORK=/var/tmp/gsched-bench/work (job containers see /var/tmp, not /tmp);
# SKIP_LAT=1 SKIP_PIPE=1 SKIP_HELD=1. Results: a table on stdout and
# key<TAB>value<TAB>unit<TAB>note lines in $WORK/results.tsv.
set -uo pipefail

N=${N:-1000}
CLIENTS=${CLIENTS:-4}
HELD=${HELD:-10000}
LAT_RUNS=${LAT_RUNS:-20}
WAIT_MAX=${WAIT_MAX:-900}
BENCH_DIR=${BENCH_DIR:-/var/tmp/gsched-bench}
WORK=${WORK:-$BENCH_DIR/work}
top=$(cd "$(dirname "$0")/../.." && pwd)
export GSCHED_CONF=${GSCHED_CONF:-$BENCH_DIR/ctld.conf}
export PATH=$top/bin:$PATH

die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }
say() { printf '[bench] %s\n' "$*" >&2; }
gqueue -h >/dev/null 2>&1 || die "gctld not answering: run conf/bench/cluster.sh start first"

rm -rf "$WORK"; mkdir -p "$WORK/jobs" "$WORK/lat"; chmod 755 "$WORK"
cd "$WORK/jobs" || die "no $WORK/jobs"
RES=$WORK/results.tsv; : >"$RES"
ROWS=()

now() { printf '%s' "$EPOCHREALTIME"; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0) ? n / s : 0 }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "NA"; exit }
  printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
pct() { sort -g | awk -v p="$1" '{ v[NR] = $1 } END { if (NR == 0) { print "NA"; exit }
  i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; printf "%.3f", v[i] }'; }
record() { # KEY VALUE UNIT NOTE
  ROWS+=("$(printf '%-44s %12s %-7s %s' "$1" "$2" "$3" "${4:-}")")
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >>"$RES"
  say "$1 = $2 $3 ${4:-}"
}
rss_mb() { # PIDFILE -> MiB of VmRSS
  local pid; pid=$(tr -dc '0-9' <"$1" 2>/dev/null) || { echo NA; return; }
  awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null || echo NA
}
active_jobs() { gqueue -h -t PD,R,CG -o %i 2>/dev/null | wc -l; }
wait_idle() {
  local end=$((SECONDS + WAIT_MAX))
  while (($(active_jobs) > 0)); do
    ((SECONDS > end)) && die "queue not idle after ${WAIT_MAX}s"
    sleep 0.25
  done
}
# submit_many COUNT CLIENTS OUTFILE [gsub args...]: prints elapsed seconds.
submit_many() {
  local count=$1 clients=$2 out=$3; shift 3
  local per=$((count / clients)) t0 t1 c
  : >"$out"
  t0=$(now)
  for ((c = 0; c < clients; c++)); do
    local n=$per; ((c == clients - 1)) && n=$((count - per * (clients - 1)))
    (
      for ((i = 0; i < n; i++)); do
        gsub --parsable "$@" 2>>"$out.fail.$c" >>"$out.$c" || echo x >>"$out.failcnt.$c"
      done
    ) &
  done
  wait
  t1=$(now)
  cat "$out".[0-9]* >"$out" 2>/dev/null; rm -f "$out".[0-9]*
  cat "$out".failcnt.* 2>/dev/null | wc -l >"$out.nfail"
  cat "$out".fail.[0-9]* 2>/dev/null | sort | uniq -c >"$out.errors"; rm -f "$out".failcnt.* "$out".fail.[0-9]*
  dt "$t0" "$t1"
}
state_counts() {
  gqueue -h -t all -o '%i %T' 2>/dev/null |
    awk 'NR == FNR { want[$1] = 1; next } ($1 in want) { c[$2]++ } END { for (s in c) print s, c[s] }' "$1" -
}
PIDF=$(awk -F'"' '/^pid_file/ { print $2; exit }' "$GSCHED_CONF")
case "$PIDF" in /*) ;; *) PIDF=$(dirname "$GSCHED_CONF")/$PIDF ;; esac

say "gsched $(gqueue --version 2>/dev/null | head -1), $(ginfo -h -N | wc -l) nodes, $(nproc) host cores"
say "N=$N CLIENTS=$CLIENTS HELD=$HELD LAT_RUNS=$LAT_RUNS"
wait_idle
record "gctld RSS, idle" "$(rss_mb "$PIDF")" MiB

if [ "${SKIP_LAT:-0}" != 1 ]; then
  say "(c) latency: $LAT_RUNS single jobs on an idle cluster"
  : >"$WORK/lat/run"; : >"$WORK/lat/start"; : >"$WORK/lat/done"; : >"$WORK/lat/gsub"
  for ((r = 0; r < LAT_RUNS; r++)); do
    wait_idle
    sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", 0.2 + (r % 3000) / 1000 }')"
    t0=$(now)
    # The job writes into its submit directory: the rest of the host's
    # file system is read-only inside a job's container.
    id=$(gsub --parsable --wrap "date +%s.%N > $WORK/jobs/start.\$GSCHED_JOB_ID") || die "gsub failed"
    t1=$(now)
    t_run=""; t_done=""; end=$((SECONDS + 120))
    while ((SECONDS < end)); do
      st=$(gqueue -h -j "$id" -t all -o %T 2>/dev/null)
      t=$(now)
      case "$st" in
        RUNNING | COMPLETING) [ -z "$t_run" ] && t_run=$t ;;
        COMPLETED) [ -z "$t_run" ] && t_run=$t; t_done=$t; break ;;
        PENDING | "") ;;
        *) say "job $id ended $st"; break ;;
      esac
      sleep 0.005
    done
    [ -n "$t_done" ] || { say "job $id did not complete"; continue; }
    { dt "$t0" "$t1"; echo; } >>"$WORK/lat/gsub"
    { dt "$t0" "$t_run"; echo; } >>"$WORK/lat/run"
    { dt "$t0" "$t_done"; echo; } >>"$WORK/lat/done"
    { dt "$t0" "$(cat "$WORK/jobs/start.$id")"; echo; } >>"$WORK/lat/start"
  done
  n_ok=$(grep -c . "$WORK/lat/done")
  record "(c) gsub command duration, median" "$(median <"$WORK/lat/gsub")" s "n=$n_ok"
  record "(c) submit -> RUNNING (gqueue), median" "$(median <"$WORK/lat/run")" s "p90 $(pct 90 <"$WORK/lat/run") s; polled every ~10 ms"
  record "(c) submit -> script start (in-job), median" "$(median <"$WORK/lat/start")" s "p90 $(pct 90 <"$WORK/lat/start") s"
  record "(c) submit -> COMPLETED (gqueue), median" "$(median <"$WORK/lat/done")" s "p90 $(pct 90 <"$WORK/lat/done") s"
fi

pipeline() { # LABEL CLIENTS
  local label=$1 clients=$2 t0 tsub tdone ids=$WORK/ids.${1// /_} end sub_s
  wait_idle
  t0=$(now)
  sub_s=$(submit_many "$N" "$clients" "$ids" --wrap true)
  tsub=$(now)
  end=$((SECONDS + WAIT_MAX))
  while (($(active_jobs) > 0)); do
    ((SECONDS > end)) && { say "pipeline $label: not done after ${WAIT_MAX}s"; break; }
    sleep 0.2
  done
  tdone=$(now)
  local nok nfail states
  nok=$(grep -c . "$ids"); nfail=$(cat "$ids.nfail")
  states=$(state_counts "$ids" | sort | tr '\n' ' ')
  record "(a) submit $N, $label: elapsed" "$sub_s" s "$nok accepted, $nfail failed"
  record "(a) submit $N, $label: rate" "$(rate "$nok" "$sub_s")" jobs/s
  record "(b) first submit -> all done, $label" "$(dt "$t0" "$tdone")" s "final states: $states"
  record "(b) pipeline throughput, $label" "$(rate "$nok" "$(dt "$t0" "$tdone")")" jobs/s "drain after last submit $(dt "$tsub" "$tdone") s"
}
if [ "${SKIP_PIPE:-0}" != 1 ]; then
  say "(a)+(b) $N jobs, 1 client"
  pipeline "1 client" 1
  say "(a)+(b) $N jobs, $CLIENTS clients"
  pipeline "$CLIENTS clients" "$CLIENTS"
fi

if [ "${SKIP_HELD:-0}" != 1 ]; then
  wait_idle
  say "(d) submitting $HELD held jobs: $N from 1 client, $((HELD - N)) from $CLIENTS clients"
  ids=$WORK/ids.held
  s=$(submit_many "$N" 1 "$ids.1" --hold --wrap true)
  nok=$(grep -c . "$ids.1")
  record "(a') submit $N --hold, 1 client" "$(rate "$nok" "$s")" jobs/s "nothing runs; $s s, $nok accepted, $(cat "$ids.1.nfail") failed"
  s=$(submit_many "$((HELD - N))" "$CLIENTS" "$ids.n" --hold --wrap true)
  nok=$(grep -c . "$ids.n")
  record "(a') submit $((HELD - N)) --hold, $CLIENTS clients" "$(rate "$nok" "$s")" jobs/s "$s s, $nok accepted, $(cat "$ids.n.nfail") failed"
  sleep 5
  record "(d) job records in gctld" "$(gqueue -h -t all -o %i | wc -l)" jobs "incl. finished jobs kept for job_retention"
  for k in 1 2 3 4 5; do
    t0=$(now); gqueue >/dev/null; t1=$(now); { dt "$t0" "$t1"; echo; } >>"$WORK/sq_full"
    t0=$(now); c=$(gqueue -u root -h | wc -l); t1=$(now); { dt "$t0" "$t1"; echo; } >>"$WORK/sq_user"
  done
  record "(d) gqueue (full listing), median of 5" "$(median <"$WORK/sq_full")" s
  record "(d) gqueue -u root -h | wc -l, median of 5" "$(median <"$WORK/sq_user")" s "count=$c"
  record "(e) gctld RSS with $HELD held" "$(rss_mb "$PIDF")" MiB
  t0=$(now)
  gcancel -u root --state=PENDING
  t1=$(now)
  end=$((SECONDS + WAIT_MAX))
  while (($(gqueue -h -t PD -o %i | wc -l) > 0)); do
    ((SECONDS > end)) && { say "held jobs still pending after ${WAIT_MAX}s"; break; }
    sleep 0.1
  done
  t2=$(now)
  record "(d) gcancel -u root --state=PENDING: command" "$(dt "$t0" "$t1")" s
  record "(d) gcancel: until none pending" "$(dt "$t0" "$t2")" s
fi

echo
echo "gsched benchmark  ($(date -u +%FT%TZ), $(ginfo -h -N | wc -l) nodes, host $(nproc) cores)"
printf '%-44s %12s %-7s %s\n' metric value unit notes
printf '%-44s %12s %-7s %s\n' "--------------------------------------------" "------------" "-------" "-----"
printf '%s\n' "${ROWS[@]}"
echo "(tsv: $RES)"
