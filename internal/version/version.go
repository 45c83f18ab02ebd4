// Package version holds the program version shown by --version and the
// REST API. The major version follows pktvisor's (4), so clients that
// check it keep working.
package version

// Version is overridden at link time: -ldflags "-X .../internal/version.Version=...".
var Version = "4.5.0-go"
