// Package config turns pktvisord's YAML configuration file and its
// command-line options into one validated structure, for the agent
// (pktvisord) and for pktvisor-reader --config.
//
// The package only reads bytes (or the one file named to [ReadFile]); it
// starts nothing. [Parse] validates a whole document (version, visor.config,
// taps, global_handler_config, policies); [ParseTaps] and [ParsePolicies]
// validate the one-tap and one-policy documents of the admin REST API;
// [Flags] registers every pktvisord option on a pflag set and [Merge] lays
// the options set on the command line over visor.config and the defaults.
//
// # Errors
//
// Every error is an [*Error]. Where pktvisor has a message for a problem its
// text is returned verbatim (for example "unknown policy kind: foo"), so
// REST clients and scripts see what they saw before; the offending line is
// then in [Error.Line] only. Problems pktvisor does not report (unknown
// keys, wrong value types, values out of range) get messages of our own
// that start with "line N:". YAML syntax errors keep yaml.v3's text, which
// names the line too.
//
// # Typing
//
// Free-form maps (tap config and tags, input config and filter, module
// config and filter, window_config, global_handler_config) are typed the way
// pktvisor types them, whatever the quoting: digits only → uint64,
// true/false in any case → bool, anything else → string, a sequence → a
// []string, a map → a nested map[string]any (see [ScalarType]).
//
// # The one mistake
//
// [Parse] leaves Policy.WindowConfig nil when a policy has no
// handlers.window_config; pktvisor then uses --periods and
// --max-deep-sample. Call [Policy.ApplyWindowDefaults] with the merged
// [Visor] values before building handlers, or every handler falls back to
// its own defaults instead of the command line's.
package config
