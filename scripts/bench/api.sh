#!/usr/bin/env bash
# api.sh times pktvisord's REST and Prometheus endpoints on a policy whose
# top-N tables are full (a generated DNS capture with hundreds of
# thousands of distinct qnames).
#
#   scripts/bench/api.sh [file|live] [PACKETS]
#
# file (default): the agent reads a gencap capture of PACKETS (default
#   500,000) packets through a pcap_file tap; once the input has counted
#   every packet, the endpoints are timed on the finished buckets.
# live: the agent captures (af_packet, workers 2) on a veth between two
#   namespaces the script creates; the same capture is replayed into it
#   once at --topspeed, then the endpoints are timed while a second replay
#   keeps LIVE_PPS (default 20,000) packets/s flowing (writers active).
#
# Each endpoint is requested REQUESTS (default 50) times sequentially with
# curl -w '%{time_total}', after 3 warm-up requests, from inside the
# agent's namespace; median, p95 and max are printed in ms. Targets:
# Prometheus scrape < 50 ms, REST window/5 < 20 ms.
#
# Environment: REQUESTS (50), TOPN (handlers' topn_count; agent default
# when unset), LIVE_PPS (20000), BENCH_DIR (/tmp/pktvisor-bench).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/bench/lib.sh

MODE=${1:-file}
N=${2:-500000}
REQUESTS=${REQUESTS:-50}
LIVE_PPS=${LIVE_PPS:-20000}
DIR=${BENCH_DIR:-/tmp/pktvisor-bench}
case $MODE in file|live) ;; *) echo "usage: $0 [file|live] [PACKETS]" >&2; exit 2 ;; esac
[[ $(id -u) -eq 0 ]] || { echo "api.sh needs root (network namespaces)" >&2; exit 1; }
need go ip curl jq
[[ $MODE == live ]] && need tcpreplay tcprewrite
mkdir -p "$DIR" bin
bench_init

go build -o bin/ ./cmd/pktvisord
CAP=$DIR/dns-$N.pcap
[[ -s "$CAP" ]] || go run ./scripts/bench/gencap -n "$N" -o "$CAP"
echo "machine: nproc $(nproc), kernel $(uname -r); pktvisord $(bin/pktvisord --version)"
echo "capture: $CAP ($N packets, $(stat -c %s "$CAP") bytes), mode $MODE"

NS=pvbapi$$
CFG=$DIR/api-$$.yaml
BENCH_FILES+=("$CFG")
window=""
[[ -n ${TOPN:-} ]] && window="        window_config:
          topn_count: $TOPN"
if [[ $MODE == file ]]; then
  ip netns add "$NS"; BENCH_NS+=("$NS")
  ip -n "$NS" link set lo up
  tapcfg="        pcap_file: $CAP"
else
  TXNS=pvbapt$$ RXIF=pvb0 TXIF=pvb1
  netns_pair "$NS" "$TXNS" "$RXIF" "$TXIF" 4
  tapcfg="        iface: $RXIF
        pcap_source: af_packet
        workers: 2"
  LIVECAP=$DIR/api-live-$$.pcap
  BENCH_FILES+=("$LIVECAP")
  # gencap's addresses are 10.1.0.0/16 and 10.2.0.0/24 already; only the
  # destination MAC is set to the receiver's.
  tcprewrite --infile="$CAP" --outfile="$LIVECAP" --enet-dmac="$(mac_of "$NS" "$RXIF")"
fi
cat >"$CFG" <<EOF
version: "1.0"
visor:
  config:
    admin_api: true
    no_track: true
    host: 127.0.0.1
    port: ${AGENT_PORT:-10853}
  taps:
    bench:
      input_type: pcap
      config:
$tapcfg
        host_spec: "10.1.0.0/16"
  policies:
    bench:
      kind: collection
      input:
        tap: bench
        input_type: pcap
      handlers:
$window
        modules:
          net:
            type: net
          dns:
            type: dns
          pcap:
            type: pcap
EOF

start_agent "$NS" "$CFG" "$DIR/agent-api.log"
t0=$(date +%s.%N)
if [[ $MODE == live ]]; then
  ip netns exec "$TXNS" tcpreplay -q -i "$TXIF" --topspeed -K "$LIVECAP" >/dev/null 2>&1
fi
# Wait until the input has counted every packet and the dns handler has
# seen them all (its wire_packets.total stops moving).
prev=""
for i in $(seq 600); do
  # Frames the kernel dropped are accounted for too (they are reported).
  got=$(api "$NS" /api/v1/policies/bench | jq '[.bench.input[].pcap | .packets + .drops] | add')
  dns=$(api "$NS" /api/v1/policies/bench/metrics/window/5 | jq '.bench["bench-bench-dns"].dns.wire_packets.total')
  if (( got >= N )) && [[ "$dns" == "$prev" ]]; then break; fi
  prev=$dns
  sleep 0.5
done
t1=$(date +%s.%N)
(( got >= N )) || echo "warning: input counted $got of $N packets (packets + drops)" >&2
awk -v a="$t0" -v b="$t1" -v g="$got" -v d="$dns" 'BEGIN {printf "processed: input %d packets, dns wire_packets.total %d, in %.1f s\n", g, d, b - a}'
api "$NS" /api/v1/policies/bench/metrics/window/5 | jq -r '.bench["bench-bench-dns"].dns |
  "dns cardinality.qname \(.cardinality.qname); top_qname2 \(.top_qname2 | length) rows, top_qname3 \(.top_qname3 | length) rows, top_nxdomain \(.top_nxdomain | length) rows"'

if [[ $MODE == live ]]; then
  ip netns exec "$TXNS" tcpreplay -q -i "$TXIF" --pps="$LIVE_PPS" --pps-multi=20 --loop=0 -K "$LIVECAP" >/dev/null 2>&1 &
  BENCH_PIDS+=("$!")
  sleep 2
  echo "background replay at $LIVE_PPS pps while timing"
fi

# timeit LABEL PATH TARGET_MS: REQUESTS sequential GETs.
timeit() {
  local label=$1 path=$2 target=$3 f=$DIR/api-times-$$.txt i bytes code
  BENCH_FILES+=("$f")
  : >"$f"
  for i in 1 2 3; do api "$NS" "$path" >/dev/null; done
  for i in $(seq "$REQUESTS"); do
    ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_total}\n' \
      "http://127.0.0.1:${AGENT_PORT:-10853}$path" >>"$f"
  done
  code=$(awk '$1 != 200 {print $1; exit}' "$f")
  [[ -z $code ]] || echo "warning: $label answered HTTP $code" >&2
  bytes=$(awk '{print $2}' "$f" | median)
  awk '{print $3 * 1000}' "$f" >"$f.ms"
  BENCH_FILES+=("$f.ms")
  local med p95 max
  med=$(median <"$f.ms"); p95=$(percentile 95 <"$f.ms"); max=$(percentile 100 <"$f.ms")
  awk -v l="$label" -v b="$bytes" -v m="$med" -v p="$p95" -v x="$max" -v t="$target" 'BEGIN {
    printf "%-44s %9d %9.2f %9.2f %9.2f", l, b, m, p, x
    if (t > 0) printf "   target < %d ms: %s", t, (p < t ? "met (p95)" : "NOT met (p95)")
    printf "\n" }'
}

echo
printf '%-44s %9s %9s %9s %9s\n' "GET ($REQUESTS requests)" bytes med_ms p95_ms max_ms
c0=$(cpu_ticks "$AGENT_PID")
timeit /api/v1/policies/bench/metrics/prometheus /api/v1/policies/bench/metrics/prometheus 50
timeit /api/v1/policies/bench/metrics/window/5 /api/v1/policies/bench/metrics/window/5 20
timeit /api/v1/policies/bench/metrics/bucket/0 /api/v1/policies/bench/metrics/bucket/0 0
c1=$(cpu_ticks "$AGENT_PID")
echo "agent CPU during the $((3 * (REQUESTS + 3))) requests: $(awk -v c=$((c1 - c0)) -v t="$CLK_TCK" 'BEGIN {printf "%.2f s", c / t}'); peak RSS $(( $(vm_hwm "$AGENT_PID") / 1024 )) MB"
