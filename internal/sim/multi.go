package sim

import "net/http"

// Organizations serves several simulated organisations on one listener,
// told apart as Confluent Cloud tells them apart: by the API key of the
// request. A key none of them has goes to the first, which refuses it.
type Organizations []*Server

func (orgs Organizations) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, _, _ := r.BasicAuth()
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
