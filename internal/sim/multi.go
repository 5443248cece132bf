package sim

import (
	"net/http"
	"strings"
)

// Organizations serves several simulated organisations on one listener,
// told apart as Confluent Cloud tells them apart: by the API key of the
// request. A key none of them has goes to the first, which refuses it. The
// admin endpoints (/_sim/...) name the organisation by ?api_key=KEY, the
// first without it.
type Organizations []*Server

func (orgs Organizations) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, _, _ := r.BasicAuth()
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		key = r.URL.Query().Get("api_key")
	}
	for _, s := range orgs {
		s.mu.Lock()
		mine := s.cfg.APIKey == key
		s.mu.Unlock()
		if mine {
			s.ServeHTTP(w, r)
			return
		}
	}
	orgs[0].ServeHTTP(w, r)
}
