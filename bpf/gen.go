package bpf

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -tags linux -target bpfel xdpcapture xdp_capture.c -- -I/usr/include/x86_64-linux-gnu -O2 -g
