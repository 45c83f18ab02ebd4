package handler

import "testing"

func TestResolveGroups(t *testing.T) {
	offered := []Group{{"a", true}, {"b", true}, {"c", false}}
	cases := []struct {
		name            string
		enable, disable []string
		want            map[string]bool
		err             string
	}{
		{"defaults", nil, nil, map[string]bool{"a": true, "b": true, "c": false}, ""},
		{"enable one", []string{"c"}, nil, map[string]bool{"a": true, "b": true, "c": true}, ""},
		{"disable all enable one", []string{"b"}, []string{"all"}, map[string]bool{"a": false, "b": true, "c": false}, ""},
		{"enable wins over disable", []string{"a"}, []string{"a"}, map[string]bool{"a": true, "b": true, "c": false}, ""},
		{"unknown", []string{"zz"}, nil, nil, "zz is an invalid/unsupported metric group. The valid groups are: all, a, b, c"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := ResolveGroups(offered, tc.enable, tc.disable)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if g.Has(k) != v {
					t.Errorf("%s = %v, want %v", k, g.Has(k), v)
				}
			}
		})
	}
	if _, err := ResolveGroups(nil, []string{"x"}, nil); err == nil || err.Error() != "x is an invalid/unsupported metric group. The valid groups are: all" {
		t.Errorf("no groups: %v", err)
	}
}

func TestCheckKeys(t *testing.T) {
	o := Options{Config: map[string]any{"topn_count": uint64(3), "only_x": true}}
	if err := o.CheckKeys("only_x"); err != nil {
		t.Fatal(err)
	}
	o.Config["nope"] = true
	want := "nope is an invalid/unsupported config or filter. The valid configs/filters are: only_x, deep_sample_rate, num_periods, topn_count, topn_percentile_threshold"
	if err := o.CheckKeys("only_x"); err == nil || err.Error() != want {
		t.Fatalf("got %v", err)
	}
	if err := o.Defaults(); err != nil || o.TopNCount != 3 || o.Periods != 5 || o.DeepSampleRate != 100 {
		t.Fatalf("defaults: %+v %v", o, err)
	}
}
