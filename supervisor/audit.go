package supervisor

import (
	"context"
	"path/filepath"
	"sync"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/auditlog"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/config"
)

// auditReader is an organisation's audit-log reader and the goroutine
// that runs it. It outlives a restart of the organisation whose audit-log
// settings did not change (a reload that changes the refresh interval
// keeps it reading), and saves what it learnt when it stops.
type auditReader struct {
	reader *auditlog.Reader

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// newAuditReader returns the reader of c's audit log, nil without one.
// What it learns is kept in the organisation's file under storagePath
// ("": in memory only).
func (s *Supervisor) newAuditReader(c config.Organization) *auditReader {
	a := c.AuditLog
	if !a.Enabled() {
		return nil
	}
	var stateFile string
	if s.opts.StoragePath != "" {
		stateFile = filepath.Join(s.opts.StoragePath, "audit-log-"+c.Name+".json")
	}
	return &auditReader{reader: auditlog.NewReader(c.Name, auditlog.Config{
		Bootstrap: a.Bootstrap, APIKey: a.APIKey, Secret: a.Secret, Topic: a.Topic,
		Lookback: a.Lookback, TLS: a.TLS, RootCAs: a.RootCAs, StateFile: stateFile,
	}, s.opts.Logger)}
}

// start runs the reader until stop, or ctx ends; a running one goes on.
// A reader runs once: one stopped is replaced (its state file resumes it).
func (a *auditReader) start(ctx context.Context) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done != nil {
		return
	}
	ctx, a.cancel = context.WithCancel(ctx)
	a.done = make(chan struct{})
	go func() {
		defer close(a.done)
		a.reader.Run(ctx)
	}()
}

// stop ends the reader and waits until it has saved its state.
func (a *auditReader) stop() {
	if a == nil {
		return
	}
	a.mu.Lock()
	cancel, done := a.cancel, a.done
	a.mu.Unlock()
	if done == nil {
		return
	}
	cancel()
	<-done
}

// readerOf is the reader the organisation's collectors serve, nil without one.
func (a *auditReader) readerOf() *auditlog.Reader {
	if a == nil {
		return nil
	}
	return a.reader
}
