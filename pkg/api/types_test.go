package api

import (
	"encoding/json"
	"testing"
)

// TestInputJSON: an input's info is keyed by its type both ways.
func TestInputJSON(t *testing.T) {
	in := Input{Module: Module{Name: "t-1", Type: "pcap", Running: true}, Input: InputState{Running: true, Consumers: 2},
		Info: map[string]any{"pcap_source": "af_packet"}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"input":{"consumers":2,"running":true},"module":{"config":null,"name":"t-1","running":true,"type":"pcap"},"pcap":{"pcap_source":"af_packet"}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var back Input
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Info["pcap_source"] != "af_packet" || back.Input.Consumers != 2 || back.Module.Type != "pcap" {
		t.Fatalf("round trip: %+v", back)
	}
	if err := json.Unmarshal([]byte(`{"module": 3}`), &back); err == nil {
		t.Fatal("a bad module decodes")
	}
}
