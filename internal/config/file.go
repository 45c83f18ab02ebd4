package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// File is one validated pktvisord configuration document.
type File struct {
	Version string // "1.0", or "" when the document has no version
	// Visor is DefaultVisor overlaid by visor.config; [Merge] adds the
	// command line.
	Visor    Visor
	Taps     []Tap    // visor.taps in document order
	Policies []Policy // visor.policies in document order
	// GlobalHandlerConfig is visor.global_handler_config: per handler
	// type, typed config merged under every module of that type. It is
	// already merged into Policies[i].Modules[j].Config.
	GlobalHandlerConfig map[string]map[string]any
}

// SupportedVersion is the only document version pktvisor accepts.
const SupportedVersion = "1.0"

// MaxFileSize is the largest configuration file [ReadFile] reads.
const MaxFileSize = 16 << 20

// ErrMultipleDocuments is wrapped by the error of a document that is
// followed by a second YAML document (after "---") holding anything but
// null: pktvisor read the first and silently ignored the rest.
var ErrMultipleDocuments = errors.New("more than one YAML document")

// ReadFile reads and parses the configuration file at path (pktvisord
// --config). It reads at most [MaxFileSize] bytes, from a regular file or
// from anything else (a pipe, a device): a larger input is an error, so
// that --config /dev/zero cannot exhaust memory. Errors from reading are
// wrapped with "read config"; parse errors are returned as [Parse] returns
// them.
func ReadFile(path string) (*File, error) {
	data, err := readLimited(path, MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data)
}

// readLimited returns the content of path, or an error if it holds more
// than limit bytes. The size of a regular file is checked before reading.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tooLarge := fmt.Errorf("%s is larger than the %d MiB limit for a configuration file", path, limit>>20)
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Mode().IsRegular() && st.Size() > limit {
		return nil, tooLarge
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooLarge
	}
	return data, nil
}

// Parse validates a whole pktvisord configuration document. Taps are
// checked first, then global_handler_config, then policies, as pktvisord
// loads them; a policy's input.tap must name a tap of the document and its
// input.tap_selector must match at least one (pktvisord has no other taps
// when it loads the file). It returns an [*Error]; see the package
// documentation for the messages.
func Parse(data []byte) (*File, error) {
	w := &walker{}
	root, version, err := w.document(data)
	if err != nil {
		return nil, err
	}
	f := &File{Version: version, Visor: DefaultVisor()}
	visor, err := w.visor(root)
	if err != nil {
		return nil, err
	}
	if p, ok := visor["config"]; ok && !isNull(p.v) {
		if !isMap(p.v) {
			return nil, lineErrf(p.v, "visor.config: want a map, got %s", describe(p.v))
		}
		if err := w.parseVisorConfig(p.v, &f.Visor); err != nil {
			return nil, err
		}
	}
	if p, ok := visor["taps"]; ok && !isNull(p.v) {
		if !isMap(p.v) {
			return nil, lineErrf(p.v, "visor.taps: want a map, got %s", describe(p.v))
		}
		if f.Taps, err = w.taps(p.v); err != nil {
			return nil, err
		}
	}
	if p, ok := visor["global_handler_config"]; ok && !isNull(p.v) {
		if f.GlobalHandlerConfig, err = w.globalHandlerConfig(p.v); err != nil {
			return nil, err
		}
	}
	if p, ok := visor["policies"]; ok && !isNull(p.v) {
		if !isMap(p.v) {
			return nil, lineErrf(p.v, "visor.policies: want a map, got %s", describe(p.v))
		}
		taps := f.Taps
		if taps == nil {
			taps = []Tap{}
		}
		if f.Policies, err = w.policies(p.v, f.GlobalHandlerConfig, taps); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// ParseTaps validates the body of POST /api/v1/taps: a document whose
// visor.taps holds exactly one tap. Besides [Parse]'s messages it returns
// pktvisor's "no taps found in schema" and "only a single tap expected but
// got N".
func ParseTaps(data []byte) ([]Tap, error) {
	w := &walker{}
	root, _, err := w.document(data)
	if err != nil {
		return nil, err
	}
	visor, err := w.visor(root)
	if err != nil {
		return nil, err
	}
	p, ok := visor["taps"]
	if !ok || !isMap(p.v) || len(p.v.Content) == 0 {
		return nil, pkErr(root, "no taps found in schema")
	}
	if n := len(p.v.Content) / 2; n > 1 {
		return nil, pkErrf(p.v, "only a single tap expected but got %d", n)
	}
	return w.taps(p.v)
}

// ParsePolicies validates the body of POST /api/v1/policies: a document
// whose visor.policies holds exactly one policy. global is the running
// agent's global_handler_config, merged under the modules' config (may be
// nil). Tap references are not checked: the caller resolves input.tap and
// input.tap_selector against the live taps ([Selector.Select]). Besides
// [Parse]'s messages it returns "no policies found in schema" and "only a
// single policy expected but got N".
func ParsePolicies(data []byte, global map[string]map[string]any) ([]Policy, error) {
	w := &walker{}
	root, _, err := w.document(data)
	if err != nil {
		return nil, err
	}
	visor, err := w.visor(root)
	if err != nil {
		return nil, err
	}
	p, ok := visor["policies"]
	if !ok || !isMap(p.v) || len(p.v.Content) == 0 {
		return nil, pkErr(root, "no policies found in schema")
	}
	if n := len(p.v.Content) / 2; n > 1 {
		return nil, pkErrf(p.v, "only a single policy expected but got %d", n)
	}
	return w.policies(p.v, global, nil)
}

// document parses data and checks the parts every document shares: not
// empty, one YAML document (see [ErrMultipleDocuments]), aliases within
// [maxAliasNodes], a map with a visor key, version "1.0" if present, no
// unknown top-level keys. It returns the root mapping and the version.
// Every parser goes through it.
func (w *walker) document(data []byte) (*yaml.Node, string, error) {
	if len(data) == 0 {
		return nil, "", &Error{Msg: "empty data"}
	}
	var doc yaml.Node
	if err := decode(data, &doc); err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			return nil, "", ce
		}
		return nil, "", yamlErr(err)
	}
	if err := checkExpansion(&doc); err != nil {
		return nil, "", err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, "", &Error{Msg: "invalid schema"}
	}
	root, err := w.resolve(doc.Content[0])
	if err != nil {
		return nil, "", err
	}
	if !isMap(root) {
		return nil, "", pkErr(root, "invalid schema")
	}
	ps, err := w.pairs(root)
	if err != nil {
		return nil, "", err
	}
	var visor, version *yaml.Node
	for _, p := range ps {
		switch p.key {
		case "visor":
			if visor == nil {
				visor = p.v
			}
		case "version":
			if version == nil {
				version = p.v
			}
		}
	}
	if visor == nil {
		return nil, "", pkErr(root, "invalid schema")
	}
	v := ""
	if version != nil {
		if !isScalar(version) || version.Value != SupportedVersion {
			return nil, "", pkErr(version, "missing or unsupported version")
		}
		v = version.Value
	}
	if _, err := w.fields(root, "the document", "version", "visor"); err != nil {
		return nil, "", err
	}
	return root, v, nil
}

// visor returns the entries of the visor map; a null visor is empty.
func (w *walker) visor(root *yaml.Node) (map[string]pair, error) {
	ps, err := w.pairs(root)
	if err != nil {
		return nil, err
	}
	var visor *yaml.Node
	for _, p := range ps {
		if p.key == "visor" {
			visor = p.v
			break
		}
	}
	if isNull(visor) {
		return map[string]pair{}, nil
	}
	if !isMap(visor) {
		return nil, pkErr(visor, "invalid schema")
	}
	return w.fields(visor, "visor", "config", "taps", "global_handler_config", "policies")
}

// decode parses the first YAML document of data into doc and checks that
// any further documents are empty (null); a later one with content is an
// [*Error] wrapping [ErrMultipleDocuments]. An empty stream leaves doc
// zero. A panic inside the YAML library becomes an error, so that no
// input can crash the agent.
func decode(data []byte, doc *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(doc); err != nil {
		if err == io.EOF {
			return nil
		}
		return err
	}
	for {
		var next yaml.Node
		if err := dec.Decode(&next); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if len(next.Content) > 0 && !isNull(next.Content[0]) {
			return &Error{Line: next.Line, Column: next.Column, Err: ErrMultipleDocuments,
				Msg: fmt.Sprintf("line %d: a second YAML document starts here; a configuration is one document", next.Line)}
		}
	}
}
