# lib.sh: helpers shared by scripts/bench/capture.sh and api.sh. Source it.
# Every namespace, process and file it creates is registered for the EXIT
# trap installed by bench_init, so an interrupted run leaves nothing behind.

BENCH_NS=()     # network namespaces to delete on exit
BENCH_PIDS=()   # processes (by pid) to stop on exit
BENCH_FILES=()  # temporary files to remove on exit

bench_cleanup() {
  set +e   # a failing kill/wait must not stop the cleanup
  local p ns
  for p in "${BENCH_PIDS[@]}"; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  for ns in "${BENCH_NS[@]}"; do
    ip netns del "$ns" 2>/dev/null
  done
  ((${#BENCH_FILES[@]} == 0)) || rm -f "${BENCH_FILES[@]}"
  return 0
}

bench_init() {
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null || { echo "missing tool: $c (scripts/install-deps.sh --bench)" >&2; exit 1; }
  done
}

# median: the median of the numbers on stdin (mean of the middle two for an
# even count); "-" when there are none.
median() {
  sort -g | awk '{a[NR]=$1} END {
    if (NR == 0) { print "-"; exit }
    if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2] + a[NR/2+1]) / 2 }'
}

# percentile P: nearest-rank percentile of the numbers on stdin.
percentile() {
  sort -g | awk -v p="$1" '{a[NR]=$1} END {
    if (NR == 0) { print "-"; exit }
    r = int((p / 100) * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR; print a[r] }'
}

# cpu_ticks PID: utime + stime of PID in clock ticks (fields 14 and 15 of
# /proc/PID/stat; the comm field holds no spaces for pktvisord).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# vm_hwm PID: peak resident set in KiB.
vm_hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

CLK_TCK=$(getconf CLK_TCK)

# netns_pair RXNS TXNS RXIF TXIF QUEUES: two namespaces with no default
# route, IPv6 off, a veth pair RXIF (in RXNS, 10.200.0.1/24) <-> TXIF (in
# TXNS, 10.200.0.2/24), QUEUES rx/tx queues on each side.
netns_pair() {
  local rxns=$1 txns=$2 rxif=$3 txif=$4 q=$5 ns
  for ns in "$rxns" "$txns"; do
    ip netns add "$ns"
    BENCH_NS+=("$ns")
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
  done
  ip link add "$rxif" numtxqueues "$q" numrxqueues "$q" netns "$rxns" type veth \
    peer name "$txif" numtxqueues "$q" numrxqueues "$q" netns "$txns"
  ip -n "$rxns" addr add 10.200.0.1/24 dev "$rxif"
  ip -n "$txns" addr add 10.200.0.2/24 dev "$txif"
  ip -n "$rxns" link set "$rxif" up
  ip -n "$txns" link set "$txif" up
}

mac_of() { ip -n "$1" -j link show "$2" | jq -r '.[0].address'; }

# start_agent NS CONFIG LOG: starts pktvisord in NS and waits until its REST
# API answers; sets AGENT_PID.
start_agent() {
  local ns=$1 cfg=$2 log=$3 i
  ip netns exec "$ns" "$ROOT/bin/pktvisord" --config "$cfg" >"$log" 2>&1 &
  AGENT_PID=$!   # ip netns exec execs the agent: same pid
  BENCH_PIDS+=("$AGENT_PID")
  for i in $(seq 100); do
    if ip netns exec "$ns" curl -sf -o /dev/null "http://127.0.0.1:${AGENT_PORT:-10853}/api/v1/policies"; then
      return 0
    fi
    kill -0 "$AGENT_PID" 2>/dev/null || { echo "pktvisord exited:"; cat "$log"; exit 1; } >&2
    sleep 0.1
  done
  echo "pktvisord did not answer within 10 s:" >&2; cat "$log" >&2; exit 1
}

stop_agent() {
  kill "$AGENT_PID" 2>/dev/null
  wait "$AGENT_PID" 2>/dev/null
  return 0
}

# api NS PATH: GET a REST path of the agent in NS.
api() { ip netns exec "$1" curl -sf "http://127.0.0.1:${AGENT_PORT:-10853}$2"; }
