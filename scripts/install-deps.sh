#!/usr/bin/env bash
# install-deps.sh installs the Debian packages that building, testing and
# benchmarking need. It is idempotent and non-interactive: packages already
# present are skipped, so a second run costs one dpkg query.
#
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --bench  also the benchmark peers
set -euo pipefail

pkgs=(
  libpcap-dev   # cgo libpcap capture backend
  tshark        # cross-check of exact counters on real captures
  tcpdump
  clang llvm libbpf-dev   # eBPF objects (make generate, staleness test)
  # TestIntegrationDNS (internal/agent): namespaces, a DNS server, DNS
  # clients and a Prometheus server, all run inside test namespaces
  iproute2 curl unbound bind9-dnsutils dnsperf prometheus
)
if [[ "${1:-}" == "--bench" ]]; then
  pkgs+=(hyperfine tcpreplay netsniff-ng ethtool curl jq)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
