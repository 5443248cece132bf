package config

import (
	"strings"
	"testing"

	"github.com/alecthomas/kingpin/v2"
)

// TestParseErrorsTeachNeverEcho: each mistake on the command line gets an
// error that says what to write instead, and never shows an argument's
// value (nor an argument that is not a flag's name): a secret pasted in
// the wrong place must not reach a terminal or a log.
func TestParseErrorsTeachNeverEcho(t *testing.T) {
	const secret = "Xy7+secretVALUE/9q"
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"a bare argument", []string{secret}, nil, "unexpected argument (not shown: it may be a secret): the exporter takes only --flags; its API secret is read from $CONFLUENT_CLOUD_API_SECRET or a file named by --confluent.api-secret-file"},
		{"a secret flag", []string{"--confluent.api-secret=" + secret}, nil, "--confluent.api-secret is not a flag: a secret never is (flags show in process listings); put it in $CONFLUENT_CLOUD_API_SECRET or a file named by --confluent.api-secret-file"},
		{"a secret flag, value apart", []string{"--confluent.api-secret", secret}, nil, "--confluent.api-secret is not a flag"},
		{"the audit log's secret flag", []string{"--audit-log.api-secret=" + secret}, nil, "put it in $CONFLUENT_AUDIT_LOG_API_SECRET or a file named by --audit-log.api-secret-file"},
		{"a typo", []string{"--refresh.intervall=1m"}, nil, "unknown flag --refresh.intervall: did you mean --refresh.interval?"},
		{"a typo of a negated flag", []string{"--no-collector.byk"}, nil, "unknown flag --no-collector.byk: did you mean --no-collector.byok?"},
		{"a flag's last part", []string{"--interval=5m"}, nil, "unknown flag --interval: did you mean --refresh.interval?"},
		{"nothing close", []string{"--colour=blue"}, nil, "unknown flag --colour; see --help"},
		{"a secret as a flag name", []string{"--" + secret}, nil, "unknown flag (not shown: it may be a secret); see --help"},
		{"a short flag", []string{"-" + secret}, nil, "unknown short flag (not shown); the only one is -h, --help"},
		{"a value for a switch", []string{"--collector.byok=" + secret}, nil, "--collector.byok takes no value (the value given is not shown): write --collector.byok, or --no-collector.byok to turn it off"},
		{"a switch's variable", nil, map[string]string{"CONFLUENT_AUDIT_LOG_TLS": secret}, "$CONFLUENT_AUDIT_LOG_TLS (--audit-log.tls) takes true or false (the value given is not shown)"},
		{"a duration without a unit", []string{"--refresh.interval=" + secret}, nil, "--refresh.interval (or $CONFLUENT_REFRESH_INTERVAL) is not a duration with a unit (30s, 5m, 1h) (the value given is not shown)"},
		{"a duration's variable", nil, map[string]string{"CONFLUENT_AUDIT_LOG_LOOKBACK": secret}, "--audit-log.lookback (or $CONFLUENT_AUDIT_LOG_LOOKBACK) is not a duration"},
		{"a number", []string{"--confluent.page-size=" + secret}, nil, "--confluent.page-size is not a whole number (the value given is not shown)"},
		{"a flag twice", []string{"--config.file=a", "--config.file=" + secret}, nil, "flag 'config.file' cannot be repeated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"CONFLUENT_AUDIT_LOG_TLS", "CONFLUENT_AUDIT_LOG_LOOKBACK"} {
				t.Setenv(k, tc.env[k])
			}
			getenv := func(k string) string { return tc.env[k] }
			app := kingpin.New("confluent_keys_exporter", "")
			AddFlags(app)
			_, err := app.Parse(tc.args)
			if err == nil {
				t.Fatal("parsed")
			}
			got := ParseError(app, tc.args, getenv, err).Error()
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			for _, part := range []string{secret, "secretVALUE", "VALUE"} {
				if strings.Contains(got, part) {
					t.Errorf("%q shows the value typed", got)
				}
			}
		})
	}
}
