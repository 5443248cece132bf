package supervisor

import (
	"context"
	"strconv"
	"time"

	"github.com/go-kit/log/level"
)

// idleIntervals is how many refresh intervals an organisation refreshed on
// probe keeps running after its last probe.
const idleIntervals = 3

// probed notes a probe of the organisation, starts it if it was not
// running, and waits until it has tried every list once, or ctx ends: a
// started organisation answers its first probe with data where it can.
func (o *organization) probed(ctx context.Context) {
	o.lastProbe.Store(time.Now().UnixNano())
	o.mu.Lock()
	if o.run.done == nil && !o.closed {
		level.Info(o.sup.opts.Logger).Log("msg", "Refreshing organization while it is probed", "organization", o.cfg.Name)
		o.startLocked(o.sup.ctx)
		go o.stopWhenIdle(o.run)
	}
	r := o.run
	o.mu.Unlock()
	select {
	case <-r.refresher.Attempted():
	case <-ctx.Done():
	}
}

// stopWhenIdle stops r once the organisation has not been probed for
// idleIntervals refresh intervals, and puts a new run, not started, in its
// place: the next probe starts afresh.
func (o *organization) stopWhenIdle(r *run) {
	t := time.NewTicker(o.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
		}
		if time.Since(time.Unix(0, o.lastProbe.Load())) < idleIntervals*o.cfg.Interval {
			continue
		}
		o.mu.Lock()
		if o.run != r || o.closed {
			o.mu.Unlock()
			return // Apply stops it
		}
		audit := o.audit
		o.audit = o.sup.newAuditReader(o.cfg) // a reader runs once; the next resumes from its state
		fresh, err := o.newRun()
		if err == nil {
			o.run = fresh
			o.sup.opts.Server.Serve(fresh.served)
		} else {
			// Not expected (the same configuration made a run before), and
			// then the organisation is not refreshed on probe any more
			// until a reload: say so.
			level.Error(o.sup.opts.Logger).Log("msg", "Cannot prepare the organization's next run; it will not be refreshed on probe until the configuration is reloaded",
				"organization", o.cfg.Name, "err", err)
		}
		o.mu.Unlock()
		r.cancel()
		<-r.done
		audit.stop()
		level.Info(o.sup.opts.Logger).Log("msg", "Stopped refreshing organization: not probed for "+strconv.Itoa(idleIntervals)+" refresh intervals",
			"organization", o.cfg.Name)
		return
	}
}
