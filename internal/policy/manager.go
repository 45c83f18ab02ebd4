package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pktvisor-go/pktvisor/internal/config"
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/input"
	"github.com/pktvisor-go/pktvisor/internal/window"
)

// Opener opens an input stream of type inputType from its merged config
// (the tap's config overridden by the policy's input config and filter).
// The agent's is input.Open, the registry's; tests give their own.
type Opener func(ctx context.Context, inputType string, cfg input.Config) (input.Stream, error)

// ManagerConfig configures a Manager.
type ManagerConfig struct {
	Periods        int // default num_periods of policies without window_config
	DeepSampleRate int
	Global         map[string]map[string]any // global_handler_config
	Open           Opener                    // nil: input.Open
	Log            *slog.Logger
	// MaxTaps and MaxPolicies bound the taps and policies the manager
	// holds (0: DefaultMaxTaps, DefaultMaxPolicies): each policy holds
	// handler shards per worker, and the admin API may add them.
	MaxTaps     int
	MaxPolicies int
}

// The default limits of a Manager's taps and policies.
const (
	DefaultMaxTaps     = 256
	DefaultMaxPolicies = 256
)

// Manager runs taps, input streams and collection policies, and answers
// the REST API. Its methods are safe for concurrent use (control plane
// only: packets never take its locks).
//
// Two locks: ops serializes changes (taps and policies added or removed)
// and is held while inputs open and close; mu guards the maps and is held
// only briefly. The maps are written with both held, so a change reads
// them under ops alone and the API's readers under mu alone: an input that
// takes long to open never stalls /metrics, /taps or /policies.
type Manager struct {
	ops      sync.Mutex
	mu       sync.Mutex
	ctx      context.Context
	cfg      ManagerConfig
	log      *slog.Logger
	taps     map[string]config.Tap
	tapOrder []string
	policies map[string]*runPolicy
	inputs   map[string]*runInput
	cache    map[cacheKey]cached // merged windows, as pktvisor caches them
}

// windowCacheTTL is how long a merged window is served from the cache
// (pktvisor's 1,000 ms).
const windowCacheTTL = time.Second

type cacheKey struct {
	policy string
	n      int
}

type cached struct {
	at time.Time
	v  map[string]any
}

type runInput struct {
	recorded bool
	name     string
	tap      string
	typ      string
	produces []event.Kind
	config   map[string]any
	in       *Input
	users    map[string]bool // policies using it
}

type runModule struct {
	name   string // instance name <policy>-<tap>-<module>
	mod    config.Module
	info   handler.Info
	kinds  []event.Kind // what the bus attaches it for
	input  *runInput
	shards []handler.Handler // one per worker of the input
}

type runPolicy struct {
	chains  []*chain // per worker, for detaching
	cfg     config.Policy
	taps    []string
	inputs  []*runInput
	modules []*runModule
}

// NewManager returns an empty manager; inputs it starts live until ctx
// ends or Close.
func NewManager(ctx context.Context, cfg ManagerConfig) *Manager {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Open == nil {
		cfg.Open = input.Open
	}
	if cfg.MaxTaps <= 0 {
		cfg.MaxTaps = DefaultMaxTaps
	}
	if cfg.MaxPolicies <= 0 {
		cfg.MaxPolicies = DefaultMaxPolicies
	}
	return &Manager{ctx: ctx, cfg: cfg, log: cfg.Log, taps: map[string]config.Tap{},
		policies: map[string]*runPolicy{}, inputs: map[string]*runInput{}}
}

// Close stops every input stream. Handlers stay readable.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, in := range m.inputs {
		in.stop()
	}
}

// AddTaps registers taps, all or none; a name already defined is
// ErrExists, a tap beyond ManagerConfig.MaxTaps ErrInvalid.
func (m *Manager) AddTaps(taps ...config.Tap) error {
	m.ops.Lock()
	defer m.ops.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, t := range taps {
		if _, ok := m.taps[t.Name]; ok {
			return errf(ErrExists, "tap '%s' already exists", t.Name)
		}
		if len(m.taps)+i >= m.cfg.MaxTaps {
			return errf(ErrInvalid, "tap '%s': the limit of %d taps is reached", t.Name, m.cfg.MaxTaps)
		}
	}
	for _, t := range taps {
		m.taps[t.Name] = t
		m.tapOrder = append(m.tapOrder, t.Name)
	}
	return nil
}

// AddPolicies starts policies in order; the first failure is returned and
// that policy leaves nothing behind (those before it keep running). Inputs
// the policies create start once all of them are attached, so policies
// sharing a capture file all see it from its first packet.
func (m *Manager) AddPolicies(ps ...config.Policy) error {
	var created []*runInput
	defer func() {
		for _, ri := range created {
			ri.in.Run()
		}
	}()
	for _, p := range ps {
		c, err := m.addPolicy(p, true)
		created = append(created, c...)
		if err != nil {
			return err
		}
	}
	return nil
}

func inputName(tap string, typ string, cfg map[string]any) string {
	b, _ := json.Marshal(struct {
		T string
		C map[string]any
	}{typ, cfg})
	h := sha256.Sum256(b)
	return tap + "-" + hex.EncodeToString(h[:6])
}

// addPolicy starts policy p. With hold set, the inputs it creates are
// returned instead of run (the caller runs them).
func (m *Manager) addPolicy(p config.Policy, hold bool) (started []*runInput, err error) {
	m.ops.Lock()
	defer m.ops.Unlock()
	// The maps are read under ops (see Manager); mu is taken to publish.
	if _, ok := m.policies[p.Name]; ok {
		return nil, errf(ErrExists, "policy with name '%s' already defined", p.Name)
	}
	if len(m.policies) >= m.cfg.MaxPolicies {
		return nil, errf(ErrInvalid, "policy '%s': the limit of %d policies is reached", p.Name, m.cfg.MaxPolicies)
	}
	if p.Chained {
		// Upstream handlers must be able to filter for the rest (dns
		// passes what its filters keep) or pass everything (net); the
		// registry says which types can lead.
		var leaders []string
		infos := handler.Registered()
		slices.SortStableFunc(infos, func(a, b handler.Info) int { return a.DefaultOrder - b.DefaultOrder })
		for _, i := range infos {
			if i.LeadsChain && !slices.Contains(leaders, i.Type) {
				leaders = append(leaders, i.Type)
			}
		}
		for _, mod := range p.Modules[:max(len(p.Modules)-1, 0)] {
			if !slices.Contains(leaders, mod.Type) {
				return nil, errf(ErrInvalid, "policy '%s': a chain can only continue after %s handlers, not after '%s'", p.Name, strings.Join(leaders, " or "), mod.Type)
			}
		}
	}
	if p.WindowConfig == nil {
		p.ApplyWindowDefaults(m.cfg.Periods, m.cfg.DeepSampleRate)
	}
	var taps []string
	switch {
	case p.Tap != "":
		if _, ok := m.taps[p.Tap]; !ok {
			return nil, errf(ErrNotFound, "tap '%s' does not exist", p.Tap)
		}
		taps = []string{p.Tap}
	case p.TapSelector != nil:
		var all []config.Tap
		for _, n := range m.tapOrder {
			all = append(all, m.taps[n])
		}
		taps, err = p.TapSelector.Select(all)
		if errors.Is(err, config.ErrNoTapMatch) {
			return nil, ErrNoTapMatch
		}
		if err != nil {
			return nil, errf(ErrInvalid, "%v", err)
		}
		if len(taps) == 0 {
			return nil, ErrNoTapMatch
		}
	default:
		return nil, errf(ErrInvalid, "policy '%s' has no input.tap or input.tap_selector", p.Name)
	}
	rp := &runPolicy{cfg: p, taps: taps}
	var created []*runInput
	defer func() {
		if err != nil {
			for _, in := range created {
				in.stop() // never published
			}
			err = &StartError{Policy: p.Name, Err: err}
		}
	}()
	// Everything that can be checked without opening an input is checked
	// first: a bad handler or filter must not open a capture ring.
	for _, tn := range taps {
		if err := m.check(p, tn); err != nil {
			return nil, err
		}
	}
	for _, tn := range taps {
		tap := m.taps[tn]
		cfg := inputConfig(tap, p)
		name := inputName(tn, tap.InputType, cfg)
		ri, ok := m.inputs[name]
		if !ok {
			ri, err = m.startInput(name, tn, tap.InputType, cfg)
			if err != nil {
				return nil, err
			}
			created = append(created, ri)
		}
		rp.inputs = append(rp.inputs, ri)
		for _, mod := range p.Modules {
			rm, err := m.buildModule(p, tn, mod, ri)
			if err != nil {
				return nil, err
			}
			rp.modules = append(rp.modules, rm)
		}
	}
	// Everything built: attach (cannot fail), then publish.
	for _, ri := range rp.inputs {
		mods := rp.modulesOf(ri)
		ri.in.Do(func(i int, b *event.Bus) { rp.attach(b, mods, i) })
	}
	m.mu.Lock()
	for _, ri := range rp.inputs {
		ri.users[p.Name] = true
	}
	for _, ri := range created {
		m.inputs[ri.name] = ri
		if !hold {
			ri.in.Run()
		}
	}
	m.policies[p.Name] = rp
	clear(m.cache)
	m.mu.Unlock()
	m.log.Info("policy started", "policy", p.Name, "taps", taps, "modules", len(rp.modules))
	if hold {
		return created, nil
	}
	return nil, nil
}

// inputConfig merges a tap's config with a policy's input config and filter.
func inputConfig(tap config.Tap, p config.Policy) map[string]any {
	cfg := map[string]any{}
	maps.Copy(cfg, tap.Config)
	maps.Copy(cfg, p.InputConfig)
	maps.Copy(cfg, p.InputFilter)
	return cfg
}

// check validates policy p on tap tn without opening anything: the input
// type, its config (the input type's Validate), and every module (type,
// version, the event kinds it meets, its config, built once and dropped).
func (m *Manager) check(p config.Policy, tn string) error {
	tap := m.taps[tn]
	if p.InputType != "" && p.InputType != tap.InputType {
		return errf(ErrInvalid, "input_type for policy specified tap '%s' doesn't match tap's defined input type: %s/%s", tn, p.InputType, tap.InputType)
	}
	produces, err := m.produces(tap.InputType)
	if err != nil {
		return err
	}
	for _, mod := range p.Modules {
		info, err := m.handlerFor(p, mod, tap.InputType, produces)
		if err != nil {
			return err
		}
		if _, err := info.New(m.options(mod, "check", 0, false)); err != nil {
			return errf(ErrInvalid, "%s: %v", mod.Name, err)
		}
	}
	if i, ok := input.Lookup(tap.InputType); ok && i.Validate != nil {
		if err := i.Validate(inputConfig(tap, p)); err != nil {
			return err
		}
	}
	return nil
}

// handlerFor looks a module's handler up and checks it can take the
// input's events.
func (m *Manager) handlerFor(p config.Policy, mod config.Module, inputType string, produces []event.Kind) (handler.Info, error) {
	info, ok := handler.Lookup(mod.Type, mod.Version)
	if !ok {
		return info, errf(ErrInvalid, "Policy '%s' requires stream handler type '%s' and version '%s' which is not available", p.Name, mod.Type, mod.Version)
	}
	if !handler.Meets(info.Consumes, produces) {
		return info, errf(ErrInvalid, "handler type '%s' does not accept input type '%s'", mod.Type, inputType)
	}
	return info, nil
}

// options are the handler options of worker i's shard of mod.
func (m *Manager) options(mod config.Module, name string, i int, recorded bool) handler.Options {
	cfg := maps.Clone(mod.Config)
	delete(cfg, "enable")
	delete(cfg, "disable")
	return handler.Options{Name: name, Config: cfg, Enable: mod.Enable, Disable: mod.Disable,
		Periods: m.cfg.Periods, DeepSampleRate: m.cfg.DeepSampleRate, Seed: uint32(i + 1), Recorded: recorded}
}

// modulesOf returns the policy's modules on input ri, in order.
func (rp *runPolicy) modulesOf(ri *runInput) []*runModule {
	var out []*runModule
	for _, rm := range rp.modules {
		if rm.input == ri {
			out = append(out, rm)
		}
	}
	return out
}

// attach attaches worker i's handlers of mods to its bus. In a chained
// policy, handlers after a filtering handler (dns) are fed through a chain
// that applies the upstream filters; the chain is remembered so that the
// policy's removal detaches it too.
func (rp *runPolicy) attach(b *event.Bus, mods []*runModule, i int) {
	var ups []handler.ChainFilter
	var ch *chain
	for _, rm := range mods {
		h := rm.shards[i]
		if ch != nil {
			ch.add(h)
		} else {
			b.Attach(h, rm.kinds...)
		}
		if !rp.cfg.Chained {
			continue
		}
		if f, ok := h.(handler.ChainFilter); ok {
			ups = append(ups, f)
			// Everything after this handler goes through the filters
			// seen so far.
			ch = &chain{up: slices.Clone(ups)}
			rp.chains = append(rp.chains, ch)
			b.Attach(ch, event.KindDNS)
		}
	}
}

func (m *Manager) startInput(name, tap, typ string, cfg map[string]any) (*runInput, error) {
	produces, err := m.produces(typ)
	if err != nil {
		return nil, err
	}
	s, err := m.cfg.Open(m.ctx, typ, input.Config{Map: cfg, Log: m.log})
	if err != nil {
		return nil, err
	}
	in := NewInput(m.ctx, name, s, m.log)
	info := s.Info()
	attrs := []any{"input", name, "tap", tap, "workers", s.Workers()}
	for _, k := range []string{"host_spec", "pcap_source", "xdp_mode", "ebpf_mode", "fallbacks", "af_xdp_fallbacks", "ebpf_fallbacks", "xdp_replaced"} {
		if v, ok := info[k]; ok {
			attrs = append(attrs, k, v)
		}
	}
	m.log.Info("input started", attrs...)
	return &runInput{name: name, tap: tap, typ: typ, produces: produces, config: cfg, in: in,
		users: map[string]bool{}, recorded: s.Recorded()}, nil
}

// produces returns the event kinds of input type typ.
func (m *Manager) produces(typ string) ([]event.Kind, error) {
	i, ok := input.Lookup(typ)
	if !ok {
		var types []string
		for _, r := range input.Registered() {
			types = append(types, r.Type)
		}
		return nil, errf(ErrInvalid, "input type '%s' is not supported by this version (supported: %s)", typ, strings.Join(types, ", "))
	}
	return i.Produces, nil
}

func (m *Manager) buildModule(p config.Policy, tap string, mod config.Module, ri *runInput) (*runModule, error) {
	info, err := m.handlerFor(p, mod, ri.typ, ri.produces)
	if err != nil {
		return nil, err
	}
	rm := &runModule{name: p.Name + "-" + tap + "-" + mod.Name, mod: mod, info: info, input: ri,
		kinds: handler.Attachable(info.Consumes, ri.produces)}
	for i := 0; i < ri.in.Workers(); i++ {
		h, err := info.New(m.options(mod, rm.name, i, ri.recorded))
		if err != nil {
			return nil, errf(ErrInvalid, "%s: %v", mod.Name, err)
		}
		rm.shards = append(rm.shards, h)
	}
	return rm, nil
}

// stop stops the input's stream and releases it.
func (ri *runInput) stop() { ri.in.Stop() }

// Wait blocks until every input has ended by itself (capture files read
// to their end) or ctx is done.
func (m *Manager) Wait(ctx context.Context) error {
	m.mu.Lock()
	var ins []*Input
	for _, ri := range m.inputs {
		ins = append(ins, ri.in)
	}
	m.mu.Unlock()
	for _, in := range ins {
		select {
		case <-in.Done():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// RemovePolicy stops a policy: its handlers are detached and inputs no
// other policy uses are stopped.
func (m *Manager) RemovePolicy(name string) error {
	m.ops.Lock()
	defer m.ops.Unlock()
	rp, ok := m.policies[name]
	if !ok {
		return errf(ErrNotFound, "policy '%s' does not exist", name)
	}
	m.remove(rp)
	return nil
}

// remove unpublishes a policy under mu, then detaches its handlers and
// stops the inputs no other policy uses, without mu. ops is held.
func (m *Manager) remove(rp *runPolicy) {
	mine := map[event.Clock]bool{}
	for _, rm := range rp.modules {
		for _, h := range rm.shards {
			mine[h] = true
		}
	}
	for _, c := range rp.chains {
		mine[c] = true
	}
	var detach, stop []*runInput
	m.mu.Lock()
	for _, ri := range rp.inputs {
		if !ri.users[rp.cfg.Name] {
			continue
		}
		delete(ri.users, rp.cfg.Name)
		if len(ri.users) == 0 {
			delete(m.inputs, ri.name)
			stop = append(stop, ri)
		} else {
			detach = append(detach, ri)
		}
	}
	delete(m.policies, rp.cfg.Name)
	clear(m.cache)
	m.mu.Unlock()
	for _, ri := range detach {
		ri.in.Do(func(_ int, b *event.Bus) { b.Detach(func(c event.Clock) bool { return mine[c] }) })
	}
	for _, ri := range stop {
		ri.stop()
		m.log.Info("input stopped", "input", ri.name)
	}
	m.log.Info("policy removed", "policy", rp.cfg.Name)
}

// RemoveTap deletes a tap and every policy using it.
func (m *Manager) RemoveTap(name string) error {
	m.ops.Lock()
	defer m.ops.Unlock()
	if _, ok := m.taps[name]; !ok {
		return errf(ErrNotFound, "tap '%s' does not exist", name)
	}
	for _, rp := range m.policies {
		if slices.Contains(rp.taps, name) {
			m.remove(rp)
		}
	}
	m.mu.Lock()
	delete(m.taps, name)
	m.tapOrder = slices.DeleteFunc(m.tapOrder, func(s string) bool { return s == name })
	m.mu.Unlock()
	return nil
}

// snap merges the shards of a module: bucket n, or the window of n.
func (rm *runModule) snap(win bool, n int, now int64) (handler.Snap, error) {
	var out handler.Snap
	var err error
	rm.input.in.Do(func(i int, _ *event.Bus) {
		if err != nil {
			return
		}
		sh, ok := rm.shards[i].(handler.Snapshotter)
		if !ok {
			err = fmt.Errorf("handler %s cannot be snapshot", rm.name)
			return
		}
		s, e := sh.Snapshot(win, n, now)
		if e != nil {
			err = e
			return
		}
		if out == nil {
			out = s
		} else {
			out.Merge(s)
		}
	})
	return out, err
}

func (m *Manager) selectPolicies(name string) ([]*runPolicy, error) {
	if name == "__all" {
		names := slices.Sorted(maps.Keys(m.policies))
		out := make([]*runPolicy, len(names))
		for i, n := range names {
			out[i] = m.policies[n]
		}
		return out, nil
	}
	rp, ok := m.policies[name]
	if !ok {
		return nil, errf(ErrNotFound, "policy '%s' does not exist", name)
	}
	return []*runPolicy{rp}, nil
}

// Metrics renders {policy: {handler: {schema: {...}}}} (server.Backend).
func (m *Manager) Metrics(name string, win bool, n int) (map[string]any, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rps, err := m.selectPolicies(name)
	if err != nil {
		return nil, err
	}
	key := cacheKey{name, n}
	if c, ok := m.cache[key]; ok && win && time.Since(c.at) < windowCacheTTL {
		return c.v, nil
	}
	out, err := m.metricsLocked(rps, name, win, n)
	if err == nil && win {
		if m.cache == nil {
			m.cache = map[cacheKey]cached{}
		}
		m.cache[key] = cached{at: time.Now(), v: out}
	}
	return out, err
}

func (m *Manager) metricsLocked(rps []*runPolicy, name string, win bool, n int) (map[string]any, error) {
	now := time.Now().UnixNano()
	out := map[string]any{}
	for _, rp := range rps {
		snaps, err := rp.snaps(win, n, now)
		if err != nil {
			var pe *window.PeriodError
			if name == "__all" && errors.As(err, &pe) {
				continue // pktvisor skips policies with a bad period
			}
			return nil, err
		}
		body := map[string]any{}
		for _, s := range snaps {
			if j := s.snap.Render(); j != nil {
				body[s.name] = map[string]any{s.schema: handler.Plain(j)}
			}
		}
		out[rp.cfg.Name] = body
	}
	return out, nil
}

// namedSnap is a handler's (or merged handlers') snapshot with its name.
type namedSnap struct {
	name, schema, tap string
	snap              handler.Snap
}

// snaps takes the snapshots of a policy's modules, merged across workers,
// and with merge_like_handlers also across modules of the same schema
// (named "<schema>_merged"; sketches are merged, not their quantiles
// summed as pktvisor does).
func (rp *runPolicy) snaps(win bool, n int, now int64) ([]namedSnap, error) {
	merge := rp.cfg.Config["merge_like_handlers"] == true
	var out []namedSnap
	bySchema := map[string]int{}
	for _, rm := range rp.modules {
		s, err := rm.snap(win, n, now)
		if err != nil {
			return nil, err
		}
		if merge {
			if i, ok := bySchema[rm.info.Schema]; ok {
				out[i].snap.Merge(s)
				continue
			}
			bySchema[rm.info.Schema] = len(out)
			out = append(out, namedSnap{rm.info.Schema + "_merged", rm.info.Schema, rm.input.tap, s})
			continue
		}
		out = append(out, namedSnap{rm.name, rm.info.Schema, rm.input.tap, s})
	}
	return out, nil
}

// Prometheus returns bucket 1 (bucket 0 while it is the only one) of the
// handlers of a policy or of every policy (server.Backend).
func (m *Manager) Prometheus(name string) ([]handler.Labeled, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rps, err := m.selectPolicies(name)
	if err != nil {
		return nil, err
	}
	now := time.Now().UnixNano()
	var out []handler.Labeled
	for _, rp := range rps {
		snaps, err := rp.snaps(false, 1, now)
		var pe *window.PeriodError
		if errors.As(err, &pe) {
			snaps, err = rp.snaps(false, 0, now)
		}
		if err != nil {
			continue
		}
		for _, s := range snaps {
			if j := s.snap.Render(); j != nil {
				out = append(out, handler.Labeled{Policy: rp.cfg.Name, Handler: s.name, Tap: s.tap, Schema: s.schema, Tree: j})
			}
		}
	}
	return out, nil
}

func stringOf(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Progress sums the progress of the inputs that report it (files): bytes
// done and in all, and packets delivered.
func (m *Manager) Progress() (done, total int64, packets uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ri := range m.inputs {
		if p, ok := ri.in.stream.(input.Progress); ok {
			d, t, n := p.Progress()
			done, total, packets = done+d, total+t, packets+n
		}
	}
	return done, total, packets
}

// Errors returns the errors that stopped inputs, in input name order.
func (m *Manager) Errors() []error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, n := range slices.Sorted(maps.Keys(m.inputs)) {
		if err := m.inputs[n].in.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
