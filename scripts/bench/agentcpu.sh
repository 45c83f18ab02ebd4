#!/usr/bin/env bash
# agentcpu.sh measures pktvisord's own CPU per packet for one capture
# backend with the sender and the agent on different CPUs (trafgen pinned
# to CPU 0, the agent to CPU 1), so softirq work done on the sender's CPU
# is not charged to the agent. It prints utime and stime (clock ticks) and
# the UDP packets the net handler counted; PKTVISORD_CPUPROFILE is set so a
# Go CPU profile lands in $BENCH_DIR/agentcpu-<backend>.prof.
#
#   scripts/bench/agentcpu.sh af_xdp|af_packet|libpcap|ebpf [PACKETS]
#
# Needs root, trafgen (netsniff-ng), taskset, 2 or more CPUs. Traffic stays
# inside the two namespaces it creates; they are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=${1:?backend}
N=${2:-2000000}
DIR=${BENCH_DIR:-/tmp/pktvisor-bench}
mkdir -p "$DIR" bin
go build -o bin/ ./cmd/pktvisord
A=pvca$$ B=pvcb$$
PID=""
cleanup() {
  [[ -n $PID ]] && kill "$PID" 2>/dev/null || true
  sleep 1
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$A"
ip netns add "$B"
ip link add xa0 numtxqueues 4 numrxqueues 4 netns "$A" type veth peer name xb0 numtxqueues 4 numrxqueues 4 netns "$B"
for ns in "$A" "$B"; do
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
ip -n "$A" link set xa0 up
ip -n "$B" link set xb0 up
RXMAC=$(ip -n "$A" -br link show xa0 | awk '{print $3}')
TXMAC=$(ip -n "$B" -br link show xb0 | awk '{print $3}')
CFG=$DIR/agentcpu-$$.yaml
cat >"$CFG" <<Y
version: "1.0"
visor:
  taps:
    t:
      input_type: pcap
      config:
        iface: xa0
        pcap_source: $SRC
  policies:
    p:
      kind: collection
      input:
        tap: t
        input_type: pcap
      handlers:
        modules:
          net:
            type: net
Y
TG=$DIR/agentcpu-$$.trafgen
echo "{ eth(da=$RXMAC, sa=$TXMAC, type=0x0800), ipv4(sa=10.200.0.2, da=10.200.0.1, ttl=64, id=drnd()), udp(sp=dinc(40000,40063), dp=9999), fill(0x41,18) }" >"$TG"
ip netns exec "$A" env PKTVISORD_CPUPROFILE="$DIR/agentcpu-$SRC.prof" taskset -c 1 ./bin/pktvisord -p 10970 --config "$CFG" \
  >"$DIR/agentcpu-$SRC.log" 2>&1 &
sleep 2
PID=$(pgrep -f "$CFG" | head -1)
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$PID/stat")
# schedstat: nanoseconds on CPU, summed over the agent's threads (exact,
# unlike the tick-sampled utime/stime split).
sched() { cat /proc/"$PID"/task/*/schedstat | awk '{t += $1} END {printf "%d", t}'; }
r0=$(sched)
ip netns exec "$B" taskset -c 0 trafgen --dev xb0 --conf "$TG" --num "$N" --cpus 1 -q >/dev/null 2>&1
sleep 1
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$PID/stat")
r1=$(sched)
udp=$(ip netns exec "$A" curl -s localhost:10970/api/v1/policies/p/metrics/bucket/0 | \
  python3 -c 'import json,sys; print(json.load(sys.stdin)["p"]["p-t-net"]["packets"]["udp"])')
hz=$(getconf CLK_TCK)
awk -v b="$SRC" -v n="$N" -v c="$udp" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$hz" -v r=$((r1 - r0)) 'BEGIN {
  printf "%s: sent %d, counted %d, utime %.2f s, stime %.2f s, %.3f s per M packets (on-CPU time %.3f s per M packets)\n",
    b, n, c, u/hz, s/hz, (u+s)/hz/(n/1e6), r/1e9/(n/1e6) }'
