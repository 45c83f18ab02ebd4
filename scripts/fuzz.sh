#!/usr/bin/env bash
# fuzz.sh runs every native fuzz target of the module, one at a time, for
# FUZZTIME each: a duration ("60s") or an execution count ("50000x", the
# default). Crashers are kept by `go test` under the package's
# testdata/fuzz/ and make this script fail.
#
# A count has no deadline, so `make test` uses one. Go 1.26's fuzzing
# coordinator can end a duration run with a bare "context deadline
# exceeded" when the deadline fires while a worker is mid-input
# (golang/go#75804, fixed in Go 1.27). Such a run wrote no failing input
# and printed no failure of its own; it is run once more, and only a
# second such ending, or any other failure, fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-50000x}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# boundary_race reports whether the log in $1 is the coordinator's
# deadline race and nothing else.
boundary_race() {
  grep -q '^    context deadline exceeded$' "$1" &&
    ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$1"
}

fail=0
n=0
while IFS= read -r line; do
  file=${line%%:*}
  target=$(sed -E 's/.*func (Fuzz[A-Za-z0-9_]+).*/\1/' <<<"$line")
  pkg=./$(dirname "$file")
  n=$((n + 1))
  for attempt in 1 2; do
    echo "fuzz: $pkg $target ($FUZZTIME)"
    if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$pkg" >"$log" 2>&1; then
      break
    fi
    if [ "$attempt" = 1 ] && boundary_race "$log"; then
      echo "fuzz: $target stopped with the coordinator's deadline race (golang/go#75804), no failing input; running it again"
      continue
    fi
    cat "$log"
    fail=1
    break
  done
done < <(grep -rEn --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' internal pkg cmd bpf 2>/dev/null | sed 's/:[0-9]*:/:/')
echo "fuzz: $n targets, $([ $fail = 0 ] && echo all passed || echo FAILURES)"
exit $fail
