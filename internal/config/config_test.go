package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Building blocks of the table's documents. Indentation: visor children at
// 2 spaces, tap/policy names at 4.
const (
	head    = "version: \"1.0\"\nvisor:\n"
	tapMock = "  taps:\n    anycast:\n      input_type: mock\n      config:\n        iface: eth0\n"
	tagTaps = "  taps:\n" +
		"    anycast1:\n      input_type: mock\n      tags:\n        virtual: true\n        vhost: 1\n        key: value\n" +
		"    anycast2:\n      input_type: mock\n      tags:\n        virtual: true\n        vhost: 2\n        key: value\n"
	// typeTaps has a tap whose vhost tag is a string.
	typeTaps = "  taps:\n" +
		"    anycast1:\n      input_type: mock\n      tags:\n        vhost: 1\n" +
		"    anycast2:\n      input_type: mock\n      tags:\n        vhost: 2a\n"
	polHead = "  policies:\n    p:\n      kind: collection\n"
	inTap   = "      input:\n        tap: anycast\n        input_type: mock\n"
	hNet    = "      handlers:\n        modules:\n          n:\n            type: net\n"
)

// policyDoc is a document with the mock tap and one policy p whose input
// is inTap and whose handlers section is handlers.
func policyDoc(handlers string) string { return head + tapMock + polHead + inTap + handlers }

// selectorDoc is a document with tagTaps and policy p using selector.
func selectorDoc(selector string) string {
	return head + tagTaps + polHead + "      input:\n        input_type: mock\n        tap_selector:\n" + selector + hNet
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string          // exact message; "" = success
		check   func(*File) any // returns a value compared with want
		want    any
	}{
		// Document level.
		{name: "empty data", in: "", wantErr: "empty data"},
		{name: "comments only", in: "# nothing\n", wantErr: "invalid schema"},
		{name: "scalar document", in: "hello", wantErr: "invalid schema"},
		{name: "sequence document", in: "- a\n- b\n", wantErr: "invalid schema"},
		{name: "no visor", in: "invalid: schema\n", wantErr: "invalid schema"},
		{name: "visor scalar", in: "visor: 3\n", wantErr: "invalid schema"},
		{name: "bad version", in: "version: \"2.0\"\nvisor:\n", wantErr: "missing or unsupported version"},
		{name: "version map", in: "version: {a: 1}\nvisor:\n", wantErr: "missing or unsupported version"},
		{name: "version absent is accepted", in: "visor:\n  taps:\n", check: func(f *File) any { return f.Version }, want: ""},
		{name: "version unquoted 1.0", in: "version: 1.0\nvisor:\n", check: func(f *File) any { return f.Version }, want: "1.0"},
		{name: "unknown top-level key", in: head + "vizor: {}\n", wantErr: "line 3: unknown key 'vizor' in the document (known keys: version, visor)"},
		{name: "unknown visor key", in: head + "  tapz: {}\n", wantErr: "line 3: unknown key 'tapz' in visor (known keys: config, taps, global_handler_config, policies)"},
		{name: "yaml syntax error", in: head + "  taps:\n    a: [1, 2\n", wantErr: "yaml: line 3: did not find expected ',' or ']'"},
		{name: "yaml tab indentation", in: "visor:\n\ttaps: {}\n", wantErr: "yaml: line 2: found character that cannot start any token"},
		{name: "merge key rejected", in: head + "  config:\n    <<: {verbose: true}\n", wantErr: "line 4: merge keys ('<<') are not supported"},

		// visor.config.
		{name: "config values", in: head + "  config:\n    verbose: true\n    port: 1234\n    host: 0.0.0.0\n    geo_cache_size: 0\n    default_geo_city: /c.mmdb\n",
			check: func(f *File) any {
				return []any{f.Visor.Verbose, f.Visor.Port, f.Visor.Host, f.Visor.GeoCacheSize, f.Visor.GeoCityPath(), f.Visor.Periods}
			},
			want: []any{true, 1234, "0.0.0.0", 0, "/c.mmdb", 5}},
		{name: "config yes is a bool", in: head + "  config:\n    admin_api: yes\n", check: func(f *File) any { return f.Visor.AdminAPI }, want: true},
		{name: "config unknown key", in: head + "  config:\n    verbos: true\n", wantErr: "line 4: unknown key 'verbos' in visor.config (known keys: " + knownVisorKeys() + ")"},
		{name: "config port not integer", in: head + "  config:\n    port: abc\n", wantErr: "line 4: visor.config.port: want an integer, got \"abc\""},
		{name: "config periods negative", in: head + "  config:\n    periods: -1\n", wantErr: "line 4: visor.config.periods: -1 is out of range [1, 10]"},
		{name: "config periods 11", in: head + "  config:\n    periods: 11\n", wantErr: "line 4: visor.config.periods: 11 is out of range [1, 10]"},
		{name: "config max deep sample 101", in: head + "  config:\n    max_deep_sample: 101\n", wantErr: "line 4: visor.config.max_deep_sample: 101 is out of range [0, 100]"},
		{name: "config bool not bool", in: head + "  config:\n    tls: maybe\n", wantErr: "line 4: visor.config.tls: want true or false, got \"maybe\""},
		{name: "config string is map", in: head + "  config:\n    host: {a: 1}\n", wantErr: "line 4: visor.config.host: want a string, got a map"},
		{name: "config not map", in: head + "  config: 7\n", wantErr: "line 3: visor.config: want a map, got \"7\""},
		{name: "config duplicate key", in: head + "  config:\n    port: 1\n    port: 2\n", wantErr: "line 5: duplicate key 'port' in visor.config"},

		// Taps.
		{name: "tap typed config and tags", in: head + "  taps:\n    t:\n      input_type: pcap\n      config:\n        iface: eth0\n        n: \"42\"\n        l: [a, 1]\n        debug: TRUE\n      tags:\n        vhost: 1\n",
			check: func(f *File) any { return []any{f.Taps[0].Config, f.Taps[0].Tags} },
			want:  []any{map[string]any{"iface": "eth0", "n": uint64(42), "l": []string{"a", "1"}, "debug": true}, map[string]any{"vhost": uint64(1)}}},
		{name: "tap not map", in: head + "  taps:\n    t: pcap\n", wantErr: "expecting tap configuration map"},
		{name: "tap missing input_type", in: head + "  taps:\n    t:\n      config: {}\n", wantErr: "missing or invalid tap type key 'input_type'"},
		{name: "tap unknown input_type", in: head + "  taps:\n    t:\n      input_type: ebpf\n", wantErr: "Tap 't' requires input stream type 'ebpf' which is not available"},
		{name: "tap config not map", in: head + "  taps:\n    t:\n      input_type: pcap\n      config: eth0\n", wantErr: "tap configuration is not a map"},
		{name: "tap tags not map", in: head + "  taps:\n    t:\n      input_type: pcap\n      tags: [a]\n", wantErr: "tap tags is not a map"},
		{name: "tap tag not scalar", in: head + "  taps:\n    t:\n      input_type: pcap\n      tags:\n        k: [a]\n", wantErr: "tag key 'k' must have scalar value"},
		{name: "tap duplicate", in: head + "  taps:\n    t:\n      input_type: pcap\n    t:\n      input_type: mock\n", wantErr: "module name 't' already exists"},
		{name: "tap bad name", in: head + "  taps:\n    9t:\n      input_type: pcap\n", wantErr: "line 4: invalid tap name '9t': must match [a-zA-Z_][a-zA-Z0-9_-]*"},
		{name: "tap config nested sequence", in: head + "  taps:\n    t:\n      input_type: pcap\n      config:\n        x: [[1]]\n", wantErr: "invalid value for sequence in key: x"},
		{name: "tap config null value", in: head + "  taps:\n    t:\n      input_type: pcap\n      config:\n        x:\n", wantErr: "invalid value for key: x"},
		{name: "tap unknown key", in: head + "  taps:\n    t:\n      input_type: pcap\n      confg: {}\n", wantErr: "line 6: unknown key 'confg' in tap 't' (known keys: input_type, config, tags, filter)"},

		// global_handler_config.
		{name: "global config not map", in: head + "  global_handler_config:\n    only_rcode: 2\n", wantErr: "expecting global_handler_config configuration map"},
		{name: "global config scalar", in: head + "  global_handler_config: 5\n", wantErr: "expecting global_handler_config configuration map"},
		{name: "global config duplicate type", in: head + "  global_handler_config:\n    dns: {a: 1}\n    dns: {a: 2}\n", wantErr: "stream handler type 'dns' already exists in global_handler_config configuration"},

		// Policies.
		{name: "policy null", in: head + "  policies:\n    missing:\n", wantErr: "expecting policy configuration map"},
		{name: "policy duplicate", in: head + tapMock + polHead + inTap + hNet + "    p:\n      kind: collection\n", wantErr: "policy with name 'p' already defined"},
		{name: "policy no kind", in: head + "  policies:\n    p:\n      input: {}\n", wantErr: "missing or invalid policy kind at key 'kind'"},
		{name: "policy unknown kind", in: head + tapMock + "  policies:\n    p:\n      kind: unknown_kind\n" + inTap, wantErr: "unknown policy kind: unknown_kind"},
		{name: "policy config not map", in: head + tapMock + polHead + "      config: yes\n" + inTap + hNet, wantErr: "policy configuration is not a map"},
		{name: "policy config merge_like_handlers", in: head + tapMock + polHead + "      config:\n        merge_like_handlers: true\n" + inTap + hNet,
			check: func(f *File) any { return f.Policies[0].Config }, want: map[string]any{"merge_like_handlers": true}},
		{name: "policy no input", in: head + polHead + hNet, wantErr: "missing or invalid policy input stream configuration at key 'input'"},
		{name: "policy no input_type", in: head + tapMock + polHead + "      input:\n        tap: anycast\n" + hNet, wantErr: "missing or invalid input_type at key 'input.input_type'"},
		{name: "policy input config not map", in: head + tapMock + polHead + inTap + "        config: x\n" + hNet, wantErr: "input configuration is not a map"},
		{name: "policy input filter bad value", in: head + tapMock + polHead + inTap + "        filter:\n          bpf:\n" + hNet, wantErr: "invalid input filter: invalid value for key: bpf"},
		{name: "policy no handlers", in: head + tapMock + polHead + inTap + "        filter:\n          bpf:\n            badmap: \"bad value\"\n", wantErr: "missing or invalid handler configuration at key 'handlers'"},
		{name: "policy handlers no modules", in: policyDoc("      handlers:\n        window_config: {num_periods: 5}\n"), wantErr: "missing or invalid handler modules at key 'modules'"},
		{name: "policy tap and selector", in: head + tagTaps + polHead + "      input:\n        tap: anycast1\n        tap_selector:\n          any:\n            virtual: true\n        input_type: mock\n" + hNet,
			wantErr: "input can have only key 'input.tap' or key 'input.tap_selector'"},
		{name: "policy neither tap nor selector", in: head + tapMock + polHead + "      input:\n        input_type: mock\n" + hNet, wantErr: "missing key 'input.tap' or key 'input.tap_selector'"},
		{name: "policy tap does not exist", in: head + tapMock + polHead + "      input:\n        tap: nonexist\n        input_type: mock\n" + hNet, wantErr: "tap 'nonexist' does not exist"},
		{name: "policy input_type mismatch", in: head + tapMock + polHead + "      input:\n        tap: anycast\n        input_type: wrong_type\n" + hNet,
			wantErr: "input_type for policy specified tap 'anycast' doesn't match tap's defined input type: wrong_type/mock"},

		// Tap selectors.
		{name: "selector any not sequence", in: selectorDoc("          any:\n            virtual: true\n"), wantErr: "'input.tap_selector.any' is not a sequence"},
		{name: "selector all not sequence", in: selectorDoc("          all: x\n"), wantErr: "'input.tap_selector.all' is not a sequence"},
		{name: "selector two pairs", in: selectorDoc("          any:\n            - vhost: 1\n              key: value\n"), wantErr: "selector tag must contain only one key/value pair per sequence index"},
		{name: "selector value not scalar", in: selectorDoc("          any:\n            - virtual:\n                vhost: 1\n                k: v\n"), wantErr: "tag key 'virtual' must have scalar value"},
		{name: "selector type mismatch", in: strings.Replace(selectorDoc("          any:\n            - vhost: 1\n"), tagTaps, typeTaps, 1), wantErr: "Tap [anycast2]: tag and selector value types are different for key 'vhost'"},
		{name: "selector no match", in: selectorDoc("          all: [virtual: true, vhost: 1, non_existent_key: value]\n"), wantErr: "no tap match found for specified 'input.tap_selector' tags"},
		{name: "selector any and all", in: selectorDoc("          any: []\n          all: []\n"), wantErr: "input can have only key 'input.tap_selector.all' or key 'input.tap_selector.any'"},
		{name: "selector empty", in: selectorDoc("          {}\n"), wantErr: "missing key 'input.tap_selector.all' or key 'input.tap_selector.any'"},
		{name: "selector not map", in: selectorDoc("          - a\n"), wantErr: "'input.tap_selector' is not a map"},
		{name: "selector all matches", in: selectorDoc("          all: [virtual: true, vhost: 1, key: value]\n"),
			check: func(f *File) any { return *f.Policies[0].TapSelector },
			want:  Selector{Mode: "all", Tags: []TagMatch{{"virtual", true}, {"vhost", uint64(1)}, {"key", "value"}}}},

		// Modules.
		{name: "module without type", in: policyDoc("      handlers:\n        modules:\n          d:\n            config: dns\n"), wantErr: "missing or invalid stream handler type at key 'type'"},
		{name: "module config not map", in: policyDoc("      handlers:\n        modules:\n          d:\n            type: dns\n            config: not_a_map\n"), wantErr: "stream handler configuration is not a map"},
		{name: "module filter not map", in: policyDoc("      handlers:\n        modules:\n          d:\n            type: dns\n            filter: [a]\n"), wantErr: "stream handler filter configuration is not a map"},
		{name: "module metric groups sequence", in: policyDoc("      handlers:\n        modules:\n          d:\n            type: dns\n            metric_groups:\n              - top_qnames\n"), wantErr: "stream handler metric groups is not a map"},
		{name: "module metric groups no enable/disable", in: policyDoc("      handlers:\n        modules:\n          d:\n            type: dns\n            metric_groups:\n              allow: [top_qnames]\n"),
			wantErr: "stream handler metric groups should contain enable and/or disable tags"},
		{name: "module metric groups scalar list", in: policyDoc("      handlers:\n        modules:\n          d:\n            type: dns\n            metric_groups:\n              enable: all\n"),
			wantErr: "invalid stream handler metrics for handler 'd': wrong type for key: enable"},
		{name: "module duplicate in sequence", in: policyDoc("      handlers:\n        modules:\n          - d:\n            type: dns\n          - d:\n            type: net\n"), wantErr: "module name 'd' already exists"},
		{name: "module bad name", in: policyDoc("      handlers:\n        modules:\n          d.x:\n            type: dns\n"), wantErr: "line 16: invalid module name 'd.x': must match [a-zA-Z_][a-zA-Z0-9_-]*"},
		{name: "module not map", in: policyDoc("      handlers:\n        modules:\n          d:\n"), wantErr: "expecting Handler configuration map"},
		{name: "module require_version 3.0", in: policyDoc("      handlers:\n        modules:\n          d:\n            type: dns\n            require_version: \"3.0\"\n"),
			wantErr: "Policy 'p' requires stream handler type 'dns' and version '3.0' which is not available"},
		{name: "module require_version map", in: policyDoc("      handlers:\n        modules:\n          d:\n            type: dns\n            require_version: {a: 1}\n"), wantErr: "Invalid stream handler version at key 'require_version'"},
		{name: "module config bad sequence", in: policyDoc("      handlers:\n        modules:\n          d:\n            type: dns\n            config:\n              x: [{a: 1}]\n"),
			wantErr: "invalid stream handler config for handler 'd': invalid value for sequence in key: x"},
		{name: "module unknown key", in: policyDoc("      handlers:\n        modules:\n          d:\n            type: dns\n            window_config: {}\n"),
			wantErr: "line 18: unknown key 'window_config' in module 'd' (known keys: type, require_version, config, filter, metric_groups)"},
		{name: "handlers window_config and config", in: policyDoc("      handlers:\n        window_config: {}\n        config: {}\n        modules:\n          d:\n            type: dns\n"),
			wantErr: "line 16: policy 'p' handlers: use window_config or config (the RFC's name for it), not both"},
		{name: "handlers.config is window_config", in: policyDoc("      handlers:\n        config:\n          num_periods: 3\n        modules:\n          d:\n            type: dns\n"),
			check: func(f *File) any { return f.Policies[0].Modules[0].Config }, want: map[string]any{"num_periods": uint64(3)}},
		{name: "sequence nested and sibling forms", in: policyDoc("      handlers:\n        modules:\n          - a:\n              type: dns\n          - b:\n            type: net\n            require_version: \"2.0\"\n"),
			check: func(f *File) any {
				p := f.Policies[0]
				return []any{p.Chained, p.Modules[0].Name, p.Modules[0].Type, p.Modules[1].Name, p.Modules[1].Type, p.Modules[1].Version}
			},
			want: []any{true, "a", "dns", "b", "net", "2.0"}},
		{name: "flat config merge order", in: head + tapMock +
			"  global_handler_config:\n    dns:\n      only_rcode: 2\n      x: global\n" +
			polHead + inTap +
			"      handlers:\n        window_config:\n          num_periods: 4\n        modules:\n          d:\n            type: dns\n" +
			"            config:\n              x: config\n              num_periods: 9\n            filter:\n              only_qname_suffix: [.a.com]\n" +
			"            metric_groups:\n              disable: [top_qnames]\n",
			check: func(f *File) any { m := f.Policies[0].Modules[0]; return []any{m.Config, m.Enable, m.Disable} },
			want: []any{map[string]any{"only_rcode": uint64(2), "x": "config", "num_periods": uint64(4), "only_qname_suffix": []string{".a.com"}, "disable": []string{"top_qnames"}},
				[]string(nil), []string{"top_qnames"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Parse succeeded, want error %q", tt.wantErr)
				}
				if err.Error() != tt.wantErr {
					t.Fatalf("Parse error\n got %q\nwant %q", err.Error(), tt.wantErr)
				}
				var ce *Error
				if !errors.As(err, &ce) {
					t.Fatalf("error %T is not *Error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.check != nil {
				if got := tt.check(f); !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got  %#v\nwant %#v", got, tt.want)
				}
			}
		})
	}
}

func knownVisorKeys() string {
	var keys []string
	for _, o := range options() {
		keys = append(keys, o.key)
	}
	return strings.Join(keys, ", ")
}

func TestErrorLine(t *testing.T) {
	_, err := Parse([]byte(policyDoc("      handlers:\n        modules:\n          d:\n            type: dns\n            config: not_a_map\n")))
	var ce *Error
	if !errors.As(err, &ce) || ce.Line != 18 {
		t.Fatalf("got %#v, want *Error at line 18", err)
	}
	_, err = Parse([]byte(selectorDoc("          all: [vhost: 7]\n")))
	if !errors.Is(err, ErrNoTapMatch) {
		t.Fatalf("got %v, want ErrNoTapMatch", err)
	}
}

func TestParseTaps(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
		want              []Tap
	}{
		{name: "one tap", in: head + "  taps:\n    t:\n      input_type: dnstap\n      config: {socket: /tmp/s}\n",
			want: []Tap{{Name: "t", InputType: "dnstap", Config: map[string]any{"socket": "/tmp/s"}, Line: 4}}},
		{name: "two taps", in: head + "  taps:\n    a: {input_type: mock}\n    b: {input_type: mock}\n", wantErr: "only a single tap expected but got 2"},
		{name: "no taps", in: head + "  policies: {}\n", wantErr: "no taps found in schema"},
		{name: "taps not map", in: head + "  taps: [a]\n", wantErr: "no taps found in schema"},
		{name: "empty", in: "", wantErr: "empty data"},
		{name: "bad version", in: "version: \"3\"\nvisor: {}\n", wantErr: "missing or unsupported version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTaps([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParsePolicies(t *testing.T) {
	global := map[string]map[string]any{"dns": {"only_rcode": uint64(2)}}
	one := head + polHead + "      input:\n        tap: elsewhere\n        input_type: pcap\n" + "      handlers:\n        modules:\n          d:\n            type: dns\n"
	tests := []struct {
		name, in, wantErr string
		want              []Policy
	}{
		// The tap is not checked: it lives in the running agent.
		{name: "one policy", in: one, want: []Policy{{Name: "p", Kind: "collection", Tap: "elsewhere", InputType: "pcap", Line: 4,
			Modules: []Module{{Name: "d", Type: "dns", Version: "1.0", Config: map[string]any{"only_rcode": uint64(2)}, Line: 11}}}}},
		{name: "two policies", in: one + "    q:\n      kind: collection\n", wantErr: "only a single policy expected but got 2"},
		{name: "no policies", in: head + "  taps: {}\n", wantErr: "no policies found in schema"},
		{name: "bad kind", in: head + "  policies:\n    p:\n      kind: view\n", wantErr: "unknown policy kind: view"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePolicies([]byte(tt.in), global)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestScalarType(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"0", uint64(0)}, {"53", uint64(53)}, {"18446744073709551615", uint64(1<<64 - 1)},
		{"18446744073709551616", "18446744073709551616"}, {"-1", "-1"}, {"1.5", "1.5"},
		{"true", true}, {"FALSE", false}, {"True", true}, {"yes", "yes"}, {"", ""}, {"eth0", "eth0"},
	}
	for _, tt := range tests {
		if got := ScalarType(tt.in); got != tt.want {
			t.Errorf("ScalarType(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestSelectorMatch(t *testing.T) {
	tags := map[string]any{"virtual": true, "vhost": uint64(1), "key": "value"}
	tests := []struct {
		name    string
		sel     Selector
		want    bool
		wantErr string
	}{
		{"all match", Selector{"all", []TagMatch{{"virtual", true}, {"vhost", uint64(1)}}}, true, ""},
		{"all one differs", Selector{"all", []TagMatch{{"virtual", true}, {"vhost", uint64(2)}}}, false, ""},
		{"all missing key", Selector{"all", []TagMatch{{"nope", "x"}, {"vhost", "x"}}}, false, ""},
		{"any one matches", Selector{"any", []TagMatch{{"virtual", false}, {"key", "value"}}}, true, ""},
		{"any missing skipped", Selector{"any", []TagMatch{{"nope", "x"}}}, false, ""},
		{"any empty", Selector{"any", nil}, false, ""},
		{"type differs", Selector{"any", []TagMatch{{"vhost", "1a"}}}, false, "Tap [t]: tag and selector value types are different for key 'vhost'"},
		{"all decided before type error", Selector{"all", []TagMatch{{"virtual", false}, {"vhost", "1a"}}}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sel.Match("t", tags)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestApplyWindowDefaults(t *testing.T) {
	f, err := Parse([]byte(policyDoc("      handlers:\n        modules:\n          d:\n            type: dns\n            config:\n              num_periods: 9\n")))
	if err != nil {
		t.Fatal(err)
	}
	p := &f.Policies[0]
	if p.WindowConfig != nil {
		t.Fatalf("WindowConfig = %v, want nil", p.WindowConfig)
	}
	p.ApplyWindowDefaults(3, 50)
	want := map[string]any{"num_periods": uint64(3), "deep_sample_rate": uint64(50)}
	if !reflect.DeepEqual(p.Modules[0].Config, want) || !reflect.DeepEqual(p.WindowConfig, want) {
		t.Fatalf("got %v / %v, want %v", p.Modules[0].Config, p.WindowConfig, want)
	}
}

func TestDefaultTapPolicy(t *testing.T) {
	v := DefaultVisor()
	v.BPF, v.HostSpec = "port 53", "10.0.0.0/8"
	tap, pol := DefaultTapPolicy("eth0", v, map[string]map[string]any{"dns": {"only_rcode": uint64(2)}},
		[][3]string{{"net", "net", "1.0"}, {"dhcp", "dhcp", "1.0"}, {"dns", "dns", "1.0"}, {"pcap_stats", "pcap", "1.0"}})
	if tap.Config["iface"] != "eth0" || tap.Config["host_spec"] != "10.0.0.0/8" || pol.InputConfig["bpf"] != "port 53" {
		t.Fatalf("tap %+v policy %+v", tap, pol)
	}
	var names []string
	for _, m := range pol.Modules {
		names = append(names, m.Name+"/"+m.Type)
	}
	if got := strings.Join(names, " "); got != "net/net dhcp/dhcp dns/dns pcap_stats/pcap" {
		t.Fatalf("modules %s", got)
	}
	want := map[string]any{"only_rcode": uint64(2), "num_periods": uint64(5), "deep_sample_rate": uint64(100)}
	if !reflect.DeepEqual(pol.Modules[2].Config, want) {
		t.Fatalf("dns config %v, want %v", pol.Modules[2].Config, want)
	}
}
