// Command pktvisor-reader summarizes a capture file the way pktvisord
// summarizes live traffic, and prints one line of pktvisor's JSON.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	// pktvisor-reader links every built-in handler and input type.
	_ "github.com/pktvisor-go/pktvisor/internal/handler/all"
	_ "github.com/pktvisor-go/pktvisor/internal/input/all"
	"github.com/pktvisor-go/pktvisor/internal/reader"
	"github.com/pktvisor-go/pktvisor/internal/version"
)

const usage = `pktvisor-reader: summarize a network capture file as pktvisor JSON

Usage:
  pktvisor-reader [options] FILE
  pktvisor-reader (-h | --help)
  pktvisor-reader --version

FILE "-" reads the capture from standard input (pcap or pcapng).

Options:
  -i INPUT               Input type of FILE: pcap (pcap or pcapng). [default: pcap]
  --max-deep-sample N    Percentage of packets that update sketches (top-N, cardinality,
                         quantiles), 1-100. [default: 100]
  --periods P            Number of 60 s periods to keep, 1-10. With 1 the output is the
                         single bucket ("1m"), else the merged window ("<P>m"). [default: 5]
                         With --config, the default of policies without window_config.
  -b BPF                 Only analyze packets matching this tcpdump filter expression.
  -H HOSTSPEC            Comma-separated CIDRs of the monitored host(s), for in/out
                         direction, e.g. 192.168.0.0/24,2001:db8::/48.
  --config FILE          Run FILE through the policies of this pktvisord YAML file
                         instead of the default handlers (each pcap tap reads FILE);
                         prints each policy as /api/v1/policies/NAME/metrics/window/P
                         shows it, P being the policy's num_periods (bucket 0 with 1;
                         the smallest when its handlers differ).
  --geo-city FILE        GeoLite2/GeoIP2 City database (not supported by this build yet).
  --geo-asn FILE         GeoLite2/GeoIP2 ASN database (not supported by this build yet).
  -v                     Verbose log output.
  --version              Show the version.
  -h --help              Show this screen.

The JSON document goes to stdout; logs and progress go to stderr. The exit
status is 0 on success, 1 when the file could not be read to its end (what
was summarized before the error is still printed) or held nothing to
summarize (no packet, or no policy rendered anything: nothing is printed),
2 on a usage error.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("pktvisor-reader", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	input := fs.StringP("input", "i", "pcap", "")
	deep := fs.Int("max-deep-sample", 100, "")
	periods := fs.Int("periods", 5, "")
	bpf := fs.StringP("bpf", "b", "", "")
	hosts := fs.StringP("host-spec", "H", "", "")
	geoCity := fs.String("geo-city", "", "")
	geoASN := fs.String("geo-asn", "", "")
	verbose := fs.BoolP("verbose", "v", false, "")
	configFile := fs.String("config", "", "")
	showVersion := fs.Bool("version", false, "")
	help := fs.BoolP("help", "h", false, "")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "pktvisor-reader: %v\n\n%s", err, usage)
		return 2
	}
	switch {
	case *help:
		fmt.Fprint(stdout, usage)
		return 0
	case *showVersion:
		fmt.Fprintln(stdout, version.Version)
		return 0
	case fs.NArg() != 1:
		fmt.Fprintf(stderr, "pktvisor-reader: expected exactly one FILE argument\n\n%s", usage)
		return 2
	case *periods < 1 || *periods > 10:
		fmt.Fprintf(stderr, "pktvisor-reader: --periods must be between 1 and 10, got %d\n", *periods)
		return 2
	case *deep < 1 || *deep > 100:
		fmt.Fprintf(stderr, "pktvisor-reader: --max-deep-sample must be between 1 and 100, got %d\n", *deep)
		return 2
	case *geoCity != "" || *geoASN != "":
		fmt.Fprintln(stderr, "pktvisor-reader: --geo-city/--geo-asn: GeoIP/ASN enrichment is not supported by this build yet")
		return 2
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if !fs.Changed("periods") {
		*periods = 0 // the default, or each policy's own with --config
	}
	cfg := reader.Config{
		File:           fs.Arg(0),
		Input:          *input,
		Periods:        *periods,
		DeepSampleRate: *deep,
		HostSpec:       *hosts,
		BPF:            *bpf,
	}
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		cfg.Progress = f
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *configFile != "" {
		if err := reader.RunPolicies(ctx, cfg, *configFile, stdout, log); err != nil {
			log.Error(err.Error())
			return 1
		}
		return 0
	}
	res, err := reader.Run(ctx, cfg, stdout, log)
	if err != nil {
		log.Error(err.Error())
		if errors.Is(err, reader.ErrInterrupted) {
			return 130
		}
		return 1
	}
	pps := 0.0
	if s := res.Duration.Seconds(); s > 0 {
		pps = float64(res.Packets) / s
	}
	log.Info(fmt.Sprintf("processed %d packets", res.Packets), "packets_per_second", int64(pps), "seconds", res.Duration.Seconds())
	return 0
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
