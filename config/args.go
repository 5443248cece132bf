package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/alecthomas/kingpin/v2"
)

// ParseError is what to print for an error of app.Parse(args): what is
// wrong and what to write instead, never an argument as typed (a secret
// pasted on the command line would end up in a terminal, a log or a CI
// transcript). Flag names are shown when they look like flag names.
// getenv is os.Getenv: a flag's environment variable may be what is wrong.
func ParseError(app *kingpin.Application, args []string, getenv func(string) string, err error) error {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "unexpected "):
		for _, a := range args {
			name, _, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			if f := flagOf(app, name); hasValue && strings.HasPrefix(a, "--") && f != nil && f.IsBoolFlag() {
				return fmt.Errorf("--%s takes no value (the value given is not shown): write --%s, or --no-%s to turn it off", name, f.Name, f.Name)
			}
		}
		return errors.New("unexpected argument (not shown: it may be a secret): the exporter takes only --flags; " +
			"its API secret is read from $" + SecretEnv + " or a file named by --confluent.api-secret-file")
	case strings.HasPrefix(msg, "unknown long flag '"):
		return unknownFlag(app, strings.TrimSuffix(strings.TrimPrefix(msg, "unknown long flag '--"), "'"))
	case strings.HasPrefix(msg, "unknown short flag '"):
		return errors.New("unknown short flag (not shown); the only one is -h, --help")
	}
	var ne *strconv.NumError
	if errors.As(err, &ne) { // a bool flag's value (kingpin's own parser)
		for _, a := range args {
			if name, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "="); ok && v == ne.Num && looksLikeFlag(name) {
				return fmt.Errorf("--%s takes true or false (the value given is not shown); --no-%s turns it off", name, name)
			}
		}
		for _, f := range app.Model().Flags {
			if f.Envar != "" && f.IsBoolFlag() && getenv(f.Envar) == ne.Num {
				return fmt.Errorf("$%s (--%s) takes true or false (the value given is not shown)", f.Envar, f.Name)
			}
		}
		return errors.New("a flag that takes true or false was given something else (not shown); write --flag or --no-flag")
	}
	// Anything else: no argument's value may show through.
	for _, a := range args {
		_, v, _ := strings.Cut(a, "=")
		for _, s := range []string{a, v} {
			if len(s) >= 3 {
				msg = strings.ReplaceAll(msg, s, "(not shown)")
			}
		}
	}
	return errors.New(msg)
}

// flagOf is app's flag of that name (or --no-name), nil if none.
func flagOf(app *kingpin.Application, name string) *kingpin.FlagModel {
	name = strings.TrimPrefix(name, "no-")
	for _, f := range app.Model().Flags {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// flagLike is what a flag's name looks like; a secret (mixed case, +/=)
// does not.
var flagLike = regexp.MustCompile(`^[a-z][a-z0-9.-]{0,62}$`)

func looksLikeFlag(name string) bool { return flagLike.MatchString(name) }

// secretFlags are the flags people try for a secret, and where it goes.
var secretFlags = map[string]string{
	"confluent.api-secret": "$" + SecretEnv + " or a file named by --confluent.api-secret-file",
	"audit-log.api-secret": "$" + AuditLogSecretEnv + " or a file named by --audit-log.api-secret-file",
}

// unknownFlag explains --name, which is not a flag: where a secret goes
// instead, or the flag meant.
func unknownFlag(app *kingpin.Application, name string) error {
	if !looksLikeFlag(name) {
		return errors.New("unknown flag (not shown: it may be a secret); see --help")
	}
	if where, ok := secretFlags[strings.TrimPrefix(name, "no-")]; ok {
		return fmt.Errorf("--%s is not a flag: a secret never is (flags show in process listings); put it in %s", name, where)
	}
	if near := nearestFlag(app, name); near != "" {
		return fmt.Errorf("unknown flag --%s: did you mean --%s?", name, near)
	}
	return fmt.Errorf("unknown flag --%s; see --help", name)
}

// nearestFlag is the flag of app closest to name, "" when none is close:
// within a third of its length in edits (a typo, a letter or two), or a
// flag with name as its start or end. --no-X is matched as X.
func nearestFlag(app *kingpin.Application, name string) string {
	prefix := ""
	if n, ok := strings.CutPrefix(name, "no-"); ok {
		prefix, name = "no-", n
	}
	best, bestDist := "", len(name)/3+1
	for _, f := range app.Model().Flags {
		if f.Hidden {
			continue
		}
		if d := editDistance(name, f.Name); d < bestDist {
			best, bestDist = f.Name, d
		}
	}
	if best == "" {
		for _, f := range app.Model().Flags {
			if !f.Hidden && len(name) >= 4 && (strings.HasSuffix(f.Name, "."+name) || strings.HasPrefix(f.Name, name)) {
				best = f.Name
				break
			}
		}
	}
	if best == "" {
		return ""
	}
	return prefix + best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
