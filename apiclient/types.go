package apiclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
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
	ID           string
	DisplayName  string
	Description  string // where keys made with Confluent's CLI keep their text
	OwnerID      string
	OwnerKind    string // User, ServiceAccount, ...
	ResourceID   string // "cloud" for Cloud keys, "" when the API sent no resource
	ResourceKind string
	Environment  string    // only for environment-scoped resources
	CreatedAt    time.Time // zero when the API did not say
	ExpiresAt    time.Time // zero for keys that do not expire
}

// listPage is the envelope every list endpoint shares. It is the only part
// of a body that must be well formed: items are read leniently.
type listPage[T any] struct {
	Data     listData[T] `json:"data"`
	Metadata *struct {
		Next *string `json:"next"`
	} `json:"metadata"`
}

// listData is a page's data: an array of items, or null, which is a page
// with no items (Confluent's SDK reads it so, and Confluent's CLI test
// server ends every list with one). present is false when the field is
// missing.
type listData[T any] struct {
	items   []object[T]
	present bool
}

func (d *listData[T]) UnmarshalJSON(b []byte) error {
	d.present = true
	if string(b) == "null" {
		return nil
	}
	return json.Unmarshal(b, &d.items)
}

type objectMeta struct {
	CreatedAt timestamp `json:"created_at"`
}

type kmsKeyWire struct {
	Kind          text           `json:"kind"`
	KeyARN        text           `json:"key_arn"`
	Roles         object[[]text] `json:"roles"`
	KeyID         text           `json:"key_id"`
	KeyVaultID    text           `json:"key_vault_id"`
	TenantID      text           `json:"tenant_id"`
	ApplicationID text           `json:"application_id"`
	SecurityGroup text           `json:"security_group"`
}

type validationWire struct {
	Phase   text      `json:"phase"`
	Message text      `json:"message"`
	Since   timestamp `json:"since"`
	Region  text      `json:"region"`
}

type byokItem struct {
	ID          text                   `json:"id"`
	DisplayName text                   `json:"display_name"`
	Provider    text                   `json:"provider"`
	State       text                   `json:"state"`
	Metadata    object[objectMeta]     `json:"metadata"`
	Key         object[kmsKeyWire]     `json:"key"`
	Validation  object[validationWire] `json:"validation"`
}

type objectRef struct {
	ID          text `json:"id"`
	Kind        text `json:"kind"`
	Environment text `json:"environment"`
}

type apiKeySpec struct {
	DisplayName text                `json:"display_name"`
	Description text                `json:"description"`
	Owner       object[objectRef]   `json:"owner"`
	Resource    object[objectRef]   `json:"resource"`
	Resources   object[[]objectRef] `json:"resources"`
	ExpiresAt   expiryDate          `json:"expires_at"`
}

type apiKeyItem struct {
	ID       text               `json:"id"`
	Metadata object[objectMeta] `json:"metadata"`
	Spec     object[apiKeySpec] `json:"spec"`
}

// decodePage unmarshals one page and returns its items and the next link
// ("" on the last page). It fails only when the envelope is broken: not
// JSON, no data field, data neither an array nor null, or an error envelope
// instead of a list.
func decodePage[T any](body []byte) ([]object[T], string, error) {
	var p listPage[T]
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, "", describeJSONError(body, err)
	}
	if !p.Data.present {
		if f, ok := readFailure(body); ok {
			return nil, "", fmt.Errorf("the API answered with an error instead of a list: %s", f)
		}
		return nil, "", errors.New(`missing required field "data"`)
	}
	next := ""
	if p.Metadata != nil && p.Metadata.Next != nil {
		next = *p.Metadata.Next
	}
	return p.Data.items, next, nil
}

// describeJSONError makes a JSON error say what the body looked like, which
// matters most when a proxy answered with an HTML page.
func describeJSONError(body []byte, err error) error {
	if looksLikeHTML(body) {
		return errors.New("body is HTML, not JSON")
	}
	return err
}

func (it *byokItem) itemID() text   { return it.ID }
func (it *apiKeyItem) itemID() text { return it.ID }

// convert turns a wire item into a key, noting in f the values it could not
// read. skip is the reason an item cannot be exported at all ("" if it can).
func (it *byokItem) convert(f *fields) (k BYOKKey, skip string) {
	k = BYOKKey{
		ID:          it.ID.s,
		DisplayName: f.text(it.DisplayName, "display_name", false),
		Provider:    f.text(it.Provider, "provider", true),
		State:       f.text(it.State, "state", true),
	}
	if v := objectValue(f, it.Validation, "validation", true); v != nil {
		k.Validation = Validation{
			Phase:   f.text(v.Phase, "validation.phase", true),
			Message: f.text(v.Message, "validation.message", false),
			Region:  f.text(v.Region, "validation.region", false),
			Since:   f.time(v.Since, "validation.since"),
		}
	}
	if key := objectValue(f, it.Key, "key", true); key != nil {
		k.KMS = KMSKey{
			Kind:          f.text(key.Kind, "key.kind", false),
			KeyARN:        f.text(key.KeyARN, "key.key_arn", false),
			KeyID:         f.text(key.KeyID, "key.key_id", false),
			KeyVaultID:    f.text(key.KeyVaultID, "key.key_vault_id", false),
			TenantID:      f.text(key.TenantID, "key.tenant_id", false),
			ApplicationID: f.text(key.ApplicationID, "key.application_id", false),
			SecurityGroup: f.text(key.SecurityGroup, "key.security_group", false),
		}
		if roles := objectValue(f, key.Roles, "key.roles", false); roles != nil {
			for _, r := range *roles {
				if role := f.text(r, "key.roles", false); role != "" {
					k.KMS.Roles = append(k.KMS.Roles, role)
				}
			}
		}
		k.CloudKeyID = k.KMS.KeyARN
		if k.CloudKeyID == "" {
			k.CloudKeyID = k.KMS.KeyID
		}
	}
	if m := objectValue(f, it.Metadata, "metadata", false); m != nil {
		k.CreatedAt = f.time(m.CreatedAt, "metadata.created_at")
	}
	return k, ""
}

// convert turns a wire item into a key, noting in f the values it could not
// read. A key with no owner is a Confluent-internal key: it is skipped.
func (it *apiKeyItem) convert(f *fields) (k APIKey, skip string) {
	spec := objectValue(f, it.Spec, "spec", false)
	if spec == nil {
		return APIKey{}, SkipNoOwner
	}
	owner := objectValue(f, spec.Owner, "spec.owner", false)
	if owner == nil || owner.ID.s == "" {
		return APIKey{}, SkipNoOwner
	}
	k = APIKey{
		ID:          it.ID.s,
		DisplayName: f.text(spec.DisplayName, "spec.display_name", false),
		Description: f.text(spec.Description, "spec.description", false),
		OwnerID:     owner.ID.s,
		OwnerKind:   f.text(owner.Kind, "spec.owner.kind", false),
		ExpiresAt:   f.time(spec.ExpiresAt.timestamp, "spec.expires_at"),
	}
	res := objectValue(f, spec.Resource, "spec.resource", false)
	if res == nil {
		// The 2022 API's several-resources form: the first one.
		if list := objectValue(f, spec.Resources, "spec.resources", false); list != nil && len(*list) > 0 {
			res = &(*list)[0]
		}
	}
	if res != nil {
		k.ResourceID = f.text(res.ID, "spec.resource.id", false)
		k.ResourceKind = resourceKind(k.ResourceID, f.text(res.Kind, "spec.resource.kind", false))
		k.Environment = f.text(res.Environment, "spec.resource.environment", false)
	}
	if m := objectValue(f, it.Metadata, "metadata", false); m != nil {
		k.CreatedAt = f.time(m.CreatedAt, "metadata.created_at")
	}
	return k, ""
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
