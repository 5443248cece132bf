package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-kit/log"
)

// TestReloadWhileReloading: a reload asked for while one runs is answered
// 409 at once, never queued behind it.
func TestReloadWhileReloading(t *testing.T) {
	r := newReloader(nil, nil, log.NewNopLogger())
	r.mu.Lock() // a reload running
	rec := httptest.NewRecorder()
	r.handler(true).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
	r.mu.Unlock()
	if rec.Code != http.StatusConflict {
		t.Fatalf("%d %q, want 409", rec.Code, rec.Body)
	}
}
