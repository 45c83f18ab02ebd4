package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pktvisor-go/pktvisor/pkg/api"
)

// TestClient drives the real server and policy manager through pkg/api's
// client: every route the client knows, admin routes with a token, and
// the errors it reports.
func TestClient(t *testing.T) {
	m := realManager(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := New(Config{AdminAPI: true, AdminToken: "s3cret", Version: "9.9", PcapFileDir: "../../testdata/captures"}, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := newServer(t, s)
	c, err := api.New(ts.URL, api.WithToken("s3cret"))
	if err != nil {
		t.Fatal(err)
	}

	app, err := c.App(ctx)
	if err != nil || app.App.Version != "9.9" {
		t.Fatalf("App = %+v, %v", app, err)
	}
	taps, err := c.Taps(ctx)
	if err != nil || taps["file"].InputType != "pcap" || taps["file"].Interface != api.TapInterface ||
		taps["file"].Config["host_spec"] != "192.168.0.0/24" {
		t.Fatalf("Taps = %+v, %v", taps, err)
	}
	names, err := c.PolicyNames(ctx)
	if err != nil || strings.Join(names, ",") != "default" {
		t.Fatalf("PolicyNames = %v, %v", names, err)
	}
	p, err := c.Policy(ctx, "default")
	if err != nil || p.Kind != "collection" || len(p.Modules) != 4 || len(p.Input) != 1 {
		t.Fatalf("Policy = %+v, %v", p, err)
	}
	for _, in := range p.Input {
		if in.Module.Type != "pcap" || !in.Input.Running || in.Info["pcap_source"] != "file" || in.Info["packets"] != float64(16147) {
			t.Errorf("input %+v", in)
		}
	}
	if mod := p.Modules["default-file-dns"].Module; mod.Type != "dns" || mod.Version != "1.0" {
		t.Errorf("dns module %+v", mod)
	}

	b, err := c.Bucket(ctx, "default", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Handlers("default"); strings.Join(got, ",") != "default-file-dhcp,default-file-dns,default-file-net,default-file-pcap_stats" {
		t.Errorf("handlers %v", got)
	}
	wp := b.Schema("default", "default-file-dns", "dns")["wire_packets"].(map[string]any)
	if wp["queries"] != float64(2930) || wp["replies"] != float64(2921) {
		t.Errorf("dns wire_packets %v", wp)
	}
	w, err := c.Window(ctx, "__all", 1)
	if err != nil || w.Schema("default", "default-file-net", "packets")["total"] != float64(16147) {
		t.Fatalf("Window: %v", err)
	}
	prom, err := c.Prometheus(ctx, "default")
	if err != nil || !strings.Contains(prom, "dns_wire_packets_queries{") {
		t.Fatalf("Prometheus: %v", err)
	}

	// Errors carry the status and the server's message.
	_, err = c.Policy(ctx, "nope")
	var se *api.StatusError
	if !api.IsNotFound(err) || !errors.As(err, &se) || se.Message != "policy does not exists" {
		t.Fatalf("Policy(nope) = %v", err)
	}
	if _, err := c.Window(ctx, "default", 3); !errors.As(err, &se) || se.Code != http.StatusTooEarly {
		t.Fatalf("Window 3 of 1 period = %v, want 425", err)
	}
	anon, _ := api.New(ts.URL)
	if err := anon.DeletePolicy(ctx, "default"); !errors.As(err, &se) || se.Code != http.StatusUnauthorized {
		t.Fatalf("DeletePolicy without token = %v, want 401", err)
	}

	// Admin routes: a tap and a policy on it, then both removed.
	if _, err := c.AddTap(ctx, []byte("visor:\n  taps:\n    t2:\n      input_type: pcap\n      config:\n        pcap_file: ../../testdata/captures/dns_ipv4_udp.pcap\n")); err != nil {
		t.Fatal(err)
	}
	added, err := c.AddPolicy(ctx, []byte(`{"visor":{"policies":{"p2":{"kind":"collection","input":{"tap":"t2","input_type":"pcap"},"handlers":{"modules":{"d":{"type":"dns"}}}}}}}`))
	if err != nil || added["p2"].Modules["p2-t2-d"].Module.Type != "dns" {
		t.Fatalf("AddPolicy = %+v, %v", added, err)
	}
	if _, err := c.AddPolicy(ctx, []byte("visor:\n  policies:\n    p3:\n      kind: collection\n      input:\n        tap: t2\n        input_type: pcap\n      handlers:\n        modules:\n          x:\n            type: nosuch\n")); !errors.As(err, &se) || se.Code != http.StatusBadRequest ||
		!strings.Contains(se.Message, "nosuch") {
		t.Fatalf("AddPolicy of an unknown handler = %v, want 400", err)
	}
	if err := c.DeletePolicy(ctx, "p2"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteTap(ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	if _, err := api.New("localhost:10853"); err == nil {
		t.Error("an address without a scheme is accepted")
	}
}
