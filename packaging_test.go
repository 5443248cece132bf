package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/promrule"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
)

// promuConfig is what the packaging checks read of .promu.yml.
type promuConfig struct {
	Build struct {
		Binaries []struct {
			Name string `yaml:"name"`
		} `yaml:"binaries"`
	} `yaml:"build"`
	Tarball struct {
		Files []string `yaml:"files"`
	} `yaml:"tarball"`
	Crossbuild struct {
		Platforms []string `yaml:"platforms"`
	} `yaml:"crossbuild"`
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loadPromu(t *testing.T) promuConfig {
	t.Helper()
	var c promuConfig
	if err := yaml.Unmarshal([]byte(readFile(t, ".promu.yml")), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Build.Binaries) != 1 {
		t.Fatalf(".promu.yml builds %d binaries, want 1", len(c.Build.Binaries))
	}
	return c
}

// makeVar returns the value of `NAME := value` in the Makefile.
func makeVar(t *testing.T, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + `\s*:?=\s*(.*)$`).FindStringSubmatch(readFile(t, "Makefile"))
	if m == nil {
		t.Fatalf("the Makefile sets no %s", name)
	}
	return strings.TrimSpace(m[1])
}

func TestDockerfileMatchesPromuAndMakefile(t *testing.T) {
	bin := loadPromu(t).Build.Binaries[0].Name
	if bin != name {
		t.Fatalf(".promu.yml builds %q, the program calls itself %q", bin, name)
	}
	df := readFile(t, "Dockerfile")
	for _, want := range []string{
		`ARG ARCH="amd64"`, `ARG OS="linux"`,
		"COPY .build/${OS}-${ARCH}/" + bin + " /bin/" + bin,
		"EXPOSE 10061", "USER nobody",
		`ENTRYPOINT ["/bin/` + bin + `"]`,
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	// The port the image exposes is the exporter's default.
	if !strings.Contains(readFile(t, "main.go"), `kingpinflag.AddFlags(app, ":10061")`) {
		t.Error("main.go's default listen address is not :10061, which the Dockerfile exposes")
	}
	if !strings.Contains(readFile(t, "docker/passwd"), "nobody:x:65534:65534:") {
		t.Error("docker/passwd has no nobody for USER nobody")
	}
	// promu builds into the directory the Dockerfile copies from.
	if got := makeVar(t, "BUILD_DIR"); got != ".build/$(GOOS)-$(GOARCH)" {
		t.Errorf("Makefile BUILD_DIR = %q, want .build/$(GOOS)-$(GOARCH) (the Dockerfile's COPY source)", got)
	}
	mk := readFile(t, "Makefile")
	for _, want := range []string{"$(PROMU) build --prefix $(BUILD_DIR)", "--build-arg OS=$(GOOS)", "--build-arg ARCH=$(GOARCH)", "-f Dockerfile"} {
		if !strings.Contains(mk, want) {
			t.Errorf("Makefile lacks %q", want)
		}
	}
}

func TestReleaseFilesMatchPromu(t *testing.T) {
	c := loadPromu(t)
	if got := strings.Fields(makeVar(t, "TARBALL_FILES")); !slices.Equal(got, c.Tarball.Files) {
		t.Errorf("Makefile TARBALL_FILES %v, .promu.yml tarball files %v", got, c.Tarball.Files)
	}
	for _, f := range c.Tarball.Files {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("tarball file %s: %v", f, err)
		}
	}
	if got := strings.Fields(makeVar(t, "CROSS_PLATFORMS")); !slices.Equal(got, c.Crossbuild.Platforms) {
		t.Errorf("Makefile CROSS_PLATFORMS %v, .promu.yml crossbuild %v", got, c.Crossbuild.Platforms)
	}
	for _, want := range []string{"linux/amd64", "linux/arm64", "darwin/arm64", "windows/amd64"} {
		if !slices.Contains(c.Crossbuild.Platforms, want) {
			t.Errorf(".promu.yml does not cross-build %s", want)
		}
	}
	version := strings.TrimSpace(readFile(t, "VERSION"))
	if !strings.Contains(readFile(t, "CHANGELOG.md"), "## ["+version+"]") {
		t.Errorf("CHANGELOG.md has no entry for VERSION %s", version)
	}
}

func TestPrometheusRuleInSync(t *testing.T) {
	rules := []byte(readFile(t, "alerts/confluent-keys.rules.yml"))
	want, err := promrule.Generate(rules)
	if err != nil {
		t.Fatal(err)
	}
	got := readFile(t, "deploy/kubernetes/prometheusrule.yaml")
	if got != string(want) {
		t.Fatal("deploy/kubernetes/prometheusrule.yaml is out of date: run `make prometheusrule`")
	}
	// Its spec holds exactly the rule file's groups.
	var file struct{ Groups any }
	var pr struct {
		Kind string
		Spec struct{ Groups any }
	}
	if err := yaml.Unmarshal(rules, &file); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(got), &pr); err != nil {
		t.Fatal(err)
	}
	if pr.Kind != "PrometheusRule" || !reflect.DeepEqual(pr.Spec.Groups, file.Groups) {
		t.Fatal("the PrometheusRule's groups differ from the rule file's")
	}
}

func loadManifest(t *testing.T, file string, into any) {
	t.Helper()
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join("deploy/kubernetes", file))), into); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func TestKubernetesManifests(t *testing.T) {
	var dep struct {
		Kind string
		Spec struct {
			Replicas int
			Template struct {
				Metadata struct{ Labels map[string]string }
				Spec     struct {
					SecurityContext struct {
						RunAsNonRoot bool `yaml:"runAsNonRoot"`
						RunAsUser    int  `yaml:"runAsUser"`
					} `yaml:"securityContext"`
					Containers []struct {
						Image string
						Args  []string
						Env   []struct {
							Name      string
							Value     string
							ValueFrom any `yaml:"valueFrom"`
						}
						Ports []struct {
							Name          string
							ContainerPort int `yaml:"containerPort"`
						}
						ReadinessProbe struct {
							HTTPGet struct{ Path string } `yaml:"httpGet"`
						} `yaml:"readinessProbe"`
						LivenessProbe struct {
							HTTPGet struct{ Path string } `yaml:"httpGet"`
						} `yaml:"livenessProbe"`
						Resources struct {
							Requests map[string]string
							Limits   map[string]string
						}
						SecurityContext struct {
							ReadOnlyRootFilesystem   bool `yaml:"readOnlyRootFilesystem"`
							AllowPrivilegeEscalation bool `yaml:"allowPrivilegeEscalation"`
						} `yaml:"securityContext"`
						VolumeMounts []struct {
							Name      string
							MountPath string `yaml:"mountPath"`
						} `yaml:"volumeMounts"`
					}
					Volumes []struct {
						Name   string
						Secret *struct {
							SecretName string `yaml:"secretName"`
							Items      []struct{ Key, Path string }
						}
					}
				}
			}
		}
	}
	loadManifest(t, "deployment.yaml", &dep)
	pod := dep.Spec.Template.Spec
	if dep.Kind != "Deployment" || len(pod.Containers) != 1 {
		t.Fatalf("deployment.yaml: kind %s with %d containers", dep.Kind, len(pod.Containers))
	}
	c := pod.Containers[0]
	if !pod.SecurityContext.RunAsNonRoot || pod.SecurityContext.RunAsUser == 0 {
		t.Error("the pod may run as root")
	}
	if !c.SecurityContext.ReadOnlyRootFilesystem || c.SecurityContext.AllowPrivilegeEscalation {
		t.Error("the container's root filesystem is writable or it may escalate")
	}
	if c.ReadinessProbe.HTTPGet.Path != "/-/ready" || c.LivenessProbe.HTTPGet.Path != "/-/healthy" {
		t.Errorf("probes: readiness %q, liveness %q", c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	}
	if c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Error("no memory request or limit")
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 10061 {
		t.Errorf("ports %+v, want 10061", c.Ports)
	}
	// The secret is a file from a Secret volume, passed with --confluent.api-secret-file.
	var secretPath string
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--confluent.api-secret-file="); ok {
			secretPath = v
		}
	}
	if secretPath == "" {
		t.Fatal("no --confluent.api-secret-file argument")
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.Secret != nil && strings.HasPrefix(secretPath, m.MountPath+"/") {
				for _, it := range v.Secret.Items {
					mounted = mounted || filepath.Join(m.MountPath, it.Path) == secretPath
				}
			}
		}
	}
	if !mounted {
		t.Errorf("%s is not a file of a mounted Secret volume", secretPath)
	}
	for _, e := range c.Env {
		if strings.Contains(e.Name, "SECRET") && e.ValueFrom == nil && e.Value != "" {
			t.Errorf("env %s holds a literal secret", e.Name)
		}
	}

	var svc struct {
		Metadata struct{ Labels map[string]string }
		Spec     struct {
			Selector map[string]string
			Ports    []struct {
				Name       string
				TargetPort string `yaml:"targetPort"`
			}
		}
	}
	loadManifest(t, "service.yaml", &svc)
	for k, v := range svc.Spec.Selector {
		if dep.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("the Service selects %s=%s, which the pods lack", k, v)
		}
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != c.Ports[0].Name {
		t.Errorf("the Service's port %+v does not target the container port %q", svc.Spec.Ports, c.Ports[0].Name)
	}

	var sm struct {
		Kind string
		Spec struct {
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			}
			Endpoints []struct {
				Port        string
				Relabelings []struct {
					TargetLabel string `yaml:"targetLabel"`
					Replacement string
				}
			}
		}
	}
	loadManifest(t, "servicemonitor.yaml", &sm)
	for k, v := range sm.Spec.Selector.MatchLabels {
		if svc.Metadata.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s, which the Service lacks", k, v)
		}
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name {
		t.Fatalf("the ServiceMonitor's endpoints %+v do not name the Service's port", sm.Spec.Endpoints)
	}
	// The alerts select job="confluent_keys_exporter".
	job := false
	for _, r := range sm.Spec.Endpoints[0].Relabelings {
		job = job || r.TargetLabel == "job" && r.Replacement == "confluent_keys_exporter"
	}
	if !job || !strings.Contains(readFile(t, "alerts/confluent-keys.rules.yml"), `up{job="confluent_keys_exporter"}`) {
		t.Error("the ServiceMonitor does not set the job label the alerts expect")
	}

	var kust struct{ Resources []string }
	loadManifest(t, "kustomization.yaml", &kust)
	files, _ := filepath.Glob("deploy/kubernetes/*.yaml")
	for _, f := range files {
		base := filepath.Base(f)
		if base == "kustomization.yaml" || strings.Contains(base, "example") {
			continue
		}
		if !slices.Contains(kust.Resources, base) {
			t.Errorf("kustomization.yaml does not list %s", base)
		}
	}
}

func TestSystemdUnit(t *testing.T) {
	unit := readFile(t, "examples/confluent_keys_exporter.service")
	execStart := regexp.MustCompile(`(?ms)^ExecStart=(.*?[^\\])$`).FindStringSubmatch(unit)
	if execStart == nil {
		t.Fatal("no ExecStart")
	}
	cmd := strings.ReplaceAll(execStart[1], "\\\n", " ")
	if !strings.Contains(cmd, "/"+name+" ") || !strings.Contains(cmd, "--confluent.api-secret-file=${CREDENTIALS_DIRECTORY}/api-secret") {
		t.Errorf("ExecStart %q does not run %s with the credential file", cmd, name)
	}
	if !strings.Contains(unit, "LoadCredential=api-secret:") {
		t.Error("the unit does not load the secret as a credential")
	}
	if !strings.Contains(unit, "\nStateDirectory=confluent_keys_exporter\n") || !strings.Contains(cmd, "--storage.path=%S/confluent_keys_exporter") {
		t.Error("the unit keeps no state directory for the audit log's usage (StateDirectory=, --storage.path=%S/...)")
	}
	if !strings.Contains(unit, "\nExecReload=/bin/kill -HUP $MAINPID\n") {
		t.Error("the unit has no ExecReload: systemctl reload would not reload")
	}
	// systemd's own check, on a copy that runs the binary built for the
	// tests: an unknown or misspelt directive is a warning it prints.
	analyze := testkit.Tool(t, "systemd-analyze", "systemd")
	copied := filepath.Join(t.TempDir(), "confluent_keys_exporter.service")
	if err := os.WriteFile(copied, []byte(strings.ReplaceAll(unit, "/usr/local/bin/"+name, binary)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", copied).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, f := range []string{"examples/confluent_keys_exporter.service", "examples/confluent_keys_exporter.default"} {
		if bytes.Contains([]byte(readFile(t, f)), []byte("CONFLUENT_CLOUD_API_SECRET=")) {
			t.Errorf("%s puts the secret in the environment", f)
		}
	}
}

// TestNoBinaryIsTracked: a built program never belongs in the repository
// (a 13 MB simulator binary once was): no tracked file starts as an
// executable does (ELF, Mach-O, PE, a script's #! aside).
func TestNoBinaryIsTracked(t *testing.T) {
	out, err := exec.Command("git", "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v (the tests run in a clone)", err)
	}
	magics := map[string][]byte{
		"ELF":     {0x7f, 'E', 'L', 'F'},
		"Mach-O":  {0xcf, 0xfa, 0xed, 0xfe},
		"Mach-O ": {0xfe, 0xed, 0xfa, 0xcf},
		"fat":     {0xca, 0xfe, 0xba, 0xbe},
		"PE":      {'M', 'Z'},
	}
	checked := 0
	for _, file := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		f, err := os.Open(file)
		if err != nil {
			continue // deleted in the work tree, not yet in the index
		}
		head := make([]byte, 4)
		n, _ := io.ReadFull(f, head)
		f.Close()
		checked++
		for kind, magic := range magics {
			if n >= len(magic) && bytes.Equal(head[:len(magic)], magic) {
				t.Errorf("%s is a tracked %s binary: untrack it (git rm --cached) and ignore it", file, kind)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d tracked files checked", checked)
	}
}

// TestReadmeAgreesWithTheBuild: the README is read to the end (at most 400
// lines; the reference is in docs/), and what it says of the build is what
// go.mod, the Makefile and the chart say: the Go version, the demo's ports,
// the packages under mutation testing, the image's user.
func TestReadmeAgreesWithTheBuild(t *testing.T) {
	readme := readFile(t, "README.md")
	if n := strings.Count(readme, "\n"); n > 400 {
		t.Errorf("README.md is %d lines, want at most 400: move reference to docs/", n)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(readFile(t, "go.mod"))
	if goVersion == nil || !strings.Contains(readme, "Go "+goVersion[1]+" or newer") {
		t.Errorf("README.md does not ask for Go %v, which go.mod says", goVersion)
	}
	for _, port := range []string{"DEMO_PORT", "SIM_PORT", "AUDIT_PORT"} {
		if !strings.Contains(readme, port+"=") {
			t.Errorf("README.md's demo ports leave out %s, which the Makefile takes", port)
		}
	}
	pkgs := strings.Fields(makeVar(t, "MUTATION_PKGS"))
	m := regexp.MustCompile(`mutation testing of ([a-z, ]+?) and ([a-z]+) \(`).FindStringSubmatch(strings.ReplaceAll(readme, "\n  ", " "))
	if m == nil {
		t.Fatal("README.md does not say which packages make mutation tests")
	}
	said := append(strings.Split(m[1], ", "), m[2])
	if !slices.Equal(said, pkgs) {
		t.Errorf("README.md says mutation testing covers %v, the Makefile %v", said, pkgs)
	}
	for _, doc := range []string{"README.md", "charts/confluent-keys-exporter/README.md"} {
		if !strings.Contains(readFile(t, doc), "65534") {
			t.Errorf("%s does not say the image runs as uid 65534, which secret files must be readable by", doc)
		}
		if !strings.Contains(readFile(t, doc), "make image-push IMAGE=") {
			t.Errorf("%s does not say how to push the image to a registry", doc)
		}
	}
}
