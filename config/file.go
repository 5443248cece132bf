package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/collector"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

// maxFileSize bounds what is read of --config.file: a hundred organisations
// take a few KiB.
const maxFileSize = 64 << 10

// maxErrors is how many mistakes of the file one error lists.
const maxErrors = 10

// validName is what an organisation may be called: a label value that is
// also safe, unescaped, in /probe?organization=NAME and in a file name.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// file is --config.file as written. Unknown fields are errors.
type file struct {
	Organizations []fileOrganization `yaml:"organizations"`
}

// fileOrganization is one organisation of the file. Omitted optional
// fields take the flags' values.
type fileOrganization struct {
	Name            string          `yaml:"name"`
	APIKey          string          `yaml:"api_key"`
	APISecretFile   string          `yaml:"api_secret_file"`
	URL             string          `yaml:"url"`
	RefreshInterval *time.Duration  `yaml:"refresh_interval"`
	PageSize        *int            `yaml:"page_size"`
	MaxItems        *int            `yaml:"max_items"`
	Collectors      *fileCollectors `yaml:"collectors"`
	AuditLog        *fileAuditLog   `yaml:"audit_log"`
}

// fileCollectors turns collectors on or off, by their names
// (collector.Collectors), with the options of two of them; an omitted one
// is as the flags say.
type fileCollectors struct {
	On            map[string]bool
	APIKeysPerKey *bool    // api_keys_per_key
	QuotaScopes   []string // quota_scopes: [organization, ...]
}

// fileCollectorKeys are the keys of collectors: beside the collectors'
// names, their options.
const (
	keyAPIKeysPerKey = "api_keys_per_key"
	keyQuotaScopes   = "quota_scopes"
)

// UnmarshalYAML reads collectors: an unknown key is a mistake, as every
// other unknown field of the file is, said in yaml's words.
func (c *fileCollectors) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot unmarshal %s into collectors", n.Line, n.ShortTag())}}
	}
	known := map[string]bool{}
	for _, col := range collector.Collectors() {
		known[col.Name] = true
	}
	c.On = map[string]bool{}
	var errs []string
	decode := func(v *yaml.Node, into any) {
		if err := v.Decode(into); err != nil {
			var te *yaml.TypeError
			if errors.As(err, &te) {
				errs = append(errs, te.Errors...)
			} else {
				errs = append(errs, err.Error())
			}
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch key := k.Value; {
		case key == keyQuotaScopes:
			decode(v, &c.QuotaScopes)
		case key == keyAPIKeysPerKey:
			c.APIKeysPerKey = new(bool)
			decode(v, c.APIKeysPerKey)
		case known[key]:
			var on bool
			decode(v, &on)
			c.On[key] = on
		default:
			errs = append(errs, fmt.Sprintf("line %d: field %s not found in collectors", k.Line, key))
		}
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// LoadFile reads the organisations path lists, each completed with
// defaults (what the flags say), and checks them: every error is one line
// naming the file, the line and the organisation.
func LoadFile(path string, defaults Organization) ([]Organization, error) {
	raw, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config.file=%s: %w", path, err)
	}
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the file is empty; it must list organizations", path)
		}
		return nil, yamlError(path, err, raw, items(raw))
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		line := more.Line
		return nil, fmt.Errorf("%s:%d: a second YAML document (after ---): the file is one document", path, line)
	}
	lines := items(raw)
	if len(f.Organizations) == 0 {
		return nil, fmt.Errorf("%s: no organizations listed", path)
	}
	seen := map[string]int{}
	out := make([]Organization, 0, len(f.Organizations))
	for i, fo := range f.Organizations {
		line := 0
		if i < len(lines) {
			line = lines[i].line
		}
		where := fmt.Sprintf("%s:%d: organization %q", path, line, fo.Name)
		if fo.Name == "" {
			where = fmt.Sprintf("%s:%d: organization #%d", path, line, i+1)
		}
		o, err := fo.organization(defaults)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if first, dup := seen[o.Name]; dup {
			return nil, fmt.Errorf("%s: the name is used twice (first at line %d)", where, first)
		}
		seen[o.Name] = line
		out = append(out, o)
	}
	return out, nil
}

func readFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	raw, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	return raw, nil
}

// yamlTypes names the file's parts in yaml's errors as a user sees them.
var yamlTypes = strings.NewReplacer(
	"in type config.fileOrganization", "in an organization",
	"in type config.fileAuditLog", "in audit_log",
	"into config.fileAuditLog", "into audit_log",
	"in type config.file", "at the top level",
	"into config.fileOrganization", "into an organization",
	"into []config.fileOrganization", "into the list of organizations",
	"into config.file", "into the file",
)

// yamlLine is the line number yaml's errors start with.
var yamlLine = regexp.MustCompile(`^line (\d+): `)

// yamlQuoted is a value yaml's errors quote (`value`): a value written in
// the wrong place might be a secret; the line says where it is.
var yamlQuoted = regexp.MustCompile("`[^`]*`")

// yamlError makes yaml's errors one line, in the file's own words, each
// with the organisation it is in: `f.yml:7: organization "prod": field
// token not found in an organization`; at most maxErrors of them, and no
// value of the file quoted.
func yamlError(path string, err error, raw []byte, orgs []item) error {
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	more := len(msgs) - maxErrors
	msgs = msgs[:min(len(msgs), maxErrors)]
	for i, m := range msgs {
		where := path
		m0 := m
		m = yamlQuoted.ReplaceAllString(m, "a value")
		if sub := yamlLine.FindStringSubmatch(m); sub != nil {
			line, _ := strconv.Atoi(sub[1])
			m = m[len(sub[0]):]
			where = fmt.Sprintf("%s:%d", path, line)
			// The last organisation starting at or before the line.
			if j := sort.Search(len(orgs), func(j int) bool { return orgs[j].line > line }) - 1; j >= 0 {
				if orgs[j].name != "" {
					where = fmt.Sprintf("%s:%d: organization %q", path, line, orgs[j].name)
				} else {
					where = fmt.Sprintf("%s:%d: organization #%d", path, line, j+1)
				}
			}
		}
		msgs[i] = where + ": " + explainYAML(yamlTypes.Replace(m), raw, yamlLineOf(m0))
	}
	if more > 0 {
		msgs = append(msgs, fmt.Sprintf("and %d more", more))
	}
	return errors.New(strings.Join(msgs, "; "))
}

// yamlLineOf is the line number yaml's error m starts with; 0 if none.
func yamlLineOf(m string) int {
	if sub := yamlLine.FindStringSubmatch(m); sub != nil {
		n, _ := strconv.Atoi(sub[1])
		return n
	}
	return 0
}

// fileKeys are the keys of each part of the file, as yaml's errors (after
// yamlTypes) name the part.
func fileKeys(part string) []string {
	var t reflect.Type
	switch part {
	case "in an organization":
		t = reflect.TypeFor[fileOrganization]()
	case "in audit_log":
		t = reflect.TypeFor[fileAuditLog]()
	case "at the top level":
		t = reflect.TypeFor[file]()
	case "in collectors":
		keys := []string{keyAPIKeysPerKey, keyQuotaScopes}
		for _, c := range collector.Collectors() {
			keys = append(keys, c.Name)
		}
		return keys
	}
	var keys []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		keys = append(keys, name)
	}
	return keys
}

var (
	yamlUnknownField = regexp.MustCompile(`^field (\S+) not found (.+)$`)
	yamlKeyLike      = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	yamlKeyOnLine    = regexp.MustCompile(`^\s*(?:-\s+)?([A-Za-z0-9_]+)\s*:`)
)

// explainYAML adds to yaml's error m (of line) what to write instead: the
// key meant for an unknown one (api_secret_file for api_secret), a
// duration's unit.
func explainYAML(m string, raw []byte, line int) string {
	if sub := yamlUnknownField.FindStringSubmatch(m); sub != nil {
		key, part := sub[1], sub[2]
		if !yamlKeyLike.MatchString(key) { // not a key's shape: might be a secret pasted
			return "unknown field (not shown: it may be a secret) " + part
		}
		if key == "api_secret" {
			return m + ": the secret is never written in this file; put it in a file of its own and name that file with api_secret_file"
		}
		best, bestDist := "", len(key)/3+1
		for _, name := range fileKeys(part) {
			if d := editDistance(key, name); d < bestDist {
				best, bestDist = name, d
			}
		}
		if best != "" {
			return m + ": did you mean " + best + "?"
		}
		return m
	}
	if strings.HasSuffix(m, "into time.Duration") {
		key := "a duration"
		if lines := strings.Split(string(raw), "\n"); line >= 1 && line <= len(lines) {
			if k := yamlKeyOnLine.FindStringSubmatch(lines[line-1]); k != nil {
				key = k[1]
			}
		}
		return key + " is a duration with a unit: write it as 30s, 5m or 1h (" + m + ")"
	}
	return m
}

// item is where an organisation starts in the file, and its name.
type item struct {
	line int
	name string
}

// items returns where each item of organizations starts, for errors.
func items(raw []byte) []item {
	var doc yaml.Node
	if yaml.Unmarshal(raw, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "organizations" {
			continue
		}
		var out []item
		for _, n := range root.Content[i+1].Content {
			it := item{line: n.Line}
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == "name" {
					it.name = n.Content[j+1].Value
				}
			}
			out = append(out, it)
		}
		return out
	}
	return nil
}

// organization is fo completed with defaults (what the flags say) and
// validated, each setting named as written where it came from.
func (fo fileOrganization) organization(defaults Organization) (Organization, error) {
	o, n := defaults, flagSettings
	if fo.Name == "" {
		return o, errors.New("no name: every organisation needs one (the value of its organization label)")
	}
	o.Name = fo.Name
	o.APIKey, n.apiKey = fo.APIKey, "api_key"
	if fo.APISecretFile == "" {
		return o, errors.New("no api_secret_file: the secret is read from a file, never written in this one")
	}
	o.Secret, o.SecretFrom, n.secretFile = secret.File(fo.APISecretFile), "file "+fo.APISecretFile, "api_secret_file"
	if fo.URL != "" {
		o.URL, n.url = fo.URL, "url"
	}
	if fo.RefreshInterval != nil {
		o.Interval, n.interval = *fo.RefreshInterval, "refresh_interval"
	}
	if fo.PageSize != nil {
		o.PageSize, n.pageSize = *fo.PageSize, "page_size"
	}
	if fo.MaxItems != nil {
		o.MaxItems, n.maxItems = *fo.MaxItems, "max_items"
	}
	o.On = maps.Clone(defaults.On) // the defaults' map is every organisation's
	if c := fo.Collectors; c != nil {
		n.collectors = "collectors"
		maps.Copy(o.On, c.On)
		if c.APIKeysPerKey != nil {
			o.APIKeysPerKey = *c.APIKeysPerKey
		}
		if c.QuotaScopes != nil {
			scopes, err := parseQuotaScopes("collectors.quota_scopes", c.QuotaScopes)
			if err != nil {
				return o, err
			}
			o.QuotaScopes = scopes
		}
	}
	a, err := fo.AuditLog.auditLog(defaults.AuditLog)
	if err != nil {
		return o, err
	}
	o.AuditLog, n.auditLog = a, auditLogFileSettings
	return o, o.validate(n)
}
