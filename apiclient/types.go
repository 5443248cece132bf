package apiclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// BYOKKey is one self-managed encryption key (byok/v1 Key).
type BYOKKey struct {
	ID          string
	DisplayName string
	Provider    string // AWS, Azure, GCP, a value the API adds later, or "" when missing
	State       string // AVAILABLE, IN_USE, ...
	// CloudKeyID identifies the key in the cloud's KMS: key_arn on AWS,
	// key_id on Azure and GCP.
	CloudKeyID string
	KMS        KMSKey // the provider-specific details (the oneOf "key")
	Validation Validation
	CreatedAt  time.Time // zero when the API did not say
}

// KMSKey is the key object: AwsKey, AzureKey or GcpKey. Only the fields of
// its Kind are set.
type KMSKey struct {
	Kind          string   // AwsKey, AzureKey, GcpKey, or a kind the API adds later
	KeyARN        string   // AwsKey
	Roles         []string // AwsKey: IAM roles Confluent uses for the key
	KeyID         string   // AzureKey, GcpKey
	KeyVaultID    string   // AzureKey
	TenantID      string   // AzureKey
	ApplicationID string   // AzureKey: the application Confluent uses
	SecurityGroup string   // GcpKey: the group Confluent uses
}

// Principals are who must be granted access to the KMS key for Confluent to
// use it: the AWS roles, the Azure application or the GCP group.
func (k KMSKey) Principals() []string {
	var out []string
	for _, p := range append(k.Roles, k.ApplicationID, k.SecurityGroup) {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validation is what Confluent last found when it tried to use the key.
type Validation struct {
	Phase   string // INITIALIZING, VALID, INVALID, ...
	Message string
	Region  string    // empty until the first successful validation
	Since   time.Time // zero when the API sent null or nothing
}

// APIKey is one IAM API key (iam/v2 ApiKey). Its secret is never listed.
type APIKey struct {
	ID          string
	DisplayName string
	Description string // where keys made with Confluent's CLI keep their text
	OwnerID     string
	OwnerKind   string // User, ServiceAccount, ...
	// CreatedBy is the principal (u-..., sa-...) that created the key, where
	// the API says (spec.created_by, in newer versions of the API only).
	CreatedBy string
	// Resources are what the key opens: spec.resources when it has entries
	// (as Confluent's CLI reads them), else spec.resource; none when the
	// API sent neither. The first is "the" resource of the key.
	Resources []Resource
	CreatedAt time.Time // zero when the API did not say
	ExpiresAt time.Time // zero for keys that do not expire
}

// Resource is what an API key opens: a Kafka cluster, a Schema Registry,
// the whole organisation (Cloud, id "cloud"), ...
type Resource struct {
	ID   string
	Kind string // Cluster, SchemaRegistry, ksqlDB, Region, Cloud, Global, Tableflow, ...
	// Environment is the environment of an environment-scoped resource:
	// the reference's environment, else the environment= segment of its
	// CRN (resource_name), which the API always sends; "" for resources of
	// the whole organisation.
	Environment string
}

// Resource returns the key's first resource, the zero Resource for a key
// without one.
func (k APIKey) Resource() Resource {
	if len(k.Resources) == 0 {
		return Resource{}
	}
	return k.Resources[0]
}

// decodePage parses one page and returns its items and the next link (""
// on the last page). It fails only when the envelope is broken: not JSON,
// not an object, no data field, data neither an array nor null (null is a
// page with no items), metadata or its next of the wrong type, or an error
// envelope instead of a list. The values live until p parses again.
func decodePage(p *fastjson.Parser, body []byte, redact *redactor) ([]*fastjson.Value, string, error) {
	v, err := p.ParseBytes(body)
	if err != nil {
		return nil, "", describeJSONError(body, err)
	}
	if v.Type() != fastjson.TypeObject {
		return nil, "", fmt.Errorf("the body is a JSON %s, not the list envelope", v.Type())
	}
	var items []*fastjson.Value
	switch data := v.Get("data"); {
	case data == nil:
		if f, ok := readFailure(body, redact); ok {
			return nil, "", fmt.Errorf("the API answered with an error instead of a list: %s", f)
		}
		return nil, "", errors.New(`missing required field "data"`)
	case data.Type() == fastjson.TypeArray:
		items, _ = data.Array()
	case data.Type() != fastjson.TypeNull:
		return nil, "", fmt.Errorf("data is a JSON %s, not an array", data.Type())
	}
	meta := v.Get("metadata")
	if meta == nil || meta.Type() == fastjson.TypeNull {
		return items, "", nil
	}
	if meta.Type() != fastjson.TypeObject {
		return nil, "", fmt.Errorf("metadata is a JSON %s, not an object", meta.Type())
	}
	next := meta.Get("next")
	if next == nil || next.Type() == fastjson.TypeNull {
		return items, "", nil
	}
	if next.Type() != fastjson.TypeString {
		return nil, "", fmt.Errorf("metadata.next is a JSON %s, not a string", next.Type())
	}
	b, _ := next.StringBytes()
	return items, string(b), nil
}

// describeJSONError says what is wrong with a body that is not JSON, in
// encoding/json's words (which name the offset and never quote the body),
// and says so first when a proxy answered with an HTML page.
func describeJSONError(body []byte, err error) error {
	if looksLikeHTML(body) {
		return errors.New("body is HTML, not JSON")
	}
	var raw json.RawMessage
	if jerr := json.Unmarshal(body, &raw); jerr != nil {
		return jerr
	}
	// Valid to encoding/json, not to fastjson: nested deeper than it reads.
	if strings.Contains(err.Error(), "depth") {
		return fmt.Errorf("JSON nested deeper than %d levels", fastjson.MaxDepth)
	}
	return errors.New("unreadable JSON")
}

// readBYOKKey reads one item of GET /byok/v1/keys.
func readBYOKKey(it *fastjson.Value, f *fields) (k BYOKKey, key, skip string) {
	if k.ID = f.id(it); k.ID == "" {
		return k, "", ""
	}
	k.DisplayName = f.text(it.Get("display_name"), "display_name", false)
	k.Provider = f.text(it.Get("provider"), "provider", true)
	k.State = f.text(it.Get("state"), "state", true)
	if v := f.object(it.Get("validation"), "validation", true); v != nil {
		k.Validation = Validation{
			Phase:   f.text(v.Get("phase"), "validation.phase", true),
			Message: f.text(v.Get("message"), "validation.message", false),
			Region:  f.text(v.Get("region"), "validation.region", false),
			Since:   f.time(v.Get("since"), "validation.since"),
		}
	}
	if kms := f.object(it.Get("key"), "key", true); kms != nil {
		k.KMS = KMSKey{
			Kind:          f.text(kms.Get("kind"), "key.kind", false),
			KeyARN:        f.ref(kms.Get("key_arn"), "key.key_arn", false),
			KeyID:         f.ref(kms.Get("key_id"), "key.key_id", false),
			KeyVaultID:    f.ref(kms.Get("key_vault_id"), "key.key_vault_id", false),
			TenantID:      f.ref(kms.Get("tenant_id"), "key.tenant_id", false),
			ApplicationID: f.ref(kms.Get("application_id"), "key.application_id", false),
			SecurityGroup: f.ref(kms.Get("security_group"), "key.security_group", false),
		}
		roles := f.array(kms.Get("roles"), "key.roles")
		f.count(len(roles))
		for _, r := range roles {
			if role := f.ref(r, "key.roles", false); role != "" {
				k.KMS.Roles = append(k.KMS.Roles, role)
			}
		}
		k.CloudKeyID = k.KMS.KeyARN
		if k.CloudKeyID == "" {
			k.CloudKeyID = k.KMS.KeyID
		}
	}
	if m := f.object(it.Get("metadata"), "metadata", false); m != nil {
		k.CreatedAt = f.time(m.Get("created_at"), "metadata.created_at")
	}
	return k, k.ID, ""
}

// readAPIKey reads one item of GET /iam/v2/api-keys. A key with no owner is
// a Confluent-internal key: it is skipped.
func readAPIKey(it *fastjson.Value, f *fields) (k APIKey, key, skip string) {
	if k.ID = f.id(it); k.ID == "" {
		return k, "", ""
	}
	spec := f.object(it.Get("spec"), "spec", false)
	if spec == nil {
		return k, k.ID, SkipNoOwner
	}
	owner := f.object(spec.Get("owner"), "spec.owner", false)
	ownerID, _ := f.str(owner.Get("id"))
	if ownerID == "" {
		return k, k.ID, SkipNoOwner
	}
	if len(ownerID) > MaxLabelValue {
		f.note("spec.owner.id")
		ownerID = "" // never cut: the key is exported without its owner
	}
	k.DisplayName = f.text(spec.Get("display_name"), "spec.display_name", false)
	k.Description = f.text(spec.Get("description"), "spec.description", false)
	k.OwnerID = ownerID
	k.OwnerKind = f.text(owner.Get("kind"), "spec.owner.kind", false)
	k.CreatedBy = createdBy(spec.Get("created_by"), f)
	k.ExpiresAt = f.date(spec.Get("expires_at"), "spec.expires_at")
	resources := f.array(spec.Get("resources"), "spec.resources")
	f.count(len(resources))
	for _, r := range resources {
		if res, ok := readResource(f.object(r, "spec.resources", false), "spec.resources", f); ok {
			k.Resources = append(k.Resources, res)
		}
	}
	if len(k.Resources) == 0 {
		if res, ok := readResource(f.object(spec.Get("resource"), "spec.resource", false), "spec.resource", f); ok {
			k.Resources = append(k.Resources, res)
		}
	}
	if m := f.object(it.Get("metadata"), "metadata", false); m != nil {
		k.CreatedAt = f.time(m.Get("created_at"), "metadata.created_at")
	}
	return k, k.ID, ""
}

// readResource reads a resource reference (at path, for the names of what
// could not be read); ok is false for none (absent, null, or without id).
func readResource(v *fastjson.Value, path string, f *fields) (r Resource, ok bool) {
	if v == nil {
		return r, false
	}
	r.ID = f.ref(v.Get("id"), path+".id", false)
	r.Kind = resourceKind(r.ID, f.text(v.Get("kind"), path+".kind", false))
	r.Environment = f.ref(v.Get("environment"), path+".environment", false)
	if r.Environment == "" {
		crn, ok := f.str(v.Get("resource_name"))
		if !ok {
			f.note(path + ".resource_name")
		}
		if env := crnSegment(crn, "environment"); len(env) > MaxLabelValue {
			f.note(path + ".resource_name")
		} else {
			r.Environment = env
		}
	}
	return r, r.ID != ""
}

// crnSegment returns the value of the segment kind= of a Confluent
// resource name: crn://confluent.cloud/organization=.../environment=env-1/
// cloud-cluster=lkc-1 has "env-1" for "environment". (The API's own
// examples also write the CRN as an https URL: the segments are the same.)
func crnSegment(crn, kind string) string {
	for seg := range strings.SplitSeq(crn, "/") {
		if v, ok := strings.CutPrefix(seg, kind+"="); ok {
			return v
		}
	}
	return ""
}

// createdBy reads spec.created_by: a principal id, written as a string or
// as a reference with an id.
func createdBy(v *fastjson.Value, f *fields) string {
	if obj := v; obj != nil && obj.Type() == fastjson.TypeObject {
		return f.ref(obj.Get("id"), "spec.created_by.id", false)
	}
	return f.ref(v, "spec.created_by", false)
}

// resourceKind corrects a known API quirk: Schema Registry and ksqlDB keys
// sometimes come back with kind "Cluster". Their ids say what they are.
func resourceKind(id, kind string) string {
	if kind != "Cluster" {
		return kind
	}
	switch {
	case strings.HasPrefix(id, "lsrc-"):
		return "SchemaRegistry"
	case strings.HasPrefix(id, "lksqlc-"):
		return "ksqlDB"
	}
	return kind
}
