package charttest

import (
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/default.yaml from this rendering")

const (
	root    = "../.."
	chart   = root + "/charts/confluent-keys-exporter"
	release = "my-release"
	ns      = "monitoring"
)

// helm runs the helm pinned in tools/go.mod from the repository root.
func helm(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", append([]string{"tool", "-modfile=tools/go.mod", "helm"}, args...)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return out
}

// rendered is one rendering of the chart, its objects decoded strictly.
type rendered struct {
	raw         []byte
	deployment  *appsv1.Deployment
	statefulSet *appsv1.StatefulSet // instead of the Deployment, with persistence
	workload    workload            // the one of the two rendered
	service     *corev1.Service
	account     *corev1.ServiceAccount
	secret      *corev1.Secret
	dashboard   *corev1.ConfigMap
	orgs        *corev1.ConfigMap // the organisations' --config.file
	testPod     *corev1.Pod
	monitor     *monitoringv1.ServiceMonitor
	policy      *networkingv1.NetworkPolicy
	rule        *monitoringv1.PrometheusRule
	labelsOfAll []map[string]string
}

// render lints and renders the chart with a values file ("" for the
// defaults) and decodes every object into its type, refusing unknown fields.
func render(t *testing.T, values string) *rendered {
	t.Helper()
	args := []string{}
	if values != "" {
		args = append(args, "-f", strings.TrimPrefix(values, root+"/"))
	}
	helm(t, append([]string{"lint", "--strict", strings.TrimPrefix(chart, root+"/")}, args...)...)
	out := helm(t, append([]string{"template", release, strings.TrimPrefix(chart, root+"/"), "--namespace", ns}, args...)...)
	r := &rendered{raw: out}
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(out), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^#.*$`).ReplaceAllString(doc, "")) == "" {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("%s: %v\n%s", values, err, doc)
		}
		r.labelsOfAll = append(r.labelsOfAll, head.Metadata.Labels)
		var into any
		switch head.APIVersion + " " + head.Kind {
		case "apps/v1 Deployment":
			r.deployment = &appsv1.Deployment{}
			into = r.deployment
		case "apps/v1 StatefulSet":
			r.statefulSet = &appsv1.StatefulSet{}
			into = r.statefulSet
		case "v1 Service":
			r.service = &corev1.Service{}
			into = r.service
		case "v1 ServiceAccount":
			r.account = &corev1.ServiceAccount{}
			into = r.account
		case "v1 Secret":
			r.secret = &corev1.Secret{}
			into = r.secret
		case "v1 ConfigMap":
			if strings.HasSuffix(head.Metadata.Name, "-organizations") {
				r.orgs = &corev1.ConfigMap{}
				into = r.orgs
				break
			}
			r.dashboard = &corev1.ConfigMap{}
			into = r.dashboard
		case "v1 Pod":
			r.testPod = &corev1.Pod{}
			into = r.testPod
		case "monitoring.coreos.com/v1 ServiceMonitor":
			r.monitor = &monitoringv1.ServiceMonitor{}
			into = r.monitor
		case "networking.k8s.io/v1 NetworkPolicy":
			r.policy = &networkingv1.NetworkPolicy{}
			into = r.policy
		case "monitoring.coreos.com/v1 PrometheusRule":
			r.rule = &monitoringv1.PrometheusRule{}
			into = r.rule
		default:
			t.Fatalf("%s: an object the test does not know: %s %s", values, head.APIVersion, head.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
			t.Fatalf("%s: %s does not decode strictly: %v\n%s", values, head.Kind, err, doc)
		}
	}
	switch {
	case (r.deployment == nil) == (r.statefulSet == nil):
		t.Fatalf("%s: want a Deployment or a StatefulSet, one of them", values)
	case r.deployment != nil:
		r.workload = workload{r.deployment.Spec.Replicas, r.deployment.Spec.Selector, &r.deployment.Spec.Template}
	default:
		r.workload = workload{r.statefulSet.Spec.Replicas, r.statefulSet.Spec.Selector, &r.statefulSet.Spec.Template}
	}
	if r.service == nil || r.testPod == nil {
		t.Fatalf("%s: no Service or test pod rendered", values)
	}
	return r
}

// workload is what a Deployment and a StatefulSet have alike.
type workload struct {
	replicas *int32
	selector *metav1.LabelSelector
	template *corev1.PodTemplateSpec
}

func valueFiles(t *testing.T) []string {
	files, err := filepath.Glob(chart + "/ci/*-values.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("ci values: %v %v", files, err)
	}
	return append([]string{""}, files...)
}

// TestChartRenders: with each set of values, the chart lints strictly,
// renders objects that decode strictly, and keeps its promises.
func TestChartRenders(t *testing.T) {
	for _, values := range valueFiles(t) {
		t.Run(filepath.Base(values), func(t *testing.T) {
			r := render(t, values)
			checkPod(t, r, values)
			checkMonitoring(t, r, values)
		})
	}
}

func checkPod(t *testing.T, r *rendered, values string) {
	t.Helper()
	d := r.workload
	pod := d.template.Spec
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("service-account token mounted")
	}
	checkStorage(t, r, values)
	psc := pod.SecurityContext
	if psc == nil || !*psc.RunAsNonRoot || *psc.RunAsUser != 65534 || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context %+v", psc)
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || *sc.AllowPrivilegeEscalation || !*sc.ReadOnlyRootFilesystem || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container security context %+v", sc)
	}
	basicAuth := values != "" && strings.Contains(readFile(t, values), "basicAuth: true")
	switch {
	case basicAuth: // the kubelet cannot authenticate: the probes open the port
		if c.ReadinessProbe.TCPSocket == nil || c.LivenessProbe.TCPSocket == nil {
			t.Errorf("with basic auth, probes %+v %+v, want TCP", c.ReadinessProbe, c.LivenessProbe)
		}
	case c.ReadinessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet == nil ||
		c.ReadinessProbe.HTTPGet.Path != "/-/ready" || c.LivenessProbe.HTTPGet.Path != "/-/healthy":
		t.Errorf("probes: readiness %+v, liveness %+v", c.ReadinessProbe, c.LivenessProbe)
	}
	// Every secret is a file only the exporter's user reads (0400, through
	// its group: fsGroup).
	if psc.FSGroup == nil || *psc.FSGroup != *psc.RunAsUser {
		t.Errorf("fsGroup %v: the exporter's user cannot read 0400 secret files", psc.FSGroup)
	}
	for _, v := range pod.Volumes {
		if v.Secret != nil && (v.Secret.DefaultMode == nil || *v.Secret.DefaultMode != 0o400) {
			t.Errorf("secret volume %s: mode %v, want 0400", v.Name, v.Secret.DefaultMode)
		}
	}
	checkWebAndPolicy(t, r, values)
	if r.orgs != nil {
		checkOrganizations(t, r, values)
		return
	}
	// The secret: a file named by the flag, from the Secret's secret key.
	var secretVolume *corev1.Volume
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == "secret" {
			secretVolume = &pod.Volumes[i]
		}
	}
	var mount string
	for _, m := range c.VolumeMounts {
		if m.Name == "secret" && m.ReadOnly {
			mount = m.MountPath
		}
	}
	if secretVolume == nil || secretVolume.Secret == nil || mount == "" ||
		!slices.Contains(c.Args, "--confluent.api-secret-file="+mount+"/"+secretVolume.Secret.Items[0].Path) {
		t.Errorf("the secret is not a mounted file passed by --confluent.api-secret-file: volume %+v, mount %q, args %v", secretVolume, mount, c.Args)
	}
	for _, e := range c.Env {
		if e.Name == "CONFLUENT_CLOUD_API_SECRET" || e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Key == secretVolume.Secret.Items[0].Key {
			t.Errorf("the secret is an environment variable: %+v", e)
		}
	}
	if strings.Contains(string(r.raw), "not-a-real-secret") {
		t.Error("the secret's value appears in the rendering as it is")
	}
	// The audit log's secret, a file of a Secret of its own, when asked for.
	if values != "" && strings.Contains(readFile(t, values), "auditLog:") {
		var v struct {
			AuditLog struct {
				APIKey     string `json:"apiKey"`
				SecretName string `json:"secretName"`
				SecretKey  string `json:"secretKey"`
			} `json:"auditLog"`
		}
		if err := yaml.Unmarshal([]byte(readFile(t, values)), &v); err != nil {
			t.Fatal(err)
		}
		var file string
		for _, a := range c.Args {
			if f, ok := strings.CutPrefix(a, "--audit-log.api-secret-file="); ok {
				file = f
			}
		}
		dir, name := path.Split(file)
		var vol *corev1.Volume
		for _, m := range c.VolumeMounts {
			for i := range pod.Volumes {
				if m.ReadOnly && m.MountPath == strings.TrimSuffix(dir, "/") && pod.Volumes[i].Name == m.Name {
					vol = &pod.Volumes[i]
				}
			}
		}
		if vol == nil || vol.Secret == nil || vol.Secret.SecretName != v.AuditLog.SecretName || vol.Secret.Items[0].Key != v.AuditLog.SecretKey ||
			vol.Secret.Items[0].Path != name || !slices.Contains(c.Args, "--audit-log.api-key="+v.AuditLog.APIKey) {
			t.Errorf("the audit log's secret is not a mounted file passed by --audit-log.api-secret-file: %v, volume %+v", c.Args, vol)
		}
	}
	memoryLimit := c.Resources.Limits.Memory()
	hasGOMEMLIMIT := slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "GOMEMLIMIT" && e.ValueFrom.ResourceFieldRef.Resource == "limits.memory"
	})
	if hasGOMEMLIMIT != !memoryLimit.IsZero() {
		t.Errorf("GOMEMLIMIT from the memory limit: %v, limit %v", hasGOMEMLIMIT, memoryLimit)
	}
	// A chart-made Secret restarts the pod when it changes; one you manage does not need to.
	_, checksum := d.template.Annotations["checksum/secret"]
	if checksum != (r.secret != nil) {
		t.Errorf("checksum annotation %v with a chart-made Secret %v", checksum, r.secret != nil)
	}
	if r.secret != nil && r.secret.Name != secretVolume.Secret.SecretName {
		t.Errorf("the pod mounts %s, the chart made %s", secretVolume.Secret.SecretName, r.secret.Name)
	}
	chartYAML := readFile(t, chart+"/Chart.yaml")
	appVersion := regexp.MustCompile(`(?m)^appVersion: "?([^"\n]+)"?$`).FindStringSubmatch(chartYAML)[1]
	if values == "" && !strings.HasSuffix(c.Image, ":"+appVersion) {
		t.Errorf("image %s, want the tag %s (appVersion)", c.Image, appVersion)
	}
	if r.testPod.Annotations["helm.sh/hook"] != "test" || !strings.Contains(strings.Join(r.testPod.Spec.Containers[0].Args, " "), "/metrics") {
		t.Errorf("the helm test pod: %+v", r.testPod.ObjectMeta)
	}
	// commonLabels reach every object.
	if values != "" && strings.Contains(readFile(t, values), "commonLabels:") {
		for i, l := range r.labelsOfAll {
			if l["team"] != "platform" {
				t.Errorf("object %d lacks the common label: %v", i, l)
			}
		}
	}
}

// checkStorage: the exporter keeps what the audit log told in /data, its
// --storage.path: an emptyDir of the Deployment's pod by default; with
// persistence, a StatefulSet whose every replica has a claim of its own.
func checkStorage(t *testing.T, r *rendered, values string) {
	t.Helper()
	var v struct {
		Replicas    *int32 `json:"replicas"`
		Persistence struct {
			Enabled          bool   `json:"enabled"`
			StorageClassName string `json:"storageClassName"`
			Size             string `json:"size"`
		} `json:"persistence"`
	}
	if values != "" {
		if err := yaml.Unmarshal([]byte(readFile(t, values)), &v); err != nil {
			t.Fatal(err)
		}
	}
	want := int32(1)
	if v.Replicas != nil {
		want = *v.Replicas
	}
	if *r.workload.replicas != want {
		t.Errorf("replicas %d, want %d", *r.workload.replicas, want)
	}
	pod := r.workload.template.Spec
	c := pod.Containers[0]
	mounted := slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "data" && m.MountPath == "/data" && !m.ReadOnly })
	if !mounted || !slices.Contains(c.Args, "--storage.path=/data") {
		t.Errorf("no writable volume data at /data passed as --storage.path: mounts %+v, args %v", c.VolumeMounts, c.Args)
	}
	emptyDir := slices.ContainsFunc(pod.Volumes, func(vol corev1.Volume) bool { return vol.Name == "data" && vol.EmptyDir != nil })
	if !v.Persistence.Enabled {
		if r.deployment == nil || !emptyDir {
			t.Errorf("without persistence: want a Deployment with an emptyDir named data (Deployment %v, emptyDir %v)", r.deployment != nil, emptyDir)
		}
		return
	}
	s := r.statefulSet
	if s == nil || emptyDir || len(s.Spec.VolumeClaimTemplates) != 1 {
		t.Fatalf("with persistence: want a StatefulSet with one claim template and no emptyDir")
	}
	claim := s.Spec.VolumeClaimTemplates[0]
	size := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	if claim.Name != "data" || size.String() != v.Persistence.Size || claim.Spec.StorageClassName == nil ||
		*claim.Spec.StorageClassName != v.Persistence.StorageClassName || s.Spec.ServiceName != r.service.Name {
		t.Errorf("claim %+v, service %q: want data, %s of %s, served by %s", claim, s.Spec.ServiceName, v.Persistence.Size, v.Persistence.StorageClassName, r.service.Name)
	}
}

// checkWebAndPolicy: a web configuration is a mounted file passed by
// --web.config.file, the probes and the ServiceMonitor follow its TLS; a
// NetworkPolicy lets only the peers named reach the port.
func checkWebAndPolicy(t *testing.T, r *rendered, values string) {
	t.Helper()
	var v struct {
		WebConfig struct {
			SecretName string `json:"secretName"`
			TLS        bool   `json:"tls"`
		} `json:"webConfig"`
		NetworkPolicy struct {
			Enabled bool                             `json:"enabled"`
			From    []networkingv1.NetworkPolicyPeer `json:"from"`
		} `json:"networkPolicy"`
	}
	if values != "" {
		if err := yaml.Unmarshal([]byte(readFile(t, values)), &v); err != nil {
			t.Fatal(err)
		}
	}
	pod := r.workload.template.Spec
	c := pod.Containers[0]
	var file string
	for _, a := range c.Args {
		if f, ok := strings.CutPrefix(a, "--web.config.file="); ok {
			file = f
		}
	}
	if (file != "") != (v.WebConfig.SecretName != "") {
		t.Errorf("--web.config.file=%q with webConfig.secretName=%q", file, v.WebConfig.SecretName)
	}
	if file != "" {
		dir, name := path.Split(file)
		found := false
		for _, m := range c.VolumeMounts {
			for _, vol := range pod.Volumes {
				if m.Name == vol.Name && m.MountPath == strings.TrimSuffix(dir, "/") && vol.Secret != nil &&
					vol.Secret.SecretName == v.WebConfig.SecretName && vol.Secret.Items[0].Path == name {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("--web.config.file=%s is not the mounted Secret %s", file, v.WebConfig.SecretName)
		}
	}
	scheme := corev1.URISchemeHTTP
	if v.WebConfig.TLS {
		scheme = corev1.URISchemeHTTPS
	}
	if p := c.ReadinessProbe.HTTPGet; p != nil && p.Scheme != scheme {
		t.Errorf("readiness probe scheme %s, want %s", p.Scheme, scheme)
	}
	if r.monitor != nil && v.WebConfig.TLS && r.monitor.Spec.Endpoints[0].Scheme == nil {
		t.Error("the ServiceMonitor scrapes HTTP a TLS-only exporter")
	}
	if (r.policy != nil) != v.NetworkPolicy.Enabled {
		t.Fatalf("NetworkPolicy rendered %v, enabled %v", r.policy != nil, v.NetworkPolicy.Enabled)
	}
	if p := r.policy; p != nil {
		if len(p.Spec.Ingress) != 1 || !reflect.DeepEqual(p.Spec.Ingress[0].From, v.NetworkPolicy.From) ||
			p.Spec.Ingress[0].Ports[0].Port.String() != "http-metrics" || !maps.Equal(p.Spec.PodSelector.MatchLabels, r.workload.selector.MatchLabels) {
			t.Errorf("the NetworkPolicy lets in %+v, want %+v on the exporter's port and pods", p.Spec.Ingress, v.NetworkPolicy.From)
		}
	}
}

func checkMonitoring(t *testing.T, r *rendered, values string) {
	t.Helper()
	v := ""
	if values != "" {
		v = readFile(t, values)
	}
	if r.monitor != nil {
		ep := r.monitor.Spec.Endpoints[0]
		if len(ep.RelabelConfigs) == 0 || ep.RelabelConfigs[0].TargetLabel != "job" || *ep.RelabelConfigs[0].Replacement != "confluent_keys_exporter" {
			t.Errorf("the first relabeling must set job=confluent_keys_exporter: %+v", ep.RelabelConfigs)
		}
		if strings.Contains(v, "release: kube-prometheus-stack") && r.monitor.Labels["release"] != "kube-prometheus-stack" {
			t.Errorf("ServiceMonitor labels %v", r.monitor.Labels)
		}
	}
	if r.rule != nil {
		var alerts monitoringv1.PrometheusRuleSpec
		if err := yaml.UnmarshalStrict([]byte(readFile(t, root+"/alerts/confluent-keys.rules.yml")), &alerts); err != nil {
			t.Fatal(err)
		}
		want := alerts.Groups
		if strings.Contains(v, "disableBuiltinAlertGroup: true") {
			want = want[:1]
			if want[0].Name != "confluent-keys-thresholds" {
				t.Fatalf("the first group of alerts/ is %s, not the thresholds", want[0].Name)
			}
		}
		got := r.rule.Spec.Groups
		if len(got) < len(want) || !reflect.DeepEqual(got[:len(want)], want) {
			t.Errorf("the PrometheusRule's groups are not those of alerts/ (%d groups, want %d first)", len(got), len(want))
		}
		if strings.Contains(v, "extraAlertGroups:") && (len(got) != len(want)+1 || got[len(got)-1].Name != "my-confluent-keys") {
			t.Errorf("extra groups not added: %d groups", len(got))
		}
	}
	if r.dashboard != nil {
		if r.dashboard.Labels["grafana_dashboard"] != "1" || r.dashboard.Data["confluent-keys.json"] != strings.TrimSuffix(readFile(t, root+"/dashboards/confluent-keys.json"), "\n") {
			t.Errorf("the dashboard ConfigMap: labels %v, the dashboard equal: %v", r.dashboard.Labels,
				r.dashboard.Data["confluent-keys.json"] == readFile(t, root+"/dashboards/confluent-keys.json"))
		}
	}
}

// TestDefaultRenderingGolden: the default values render as recorded, so
// that a change of the chart shows in review.
func TestDefaultRenderingGolden(t *testing.T) {
	r := render(t, "")
	golden := "testdata/default.yaml"
	if *update {
		if err := os.WriteFile(golden, r.raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readFile(t, golden); string(r.raw) != want {
		t.Errorf("the default rendering differs from %s (go test -update rewrites it); review the change", golden)
	}
}

// TestChartMetadata: appVersion is VERSION, the chart version semver from
// 1.0.0, files/ holds alerts/ and dashboards/ as they are, and the chart's
// README lists every value of values.yaml.
func TestChartMetadata(t *testing.T) {
	chartYAML := readFile(t, chart+"/Chart.yaml")
	version := strings.TrimSpace(readFile(t, root+"/VERSION"))
	if !strings.Contains(chartYAML, "appVersion: \""+version+"\"") {
		t.Errorf("Chart.yaml appVersion is not VERSION %s", version)
	}
	m := regexp.MustCompile(`(?m)^version: (\d+)\.(\d+)\.(\d+)$`).FindStringSubmatch(chartYAML)
	if m == nil || m[1] < "1" {
		t.Errorf("chart version %v, want semver from 1.0.0", m)
	}
	for copyOf, original := range map[string]string{
		chart + "/files/confluent-keys.rules.yml": root + "/alerts/confluent-keys.rules.yml",
		chart + "/files/confluent-keys.json":      root + "/dashboards/confluent-keys.json",
	} {
		if readFile(t, copyOf) != readFile(t, original) {
			t.Errorf("%s differs from %s: run `make prometheusrule`", copyOf, original)
		}
	}
	var values map[string]any
	if err := yaml.Unmarshal([]byte(readFile(t, chart+"/values.yaml")), &values); err != nil {
		t.Fatal(err)
	}
	readme := readFile(t, chart+"/README.md")
	for _, path := range leaves(values, "") {
		if !strings.Contains(readme, "| `"+path+"` |") {
			t.Errorf("the chart's README does not list %s", path)
		}
	}
}

// leaves are the dotted paths of values.yaml's values, a map with settings
// of its own (resources, labels) counting as one value.
func leaves(m map[string]any, prefix string) []string {
	var out []string
	for k, v := range m {
		path := prefix + k
		sub, isMap := v.(map[string]any)
		if isMap && len(sub) > 0 && path != "resources" && !strings.HasSuffix(path, "labels") {
			out = append(out, leaves(sub, path+".")...)
			continue
		}
		out = append(out, path)
	}
	slices.Sort(out)
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkOrganizations: with organizations set, the pod runs the exporter on a
// --config.file from the ConfigMap, in which each organisation's
// api_secret_file is the file of its own Secret, mounted where the file says;
// no API key or secret of the single-organisation shape is left.
func checkOrganizations(t *testing.T, r *rendered, values string) {
	t.Helper()
	var want struct {
		Organizations []struct {
			Name       string          `json:"name"`
			APIKey     string          `json:"apiKey"`
			SecretName string          `json:"secretName"`
			SecretKey  string          `json:"secretKey"`
			Interval   string          `json:"refreshInterval"`
			PageSize   int             `json:"pageSize"`
			Collectors map[string]bool `json:"collectors"`
			AuditLog   *struct {
				BootstrapServers []string `json:"bootstrapServers"`
				APIKey           string   `json:"apiKey"`
				SecretName       string   `json:"secretName"`
				SecretKey        string   `json:"secretKey"`
				Lookback         string   `json:"lookback"`
			} `json:"auditLog"`
		} `json:"organizations"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, values)), &want); err != nil {
		t.Fatal(err)
	}
	// The file as the exporter reads it (config/file.go): unknown fields fail.
	var file struct {
		Organizations []struct {
			Name            string          `json:"name"`
			APIKey          string          `json:"api_key"`
			APISecretFile   string          `json:"api_secret_file"`
			URL             string          `json:"url,omitempty"`
			RefreshInterval string          `json:"refresh_interval,omitempty"`
			PageSize        int             `json:"page_size,omitempty"`
			Collectors      map[string]bool `json:"collectors,omitempty"`
			AuditLog        *struct {
				BootstrapServers []string `json:"bootstrap_servers"`
				APIKey           string   `json:"api_key"`
				APISecretFile    string   `json:"api_secret_file"`
				Topic            string   `json:"topic,omitempty"`
				Lookback         string   `json:"lookback,omitempty"`
			} `json:"audit_log,omitempty"`
		} `json:"organizations"`
	}
	if err := yaml.UnmarshalStrict([]byte(r.orgs.Data["organizations.yml"]), &file); err != nil {
		t.Fatalf("the organisations file does not decode as the exporter's: %v\n%s", err, r.orgs.Data["organizations.yml"])
	}
	if len(file.Organizations) != len(want.Organizations) {
		t.Fatalf("%d organisations in the file, %d in the values", len(file.Organizations), len(want.Organizations))
	}
	pod := r.workload.template.Spec
	c := pod.Containers[0]
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	mounted := map[string]corev1.Volume{} // by mount path
	for _, m := range c.VolumeMounts {
		if m.ReadOnly {
			mounted[m.MountPath] = volumes[m.Name]
		}
	}
	var configDir string
	for path, v := range mounted {
		if v.ConfigMap != nil && v.ConfigMap.Name == r.orgs.Name {
			configDir = path
		}
	}
	if configDir == "" || !slices.Contains(c.Args, "--config.file="+configDir+"/organizations.yml") {
		t.Errorf("--config.file is not the mounted ConfigMap: mounts %v, args %v", c.VolumeMounts, c.Args)
	}
	for i, w := range want.Organizations {
		f := file.Organizations[i]
		dir, name := path.Split(f.APISecretFile)
		v := mounted[strings.TrimSuffix(dir, "/")]
		key := w.SecretKey
		if key == "" {
			key = "api-secret"
		}
		if f.Name != w.Name || f.APIKey != w.APIKey || v.Secret == nil || v.Secret.SecretName != w.SecretName ||
			len(v.Secret.Items) != 1 || v.Secret.Items[0].Key != key || v.Secret.Items[0].Path != name {
			t.Errorf("organisation %s: file %+v, its secret's volume %+v", w.Name, f, v)
		}
		if f.RefreshInterval != w.Interval || f.PageSize != w.PageSize || !maps.Equal(f.Collectors, w.Collectors) {
			t.Errorf("organisation %s: options %+v, want %+v", w.Name, f, w)
		}
		if (f.AuditLog == nil) != (w.AuditLog == nil) {
			t.Errorf("organisation %s: audit log in the file %v, in the values %v", w.Name, f.AuditLog != nil, w.AuditLog != nil)
			continue
		}
		if w.AuditLog != nil {
			a, wa := f.AuditLog, w.AuditLog
			dir, name := path.Split(a.APISecretFile)
			v := mounted[strings.TrimSuffix(dir, "/")]
			if !slices.Equal(a.BootstrapServers, wa.BootstrapServers) || a.APIKey != wa.APIKey || a.Lookback != wa.Lookback ||
				v.Secret == nil || v.Secret.SecretName != wa.SecretName || len(v.Secret.Items) != 1 ||
				v.Secret.Items[0].Key != cmp.Or(wa.SecretKey, "api-secret") || v.Secret.Items[0].Path != name {
				t.Errorf("organisation %s: audit log %+v, its secret's volume %+v, want %+v", w.Name, a, v, wa)
			}
		}
	}
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "CONFLUENT_CLOUD_API") {
			t.Errorf("a single-organisation variable with organizations set: %s", e.Name)
		}
	}
	if r.secret != nil || volumes["secret"].Secret != nil {
		t.Error("the single-organisation Secret is made or mounted with organizations set")
	}
	if _, ok := r.workload.template.Annotations["checksum/config"]; !ok {
		t.Error("a changed list of organisations would not restart the pod: no checksum/config")
	}
}

// TestOrganizationsMistakes: an organisation the exporter would refuse at
// start is refused by helm, naming the value.
func TestOrganizationsMistakes(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"organizations[0].name=prod finance,organizations[0].apiKey=K,organizations[0].secretName=s", `organizations[0].name="prod finance"`},
		{"organizations[0].name=prod,organizations[0].secretName=s", "organizations[0].apiKey (prod)"},
		{"organizations[0].name=prod,organizations[0].apiKey=K", "organizations[0].secretName (prod)"},
		{"organizations[0].name=prod,organizations[0].apiKey=K,organizations[0].secretName=s,organizations[0].auditLog.apiKey=A,organizations[0].auditLog.secretName=a", "organizations[0].auditLog.bootstrapServers (prod)"},
		{"organizations[0].name=prod,organizations[0].apiKey=K,organizations[0].secretName=s,organizations[0].auditLog.bootstrapServers={b:9092},organizations[0].auditLog.apiKey=A", "organizations[0].auditLog.secretName (prod)"},
		{"auditLog.bootstrapServers={b:9092},auditLog.secretName=a,secret.apiSecret=x", "auditLog.apiKey"},
		{"auditLog.bootstrapServers={b:9092},auditLog.apiKey=A,secret.apiSecret=x", "auditLog.secretName"},
		{"networkPolicy.enabled=true,secret.apiSecret=x", "networkPolicy.from"},
	} {
		cmd := exec.Command("go", "tool", "-modfile=tools/go.mod", "helm", "template", release, strings.TrimPrefix(chart, root+"/"), "--set", tc.set)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("--set %s: %v, want an error naming %s:\n%.300s", tc.set, err, tc.want, out)
		}
	}
}

// TestHelmTestPod runs the helm test pod's script, as rendered with TLS and
// basic auth, against servers standing in for the exporter: it passes once
// /metrics shows a collector that read its list, and fails when none has
// (the exporter's credentials are wrong), when the test's credentials are
// refused, and when nothing answers.
func TestHelmTestPod(t *testing.T) {
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte("webConfig: {secretName: web, tls: true, basicAuth: true}\ntest: {basicAuthSecretName: web-test, attempts: 2}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := helm(t, "template", release, strings.TrimPrefix(chart, root+"/"), "--namespace", ns, "-f", values, "--show-only", "templates/tests/test-metrics.yaml")
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(out, &pod); err != nil {
		t.Fatal(err)
	}
	c := pod.Spec.Containers[0]
	if !slices.Equal(c.Command, []string{"sh", "-c"}) || len(c.Args) != 1 {
		t.Fatalf("the test pod runs %v %v", c.Command, c.Args)
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != "web-test" {
			t.Errorf("%s is not read from the test's Secret: %+v", e.Name, e)
		}
	}
	exporter := func(refreshed string) string {
		ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "prometheus" || p != "right password" {
				w.Header().Set("WWW-Authenticate", "Basic")
				http.Error(w, "Unauthorized", http.StatusUnauthorized)
				return
			}
			fmt.Fprintf(w, "# TYPE confluent_refresh_success gauge\nconfluent_refresh_success{collector=\"byok\",organization=\"default\"} %s\nconfluent_keys_exporter_build_info{version=\"x\"} 1\n", refreshed)
		}))
		t.Cleanup(ts.Close)
		return ts.URL
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	for _, tc := range []struct {
		name, url, password string
		pass                bool
		says                string
	}{
		{"refreshed", exporter("1"), "right password", true, "a collector has read its list"},
		{"no refresh succeeded", exporter("0"), "right password", false, "no collector has read its list"},
		{"wrong password", exporter("1"), "wrong", false, "did not answer"},
		{"nothing answers", down.URL, "right password", false, "did not answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", c.Args[0])
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "EXPORTER_URL=" + tc.url, "WEB_USERNAME=prometheus", "WEB_PASSWORD=" + tc.password}
			output, err := cmd.CombinedOutput()
			if (err == nil) != tc.pass || !strings.Contains(string(output), tc.says) {
				t.Errorf("exit %v, output %q; want passing %v, saying %q", err, output, tc.pass, tc.says)
			}
		})
	}
}
