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
//	PUT  /_sim/certificate-authorities/{id}/expiry  {"certificate":0,"expires_at":"2026-12-08T00:00:00Z"}
//	                                  a certificate of the authority's chain expires then
//	POST /_sim/audit-log/authentications  {"key_id":"...","result":"SUCCESS"|"FAILURE","service":"kafka"|"schema-registry"|"ksqldb"|"flink"}
//	                                  a client authenticates now (in the audit log)
//	PUT  /_sim/audit-log/revoked      {"revoked":true} the audit-log key is refused (false: accepted)
//	POST /_sim/audit-log/partitions   {"count":2} partitions are added to the topic, as Confluent may
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
	case strings.HasPrefix(path, "certificate-authorities/") && strings.HasSuffix(path, "/expiry") && r.Method == http.MethodPut:
		id := strings.TrimSuffix(strings.TrimPrefix(path, "certificate-authorities/"), "/expiry")
		var v struct {
			Certificate int       `json:"certificate"`
			ExpiresAt   time.Time `json:"expires_at"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&v); err != nil || v.ExpiresAt.IsZero() {
			http.Error(w, `want {"certificate": N, "expires_at": "RFC 3339 time"}`, http.StatusBadRequest)
			return
		}
		found(w, s.SetCertificateExpiry(id, v.Certificate, v.ExpiresAt), "certificate authority or certificate")
	case strings.HasPrefix(path, "audit-log/"):
		s.serveAuditLogAdmin(w, r, strings.TrimPrefix(path, "audit-log/"))
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

// serveAuditLogAdmin makes a key authenticate now, or revokes the audit-log
// key.
func (s *Server) serveAuditLogAdmin(w http.ResponseWriter, r *http.Request, path string) {
	s.mu.Lock()
	b := s.auditBroker
	s.mu.Unlock()
	if b == nil {
		http.Error(w, "the organisation's audit log is not running", http.StatusNotFound)
		return
	}
	switch {
	case path == "authentications" && r.Method == http.MethodPost:
		var v struct {
			KeyID   string `json:"key_id"`
			Result  string `json:"result"`
			Service string `json:"service"`
		}
		err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&v)
		_, known := services[v.Service]
		if err != nil || v.KeyID == "" || v.Result != "SUCCESS" && v.Result != "FAILURE" || v.Service != "" && v.Service != "kafka" && !known {
			http.Error(w, `want {"key_id": "...", "result": "SUCCESS" or "FAILURE", "service": "kafka", "schema-registry", "ksqldb" or "flink" (default: the key's)}`, http.StatusBadRequest)
			return
		}
		a := Authentication{Identifier: v.KeyID, Success: v.Result == "SUCCESS", Service: v.Service}
		for _, k := range s.APIKeys() {
			if k.ID == v.KeyID && k.Spec.Resource != nil {
				a.Resource, a.Environment = k.Spec.Resource.ID, environmentOf(k.Spec.Resource)
				if a.Service == "" {
					a.Service = serviceOf(k.Spec.Resource)
				}
				if k.Spec.Owner != nil {
					a.Owner = k.Spec.Owner.ID
				}
			}
		}
		a.Unknown = !a.Success && a.Resource == ""
		if err := b.Authenticate(r.Context(), a); err != nil {
			http.Error(w, "producing to the audit log: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case path == "partitions" && r.Method == http.MethodPost:
		var v struct {
			Count int `json:"count"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&v); err != nil || v.Count < 1 || v.Count > 100 {
			http.Error(w, `want {"count": 1..100}`, http.StatusBadRequest)
			return
		}
		if err := b.AddPartitions(r.Context(), v.Count); err != nil {
			http.Error(w, "adding partitions: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case path == "revoked" && r.Method == http.MethodPut:
		var v struct {
			Revoked *bool `json:"revoked"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&v); err != nil || v.Revoked == nil {
			http.Error(w, `want {"revoked": true or false}`, http.StatusBadRequest)
			return
		}
		b.SetRevoked(*v.Revoked)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "unknown simulator endpoint", http.StatusNotFound)
	}
}
