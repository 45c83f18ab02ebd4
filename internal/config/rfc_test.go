package config

import (
	"os"
	"reflect"
	"testing"
)

func TestParseRFCExample(t *testing.T) {
	data, err := os.ReadFile("testdata/rfc-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	visor := DefaultVisor()
	visor.Verbose, visor.AdminAPI, visor.Port, visor.Periods = true, true, 10854, 3
	window := map[string]any{"num_periods": uint64(5), "deep_sample_rate": uint64(100), "topn_count": uint64(10), "topn_percentile_threshold": uint64(0)}
	want := &File{
		Version: "1.0",
		Visor:   visor,
		Taps: []Tap{
			{Name: "anycast", InputType: "pcap", Line: 10,
				Config: map[string]any{"iface": "eth0", "host_spec": "192.168.0.0/24"},
				Tags:   map[string]any{"virtual": true, "vhost": uint64(1), "key": "value"}},
			{Name: "dnstap_sock", InputType: "dnstap", Line: 19, Config: map[string]any{"socket": "/tmp/dnstap.sock"}},
		},
		GlobalHandlerConfig: map[string]map[string]any{"dns": {"only_rcode": uint64(2)}},
		Policies: []Policy{
			{
				Name: "default_view", Kind: "collection", Line: 27,
				Config:       map[string]any{"merge_like_handlers": true},
				TapSelector:  &Selector{Mode: "any", Tags: []TagMatch{{"virtual", true}, {"vhost", uint64(1)}}},
				InputType:    "pcap",
				InputConfig:  map[string]any{"iface": "eth1"},
				InputFilter:  map[string]any{"bpf": "port 53"},
				WindowConfig: window,
				Modules: []Module{
					{Name: "default_net", Type: "net", Version: "1.0", Line: 48, Config: window},
					{Name: "default_dns", Type: "dns", Version: "2.0", Line: 50,
						Config: map[string]any{
							"only_rcode": uint64(2), "public_suffix_list": true,
							"only_qname_suffix": []string{".google.com", ".ns1.com"},
							"num_periods":       uint64(5), "deep_sample_rate": uint64(100), "topn_count": uint64(10), "topn_percentile_threshold": uint64(0),
							"enable": []string{"top_ecs"}, "disable": []string{"top_qnames"},
						},
						Enable: []string{"top_ecs"}, Disable: []string{"top_qnames"}},
				},
			},
			{
				Name: "chain", Kind: "collection", Line: 62,
				Tap: "dnstap_sock", InputType: "dnstap",
				InputFilter: map[string]any{"only_hosts": []string{"10.0.0.0/8"}},
				Chained:     true,
				Modules: []Module{
					{Name: "upstream_dns", Type: "dns", Version: "1.0", Line: 71, Config: map[string]any{"only_rcode": uint64(2)}},
					{Name: "downstream_net", Type: "net", Version: "1.0", Line: 73, Config: map[string]any{}},
				},
			},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse mismatch\n got %#v\nwant %#v", got, want)
		for i := range min(len(got.Policies), len(want.Policies)) {
			if !reflect.DeepEqual(got.Policies[i], want.Policies[i]) {
				t.Errorf("policy %d\n got %#v\nwant %#v", i, got.Policies[i], want.Policies[i])
			}
		}
	}
}
