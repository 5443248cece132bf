package apiclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// Reason classifies why a list call failed. The values are the `reason` label
// values of confluent_refresh_errors_total.
type Reason string

// The reasons a list call can fail for.
const (
	ReasonUnauthorized Reason = "unauthorized"
	ReasonForbidden    Reason = "forbidden"
	ReasonRateLimited  Reason = "rate_limited"
	ReasonServerError  Reason = "server_error"
	ReasonTimeout      Reason = "timeout"
	ReasonNetwork      Reason = "network"
	ReasonDecode       Reason = "decode"
	ReasonPagination   Reason = "pagination"
	ReasonOther        Reason = "other"
)

// Reasons lists every Reason, in a stable order.
var Reasons = []Reason{
	ReasonUnauthorized, ReasonForbidden, ReasonRateLimited, ReasonServerError,
	ReasonTimeout, ReasonNetwork, ReasonDecode, ReasonPagination, ReasonOther,
}

// APIError is a non-2xx answer from the API, with what the API said about it.
type APIError struct {
	Endpoint   string // the list's endpoint label value: "byok_keys", "iam_api_keys", ...
	StatusCode int
	RequestID  string // X-Request-Id
	Code       string // errors[0].code
	Title      string // errors[0].title
	Detail     string // errors[0].detail, error.message, message or the plain-text body
	Resolution string // errors[0].resolution: what to do about it, where the API says
	InvalidKey bool   // the body says "invalid API key", in any shape or case
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", e.Endpoint, e.StatusCode)
	if e.Title != "" {
		fmt.Fprintf(&b, " %q", e.Title)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " (code %s)", e.Code)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	if e.Resolution != "" {
		fmt.Fprintf(&b, " (resolution: %s)", e.Resolution)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request_id %s]", e.RequestID)
	}
	return b.String()
}

// Reason classifies the error by its status and, for 403, its detail.
func (e *APIError) Reason() Reason {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return ReasonUnauthorized
	case http.StatusForbidden:
		// A 403 saying "invalid API key" is a credential problem, not a missing role.
		if e.InvalidKey {
			return ReasonUnauthorized
		}
		return ReasonForbidden
	case http.StatusTooManyRequests:
		return ReasonRateLimited
	}
	if e.StatusCode >= http.StatusInternalServerError {
		return ReasonServerError
	}
	return ReasonOther
}

// DecodeError is a response body that is not the list envelope the API
// describes: malformed, too large, without a data array, or an error
// envelope instead of a list.
type DecodeError struct {
	Endpoint  string
	RequestID string
	Err       error
}

func (e *DecodeError) Error() string {
	s := fmt.Sprintf("%s: decoding response: %v", e.Endpoint, e.Err)
	if e.RequestID != "" {
		s += fmt.Sprintf(" [request_id %s]", e.RequestID)
	}
	return s
}

func (e *DecodeError) Unwrap() error { return e.Err }

// PaginationError is a list whose pages do not lead to an end: a repeated
// page token, a next link without a token, or too many pages.
type PaginationError struct {
	Endpoint string
	Msg      string
}

func (e *PaginationError) Error() string { return e.Endpoint + ": pagination: " + e.Msg }

// RateLimitedError is returned when honouring the rate limit would take the
// request past the caller's deadline.
type RateLimitedError struct {
	Endpoint string
	Wait     string
}

func (e *RateLimitedError) Error() string {
	return e.Endpoint + ": rate limited: the rate limit asks to wait " + e.Wait + ", past the refresh deadline"
}

// RedirectError is a redirect the client did not follow: to another host
// or scheme (where the credentials must not go), or one too many. It names
// the target's host only: a URL's path and query can carry tokens.
type RedirectError struct {
	Endpoint string
	Host     string // the redirect's target, scheme and host
	Count    int    // redirects followed, when there were too many
}

func (e *RedirectError) Error() string {
	if e.Count > 0 {
		return fmt.Sprintf("%s: more than %d redirects (%s)", e.Endpoint, maxRedirects, e.Host)
	}
	return fmt.Sprintf("%s: redirect to %s refused: the credentials go to the configured host only", e.Endpoint, e.Host)
}

// CredentialError means the secret could not be read (the error names the file).
type CredentialError struct{ Err error }

func (e *CredentialError) Error() string { return "reading API secret: " + e.Err.Error() }
func (e *CredentialError) Unwrap() error { return e.Err }

// ReasonOf classifies any error returned by the client.
func ReasonOf(err error) Reason {
	var (
		apiErr  *APIError
		decErr  *DecodeError
		pageErr *PaginationError
		rateErr *RateLimitedError
		netErr  net.Error
	)
	if err == nil {
		return ""
	}
	switch {
	case errors.As(err, new(*CredentialError)):
		// Before the network checks: a file's syscall.Errno is a net.Error too.
		return ReasonOther
	case errors.As(err, &apiErr):
		return apiErr.Reason()
	case errors.As(err, &rateErr):
		return ReasonRateLimited
	case errors.As(err, &decErr):
		return ReasonDecode
	case errors.As(err, &pageErr):
		return ReasonPagination
	case errors.Is(err, context.DeadlineExceeded):
		return ReasonTimeout
	case errors.As(err, &netErr):
		if netErr.Timeout() {
			return ReasonTimeout
		}
		return ReasonNetwork
	case errors.As(err, new(*transportError)):
		return ReasonNetwork
	default:
		return ReasonOther
	}
}

// transportError is a request that got no complete answer: the connection
// failed, timed out or broke while the body was read. Only these are retried.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }
