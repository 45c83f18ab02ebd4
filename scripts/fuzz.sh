#!/usr/bin/env bash
# fuzz.sh runs every native fuzz target of the module for FUZZTIME each
# (default 5s), one at a time. Crashers are kept by `go test` under the
# package's testdata/fuzz/ and make this script fail.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-5s}
fail=0
n=0
while IFS= read -r line; do
  file=${line%%:*}
  target=$(sed -E 's/.*func (Fuzz[A-Za-z0-9_]+).*/\1/' <<<"$line")
  pkg=./$(dirname "$file")
  n=$((n + 1))
  echo "fuzz: $pkg $target ($FUZZTIME)"
  if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$pkg" >/tmp/fuzz.$$.log 2>&1; then
    cat /tmp/fuzz.$$.log
    fail=1
  fi
done < <(grep -rEn --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' internal pkg cmd bpf 2>/dev/null | sed 's/:[0-9]*:/:/')
rm -f /tmp/fuzz.$$.log
echo "fuzz: $n targets, $([ $fail = 0 ] && echo all passed || echo FAILURES)"
exit $fail
