package libpcap

// NoSuchInterfaceError reports that the interface to capture on does not
// exist (in the network namespace of the calling thread).
type NoSuchInterfaceError struct {
	Iface string
}

// Error returns "interface NAME not found".
func (e *NoSuchInterfaceError) Error() string {
	return "interface " + e.Iface + " not found"
}
