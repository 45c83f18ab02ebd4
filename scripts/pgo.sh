#!/usr/bin/env bash
# pgo.sh refreshes the profiles the Go toolchain uses for profile-guided
# optimization of the commands (cmd/*/default.pgo, picked up by go build):
# CPU profiles of BenchmarkPipeline and BenchmarkPipelineNet (the bundled DNS
# fixture: TCP reassembly, DNS, net), and of BenchmarkRun over a generated
# 500,000-packet DNS capture (file reading, the worker per CPU, the
# high-cardinality top-N path), merged into one profile.
#
#   scripts/pgo.sh          (make pgo)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
go run ./scripts/bench/gencap -n 500000 -o "$DIR/dns.pcap"
go test -run='^$' -bench='^BenchmarkPipeline(Net)?$' -benchtime=3000000x -cpu 1 \
  -cpuprofile "$DIR/pipeline.prof" -o "$DIR/pcap.test" ./internal/input/pcap/ >/dev/null
PKTVISOR_BENCH_PCAP="$DIR/dns.pcap" go test -run='^$' -bench='^BenchmarkRun$' -benchtime=10x \
  -cpuprofile "$DIR/reader.prof" -o "$DIR/reader.test" ./internal/reader/ >/dev/null
go tool pprof -proto "$DIR/pipeline.prof" "$DIR/reader.prof" >"$DIR/merged.pgo" 2>/dev/null
for c in pktvisor-reader pktvisord; do
  cp "$DIR/merged.pgo" "cmd/$c/default.pgo"
done
ls -l cmd/*/default.pgo
