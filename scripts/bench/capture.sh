#!/usr/bin/env bash
# capture.sh measures pktvisord's live capture on a veth pair between two
# network namespaces that it creates (no default route, IPv6 off) and
# deletes on exit.
#
#   scripts/bench/capture.sh [af_xdp|ebpf|af_packet|libpcap|all|prefilter] [PACKETS]
#
# all = af_xdp ebpf af_packet libpcap. For each backend, RUNS times
# (default 3), with a fresh agent each time:
#   1. starts bin/pktvisord in the receiver namespace on the veth (4 rx
#      queues) with a policy of net + dns + pcap handlers (workers: 2 for
#      af_packet; af_xdp opens one socket per rx queue, in copy mode on
#      veth; ebpf is the XDP/TCX pass-through into a ring buffer),
#   2. sends PACKETS (default 1,000,000) 60-byte UDP frames (64 flows) as
#      fast as the sender can (trafgen --cpus 1; SENDER=tcpreplay uses
#      tcpreplay --topspeed -K of a generated pcap instead),
#   3. waits until the agent's counters stop moving, then reads
#      /api/v1/policies/bench/metrics/bucket/0 (net packets), the policy's
#      input stats (socket packets/drops) and the agent's CPU time.
# Then a DNS run: the fixture dns_udp_tcp_random.pcap rewritten into
# 10.77.0.0/24 (tcprewrite --pnat, --enet-dmac of the receiver) and replayed
# with --loop to about DNS_PACKETS (default 200,000) packets.
# It prints each run and the median per backend; for af_xdp and ebpf also
# the kernel program's counters (k_cap: xdp "redirected" / ebpf ingress
# "captured"; k_drop: af_xdp socket rx_dropped + rx_ring_full +
# redirect_failed / ebpf ringbuf_full; k_filt: "filtered_out").
#
# prefilter: mixed traffic, PACKETS frames of which every 10th (the first
# of each 10) is a DNS query to UDP port 53 and the other 9 are the 60-byte
# UDP frames to port 9999 (one trafgen config, 10 frames in turn). The
# policy has only a dns handler. For each backend of PF_BACKENDS (default
# "af_xdp ebpf"), RUNS times without and with `prefilter_ports: [53]`; it
# prints the agent CPU per million offered packets and checks that the DNS
# count (dns wire_packets.total) equals the DNS frames sent in every run,
# so it is the same with and without the pre-filter.
#
# Environment: RUNS (3), SENDER (trafgen|tcpreplay), DNS_PACKETS (200000),
# DNS=0 skips the DNS run, BENCH_DIR (/tmp/pktvisor-bench), FIXTURE,
# PF_BACKENDS (prefilter mode).
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
FIXTURE=${FIXTURE:-$ROOT/testdata/captures/dns_udp_tcp_random.pcap}
PF_BACKENDS=${PF_BACKENDS:-af_xdp ebpf}
case $MODE in
  af_xdp|ebpf|af_packet|libpcap) BACKENDS=("$MODE") ;;
  all) BACKENDS=(af_xdp ebpf af_packet libpcap) ;;
  prefilter) read -ra BACKENDS <<<"$PF_BACKENDS"; DNS=0 ;;
  *) echo "usage: $0 [af_xdp|ebpf|af_packet|libpcap|all|prefilter] [PACKETS]" >&2; exit 2 ;;
esac
for b in "${BACKENDS[@]}"; do
  case $b in af_xdp|ebpf|af_packet|libpcap) ;; *) echo "unknown backend $b" >&2; exit 2 ;; esac
done
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
# Mixed traffic for the pre-filter comparison: 1 DNS query (A example.com,
# random id, 71-byte frame) to port 53, then 9 of the UDP frames above.
MIXCONF=$DIR/mix.trafgen
{
  echo "{ eth(da=$RXMAC, sa=$TXMAC, type=0x0800), ipv4(sa=10.200.0.2, da=10.200.0.1, ttl=64, id=drnd()), udp(sp=dinc(40000,40063), dp=53), drnd(2), 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, \"example\", 0x03, \"com\", 0x00, 0x00, 0x01, 0x00, 0x01 }"
  for _ in 1 2 3 4 5 6 7 8 9; do cat "$UDPCONF"; done
} >"$MIXCONF"
if [[ $SENDER == tcpreplay ]]; then
  # One pass of the trafgen config into a pcap (100k frames), replayed with
  # --loop; trafgen writes pcap when --out is a .pcap file.
  need trafgen
  UDPPCAP=$DIR/udp-$$.pcap
  BENCH_FILES+=("$UDPPCAP")
  trafgen --in "$UDPCONF" --out "$UDPPCAP" --num 100000 -q >/dev/null 2>&1
  MIXPCAP=$DIR/mix-$$.pcap
  BENCH_FILES+=("$MIXPCAP")
  trafgen --in "$MIXCONF" --out "$MIXPCAP" --num 100000 -q >/dev/null 2>&1
fi

# send_udp COUNT [mix]: sends COUNT frames (the mixed DNS/UDP sequence with
# "mix"); sets SEND_S (wall seconds), SENT.
send_udp() {
  local n=$1 conf=$UDPCONF pcap=${UDPPCAP:-} t0 t1 out
  [[ ${2:-} == mix ]] && { conf=$MIXCONF; pcap=${MIXPCAP:-}; }
  t0=$(date +%s.%N)
  if [[ $SENDER == trafgen ]]; then
    out=$(ip netns exec "$TXNS" trafgen --dev "$TXIF" --conf "$conf" --num "$n" --cpus 1 2>&1) ||
      { echo "trafgen failed: $out" >&2; exit 1; }
    t1=$(date +%s.%N)
    SENT=$(tr -d '\r' <<<"$out" | awk '/packets outgoing/ {print $1}')
  else
    local loops=$(( (n + 99999) / 100000 ))
    out=$(ip netns exec "$TXNS" tcpreplay -i "$TXIF" --topspeed -K --loop="$loops" "$pcap" 2>&1) ||
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
  api "$RXNS" /api/v1/policies/bench | jq -r '.bench.input[] | .pcap | "\(.packets // 0) \(.drops // 0) \(.if_drops // 0)"'
}

# kernel_stats BACKEND: "cap drop filt" from the input's pcap.kernel
# (cumulative since the agent attached): af_xdp: xdp redirected, socket
# rx_dropped + rx_ring_full + xdp redirect_failed, xdp filtered_out;
# ebpf: ingress captured, ingress + egress ringbuf_full, ingress
# filtered_out. "0 0 0" for af_packet and libpcap.
kernel_stats() {
  case $1 in
    af_xdp) api "$RXNS" /api/v1/policies/bench | jq -r '.bench.input[] | .pcap.kernel |
      "\(.xdp.redirected // 0) \(([.sockets[]? | (.rx_dropped // 0) + (.rx_ring_full // 0)] | add // 0) + (.xdp.redirect_failed // 0)) \(.xdp.filtered_out // 0)"' ;;
    ebpf) api "$RXNS" /api/v1/policies/bench | jq -r '.bench.input[] | .pcap.kernel.ebpf |
      "\(.ingress_captured_packets // 0) \((.ingress_ringbuf_full_packets // 0) + (.egress_ringbuf_full_packets // 0)) \(.ingress_filtered_out_packets // 0)"' ;;
    *) echo "0 0 0" ;;
  esac
}

# The handler total wait_drain and the rotation check watch: the net
# handler's packets, or the dns handler's wire packets in the dns-only
# policy of the prefilter runs.
DRAIN_JQ='.bench["bench-veth-net"].packets.total'

# wait_drain: until the input's packet count and the watched handler total
# are unchanged over 1 s (max 60 s).
wait_drain() {
  local prev="" cur i
  for i in $(seq 120); do
    cur="$(input_stats) $(api "$RXNS" /api/v1/policies/bench/metrics/window/5 | jq -r "$DRAIN_JQ")"
    [[ $cur == "$prev" ]] && return 0
    prev=$cur
    sleep 1
  done
  echo "warning: counters still moving after 120 s" >&2
}

# write_config BACKEND HOSTSPEC FILE [PREFILTER [HANDLERS]]: PREFILTER
# "53" adds prefilter_ports: [53]; HANDLERS "dns" keeps only the dns
# handler (default: net, dns, pcap).
write_config() {
  local backend=$1 hs=$2 f=$3 pf=${4:-} hand=${5:-full} workers=""
  [[ $backend == af_packet ]] && workers="        workers: 2"
  [[ -n $pf ]] && workers+=$'\n'"        prefilter_ports: [$pf]"
  # PF_DROP=1: af_xdp drops what the pre-filter leaves (capture ports).
  [[ -n $pf && ${PF_DROP:-0} == 1 && $backend == af_xdp ]] && workers+=$'\n'"        prefilter_drop: true"
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
EOF
  if [[ $hand == dns ]]; then
    printf '          dns:\n            type: dns\n' >>"$f"
  else
    printf '          net:\n            type: net\n          dns:\n            type: dns\n          pcap:\n            type: pcap\n' >>"$f"
  fi
}

# one_run BACKEND KIND RUN [PREFILTER]: KIND udp, dns or mix (the
# prefilter comparison: mixed traffic, dns-only policy; PREFILTER "53"
# turns the pre-filter on and labels the row BACKEND+pf53). Appends a
# result line to $DIR/capture-$$.tsv.
one_run() {
  local backend=$1 kind=$2 run=$3 pf=${4:-}
  local label=$backend${pf:++pf$pf}
  local cfg=$DIR/capture-$label.yaml log=$DIR/agent-$label-$kind-$run.log
  local c0 c1 k0 k1 i0 i1 ks0 ks1 net dns
  DRAIN_JQ='.bench["bench-veth-net"].packets.total'
  case $kind in
    udp) write_config "$backend" 10.200.0.1/32 "$cfg" ;;
    dns) write_config "$backend" 10.77.0.189/32 "$cfg" ;;
    mix) write_config "$backend" 10.200.0.1/32 "$cfg" "$pf" dns
         DRAIN_JQ='.bench["bench-veth-dns"].dns.wire_packets.total // 0' ;;
  esac
  start_agent "$RXNS" "$cfg" "$log"
  sleep 0.5
  local srcname; srcname=$(api "$RXNS" /api/v1/policies/bench | jq -r '.bench.input[] | .pcap.pcap_source')
  [[ $srcname == "$backend" ]] || { echo "agent opened pcap_source $srcname, not $backend:" >&2; cat "$log" >&2; exit 1; }
  c0=$(cpu_ticks "$AGENT_PID"); k0=$(kdrops); i0=$(input_stats); ks0=$(kernel_stats "$backend")
  if [[ $kind == udp ]]; then
    send_udp "$N"
  elif [[ $kind == mix ]]; then
    send_udp "$N" mix
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
  c1=$(cpu_ticks "$AGENT_PID"); k1=$(kdrops); i1=$(input_stats); ks1=$(kernel_stats "$backend")
  api "$RXNS" /api/v1/policies/bench >"$DIR/info-$label-$kind-$run.json" || true
  local hwm; hwm=$(vm_hwm "$AGENT_PID")
  local b0; b0=$(api "$RXNS" /api/v1/policies/bench/metrics/bucket/0)
  local w5; w5=$(api "$RXNS" /api/v1/policies/bench/metrics/window/5)
  stop_agent
  # bucket/0 is the live 60 s period of a fresh agent; should a period
  # boundary fall inside the run, window/5 (all periods) is used instead.
  local src=$b0
  if [[ $(jq "$DRAIN_JQ" <<<"$b0") != $(jq "$DRAIN_JQ" <<<"$w5") ]]; then
    echo "note: period rotated during the run; using window/5" >&2
    src=$w5
  fi
  read -r ip0 id0 if0 <<<"$i0"; read -r ip1 id1 if1 <<<"$i1"
  net=$(jq -r '.bench["bench-veth-net"].packets // {} | "\(.total // 0) \(.udp // 0) \(.tcp // 0) \(.in // 0)"' <<<"$src")
  dns=$(jq -r '.bench["bench-veth-dns"].dns | "\(.wire_packets.total // 0) \(.wire_packets.udp // 0) \(.wire_packets.tcp // 0) \(.wire_packets.queries // 0) \(.wire_packets.replies // 0) \(.xact.counts.total // 0)"' <<<"$src")
  local pcapst; pcapst=$(jq -r '.bench["bench-veth-pcap"].pcap // {} | "\(.os_drops // 0) \(.if_drops // 0) \(.tcp_reassembly_errors // 0)"' <<<"$src")
  read -r ks0c ks0d ks0f <<<"$ks0"; read -r ks1c ks1d ks1f <<<"$ks1"
  # columns: label kind run sent send_s pps input_pkts input_drops kdrops
  #          net_total net_udp net_tcp net_in dns_total dns_udp dns_tcp
  #          dns_q dns_r xacts cpu_s cpu_per_M hwm_kb pcap_os_drops
  #          pcap_if_drops reasm_err k_cap k_drop k_filt
  awk -v b="$label" -v k="$kind" -v r="$run" -v sent="$SENT" -v s="$SEND_S" \
      -v ip=$((ip1 - ip0)) -v idr=$(( (id1 - id0) + (if1 - if0) )) -v kd=$((k1 - k0)) \
      -v net="${net// /$'\t'}" -v dns="${dns// /$'\t'}" -v cpu=$((c1 - c0)) -v tck="$CLK_TCK" -v hwm="$hwm" \
      -v pst="${pcapst// /$'\t'}" -v kc=$((ks1c - ks0c)) -v kdr=$((ks1d - ks0d)) -v kf=$((ks1f - ks0f)) 'BEGIN {
    cs = cpu / tck
    printf "%s\t%s\t%s\t%d\t%.3f\t%.0f\t%d\t%d\t%d\t%s\t%s\t%.2f\t%.3f\t%d\t%s\t%d\t%d\t%d\n", b, k, r, sent, s, sent / s,
      ip, idr, kd, net, dns, cs, cs * 1e6 / sent, hwm, pst, kc, kdr, kf }' >>"$RES"
}

RES=$DIR/capture-$$.tsv
: >"$RES"
row() { awk -F'\t' -v b="$1" -v k="$2" -v r="$3" '$1 == b && $2 == k && $3 == r' "$RES"; }
col() { awk -F'\t' -v b="$1" -v k="$2" -v c="$3" '$1 == b && $2 == k {print $c}' "$RES" | median; }

if [[ $MODE == prefilter ]]; then
  # --- pre-filter comparison --------------------------------------------
  DNS_EXP=$(( (N + 9) / 10 ))
  echo
  echo "== prefilter: $N frames per run (1 in 10 a DNS query to port 53 = $DNS_EXP, the rest 60-byte UDP to port 9999),"
  echo "   sender $SENDER, policy with only a dns handler, $RUNS runs per variant; +pf53 = prefilter_ports: [53]"
  printf '%-13s %3s %8s %7s %9s %9s %8s %8s %8s %8s %8s %7s %10s %7s\n' variant run sent send_s offer_pps \
    sock_pkts sock_drp k_cap k_drop k_filt dns_tot cpu_s cpu_s/Moff rss_MB
  PF_FAIL=0
  for b in "${BACKENDS[@]}"; do
    for pf in "" 53; do
      v=$b${pf:++pf$pf}
      for r in $(seq "$RUNS"); do
        one_run "$b" mix "$r" "$pf"
        row "$v" mix "$r" | awk -F'\t' '{printf "%-13s %3s %8d %7.3f %9d %9d %8d %8d %8d %8d %8d %7.2f %10.3f %7.1f\n",
          $1, $3, $4, $5, $6, $7, $8, $26, $27, $28, $14, $20, $21, $22 / 1024}'
        # The config starts with the DNS frame: ceil(sent / 10) were DNS.
        read -r dtot dexp drp < <(row "$v" mix "$r" | awk -F'\t' '{print $14, int(($4 + 9) / 10), $8}')
        if [[ $dtot != "$dexp" ]]; then
          echo "   MISMATCH: $v run $r counted $dtot DNS wire packets, $dexp DNS frames were sent (input drops of all frames in that run: $drp)" >&2
          PF_FAIL=1
        fi
      done
    done
  done
  echo
  echo "== median of $RUNS runs (prefilter: $N frames, $DNS_EXP DNS; CPU per million offered frames)"
  printf '%-13s %10s %8s %8s %8s %8s %8s %11s %7s\n' variant offer_pps dns_tot k_cap k_drop k_filt cpu_s cpu_s/Moff rss_MB
  for b in "${BACKENDS[@]}"; do
    for v in "$b" "$b+pf53"; do
      printf '%-13s %10.0f %8s %8s %8s %8s %8s %11s %7.1f\n' "$v" "$(col "$v" mix 6)" "$(col "$v" mix 14)" \
        "$(col "$v" mix 26)" "$(col "$v" mix 27)" "$(col "$v" mix 28)" "$(col "$v" mix 20)" "$(col "$v" mix 21)" \
        "$(awk -v k="$(col "$v" mix 22)" 'BEGIN {print k / 1024}')"
    done
  done
  for b in "${BACKENDS[@]}"; do
    awk -v a="$(col "$b" mix 21)" -v p="$(col "$b+pf53" mix 21)" -v b="$b" 'BEGIN {
      if (a > 0) printf "%s: CPU per offered frame with the pre-filter = %.2f x without (%+.0f %%)\n", b, p / a, (p / a - 1) * 100 }'
    echo "$b DNS counts per run: without pre-filter $(awk -F'\t' -v v="$b" '$1 == v && $2 == "mix" {printf "%s ", $14}' "$RES")| with $(awk -F'\t' -v v="$b+pf53" '$1 == v && $2 == "mix" {printf "%s ", $14}' "$RES")"
  done
  if [[ $PF_FAIL == 0 ]]; then
    echo "DNS count check: OK (every run counted exactly the DNS frames sent, with and without the pre-filter)"
  else
    echo "DNS count check: FAILED (see the MISMATCH lines)"
  fi
  echo "(k_cap: af_xdp xdp.redirected / ebpf ingress_captured; k_drop: af_xdp socket rx_dropped + rx_ring_full +"
  echo " redirect_failed / ebpf ringbuf_full; k_filt: filtered_out, i.e. passed to the host stack uncopied;"
  echo " cpu_s = pktvisord utime+stime from just before the send until its counters settle)"
  echo "raw results: $RES"
  exit "$PF_FAIL"
fi

echo
echo "== UDP: $N x 60-byte frames per run, sender $SENDER, $RUNS runs per backend"
printf '%-9s %3s %9s %7s %9s %9s %8s %7s %7s %9s %9s %8s %9s %8s %8s %7s %7s\n' backend run sent send_s offer_pps \
  sock_pkts sock_drp k_drops loss net_total net_udp cpu_s cpu_s/Mpkt rss_MB k_cap k_drop k_filt
for b in "${BACKENDS[@]}"; do
  for r in $(seq "$RUNS"); do
    one_run "$b" udp "$r"
    row "$b" udp "$r" | awk -F'\t' '{printf "%-9s %3s %9d %7.3f %9d %9d %8d %7d %7d %9d %9d %8.2f %9.3f %8.1f %8d %7d %7d\n",
      $1, $3, $4, $5, $6, $7, $8, $9, $4 - $11, $10, $11, $20, $21, $22 / 1024, $26, $27, $28}'
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
  printf '%-9s %3s %8s %9s %8s %8s %7s %8s %8s %8s %8s %8s %8s %7s %9s %6s %8s %7s\n' backend run sent offer_pps sock_pkts \
    net_total k_drops dns_tot dns_udp dns_tcp queries replies xacts cpu_s cpu_s/Mpkt reasm k_cap k_drop
  for b in "${BACKENDS[@]}"; do
    for r in $(seq "$RUNS"); do
      one_run "$b" dns "$r"
      row "$b" dns "$r" | awk -F'\t' '{printf "%-9s %3s %8d %9d %8d %8d %7d %8d %8d %8d %8d %8d %8d %7.2f %9.3f %6d %8d %7d\n",
        $1, $3, $4, $6, $7, $10, $8 + $9, $14, $15, $16, $17, $18, $19, $20, $21, $25, $26, $27}'
    done
  done
  L=$DNS_LOOPS
  echo "   expected x$L loops: net $((16147 * L)); dns udp $((2971 * L)), tcp <= $((2880 * L)) (TCP segments repeat with the same 4-tuple and sequence numbers across loops), queries <= $((2930 * L)), replies <= $((2921 * L))"
fi

echo
echo "== median of $RUNS runs (UDP: $N frames; loss = sent - net udp counted)"
printf '%-9s %4s %10s %10s %8s %8s %8s %11s %7s %9s %7s %7s\n' backend kind offer_pps counted loss k_drops \
  cpu_s cpu_s/Mpkt rss_MB k_cap k_drop k_filt
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
    printf '%-9s %4s %10.0f %10s %8s %8s %8s %11s %7.1f %9s %7s %7s\n' "$b" "$k" "$(col "$b" "$k" 6)" "$counted" "$loss" "$kd" \
      "$(col "$b" "$k" 20)" "$(col "$b" "$k" 21)" "$(awk -v k="$(col "$b" "$k" 22)" 'BEGIN {print k / 1024}')" \
      "$(col "$b" "$k" 26)" "$(col "$b" "$k" 27)" "$(col "$b" "$k" 28)"
  done
done
for b in "${BACKENDS[@]}"; do
  awk -v b="$b" -v c="$(col "$b" udp 11)" -v s="$(col "$b" udp 20)" 'BEGIN {
    if (s > 0) printf "%-9s udp: %.0f packets counted per agent CPU-second (median counted / median cpu_s)\n", b, c / s }'
done
echo "(dns: counted = dns wire_packets.total, loss = sent - net packets.total; k_drops = socket drops +"
echo " if_drops + softnet backlog drops + veth drops; cpu_s = pktvisord utime+stime from just before the"
echo " send until its counters settle; the veth receive path itself runs in the sender's softirq;"
echo " k_cap/k_drop/k_filt: the kernel program's counters for af_xdp (xdp redirected; socket rx_dropped +"
echo " rx_ring_full + redirect_failed; filtered_out) and ebpf (ingress captured; ringbuf_full; filtered_out))"
echo "raw results: $RES"
