#!/usr/bin/env bash
# install-deps.sh installs the Debian packages listed in scripts/deps.txt
# for one set of work. It is idempotent and non-interactive: packages
# already present are skipped, so a second run costs one dpkg query.
#
#   scripts/install-deps.sh           build dependencies (make build, make demo)
#   scripts/install-deps.sh --test    + the tools and peers the tests run (make test)
#   scripts/install-deps.sh --bench   + the benchmark peers (implies --test)
#   scripts/install-deps.sh --list [--test|--bench]   print the packages, install nothing
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

sets=(build)
list=
for a in "$@"; do
  case "$a" in
    --test) sets=(build test) ;;
    --bench) sets=(build test bench) ;;
    --list) list=1 ;;
    *) echo "install-deps: unknown option $a (want --test, --bench or --list)" >&2; exit 2 ;;
  esac
done

pkgs=()
while read -r set pkg _; do
  [[ -z "$set" || "$set" == \#* ]] && continue
  for s in "${sets[@]}"; do
    if [[ "$set" == "$s" ]] && [[ " ${pkgs[*]} " != *" $pkg "* ]]; then
      pkgs+=("$pkg")
    fi
  done
done <"$here/deps.txt"

if [[ -n "$list" ]]; then
  printf '%s\n' "${pkgs[@]}"
  exit 0
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
if [[ " ${missing[*]} " == *" tshark "* ]]; then
  # tshark asks whether non-root users may capture; answer no without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
