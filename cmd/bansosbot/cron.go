package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedules of the jobs (robfig/cron with seconds disabled: minute hour
// dom month dow), in the default time zone.
const (
	scheduleMaintenance = "17 3 * * *" // daily at 03:17: dedup marks, expired counters
)

// startCron schedules the jobs. SkipIfStillRunning before Recover: the
// other order stops a job for good after one panic.
func (m *Main) startCron() {
	l := cron.PrintfLogger(slog.NewLogLogger(m.Log.With("component", "cron").Handler(), slog.LevelWarn))
	m.cron = cron.New(
		cron.WithLocation(m.Config.Location()),
		cron.WithChain(cron.SkipIfStillRunning(l), cron.Recover(l)),
		cron.WithLogger(l),
	)
	m.addJob(scheduleMaintenance, "maintenance", m.maintenance)
	m.cron.Start()
}

func (m *Main) addJob(spec, name string, fn func(ctx context.Context) error) {
	_, err := m.cron.AddFunc(spec, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if err := fn(ctx); err != nil {
			m.Log.Error("job failed", "job", name, "err", err)
		}
	})
	if err != nil {
		panic("bad cron spec for " + name + ": " + err.Error()) // a constant above is wrong
	}
}

// maintenance forgets what can no longer matter: dedup marks older than
// Telegram's 24-hour retention (with margin) and expired rate counters.
func (m *Main) maintenance(ctx context.Context) error {
	now := m.Now()
	marks, err := m.DB.PurgeProcessed(now.Add(-72 * time.Hour))
	if err != nil {
		return err
	}
	counters, err := m.DB.PurgeCounters(now)
	if err != nil {
		return err
	}
	m.Log.Info("maintenance done", "dedup_marks_removed", marks, "counters_removed", counters)
	return nil
}
