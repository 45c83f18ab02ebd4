# pktvisor for Go. `make demo` and `make test` are the quick start; both
# install what they need on a Debian/Ubuntu machine that has Go and gcc.

GO        ?= go
BIN       := bin
PROGRAMS  := pktvisor-reader pktvisord
FUZZTIME  ?= 50000x
DEMO_PCAP := testdata/captures/dns_udp_tcp_random.pcap

.PHONY: all deps test-deps build test vet unit race vagrant-validate fuzz bench bench-scripts generate pgo demo clean

all: build

# deps: what building needs (libpcap-dev); test-deps adds the tools and
# peers the tests run (scripts/deps.txt lists both sets).
deps:
	./scripts/install-deps.sh

test-deps:
	./scripts/install-deps.sh --test

build: deps
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ $(addprefix ./cmd/,$(PROGRAMS))

vet:
	@test -z "$$(gofmt -l cmd internal pkg 2>/dev/null)" || { echo "gofmt needed:"; gofmt -l cmd internal pkg; exit 1; }
	$(GO) vet ./...

# unit: every test. As root the netns/veth integration tests run too and
# must find their peers (installed by test-deps); elsewhere they skip.
unit:
	PKTVISOR_REQUIRE_INTEGRATION=$$([ "$$(id -u)" = 0 ] && echo 1) $(GO) test -count=1 -timeout 20m ./...

# race: the concurrent packages under the race detector.
race:
	$(GO) test -race -count=1 -short ./internal/policy/ ./internal/server/ ./internal/capture/...

# test: everything CI runs. Fuzz targets run briefly: FUZZTIME executions
# each (a count, not a duration: see scripts/fuzz.sh).
test: test-deps vet unit race vagrant-validate
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

# The Vagrantfile is for users' machines (no box can boot here); its syntax
# is checked wherever vagrant is installed.
vagrant-validate:
	@if command -v vagrant >/dev/null; then vagrant validate --ignore-provider; else echo "vagrant not installed: Vagrantfile not validated"; fi

fuzz: deps
	FUZZTIME=$${FUZZTIME:-60s} ./scripts/fuzz.sh

bench: deps
	$(GO) test -run='^$$' -bench=. -benchmem ./...

bench-scripts: build
	./scripts/install-deps.sh --bench
	./scripts/bench/reader.sh

generate:
	$(GO) generate ./...

# Refresh cmd/*/default.pgo, the CPU profiles go build optimizes the
# commands with (profile-guided optimization).
pgo:
	./scripts/pgo.sh

demo: build
	./$(BIN)/pktvisor-reader -H 192.168.0.0/24 --periods 1 $(DEMO_PCAP)

clean:
	rm -rf $(BIN)
