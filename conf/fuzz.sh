#!/usr/bin/env bash
# Run every fuzz target in the module for a while each:
#   conf/fuzz.sh [FUZZTIME] [PATTERN]
# `make fuzz` runs each for FUZZTIME (default 20s); `make fuzz-short`, part
# of `make test`, for 2s. PATTERN (a grep -E regexp) picks targets by
# "package/FuzzName", e.g. 'ctld/server|FuzzParse'.
#
# Targets are found by their declarations (func FuzzX in *_test.go), so a
# new one is never forgotten. Each package's test binary is built once,
# with the fuzzing instrumentation, and run once per target in the
# package's directory, with go test's own corpus cache: a failing input is
# written to the package's testdata/fuzz/FuzzX/ and replays in every
# `go test` run from then on. The exit status is 1 if any target fails or
# a package does not build; the output of a failure is shown in full.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-20s}
pattern=${2:-}
go=${GO:-go}
module=$($go list -m)
cache=$($go env GOCACHE)/fuzz
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# count prints how many inputs a corpus dir holds (0 when it has none yet:
# under pipefail a bare `ls | wc` of a missing dir would end the script).
count() { if [ -d "$1" ]; then find "$1" -type f | wc -l; else echo 0; fi; }

status=0 targets=0 failed=0 start=$SECONDS
while read -r dir; do
  pkg=$module/${dir#./}
  names=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u)
  if [ -n "$pattern" ]; then
    names=$(for n in $names; do echo "${dir#./}/$n"; done | grep -E "$pattern" | sed 's|.*/||' || true)
  fi
  [ -n "$names" ] || continue
  bin=$tmp/$(echo "${dir#./}" | tr / _).test
  if ! $go test -c -fuzz=. -o "$bin" "$dir" >"$tmp/build.log" 2>&1; then
    echo "FAIL $pkg: test binary does not build"
    cat "$tmp/build.log"
    status=1
    continue
  fi
  for name in $names; do
    targets=$((targets + 1))
    t0=$SECONDS
    corpus=$dir/testdata/fuzz/$name
    before=$(count "$corpus")
    if (cd "$dir" && "$bin" -test.paniconexit0 -test.run='^$' -test.fuzz="^${name}\$" -test.fuzztime="$fuzztime" \
      -test.fuzzcachedir="$cache/$pkg" -test.timeout="${FUZZ_TIMEOUT:-30m}") >"$tmp/run.log" 2>&1; then
      printf 'ok   %-45s %-26s %3ds\n' "${dir#./}" "$name" $((SECONDS - t0))
    elif [ "$(count "$corpus")" = "$before" ] &&
      [ "$(grep -v '^fuzz: ' "$tmp/run.log" | sed 's/([0-9.]*s)$//')" = "$(printf -- '--- FAIL: %s \n    context deadline exceeded\nFAIL' "$name")" ]; then
      # Go's coordinator may report its own -fuzztime deadline as a
      # failure when workers are slow to stop (go.dev/issue/75804, fixed
      # in Go 1.27): exactly that message and no failing input is a pass.
      printf 'ok   %-45s %-26s %3ds (deadline race, go.dev/issue/75804)\n' "${dir#./}" "$name" $((SECONDS - t0))
    else
      printf 'FAIL %-45s %-26s %3ds\n' "${dir#./}" "$name" $((SECONDS - t0))
      grep -v '^fuzz: elapsed' "$tmp/run.log" || true
      status=1 failed=$((failed + 1))
    fi
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u)
echo "fuzz: $targets targets, $failed failed, ${fuzztime} each, $((SECONDS - start))s in all"
if [ "$targets" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "fuzz: no target matched"
  exit 1
fi
exit $status
