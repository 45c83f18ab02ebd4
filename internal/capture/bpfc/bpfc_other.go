//go:build !cgo || nolibpcap

package bpfc

// Compile reports ErrNotSupported: this build has no libpcap.
func Compile(expr string, link uint32, snaplen int) (func([]byte) bool, error) {
	return nil, ErrNotSupported
}
