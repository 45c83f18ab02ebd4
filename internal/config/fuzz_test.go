package config

import (
	"os"
	"testing"
)

// FuzzParse checks that no input makes the parsers panic.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("testdata/rfc-example.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(policyDoc(hNet)))
	f.Add([]byte(selectorDoc("          any:\n            - vhost: 1\n")))
	f.Add([]byte("a: &a [*a, *a]\nvisor: {taps: {t: {input_type: mock, config: {x: *a}}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Parse(data)
		_, _ = ParseTaps(data)
		_, _ = ParsePolicies(data, nil)
	})
}
