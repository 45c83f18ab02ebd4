//go:build ignore

// passthru is the kernel half of pktvisor's host pass-through capture
// (internal/capture/ebpfcap, pcap_source: ebpf). Two programs share the
// maps below: passthru_xdp on the ingress hook (XDP, native or generic)
// and passthru_tc on TCX egress (passthru_tc_ingress is the same code for
// TCX ingress, used when XDP cannot attach). For every frame they
//
//   - classify it (Ethernet, up to two VLAN tags, IPv4/IPv6, UDP/TCP) and
//     count it per class and per direction, per CPU;
//   - apply the optional port pre-filter (ports + config maps);
//   - copy the first snaplen bytes of selected frames, behind a small
//     header, into the events ring buffer;
//   - return XDP_PASS / TCX_NEXT: the host keeps every frame.
//
// The Go side mirrors enum passthru_class and struct record_hdr in
// bpf/passthru.go; TestPassthruSpec and TestPassthruRecords keep the two in
// step.

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

static __always_inline void count_class(__u32 dir, __u32 class, __u64 len);

#include "parse.h"

char __license[] SEC("license") = "Dual MIT/GPL";

// passthru_class indexes the counters map within one direction: the
// entry of (direction, class) is direction * PASSTHRU_CLASSES + class.
// Every frame is counted in the classes of parse.h (once in an L3 and,
// when it is IP, once in an L4 class, or in PARSE_ERRORS), then in
// exactly one of CAPTURED, RINGBUF_FULL and FILTERED_OUT. Bytes are wire
// lengths (all fragments of a multi-buffer XDP frame, skb->len on TC).
enum passthru_class {
	CLASS_IPV4 = L34_IPV4,
	CLASS_IPV6 = L34_IPV6,
	CLASS_OTHER_L3 = L34_OTHER_L3,
	CLASS_TCP = L34_TCP,
	CLASS_UDP = L34_UDP,
	CLASS_OTHER_L4 = L34_OTHER_L4,
	CLASS_PARSE_ERRORS = L34_PARSE_ERRORS,
	CLASS_CAPTURED = 7,     // a record went into the ring buffer
	CLASS_RINGBUF_FULL = 8, // the ring buffer had no room: record lost
	CLASS_FILTERED_OUT = 9, // no port of the pre-filter: no record
	PASSTHRU_CLASSES = 10,
};

enum direction {
	DIR_INGRESS = 0,
	DIR_EGRESS = 1,
	DIRECTIONS = 2,
};

enum config_flags {
	CONFIG_FILTER_PORTS = 1 << 0, // copy only frames with a port in ports
};

// config is the single entry (key 0) of the config map. A snaplen of 0
// (the map's initial value) means MAX_SNAPLEN.
struct config {
	__u32 flags;
	__u32 snaplen;
};

// record_hdr starts every ring buffer record; cap_len bytes of the frame
// follow it. ts is bpf_ktime_get_boot_ns (CLOCK_BOOTTIME).
struct record_hdr {
	__u64 ts;
	__u32 wire_len;
	__u32 cap_len;
	__u8 direction;
	__u8 _pad[7];
};

#define MAX_SNAPLEN 512
#define RINGBUF_SIZE (8 << 20)
// WAKEUP_BYTES: records are submitted without waking the reader until this
// much data waits in the ring buffer, so one wake-up serves hundreds of
// records; the reader's own timeout bounds the latency of the rest.
#define WAKEUP_BYTES (64 << 10)
// PARSE_LEN is how much of an skb the TC program wants linear to parse
// its headers: Ethernet, two VLAN tags, IPv4 with options (or IPv6) and
// a TCP header.
#define PARSE_LEN (14 + 2 * 4 + 60 + 20)

// scratch_buf is where a record is assembled before bpf_ringbuf_output:
// a reservation must have a constant size, the output call takes the
// record's real length, so small frames take little room in the ring.
struct scratch_buf {
	struct record_hdr hdr;
	__u8 data[MAX_SNAPLEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct counter);
	__uint(max_entries, PASSTHRU_CLASSES * DIRECTIONS);
} counters SEC(".maps");

// ports holds the interesting L4 ports (host byte order) of the pre-filter.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u16);
	__type(value, __u8);
	__uint(max_entries, MAX_PORTS);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct config);
	__uint(max_entries, 1);
} config SEC(".maps");

// scratch has one buffer per direction per CPU, so an egress program
// interrupted by ingress processing on the same CPU keeps its record.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct scratch_buf);
	__uint(max_entries, DIRECTIONS);
} scratch SEC(".maps");

// events is the ring buffer shared by all CPUs and both programs; user
// space may resize it (a power of two multiple of the page size).
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RINGBUF_SIZE);
} events SEC(".maps");

static __always_inline void count(__u32 dir, __u32 class, __u64 len)
{
	__u32 key = dir * PASSTHRU_CLASSES + class;
	struct counter *c = bpf_map_lookup_elem(&counters, &key);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline void count_class(__u32 dir, __u32 class, __u64 len)
{
	count(dir, class, len);
}

// selected applies the port pre-filter and returns the snaplen to use,
// or 0 when the frame is filtered out (counted).
static __always_inline __u32 selected(__u32 dir, __u64 len, int has_ports, __u16 sport,
				      __u16 dport)
{
	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return MAX_SNAPLEN;
	if (cfg->flags & CONFIG_FILTER_PORTS) {
		if (!has_ports || (!bpf_map_lookup_elem(&ports, &sport) &&
				   !bpf_map_lookup_elem(&ports, &dport))) {
			count(dir, CLASS_FILTERED_OUT, len);
			return 0;
		}
	}
	__u32 snaplen = cfg->snaplen;
	if (snaplen == 0 || snaplen > MAX_SNAPLEN)
		snaplen = MAX_SNAPLEN;
	return snaplen;
}

// scratch_for returns the direction's scratch buffer with the header
// filled in, and the capture length bounded for the verifier in *cap.
static __always_inline struct scratch_buf *scratch_for(__u32 dir, __u64 len, __u32 snaplen,
						       __u32 *cap)
{
	__u32 key = dir;
	struct scratch_buf *buf = bpf_map_lookup_elem(&scratch, &key);
	if (!buf)
		return 0;
	__u32 n = snaplen;
	if (len < n)
		n = len;
	// The explicit bound keeps the verifier's range of n within
	// [0, MAX_SNAPLEN] whatever the compiler made of the min above.
	if (n > MAX_SNAPLEN)
		n = MAX_SNAPLEN;
	buf->hdr.ts = bpf_ktime_get_boot_ns();
	buf->hdr.wire_len = len;
	buf->hdr.cap_len = n;
	buf->hdr.direction = dir;
	*cap = n;
	return buf;
}

// load_len returns cap, which the caller has checked to be in
// [1, MAX_SNAPLEN], in a form the verifier can bound: clang turns
// "cap >= 1 && cap <= MAX" into one unsigned compare of cap - 1 on a
// copy, which leaves the verifier with a range that includes 0 for the
// helper's size argument. The empty asm hides cap from the compiler so
// the mask below is not folded away; for cap in [1, MAX_SNAPLEN] it is
// the identity.
static __always_inline __u32 load_len(__u32 cap)
{
	asm volatile("" : "+r"(cap));
	return ((cap - 1) & (MAX_SNAPLEN - 1)) + 1;
}

// emit outputs the record in buf (header + cap bytes) and counts the
// frame as captured or lost.
static __always_inline void emit(struct scratch_buf *buf, __u32 dir, __u64 len, __u32 cap)
{
	if (cap > MAX_SNAPLEN)
		return;
	__u64 flags = BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= WAKEUP_BYTES)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&events, buf, sizeof(struct record_hdr) + cap, flags) == 0)
		count(dir, CLASS_CAPTURED, len);
	else
		count(dir, CLASS_RINGBUF_FULL, len);
}

SEC("xdp")
int passthru_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = bpf_xdp_get_buff_len(ctx);
	__u16 sport = 0, dport = 0;
	int has_ports = classify(data, data_end, DIR_INGRESS, len, &sport, &dport);

	__u32 snaplen = selected(DIR_INGRESS, len, has_ports, sport, dport);
	if (!snaplen)
		return XDP_PASS;
	__u32 cap = 0;
	struct scratch_buf *buf = scratch_for(DIR_INGRESS, len, snaplen, &cap);
	if (!buf)
		return XDP_PASS;
	if (cap >= 1 && cap <= MAX_SNAPLEN &&
	    bpf_xdp_load_bytes(ctx, 0, buf->data, load_len(cap)) < 0)
		cap = buf->hdr.cap_len = 0;
	emit(buf, DIR_INGRESS, len, cap);
	return XDP_PASS;
}

// tc_capture is the body of the TC programs. It returns TCX_NEXT
// (TC_ACT_UNSPEC): the verdict is left to the programs after it, and to
// the stack when there are none, so the frame passes.
static __always_inline int tc_capture(struct __sk_buff *skb, __u32 dir)
{
	__u64 len = skb->len;
	// Headers of a non-linear skb may lie outside the direct-access
	// window; pull the few bytes the parser needs.
	__u32 want = len < PARSE_LEN ? len : PARSE_LEN;
	if (skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);

	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u16 sport = 0, dport = 0;
	int has_ports = classify(data, data_end, dir, len, &sport, &dport);

	__u32 snaplen = selected(dir, len, has_ports, sport, dport);
	if (!snaplen)
		return TC_ACT_UNSPEC;
	__u32 cap = 0;
	struct scratch_buf *buf = scratch_for(dir, len, snaplen, &cap);
	if (!buf)
		return TC_ACT_UNSPEC;
	if (cap >= 1 && cap <= MAX_SNAPLEN &&
	    bpf_skb_load_bytes(skb, 0, buf->data, load_len(cap)) < 0)
		cap = buf->hdr.cap_len = 0;
	emit(buf, dir, len, cap);
	return TC_ACT_UNSPEC;
}

SEC("tcx/egress")
int passthru_tc(struct __sk_buff *skb)
{
	return tc_capture(skb, DIR_EGRESS);
}

SEC("tcx/ingress")
int passthru_tc_ingress(struct __sk_buff *skb)
{
	return tc_capture(skb, DIR_INGRESS);
}
