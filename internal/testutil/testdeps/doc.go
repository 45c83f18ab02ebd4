// Package testdeps checks that every program the tests run is installed by
// the project's own scripts (scripts/deps.txt, read by
// scripts/install-deps.sh), so that `make test` passes on a fresh machine
// that has only Go and gcc. It holds tests only.
package testdeps
