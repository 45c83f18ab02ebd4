//go:build ignore

// xdp_capture is the kernel half of pktvisor's AF_XDP capture path: it
// classifies every frame (counters per class, per CPU), optionally drops
// uninteresting frames from the capture by passing them to the kernel
// stack (port pre-filter), and redirects the rest to the AF_XDP socket
// bound to the frame's receive queue.
//
// The Go side (internal/capture/afxdp) mirrors enum counter_class in
// bpf/counters.go; TestSpec and TestClassify keep the two in step.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __always_inline void count_class(__u32 dir, __u32 class, __u64 len);

#include "parse.h"

char __license[] SEC("license") = "Dual MIT/GPL";

// counter_class indexes the counters map: the classes of parse.h, each
// frame once in an L3 and (IP) once in an L4 class or in PARSE_ERRORS,
// then in exactly one of FILTERED_OUT, REDIRECTED and REDIRECT_FAILED.
enum counter_class {
	COUNTER_IPV4 = L34_IPV4,
	COUNTER_IPV6 = L34_IPV6,
	COUNTER_OTHER_L3 = L34_OTHER_L3,
	COUNTER_TCP = L34_TCP,
	COUNTER_UDP = L34_UDP,
	COUNTER_OTHER_L4 = L34_OTHER_L4,
	COUNTER_PARSE_ERRORS = L34_PARSE_ERRORS,
	COUNTER_REDIRECTED = 7,
	COUNTER_REDIRECT_FAILED = 8,
	COUNTER_FILTERED_OUT = 9,
	COUNTER_MAX = 10,
};

// Counter bytes (struct counter of parse.h) are frame lengths (the
// linear part the program sees, data_end - data).

// config_flags are the bits of struct config.flags.
enum config_flags {
	CONFIG_FILTER_PORTS = 1 << 0, // redirect only frames with a port in ports
	CONFIG_DROP_FILTERED = 1 << 1, // drop, rather than pass, what the filter leaves
};

struct config {
	__u32 flags;
};

#define MAX_QUEUES 64

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct counter);
	__uint(max_entries, COUNTER_MAX);
} counters SEC(".maps");

// ports holds the interesting L4 ports (host byte order) of the pre-filter.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u16);
	__type(value, __u8);
	__uint(max_entries, MAX_PORTS);
} ports SEC(".maps");

// config has one entry, key 0.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct config);
	__uint(max_entries, 1);
} config SEC(".maps");

// xsks maps a receive queue index to the AF_XDP socket bound to it.
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, MAX_QUEUES);
} xsks SEC(".maps");

static __always_inline void count(__u32 class, __u64 len)
{
	struct counter *c = bpf_map_lookup_elem(&counters, &class);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline void count_class(__u32 dir, __u32 class, __u64 len)
{
	count(class, len);
}

SEC("xdp")
int xdp_capture(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = data_end - data;
	__u16 sport = 0, dport = 0;
	int has_ports = classify(data, data_end, 0, len, &sport, &dport);

	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (cfg && (cfg->flags & CONFIG_FILTER_PORTS)) {
		if (!has_ports || (!bpf_map_lookup_elem(&ports, &sport) &&
				   !bpf_map_lookup_elem(&ports, &dport))) {
			count(COUNTER_FILTERED_OUT, len);
			// On a dedicated capture port the host has no use for
			// the rest: dropping it spares the kernel stack.
			return (cfg->flags & CONFIG_DROP_FILTERED) ? XDP_DROP : XDP_PASS;
		}
	}

	// With no socket for this queue the lookup fails and the frame
	// goes to the kernel stack (the flags argument is the fallback
	// action).
	long action = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
	if (action == XDP_REDIRECT)
		count(COUNTER_REDIRECTED, len);
	else
		count(COUNTER_REDIRECT_FAILED, len);
	return action;
}
