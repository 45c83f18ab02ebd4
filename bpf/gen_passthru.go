package bpf

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -tags linux -target bpfel passthru passthru.c -- -I/usr/include/x86_64-linux-gnu -O2 -g
