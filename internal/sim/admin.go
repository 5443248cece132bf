package sim

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// serveAdmin answers the simulator's own endpoints, which the demo and
// manual tests use to change the organisation and switch faults on:
//
//	GET  /_sim/faults                 the fault switches now in force
//	PUT  /_sim/faults                 replace them (JSON Faults; {} turns all off)
//	POST /_sim/byok/{id}/validation   {"phase":"INVALID","message":"Access to key denied."}
//	PUT  /_sim/quotas/{code}          {"applied_limit": 100}
//	DELETE /_sim/service-accounts/{id}  remove a service account, keep its keys
//	DELETE /_sim/clusters/{id}        remove a Kafka cluster, keep its BYOK key IN_USE
//	GET  /_sim/requests               the list requests seen so far
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/_sim/")
	switch {
	case path == "faults" && r.Method == http.MethodGet:
		s.mu.Lock()
		f := s.faults
		s.mu.Unlock()
		writeJSON(w, f)
	case path == "faults" && r.Method == http.MethodPut:
		var f Faults
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			http.Error(w, "bad faults: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.SetFaults(f)
		writeJSON(w, f)
	case strings.HasPrefix(path, "byok/") && strings.HasSuffix(path, "/validation") && r.Method == http.MethodPost:
		id := strings.TrimSuffix(strings.TrimPrefix(path, "byok/"), "/validation")
		var v struct{ Phase, Message string }
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&v); err != nil || v.Phase == "" {
			http.Error(w, `want {"phase": "...", "message": "..."}`, http.StatusBadRequest)
			return
		}
		if !s.SetValidation(id, v.Phase, v.Message, time.Now()) {
			http.Error(w, "no BYOK key "+id, http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case strings.HasPrefix(path, "quotas/") && r.Method == http.MethodPut:
		var v struct {
			AppliedLimit *int `json:"applied_limit"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&v); err != nil || v.AppliedLimit == nil {
			http.Error(w, `want {"applied_limit": N}`, http.StatusBadRequest)
			return
		}
		found(w, s.SetQuotaLimit(strings.TrimPrefix(path, "quotas/"), *v.AppliedLimit), "quota")
	case strings.HasPrefix(path, "service-accounts/") && r.Method == http.MethodDelete:
		found(w, s.DeleteServiceAccount(strings.TrimPrefix(path, "service-accounts/")), "service account")
	case strings.HasPrefix(path, "clusters/") && r.Method == http.MethodDelete:
		found(w, s.DeleteKafkaCluster(strings.TrimPrefix(path, "clusters/")), "cluster")
	case path == "requests" && r.Method == http.MethodGet:
		writeJSON(w, s.Requests())
	default:
		http.Error(w, "unknown simulator endpoint", http.StatusNotFound)
	}
}

// found answers 204, or 404 naming what was not found.
func found(w http.ResponseWriter, ok bool, what string) {
	if !ok {
		http.Error(w, "no such "+what, http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
