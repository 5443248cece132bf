package series

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
)

var (
	keysMetric  = NewGauge("byok", "keys", "Number of BYOK keys.", "provider", "state", "validation_phase", "region")
	stateMetric = NewGauge("byok", "key_state", "1 for the key's state.", "key_id", "state")
	phaseMetric = NewGauge("byok", "key_validation_phase", "1 for the key's phase.", "key_id", "phase")
	envMetric   = NewGauge("", "environment_info", "An environment.", "environment", "display_name")
)

// list builds one list's families for org: a key count, a key's state,
// and whatever more adds.
func list(t *testing.T, org string, more func(*Builder)) Families {
	t.Helper()
	b := NewBuilder(org)
	b.Add(keysMetric, 2, "AWS", "IN_USE", "VALID", "us-east-1")
	b.Add(stateMetric, 1, "cck-1", "IN_USE")
	if more != nil {
		more(b)
	}
	families, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// text is snap in the text format.
func text(t *testing.T, snap *Snapshot) string {
	t.Helper()
	var b bytes.Buffer
	if err := write(snap, &b, expfmt.FmtText); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestFamiliesEqual: the same list built twice is equal; any difference a
// scrape would show is not, including the same bytes split otherwise.
func TestFamiliesEqual(t *testing.T) {
	base := list(t, "acme", nil)
	if !base.Equal(list(t, "acme", nil)) {
		t.Fatal("the same list twice differs")
	}
	other := NewGauge("byok", "keys", "Another help.", "provider", "state", "validation_phase", "region")
	renamed := NewGauge("byok", "key_state", stateMetric.help, "key_id", "status")
	for name, families := range map[string]Families{
		"another organisation": list(t, "other", nil),
		"another value":        list(t, "acme", func(b *Builder) { b.families[stateMetric].gauges[0] = 0 }),
		"another label":        list(t, "acme", func(b *Builder) { b.families[stateMetric].values[1] = "AVAILABLE" }),
		"another series":       list(t, "acme", func(b *Builder) { b.Add(stateMetric, 0, "cck-1", "AVAILABLE") }),
		"the same bytes split otherwise": list(t, "acme", func(b *Builder) {
			v := b.families[keysMetric].values // provider, region, state, validation_phase
			v[1], v[2] = "us-east-1I", "N_USE"
		}),
		"another family": list(t, "acme", func(b *Builder) { b.Add(phaseMetric, 1, "cck-1", "VALID") }),
		"another help": list(t, "acme", func(b *Builder) {
			b.families[other] = b.families[keysMetric]
			delete(b.families, keysMetric)
		}),
		"another label name": list(t, "acme", func(b *Builder) {
			b.families[renamed] = b.families[stateMetric]
			delete(b.families, stateMetric)
		}),
	} {
		if base.Equal(families) || families.Equal(base) {
			t.Errorf("%s: reported the same", name)
		}
	}
	if base.Equal(base[1:]) {
		t.Error("a family fewer: reported the same")
	}
}

// TestBuilderRefuses: what a registry would refuse fails the list's Build:
// a series twice, a label value that is not UTF-8 (ErrLabelValue), a
// wrong number of label values.
func TestBuilderRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		add  func(*Builder)
		want string
	}{
		"a series twice": {func(b *Builder) { b.Add(stateMetric, 1, "cck-1", "IN_USE") }, "appears twice"},
		"not UTF-8":      {func(b *Builder) { b.Add(stateMetric, 1, "cck-\xff", "IN_USE") }, "is not UTF-8"},
		"too few labels": {func(b *Builder) { b.Add(stateMetric, 1, "cck-2") }, "1 label values for 2 labels"},
	} {
		b := NewBuilder("acme")
		b.Add(stateMetric, 1, "cck-1", "IN_USE")
		tc.add(b)
		b.Add(phaseMetric, 1, "cck-1", "VALID") // after an error: ignored
		if _, err := b.Build(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	b := NewBuilder("acme")
	b.Add(stateMetric, 1, "\xff", "x")
	if _, err := b.Build(); !errors.Is(err, ErrLabelValue) {
		t.Errorf("not UTF-8: %v is not ErrLabelValue", err)
	}
}

// TestEnumsAndTimestamps: an enum is 1 for the item's value and 0 for each
// other known one, a value the API added later passes through, a missing
// one adds nothing of its own; a zero time adds nothing.
func TestEnumsAndTimestamps(t *testing.T) {
	b := NewBuilder("acme")
	known := []string{"AVAILABLE", "IN_USE"}
	b.AddEnum(stateMetric, "cck-1", "IN_USE", known)
	b.AddEnum(stateMetric, "cck-2", "RETIRING", known)
	b.AddEnum(stateMetric, "cck-3", "", known)
	created := NewGauge("byok", "key_created_timestamp_seconds", "Created.", "key_id")
	b.AddTimestamp(created, time.Unix(1700000000, 500e6), "cck-1")
	b.AddTimestamp(created, time.Time{}, "cck-2")
	families, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	got := text(t, New(families))
	for _, want := range []string{
		`confluent_byok_key_created_timestamp_seconds{key_id="cck-1",organization="acme"} 1.7000000005e+09`,
		`confluent_byok_key_state{key_id="cck-1",organization="acme",state="AVAILABLE"} 0`,
		`confluent_byok_key_state{key_id="cck-1",organization="acme",state="IN_USE"} 1`,
		`confluent_byok_key_state{key_id="cck-2",organization="acme",state="RETIRING"} 1`,
		`confluent_byok_key_state{key_id="cck-3",organization="acme",state="IN_USE"} 0`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
	if strings.Count(got, "confluent_byok_key_state{") != 7 || strings.Contains(got, `key_id="cck-2",organization="acme"} `) {
		t.Errorf("wrong series:\n%s", got)
	}
}

// TestCombine: several organisations with the same ids are one exposition:
// a family name of several once, under one HELP and TYPE, with each one's
// series; one snapshot is returned as it is; nothing is copied: the
// combined snapshot serves the families' own pieces.
func TestCombine(t *testing.T) {
	snapOf := func(org string) *Snapshot {
		return New(list(t, org, func(b *Builder) { b.Add(envMetric, 1, "env-1", org+"-prod") }))
	}
	a, b, c := snapOf("a"), snapOf("b"), New(list(t, "c", nil))
	if Combine(a) != a {
		t.Error("Combine of one snapshot is not that snapshot")
	}
	all := Combine(a, b, c)
	got := text(t, all)
	if n := strings.Count(got, "# TYPE "); n != 3 || all.Len() != 3 {
		t.Fatalf("%d families (%d), want 3:\n%s", n, all.Len(), got)
	}
	var want []string
	for _, s := range []*Snapshot{a, b, c} {
		for line := range strings.SplitSeq(text(t, s), "\n") {
			if line != "" && !strings.HasPrefix(line, "#") {
				want = append(want, line)
			}
		}
	}
	var series []string
	for line := range strings.SplitSeq(got, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			series = append(series, line)
		}
	}
	slices.Sort(want)
	slices.Sort(series)
	if !slices.Equal(series, want) {
		t.Fatalf("combined series:\n%s\nwant each organisation's:\n%s", strings.Join(series, "\n"), strings.Join(want, "\n"))
	}
	// The combined encoding is the organisations' pieces: a's and b's
	// environment series are the very bytes of their own encodings.
	k := Format{Format: expfmt.FmtText}
	encAll, _ := all.Encoding(k, time.Now())
	sharedWith := func(s *Snapshot) (shared, of int) {
		enc, _ := s.Encoding(k, time.Now())
		for _, p := range encAll.Pieces {
			for _, q := range enc.Pieces {
				if &p[0] == &q[0] {
					shared++
				}
			}
		}
		return shared, len(enc.Pieces)
	}
	// a is first in each family: all its pieces, headers included; b's
	// series without its three headers (a family's HELP and TYPE once).
	if shared, of := sharedWith(a); shared != of {
		t.Errorf("%d of a's %d pieces shared by the combined encoding", shared, of)
	}
	if shared, of := sharedWith(b); shared != of-3 {
		t.Errorf("%d of b's %d pieces shared by the combined encoding, want all but its 3 headers", shared, of)
	}
}

// TestNoMetricDefinesTheOrganizationLabel: the Builder adds it.
func TestNoMetricDefinesTheOrganizationLabel(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a metric with its own organization label was accepted")
		}
	}()
	NewGauge("x", "y", "h", "key_id", "organization")
}

// TestWarm: Warm encodes the next snapshot in each format the previous one
// was scraped in within keepFormat (a scrape then writes bytes), encoding
// only the families that changed, and lets go of the formats nobody
// scraped that long; a dropped format is encoded again when scraped.
func TestWarm(t *testing.T) {
	prom := Format{Format: expfmt.FmtOpenMetrics_1_0_0, Gzip: true}
	curl := Format{Format: expfmt.FmtText}
	keysList := list(t, "acme", nil)
	envList := func(name string) Families {
		b := NewBuilder("acme")
		b.Add(envMetric, 1, "env-1", name)
		f, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	now := time.Now()
	prev := New(keysList, envList("production"))
	for _, k := range []Format{prom, curl} {
		if _, err := prev.Encoding(k, now); err != nil {
			t.Fatal(err)
		}
	}
	encoded := func(f *family) map[Format]bool {
		f.cache.mu.Lock()
		defer f.cache.mu.Unlock()
		out := map[Format]bool{}
		for k := range f.cache.m {
			out[k] = true
		}
		return out
	}
	unchanged := keysList[0]
	before := unchanged.piece(prom, now.UnixNano())

	// One list changed: its family is encoded in both formats, the other's
	// pieces are the ones already made.
	next := New(keysList, envList("prod"))
	if err := Warm(prev, next, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	changed := next.groups[len(next.groups)-1].parts[0]
	if changed.name != "confluent_environment_info" {
		t.Fatalf("the first family is %s", changed.name)
	}
	if got := encoded(changed); len(got) != 2 || !got[prom] || !got[curl] {
		t.Fatalf("the changed family, encoded in %v; want both formats scraped", got)
	}
	if unchanged.piece(prom, now.UnixNano()) != before {
		t.Fatal("an unchanged family was encoded again")
	}

	// Scraped in one format only, the other not for longer than keepFormat:
	// the next snapshot is encoded in the first, and its families let go of
	// the other.
	later := now.Add(keepFormat + 2*time.Minute)
	if _, err := next.Encoding(prom, later); err != nil {
		t.Fatal(err)
	}
	third := New(keysList, envList("production"))
	if err := Warm(next, third, later.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*family{third.groups[len(third.groups)-1].parts[0], unchanged} {
		if got := encoded(f); len(got) != 1 || !got[prom] {
			t.Errorf("%s: encoded in %v, want only the format still scraped", f.name, got)
		}
	}
	if got := text(t, third); !strings.Contains(got, `display_name="production"`) {
		t.Errorf("a dropped format is encoded again when scraped:\n%s", got)
	}
}
