#!/usr/bin/env bash
# capture.sh measures pktvisord's live capture on a veth pair between two
# network namespaces that it creates (no default route, IPv6 off) and
# deletes on exit.
#
#   scripts/bench/capture.sh [af_packet|libpcap|all] [PACKETS]
#
# For each backend, RUNS times (default 3), with a fresh agent each time:
#   1. starts bin/pktvisord in the receiver namespace on the veth (4 rx
#      queues) with a policy of net + dns + pcap handlers (workers: 2 for
#      af_packet),
#   2. sends PACKETS (default 1,000,000) 60-byte UDP frames (64 flows) as
#      fast as the sender can (trafgen --cpus 1; SENDER=tcpreplay uses
#      tcpreplay --topspeed -K of a generated pcap instead),
#   3. waits until the agent's counters stop moving, then reads
#      /api/v1/policies/bench/metrics/bucket/0 (net packets), the policy's
#      input stats (socket packets/drops) and the agent's CPU time.
# Then a DNS run: the fixture dns_udp_tcp_random.pcap rewritten into
# 10.77.0.0/24 (tcprewrite --pnat, --enet-dmac of the receiver) and replayed
# with --loop to about DNS_PACKETS (default 200,000) packets.
# It prints each run and the median per backend.
#
# Environment: RUNS (3), SENDER (trafgen|tcpreplay), DNS_PACKETS (200000),
# DNS=0 skips the DNS run, BENCH_DIR (/tmp/pktvisor-bench), FIXTURE.
# Needs root, go, trafgen (netsniff-ng), tcpreplay/tcprewrite, ethtool,
# curl, jq: scripts/install-deps.sh --bench.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/bench/lib.sh

MODE=${1:-all}
N=${2:-1000000}
RUNS=${RUNS:-3}
SENDER=${SENDER:-trafgen}
DNS=${DNS:-1}
DNS_PACKETS=${DNS_PACKETS:-200000}
DIR=${BENCH_DIR:-/tmp/pktvisor-bench}
FIXTURE=${FIXTURE:-/work/shared/testdata/pktvisor-fixtures/dns_udp_tcp_random.pcap}
case $MODE in
  af_packet|libpcap) BACKENDS=("$MODE") ;;
  all) BACKENDS=(af_packet libpcap) ;;
  *) echo "usage: $0 [af_packet|libpcap|all] [PACKETS]" >&2; exit 2 ;;
esac
[[ $(id -u) -eq 0 ]] || { echo "capture.sh needs root (namespaces, capture)" >&2; exit 1; }
need go ip ethtool curl jq tcpreplay tcprewrite
[[ $SENDER == trafgen ]] && need trafgen
mkdir -p "$DIR" bin

bench_init
RXNS=pvbrx$$ TXNS=pvbtx$$ RXIF=pvb0 TXIF=pvb1

echo "== build"
go build -o bin/ ./cmd/pktvisord
"$ROOT/bin/pktvisord" --version
echo "machine: nproc $(nproc), kernel $(uname -r), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"

echo "== namespaces $RXNS (receiver, $RXIF) <-> $TXNS (sender, $TXIF)"
netns_pair "$RXNS" "$TXNS" "$RXIF" "$TXIF" 4
ip -n "$RXNS" -d link show "$RXIF" | grep -o 'numtxqueues [0-9]* numrxqueues [0-9]*' | sed "s/^/$RXIF: /"
ip netns exec "$RXNS" ethtool -l "$RXIF" | awk '/Current/ {c=1} c && /^(RX|TX):/ {printf "ethtool -l %s current %s %s\n", "'"$RXIF"'", $1, $2}'
RXMAC=$(mac_of "$RXNS" "$RXIF")
TXMAC=$(mac_of "$TXNS" "$TXIF")

# --- traffic -------------------------------------------------------------
UDPCONF=$DIR/udp.trafgen
cat >"$UDPCONF" <<EOF
{ eth(da=$RXMAC, sa=$TXMAC, type=0x0800), ipv4(sa=10.200.0.2, da=10.200.0.1, ttl=64, id=drnd()), udp(sp=dinc(40000,40063), dp=9999), fill(0x41,18) }
EOF
if [[ $SENDER == tcpreplay ]]; then
  # One pass of the trafgen config into a pcap (100k frames), replayed with
  # --loop; trafgen writes pcap when --out is a .pcap file.
  need trafgen
  UDPPCAP=$DIR/udp-$$.pcap
  BENCH_FILES+=("$UDPPCAP")
  trafgen --in "$UDPCONF" --out "$UDPPCAP" --num 100000 -q >/dev/null 2>&1
fi

# send_udp COUNT: sends COUNT frames; sets SEND_S (wall seconds), SENT.
send_udp() {
  local n=$1 t0 t1 out
  t0=$(date +%s.%N)
  if [[ $SENDER == trafgen ]]; then
    out=$(ip netns exec "$TXNS" trafgen --dev "$TXIF" --conf "$UDPCONF" --num "$n" --cpus 1 2>&1) ||
      { echo "trafgen failed: $out" >&2; exit 1; }
    t1=$(date +%s.%N)
    SENT=$(tr -d '\r' <<<"$out" | awk '/packets outgoing/ {print $1}')
  else
    local loops=$(( (n + 99999) / 100000 ))
    out=$(ip netns exec "$TXNS" tcpreplay -i "$TXIF" --topspeed -K --loop="$loops" "$UDPPCAP" 2>&1) ||
      { echo "tcpreplay failed: $out" >&2; exit 1; }
    t1=$(date +%s.%N)
    SENT=$(awk '/Actual:/ {print $2; exit}' <<<"$out")
  fi
  SEND_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
}

# kernel drop counters outside the agent's socket: backlog drops of all
# CPUs (/proc/net/softnet_stat column 2) + veth drops on both ends.
kdrops() {
  local sn v
  sn=0
  while read -r _ d _; do sn=$(( sn + 16#$d )); done </proc/net/softnet_stat
  v=$(( $(ip -n "$RXNS" -j -s link show "$RXIF" | jq '.[0].stats64.rx.dropped') +
        $(ip -n "$TXNS" -j -s link show "$TXIF" | jq '.[0].stats64.tx.dropped') ))
  echo $(( sn + v ))
}

# input_stats: "packets drops if_drops" of the policy's input.
input_stats() {
  api "$RXNS" /api/v1/policies/bench | jq -r '.bench.input[] | .pcap | "\(.packets) \(.drops) \(.if_drops)"'
}

# wait_drain: until the input's packet count and the net handler's total
# are unchanged over 1 s (max 60 s).
wait_drain() {
  local prev="" cur i
  for i in $(seq 120); do
    cur="$(input_stats) $(api "$RXNS" /api/v1/policies/bench/metrics/window/5 | jq -r '.bench["bench-veth-net"].packets.total')"
    [[ $cur == "$prev" ]] && return 0
    prev=$cur
    sleep 1
  done
  echo "warning: counters still moving after 120 s" >&2
}

# write_config BACKEND HOSTSPEC FILE
write_config() {
  local backend=$1 hs=$2 f=$3 workers=""
  [[ $backend == af_packet ]] && workers="        workers: 2"
  cat >"$f" <<EOF
version: "1.0"
visor:
  config:
    admin_api: true
    no_track: true
    host: 127.0.0.1
    port: ${AGENT_PORT:-10853}
  taps:
    veth:
      input_type: pcap
      config:
        iface: $RXIF
        pcap_source: $backend
        host_spec: "$hs"
$workers
  policies:
    bench:
      kind: collection
      input:
        tap: veth
        input_type: pcap
      handlers:
        modules:
          net:
            type: net
          dns:
            type: dns
          pcap:
            type: pcap
EOF
}

# one_run BACKEND KIND RUN: KIND udp or dns. Appends a result line to
# $DIR/capture-$$.tsv.
one_run() {
  local backend=$1 kind=$2 run=$3
  local cfg=$DIR/capture-$backend.yaml log=$DIR/agent-$backend-$kind-$run.log
  local c0 c1 k0 k1 i0 i1 net dns
  if [[ $kind == udp ]]; then write_config "$backend" 10.200.0.1/32 "$cfg"
  else write_config "$backend" 10.77.0.189/32 "$cfg"; fi
  start_agent "$RXNS" "$cfg" "$log"
  sleep 0.5
  c0=$(cpu_ticks "$AGENT_PID"); k0=$(kdrops); i0=$(input_stats)
  if [[ $kind == udp ]]; then
    send_udp "$N"
  else
    local t0 t1 out
    t0=$(date +%s.%N)
    out=$(ip netns exec "$TXNS" tcpreplay -i "$TXIF" --topspeed -K --loop="$DNS_LOOPS" "$DNSPCAP" 2>&1) ||
      { echo "tcpreplay failed: $out" >&2; exit 1; }
    t1=$(date +%s.%N)
    SENT=$(awk '/Actual:/ {print $2; exit}' <<<"$out")
    SEND_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
  fi
  wait_drain
  c1=$(cpu_ticks "$AGENT_PID"); k1=$(kdrops); i1=$(input_stats)
  local hwm; hwm=$(vm_hwm "$AGENT_PID")
  local b0; b0=$(api "$RXNS" /api/v1/policies/bench/metrics/bucket/0)
  local w5; w5=$(api "$RXNS" /api/v1/policies/bench/metrics/window/5)
  stop_agent
  # bucket/0 is the live 60 s period of a fresh agent; should a period
  # boundary fall inside the run, window/5 (all periods) is used instead.
  local src=$b0
  if [[ $(jq '.bench["bench-veth-net"].packets.total' <<<"$b0") != $(jq '.bench["bench-veth-net"].packets.total' <<<"$w5") ]]; then
    echo "note: period rotated during the run; using window/5" >&2
    src=$w5
  fi
  read -r ip0 id0 if0 <<<"$i0"; read -r ip1 id1 if1 <<<"$i1"
  net=$(jq -r '.bench["bench-veth-net"].packets | "\(.total) \(.udp) \(.tcp) \(.in)"' <<<"$src")
  dns=$(jq -r '.bench["bench-veth-dns"].dns | "\(.wire_packets.total) \(.wire_packets.udp) \(.wire_packets.tcp) \(.wire_packets.queries) \(.wire_packets.replies) \(.xact.counts.total)"' <<<"$src")
  local pcapst; pcapst=$(jq -r '.bench["bench-veth-pcap"].pcap | "\(.os_drops) \(.if_drops) \(.tcp_reassembly_errors)"' <<<"$src")
  # columns: backend kind run sent send_s pps input_pkts input_drops kdrops
  #          net_total net_udp net_tcp net_in dns_total dns_udp dns_tcp
  #          dns_q dns_r xacts cpu_s cpu_per_M hwm_kb pcap_os_drops
  #          pcap_if_drops reasm_err
  awk -v b="$backend" -v k="$kind" -v r="$run" -v sent="$SENT" -v s="$SEND_S" \
      -v ip=$((ip1 - ip0)) -v idr=$(( (id1 - id0) + (if1 - if0) )) -v kd=$((k1 - k0)) \
      -v net="${net// /$'\t'}" -v dns="${dns// /$'\t'}" -v cpu=$((c1 - c0)) -v tck="$CLK_TCK" -v hwm="$hwm" \
      -v pst="${pcapst// /$'\t'}" 'BEGIN {
    cs = cpu / tck
    printf "%s\t%s\t%s\t%d\t%.3f\t%.0f\t%d\t%d\t%d\t%s\t%s\t%.2f\t%.3f\t%d\t%s\n", b, k, r, sent, s, sent / s,
      ip, idr, kd, net, dns, cs, cs * 1e6 / sent, hwm, pst }' >>"$RES"
}

RES=$DIR/capture-$$.tsv
: >"$RES"
row() { awk -F'\t' -v b="$1" -v k="$2" -v r="$3" '$1 == b && $2 == k && $3 == r' "$RES"; }
col() { awk -F'\t' -v b="$1" -v k="$2" -v c="$3" '$1 == b && $2 == k {print $c}' "$RES" | median; }

echo
echo "== UDP: $N x 60-byte frames per run, sender $SENDER, $RUNS runs per backend"
printf '%-9s %3s %9s %7s %9s %9s %8s %7s %7s %9s %9s %8s %9s %8s\n' backend run sent send_s offer_pps \
  sock_pkts sock_drp k_drops loss net_total net_udp cpu_s cpu_s/Mpkt rss_MB
for b in "${BACKENDS[@]}"; do
  for r in $(seq "$RUNS"); do
    one_run "$b" udp "$r"
    row "$b" udp "$r" | awk -F'\t' '{printf "%-9s %3s %9d %7.3f %9d %9d %8d %7d %7d %9d %9d %8.2f %9.3f %8.1f\n",
      $1, $3, $4, $5, $6, $7, $8, $9, $4 - $11, $10, $11, $20, $21, $22 / 1024}'
  done
done

if [[ $DNS == 1 ]]; then
  need tcprewrite
  DNSPCAP=$DIR/dns-fixture-$$.pcap
  BENCH_FILES+=("$DNSPCAP")
  tcprewrite --infile="$FIXTURE" --outfile="$DNSPCAP" \
    --pnat='0.0.0.0/1:10.77.0.0/24,128.0.0.0/1:10.77.0.0/24' --enet-dmac="$RXMAC" --fixcsum
  PER_LOOP=16147
  DNS_LOOPS=$(( (DNS_PACKETS + PER_LOOP / 2) / PER_LOOP ))
  (( DNS_LOOPS >= 1 )) || DNS_LOOPS=1
  echo
  echo "== DNS: $FIXTURE rewritten to 10.77.0.0/24, tcpreplay --topspeed -K --loop=$DNS_LOOPS ($((DNS_LOOPS * PER_LOOP)) packets)"
  echo "   expected per loop (single pass, pktvisor spec): net 16147 (udp 2971, tcp 13176); dns wire 5851 (udp 2971, tcp 2880), queries 2930, replies 2921, xacts 2921"
  printf '%-9s %3s %8s %9s %8s %8s %7s %8s %8s %8s %8s %8s %8s %7s %9s %6s\n' backend run sent offer_pps sock_pkts \
    net_total k_drops dns_tot dns_udp dns_tcp queries replies xacts cpu_s cpu_s/Mpkt reasm
  for b in "${BACKENDS[@]}"; do
    for r in $(seq "$RUNS"); do
      one_run "$b" dns "$r"
      row "$b" dns "$r" | awk -F'\t' '{printf "%-9s %3s %8d %9d %8d %8d %7d %8d %8d %8d %8d %8d %8d %7.2f %9.3f %6d\n",
        $1, $3, $4, $6, $7, $10, $8 + $9, $14, $15, $16, $17, $18, $19, $20, $21, $25}'
    done
  done
  L=$DNS_LOOPS
  echo "   expected x$L loops: net $((16147 * L)); dns udp $((2971 * L)), tcp <= $((2880 * L)) (TCP segments repeat with the same 4-tuple and sequence numbers across loops), queries <= $((2930 * L)), replies <= $((2921 * L))"
fi

echo
echo "== median of $RUNS runs (UDP: $N frames; loss = sent - net udp counted)"
printf '%-9s %4s %10s %10s %8s %8s %10s %11s\n' backend kind offer_pps counted loss k_drops cpu_s cpu_s/Mpkt
for b in "${BACKENDS[@]}"; do
  for k in udp dns; do
    [[ $k == dns && $DNS != 1 ]] && continue
    if [[ $k == udp ]]; then
      counted=$(col "$b" udp 11)
      loss=$(awk -F'\t' -v b="$b" '$1 == b && $2 == "udp" {print $4 - $11}' "$RES" | median)
    else
      counted=$(col "$b" dns 14)
      loss=$(awk -F'\t' -v b="$b" '$1 == b && $2 == "dns" {print $4 - $10}' "$RES" | median)
    fi
    kd=$(awk -F'\t' -v b="$b" -v k="$k" '$1 == b && $2 == k {print $8 + $9}' "$RES" | median)
    printf '%-9s %4s %10.0f %10s %8s %8s %10s %11s\n' "$b" "$k" "$(col "$b" "$k" 6)" "$counted" "$loss" "$kd" \
      "$(col "$b" "$k" 20)" "$(col "$b" "$k" 21)"
  done
done
echo "(dns: counted = dns wire_packets.total, loss = sent - net packets.total; k_drops = socket drops +"
echo " if_drops + softnet backlog drops + veth drops; cpu_s = pktvisord utime+stime from just before the"
echo " send until its counters settle; the veth receive path itself runs in the sender's softirq)"
echo "raw results: $RES"
