package afxdp

import (
	"errors"
	"testing"
)

func TestInUseErrorText(t *testing.T) {
	busy := errors.New("open af_xdp on eth1 queue 2: bind zero-copy: device or resource busy")
	tail := "; stop it or use pcap_source ebpf or af_packet for a second tap"
	tests := []struct {
		name string
		err  *InUseError
		want string
	}{
		{"our program", &InUseError{Iface: "eth1", Program: "xdp_capture", ProgramID: 17, Capture: true, Sockets: 4, Queue: -1, PIDs: []int{1234}},
			"af_xdp: eth1 already has an XDP capture program in use by a running agent (pid 1234; program xdp_capture id 17 feeding 4 AF_XDP sockets)" + tail},
		{"two holders", &InUseError{Iface: "eth1", Program: "xdp_capture", ProgramID: 17, Capture: true, Sockets: 1, Queue: 0, PIDs: []int{1234, 1300}, Err: busy},
			"af_xdp: eth1 already has an XDP capture program in use by a running agent (pid 1234, pid 1300; program xdp_capture id 17 feeding 1 AF_XDP socket)" + tail},
		{"holder not visible", &InUseError{Iface: "eth1", Program: "xdp_capture", ProgramID: 17, Capture: true, Sockets: 2, Queue: -1},
			"af_xdp: eth1 already has an XDP capture program in use by a running agent (pid unknown; program xdp_capture id 17 feeding 2 AF_XDP sockets)" + tail},
		{"foreign program", &InUseError{Iface: "eth1", Program: "xsk_def_prog", ProgramID: 9, Sockets: 1, Queue: 0, PIDs: []int{77}, Err: busy},
			"af_xdp: eth1 already has an XDP program with AF_XDP sockets in use by a running process (pid 77; program xsk_def_prog id 9 feeding 1 AF_XDP socket)" + tail},
		{"bound queue only", &InUseError{Iface: "eth1", Queue: 2, Err: busy},
			"af_xdp: eth1 already has an AF_XDP socket on queue 2 in use by a running process (pid unknown; " + busy.Error() + ")" + tail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
			}
			var err error = tt.err
			if !errors.Is(err, ErrInUse) {
				t.Error("errors.Is(err, ErrInUse) = false")
			}
			if errors.Is(err, busy) != (tt.err.Err != nil) {
				t.Errorf("errors.Is(err, cause) = %v, want %v", !(tt.err.Err != nil), tt.err.Err != nil)
			}
		})
	}
}
