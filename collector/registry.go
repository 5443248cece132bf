package collector

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// A Collector is one list an organisation's refresher can read. Its Name,
// in one spelling, is the collector label's value, the flag
// --[no-]collector.NAME (dashes for underscores) and the key
// collectors.NAME of the configuration file: config makes both from
// Collectors. Adding a list is a file that registers its collector, and the
// apiclient method that reads the list.
type Collector struct {
	Name    string
	Default bool   // read unless turned off
	Help    string // the flag's help
	build   func(env) reader
}

// Flag is the collector's flag, without --[no-].
func (c Collector) Flag() string { return "collector." + strings.ReplaceAll(c.Name, "_", "-") }

// reader reads one list and adds the families it serves to s, until the
// next complete read; it returns how many items it exported.
type reader interface {
	update(ctx context.Context, s *series.Builder) (items int, stats apiclient.ListStats, err error)
}

// skipper is a reader that may skip items for reasons beyond a missing or
// over-long id (exported as 0 when none was skipped).
type skipper interface{ skipReasons() []string }

// env is what a collector is built from.
type env struct {
	lister Lister
	opts   Options
	audit  *auditLog // nil without an audit log
}

var registry []Collector

// register adds a collector; each collector's file calls it from init.
func register(name string, on bool, help string, build func(env) reader) {
	registry = append(registry, Collector{Name: name, Default: on, Help: help, build: build})
}

// Collectors returns every collector, by name.
func Collectors() []Collector {
	out := slices.Clone(registry)
	slices.SortFunc(out, func(a, b Collector) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// lookup is the collector of that name.
func lookup(name string) (Collector, error) {
	for _, c := range registry {
		if c.Name == name {
			return c, nil
		}
	}
	return Collector{}, fmt.Errorf("no collector %q", name)
}

// listOf is the reader of a list whose every item becomes series by add:
// most lists are.
func listOf[T any](list func(context.Context) ([]T, apiclient.ListStats, error), add func(*series.Builder, T)) reader {
	return eachItem[T]{list: list, add: add}
}

type eachItem[T any] struct {
	list func(context.Context) ([]T, apiclient.ListStats, error)
	add  func(*series.Builder, T)
}

func (r eachItem[T]) update(ctx context.Context, s *series.Builder) (int, apiclient.ListStats, error) {
	items, stats, err := r.list(ctx)
	if err != nil {
		return 0, stats, err
	}
	for _, it := range items {
		r.add(s, it)
	}
	return len(items), stats, nil
}
