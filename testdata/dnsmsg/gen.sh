#!/bin/sh
# Regenerates the tshark goldens used by internal/dnsmsg's capture test.
# Run from the repository root: sh testdata/dnsmsg/gen.sh
# Needs tshark (tested with 4.0.17). One .tsv per capture listed below, one
# line per UDP frame to or from port 53, 5353 or 53000 that tshark dissects as
# DNS/mDNS; IP reassembly is off and first fragments (MF set) are filtered out,
# as the test walker drops every fragment.
# Columns: frame, qname, qtype, rcode, ancount, prereq (UPDATE's ANCOUNT),
# qr, ecs4, ecs6, malformed.
# Multi-valued fields (several questions) keep tshark's comma list.
set -eu
cd "$(dirname "$0")/../captures"
for f in dns_udp_mixed_rcode.pcap dnssec.pcap ecs.pcap \
	dns-oarc-dnscap__dns.pcap \
	dns-oarc-dnscap__dns6.pcap \
	dns-oarc-dnscap__dnso1tcp-bighole.pcap \
	dns-oarc-dnscap__dnso1tcp.pcap \
	dns-oarc-dnscap__edns.pcap \
	dns-oarc-dnscap__frags.pcap \
	dns-oarc-dnscap__vlan11.pcap \
	dns-oarc-dnsjit__ip6-tcp-padd.pcap \
	dns-oarc-dnsjit__pellets.pcap \
	dns-oarc-dnsjit__tcp-response-with-trailing-junk.pcap \
	go-dnscollector__dnsdump_ip6_fragmented+udp.pcap \
	go-dnscollector__dnsdump_tcp.pcap \
	go-dnscollector__dnsdump_udp.pcap \
	go-dnscollector__dnsdump_udp_truncated+tcp_fragmented.pcap \
	ndpi__bad-dns-traffic.pcap \
	ndpi__dns-google-nsid.pcapng \
	ndpi__dns-tunnel-iodine.pcap \
	ndpi__dns_fragmented.pcap \
	ndpi__malformed_dns.pcap \
	tcpdump__dns-badcookie.pcap \
	tcpdump__dns-badlabel.pcap \
	tcpdump__dns_tcp.pcap \
	tcpdump__dnssec.pcap \
	tcpdump__edns-opts.pcap \
	zeek__dns-corrupt.pcap \
	zeek__dns-edns-ecs.pcap \
	zeek__dns_extended_rcode.pcap \
	zeek__dynamic-update.pcap \
	zeek__ipv6-fragmented-dns.pcap; do
	tshark -r "$f" -n -o ip.defragment:FALSE -o ipv6.defragment:FALSE \
		-d udp.port==53000,dns \
		-Y '(dns || mdns) && udp && !icmp && !icmpv6 && !(ip.flags.mf==1) && !ipv6.fraghdr && (udp.port==53 || udp.port==5353 || udp.port==53000)' \
		-T fields -E separator=/t -E occurrence=a -E aggregator=, \
		-e frame.number -e dns.qry.name -e dns.qry.type -e dns.flags.rcode \
		-e dns.count.answers -e dns.count.prerequisites -e dns.flags.response \
		-e dns.opt.client.addr4 -e dns.opt.client.addr6 -e _ws.malformed \
		>"../dnsmsg/${f%.*}.tsv"
done
