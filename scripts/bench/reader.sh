#!/usr/bin/env bash
# reader.sh compares pktvisor-reader with tshark and with a plain read of
# the file (the I/O floor) on the same generated DNS capture, on this
# machine, and prints the ratios. Needs: go, tshark, /usr/bin/time.
#
#   scripts/bench/reader.sh [PACKETS]     (default 2,000,000)
#
# It also compares the reader with BenchmarkPipeline (decode + net + dns +
# dhcp over testdata/captures/dns_udp_tcp_random.pcap from memory, one
# core) in PAIRS (default 7) rounds of three back-to-back runs: the
# benchmark as `go test` builds it, the reader, and the benchmark built
# with the reader's PGO profile (as the shipped binaries are). This kind
# of machine changes speed by up to 1.5x from minute to minute, so each
# ratio is taken within one round, and the medians are printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-2000000}
DIR=${BENCH_DIR:-/tmp/pktvisor-bench}
mkdir -p "$DIR" bin
CAP="$DIR/dns-$N.pcap"

go build -o bin/ ./cmd/pktvisor-reader
go test -c -o bin/policy.test ./internal/input/pcap/
go test -c -pgo="$PWD/cmd/pktvisor-reader/default.pgo" -o bin/policy-pgo.test ./internal/input/pcap/
[[ -s "$CAP" ]] || go run ./scripts/bench/gencap -n "$N" -o "$CAP"
bytes=$(stat -c %s "$CAP")
echo "capture: $CAP ($N packets, $bytes bytes)"

# measure LABEL CMD...: wall seconds and max RSS (KiB) of CMD, best of 3.
measure() {
  local label=$1; shift
  local best="" rss=""
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$DIR/time.out" "$@" >/dev/null 2>"$DIR/$label.err" || {
      echo "$label failed:"; cat "$DIR/$label.err"; exit 1; }
    read -r s m <"$DIR/time.out"
    if [[ -z "$best" ]] || awk "BEGIN{exit !($s < $best)}"; then best=$s; rss=$m; fi
  done
  printf '%-18s %8.3f s  %8.1f ns/packet  %7.1f MB RSS\n' "$label" "$best" \
    "$(awk "BEGIN{print $best*1e9/$N}")" "$(awk "BEGIN{print $rss/1024}")"
  eval "T_$label=$best"
}

cat "$CAP" >/dev/null # warm the page cache
measure io_floor cat "$CAP"
measure pktvisor bin/pktvisor-reader -H 10.1.0.0/16 "$CAP"
measure tshark tshark -n -q -z dns,tree -r "$CAP"

echo
awk -v r="$T_pktvisor" -v t="$T_tshark" -v f="$T_io_floor" 'BEGIN {
  printf "pktvisor-reader vs tshark:     %.1fx faster\n", t / r
  printf "pktvisor-reader vs read floor: %.1fx the time of cat\n", r / (f > 0 ? f : 0.001)
}'

# Rounds: reader wall time per packet / BenchmarkPipeline ns per packet.
bench() {
  (cd internal/input/pcap && "../../../bin/$1" -test.run='^$' -test.bench='^BenchmarkPipeline$' \
    -test.benchtime=2000000x -test.cpu 1) | awk '/^BenchmarkPipeline/ {print $3}'
}
PAIRS=${PAIRS:-7}
plain=() pgo=()
for _ in $(seq "$PAIRS"); do
  b=$(bench policy.test)
  /usr/bin/time -f "%e" -o "$DIR/time.out" bin/pktvisor-reader -H 10.1.0.0/16 "$CAP" >/dev/null 2>"$DIR/pktvisor.err"
  r=$(awk -v n="$N" '{print $1 * 1e9 / n}' "$DIR/time.out")
  p=$(bench policy-pgo.test)
  plain+=("$(awk -v r="$r" -v b="$b" 'BEGIN {printf "%.2f", r / b}')")
  pgo+=("$(awk -v r="$r" -v b="$p" 'BEGIN {printf "%.2f", r / b}')")
  printf 'round: BenchmarkPipeline %6.1f ns/packet, pktvisor-reader %6.1f ns/packet, BenchmarkPipeline (PGO) %6.1f ns/packet: ratios %s, %s\n' \
    "$b" "$r" "$p" "${plain[-1]}" "${pgo[-1]}"
done
summary() {
  local label=$1; shift
  printf '%s\n' "$@" | sort -n | awk -v l="$label" '{a[NR] = $1} END {
    printf "pktvisor-reader vs %s: median ratio %.2f over %d rounds (min %.2f, max %.2f)\n", l, a[int((NR + 1) / 2)], NR, a[1], a[NR] }'
}
summary "BenchmarkPipeline" "${plain[@]}"
summary "BenchmarkPipeline (PGO build)" "${pgo[@]}"
