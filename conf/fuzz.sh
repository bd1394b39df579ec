#!/usr/bin/env bash
# Run every fuzz target in the module for a while each: `make fuzz`
# (FUZZTIME=20s by default). Findings are written by `go test` under the
# package's testdata/fuzz/ and then replay in every `go test` run.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-20s}
status=0
while IFS=: read -r file name; do
  pkg=./$(dirname "$file")
  echo "== $pkg $name ($fuzztime)"
  go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$pkg" || status=1
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | sed 's|^\./||; s|:func |:|')
exit $status
