#!/usr/bin/env bash
# compare.sh measures this checkout against another commit in one run:
# BenchmarkPipeline and BenchmarkPipelineNet (ns/op, allocs/op, one core)
# and pktvisor-reader's CPU time (user + system) on the generated
# 2-million-packet DNS capture. The two sides alternate in PAIRS rounds
# (default 7), and the medians and the median of the per-round ratios are
# printed: this kind of machine changes speed by up to 1.5x from minute to
# minute, so a ratio is only taken within one round.
#
#   scripts/bench/compare.sh REV [PACKETS]
#
# REV's tree is exported into $BENCH_DIR/compare-base; each side's benchmark
# is built from whichever package defines BenchmarkPipeline at that commit.
# With valgrind installed, instruction counts of both sides follow (they do
# not depend on the machine's speed).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/lib.sh
bench_init
need go git /usr/bin/time
REV=${1:?usage: compare.sh REV [PACKETS]}
N=${2:-2000000}
PAIRS=${PAIRS:-7}
DIR=${BENCH_DIR:-/tmp/pktvisor-bench}
mkdir -p "$DIR"
CAP="$DIR/dns-$N.pcap"
[[ -s "$CAP" ]] || go run ./scripts/bench/gencap -n "$N" -o "$CAP"

# The base side is an export of REV's tree (no worktree to clean up).
WT="$DIR/compare-base"
rm -rf "$WT" && mkdir -p "$WT"
git archive "$REV" | tar -x -C "$WT"

# build SIDE SRC: the benchmark binary and the reader of the tree at SRC.
build() {
  local side=$1 src=$2 pkg
  pkg=$(cd "$src" && grep -rl --include='*_test.go' 'func BenchmarkPipeline(' internal | head -1 | xargs dirname)
  (cd "$src" && GOFLAGS=-buildvcs=false go test -c -o "$DIR/$side.test" "./$pkg" &&
    GOFLAGS=-buildvcs=false go build -o "$DIR/$side-reader" ./cmd/pktvisor-reader)
  echo "$src/$pkg" >"$DIR/$side.pkgdir"
}
build base "$WT"
build head "$PWD"
echo "base: $(git rev-parse --short "$REV"); head: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' + uncommitted changes')"

# bench SIDE NAME: ns/op and allocs/op of one benchmark.
bench() {
  (cd "$(cat "$DIR/$1.pkgdir")" && "$DIR/$1.test" -test.run='^$' -test.bench="^$2\$" \
    -test.benchtime=1000000x -test.cpu 1 -test.benchmem) | awk -v b="^$2" '$1 ~ b {print $3, $(NF-1)}'
}
# reader SIDE: CPU seconds (user + system) of pktvisor-reader on the capture.
reader() {
  /usr/bin/time -f "%U %S" -o "$DIR/time.out" "$DIR/$1-reader" -H 10.1.0.0/16 "$CAP" >/dev/null 2>&1
  awk '{print $1 + $2}' "$DIR/time.out"
}

cat "$CAP" >/dev/null # warm the page cache
: >"$DIR/rounds"
for ((i = 1; i <= PAIRS; i++)); do
  order="base head"
  ((i % 2 == 0)) && order="head base"
  declare -A r=()
  for side in $order; do
    read -r r[$side.p] r[$side.pa] < <(bench "$side" BenchmarkPipeline)
    read -r r[$side.n] r[$side.na] < <(bench "$side" BenchmarkPipelineNet)
    r[$side.r]=$(reader "$side")
  done
  echo "${r[base.p]} ${r[head.p]} ${r[base.n]} ${r[head.n]} ${r[base.r]} ${r[head.r]} ${r[head.pa]} ${r[head.na]}" >>"$DIR/rounds"
  printf 'round %d: Pipeline %s -> %s ns, PipelineNet %s -> %s ns, reader CPU %s -> %s s (allocs/op head: %s, %s)\n' \
    "$i" "${r[base.p]}" "${r[head.p]}" "${r[base.n]}" "${r[head.n]}" "${r[base.r]}" "${r[head.r]}" "${r[head.pa]}" "${r[head.na]}"
  unset r
done

col() { awk -v c="$1" '{print $c}' "$DIR/rounds" | median; }
ratio() { awk -v a="$1" -v b="$2" '{print $b / $a}' "$DIR/rounds" | median; }
echo
printf '%-22s %10s %10s %14s\n' "" base head "median ratio"
printf '%-22s %10s %10s %14.3f\n' "BenchmarkPipeline ns" "$(col 1)" "$(col 2)" "$(ratio 1 2)"
printf '%-22s %10s %10s %14.3f\n' "BenchmarkPipelineNet" "$(col 3)" "$(col 4)" "$(ratio 3 4)"
printf '%-22s %10s %10s %14.3f\n' "reader CPU s" "$(col 5)" "$(col 6)" "$(ratio 5 6)"
echo "allocs/op (head): Pipeline $(col 7), PipelineNet $(col 8)"

# Instruction counts (valgrind's callgrind counts instructions, not time:
# the same binary and input give the same count whatever else the machine
# does). Per packet for the benchmarks: the difference of two runs of
# different lengths, so setup and warm-up cancel out. The reader: all
# instructions of one run over a capture of INSTR_PACKETS packets.
command -v valgrind >/dev/null || { echo "valgrind not installed: no instruction counts"; exit 0; }
INSTR_PACKETS=${INSTR_PACKETS:-200000}
ICAP="$DIR/dns-$INSTR_PACKETS.pcap"
[[ -s "$ICAP" ]] || go run ./scripts/bench/gencap -n "$INSTR_PACKETS" -o "$ICAP"
instr() { # instr CMD...: instructions callgrind counted (one P, no GC and no
  # asynchronous preemption signals, which callgrind cannot follow, so
  # the runtime's background threads add nothing that varies)
  GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 GOGC=off valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
    awk '/Collected :/ {print $4}'
}
bench_instr() { # bench_instr SIDE NAME: instructions per packet
  local a b
  a=$(cd "$(cat "$DIR/$1.pkgdir")" && instr "$DIR/$1.test" -test.run='^$' -test.bench="^$2\$" -test.benchtime=100000x -test.cpu 1)
  b=$(cd "$(cat "$DIR/$1.pkgdir")" && instr "$DIR/$1.test" -test.run='^$' -test.bench="^$2\$" -test.benchtime=300000x -test.cpu 1)
  awk -v a="$a" -v b="$b" 'BEGIN {printf "%.1f", (b - a) / 200000}'
}
echo
echo "instructions (callgrind):"
for name in BenchmarkPipeline BenchmarkPipelineNet; do
  x=$(bench_instr base "$name"); y=$(bench_instr head "$name")
  awk -v n="$name" -v x="$x" -v y="$y" 'BEGIN {printf "%-22s %10.1f %10.1f %14.3f  per packet\n", n, x, y, y / x}'
done
x=$(instr "$DIR/base-reader" -H 10.1.0.0/16 "$ICAP"); y=$(instr "$DIR/head-reader" -H 10.1.0.0/16 "$ICAP")
awk -v x="$x" -v y="$y" -v n="$INSTR_PACKETS" 'BEGIN {printf "%-22s %10.1f %10.1f %14.3f  per packet (%d-packet capture)\n", "reader", x / n, y / n, y / x, n}'
