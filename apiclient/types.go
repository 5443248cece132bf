package apiclient

import (
	"bytes"
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
	Provider    string // AWS, Azure, GCP, or a value the API adds later
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
	OwnerID      string
	OwnerKind    string // User, ServiceAccount, ...
	ResourceID   string // empty for keys with no resource (Cloud API keys)
	ResourceKind string
	Environment  string
	CreatedAt    time.Time // zero when the API did not say
	ExpiresAt    time.Time // zero for keys that do not expire
}

// timestamp is an RFC 3339 time that may be null or absent.
type timestamp struct{ time.Time }

// optionalString reads a JSON string that may be null or empty; s is ""
// then.
func optionalString(b []byte, what string) (s string, err error) {
	if bytes.Equal(b, []byte("null")) {
		return "", nil
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return s, nil
}

func (t *timestamp) UnmarshalJSON(b []byte) error {
	s, err := optionalString(b, "timestamp")
	if err != nil || s == "" {
		return err
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("timestamp %q is not RFC 3339", s)
	}
	t.Time = meaningful(v)
	return nil
}

// meaningful drops times at or before the Unix epoch: they are a serialised
// zero value (Go's "0001-01-01T00:00:00Z", a Unix 0), not a real time, and
// must not be exported as one.
func meaningful(t time.Time) time.Time {
	if t.Unix() <= 0 {
		return time.Time{}
	}
	return t
}

// expiryDate is spec.expires_at: a date (the key expires at the end of that
// day, UTC). A full RFC 3339 time is accepted as it is.
type expiryDate struct{ time.Time }

func (d *expiryDate) UnmarshalJSON(b []byte) error {
	s, err := optionalString(b, "expires_at")
	if err != nil || s == "" {
		return err
	}
	if v, err := time.Parse(time.DateOnly, s); err == nil {
		d.Time = meaningful(v.Add(24*time.Hour - time.Second))
		return nil
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("expires_at %q is neither a date nor RFC 3339", s)
	}
	d.Time = meaningful(v)
	return nil
}

// listPage is the envelope both list endpoints share.
type listPage[T any] struct {
	Data     *[]T `json:"data"`
	Metadata struct {
		Next *string `json:"next"`
	} `json:"metadata"`
}

type objectMeta struct {
	CreatedAt timestamp `json:"created_at"`
}

type byokItem struct {
	ID          string      `json:"id"`
	DisplayName string      `json:"display_name"`
	Provider    string      `json:"provider"`
	State       string      `json:"state"`
	Metadata    *objectMeta `json:"metadata"`
	Key         *struct {
		Kind          string   `json:"kind"`
		KeyARN        string   `json:"key_arn"`
		Roles         []string `json:"roles"`
		KeyID         string   `json:"key_id"`
		KeyVaultID    string   `json:"key_vault_id"`
		TenantID      string   `json:"tenant_id"`
		ApplicationID string   `json:"application_id"`
		SecurityGroup string   `json:"security_group"`
	} `json:"key"`
	Validation *struct {
		Phase   string    `json:"phase"`
		Message string    `json:"message"`
		Since   timestamp `json:"since"`
		Region  string    `json:"region"`
	} `json:"validation"`
}

type objectRef struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Environment string `json:"environment"`
}

type apiKeyItem struct {
	ID       string      `json:"id"`
	Metadata *objectMeta `json:"metadata"`
	Spec     *struct {
		DisplayName string      `json:"display_name"`
		Owner       *objectRef  `json:"owner"`
		Resource    *objectRef  `json:"resource"`
		Resources   []objectRef `json:"resources"`
		ExpiresAt   expiryDate  `json:"expires_at"`
	} `json:"spec"`
}

// errMissing reports a list item without a field the contract requires.
func errMissing(index int, id, field string) error {
	if id == "" {
		return fmt.Errorf("data[%d]: missing required field %q", index, field)
	}
	return fmt.Errorf("data[%d] (id %q): missing required field %q", index, id, field)
}

// decodePage unmarshals one page and returns its items and the next link
// ("" on the last page).
func decodePage[T any](body []byte) ([]T, string, error) {
	var p listPage[T]
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, "", describeJSONError(body, err)
	}
	if p.Data == nil {
		return nil, "", errors.New(`missing required field "data"`)
	}
	next := ""
	if p.Metadata.Next != nil {
		next = *p.Metadata.Next
	}
	return *p.Data, next, nil
}

// describeJSONError makes a JSON error say what the body looked like, which
// matters most when a proxy answered with an HTML page.
func describeJSONError(body []byte, err error) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '<' {
		return errors.New("body is HTML, not JSON")
	}
	return err
}

func (it *byokItem) itemID() string   { return it.ID }
func (it *apiKeyItem) itemID() string { return it.ID }

// convert checks the required fields and converts a wire item.
func (it *byokItem) convert(index int) (BYOKKey, bool, error) {
	switch {
	case it.ID == "":
		return BYOKKey{}, false, errMissing(index, "", "id")
	case it.Provider == "":
		return BYOKKey{}, false, errMissing(index, it.ID, "provider")
	case it.State == "":
		return BYOKKey{}, false, errMissing(index, it.ID, "state")
	case it.Validation == nil || it.Validation.Phase == "":
		return BYOKKey{}, false, errMissing(index, it.ID, "validation.phase")
	}
	k := BYOKKey{
		ID:          it.ID,
		DisplayName: it.DisplayName,
		Provider:    it.Provider,
		State:       it.State,
		Validation: Validation{
			Phase:   it.Validation.Phase,
			Message: it.Validation.Message,
			Region:  it.Validation.Region,
			Since:   it.Validation.Since.Time,
		},
	}
	if key := it.Key; key != nil {
		k.KMS = KMSKey{
			Kind: key.Kind, KeyARN: key.KeyARN, Roles: key.Roles, KeyID: key.KeyID,
			KeyVaultID: key.KeyVaultID, TenantID: key.TenantID,
			ApplicationID: key.ApplicationID, SecurityGroup: key.SecurityGroup,
		}
		k.CloudKeyID = key.KeyARN
		if k.CloudKeyID == "" {
			k.CloudKeyID = key.KeyID
		}
	}
	if it.Metadata != nil {
		k.CreatedAt = it.Metadata.CreatedAt.Time
	}
	return k, true, nil
}

// convert checks the required fields and converts a wire item. ok is false
// for a key with no owner: a Confluent-internal key that is not listed.
func (it *apiKeyItem) convert(index int) (k APIKey, ok bool, err error) {
	if it.ID == "" {
		return APIKey{}, false, errMissing(index, "", "id")
	}
	if it.Spec == nil || it.Spec.Owner == nil || it.Spec.Owner.ID == "" {
		return APIKey{}, false, nil
	}
	k = APIKey{
		ID:          it.ID,
		DisplayName: it.Spec.DisplayName,
		OwnerID:     it.Spec.Owner.ID,
		OwnerKind:   it.Spec.Owner.Kind,
		ExpiresAt:   it.Spec.ExpiresAt.Time,
	}
	res := it.Spec.Resource
	if res == nil && len(it.Spec.Resources) > 0 {
		res = &it.Spec.Resources[0] // the 2022 API's several-resources form
	}
	if res != nil {
		k.ResourceID = res.ID
		k.ResourceKind = resourceKind(res.ID, res.Kind)
		k.Environment = res.Environment
	}
	if it.Metadata != nil {
		k.CreatedAt = it.Metadata.CreatedAt.Time
	}
	return k, true, nil
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

// failure is the API's error envelope (components/schemas/Failure).
type failure struct {
	Errors []struct {
		Code   string `json:"code"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	} `json:"errors"`
	// Some 401s carry only a top-level detail.
	Detail string `json:"detail"`
}

type failureInfo struct{ Code, Title, Detail string }

// decodeFailure reads the first error of an error body, if it is one.
func decodeFailure(body []byte) (failureInfo, bool) {
	var f failure
	if json.Unmarshal(body, &f) != nil {
		return failureInfo{}, false
	}
	if len(f.Errors) > 0 {
		e := f.Errors[0]
		return failureInfo{Code: e.Code, Title: e.Title, Detail: e.Detail}, true
	}
	if f.Detail != "" {
		return failureInfo{Detail: f.Detail}, true
	}
	return failureInfo{}, false
}
