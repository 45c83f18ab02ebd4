package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pktvisor-go/pktvisor/internal/config"
)

// pcapFileKey is the input config key naming a capture file to read.
const pcapFileKey = "pcap_file"

// errNoPcapDir is the answer to pcap_file in an API document without
// Config.PcapFileDir.
const errNoPcapDir = "pcap_file is not accepted through the admin API: start pktvisord with --pcap-file-dir DIR to allow capture files inside DIR"

// checkPcapTaps returns the error message for a POST /api/v1/taps
// document whose taps name a pcap_file outside Config.PcapFileDir, or ""
// (also when the document does not parse: the backend reports that).
func (s *Server) checkPcapTaps(doc []byte) string {
	taps, err := config.ParseTaps(doc)
	if err != nil {
		return ""
	}
	for _, t := range taps {
		if msg := s.checkPcapFile(t.Config, t.Filter); msg != "" {
			return msg
		}
	}
	return ""
}

// checkPcapPolicies is [Server.checkPcapTaps] for POST /api/v1/policies:
// a policy's input config and filter are laid over its tap's config.
// Whether a document parses does not depend on the global handler config
// (it is only merged into the modules' config), so parsing with nil here
// accepts and refuses what the backend's parse does.
func (s *Server) checkPcapPolicies(doc []byte) string {
	ps, err := config.ParsePolicies(doc, nil)
	if err != nil {
		return ""
	}
	for _, p := range ps {
		if msg := s.checkPcapFile(p.InputConfig, p.InputFilter); msg != "" {
			return msg
		}
	}
	return ""
}

// checkPcapFile checks the pcap_file of each config map. The message is
// the same whether a refused file exists or not, and never holds its
// content.
func (s *Server) checkPcapFile(cfgs ...map[string]any) string {
	for _, cfg := range cfgs {
		v, ok := cfg[pcapFileKey]
		if !ok {
			continue
		}
		if s.cfg.PcapFileDir == "" {
			return errNoPcapDir
		}
		path, ok := v.(string)
		if !ok {
			path = fmt.Sprint(v) // as the pcap input reads it
		}
		if !inside(s.cfg.PcapFileDir, path) {
			return fmt.Sprintf("pcap_file %q: not a regular file inside the --pcap-file-dir directory", path)
		}
	}
	return ""
}

// inside reports whether path, relative to the working directory as the
// input opens it, is a regular file within dir once every symbolic link
// of both is resolved.
func inside(dir, path string) bool {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false
	}
	if root, err = filepath.Abs(root); err != nil {
		return false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return false
	}
	st, err := os.Stat(real)
	return err == nil && st.Mode().IsRegular()
}
