package decode

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDevCompare(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/captures/*")
	for _, f := range files {
		fr := readCapture(t, f)
		tf, err := os.Open("/tmp/tsh/" + filepath.Base(f) + ".txt")
		if err != nil {
			t.Log(err)
			continue
		}
		sc := bufio.NewScanner(tf)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		tf.Close()
		if len(lines) != len(fr) {
			t.Errorf("%s: %d frames vs tshark %d", f, len(fr), len(lines))
			continue
		}
		d := NewDecoder(Config{})
		var p Packet
		bad := 0
		for i, x := range fr {
			err := d.Decode(x.link, x.data, x.ts, x.wireLen, &p)
			protos := strings.Split(strings.SplitN(lines[i], "\t", 2)[1], ":")
			l3, l4 := "none", "other"
			for j, s := range protos {
				if s == "ip" || s == "ipv6" {
					l3 = s
					for _, q := range protos[j+1:] {
						if q == "tcp" || q == "udp" || q == "icmp" || q == "icmpv6" {
							l4 = q
							break
						}
					}
					break
				}
			}
			m3 := map[L3]string{L3Unknown: "none", L3IPv4: "ip", L3IPv6: "ipv6"}[p.L3]
			m4 := map[L4]string{L4Other: "other", L4TCP: "tcp", L4UDP: "udp", L4ICMP: "icmp", L4ICMPv6: "icmpv6"}[p.L4]
			if m3 != l3 || (m4 != l4 && l3 != "none") {
				bad++
				if bad < 6 {
					t.Errorf("%s frame %d: got %s/%s err=%v frag=%v want %s/%s (%s)", filepath.Base(f), i+1, m3, m4, err, p.Fragment, l3, l4, lines[i])
				}
			}
		}
		fmt.Printf("%s: %d frames, %d mismatches, stats %+v\n", filepath.Base(f), len(fr), bad, d.Stats())
	}
}
