package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/bansosbot/bansosbot/bot"
	"github.com/bansosbot/bansosbot/clock"
	"github.com/bansosbot/bansosbot/flows"
	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/pgstore"
	"github.com/robfig/cron/v3"
)

// Schedules of the jobs (robfig/cron with seconds disabled: minute hour
// dom month dow), in the default time zone.
const (
	scheduleEscalation  = "* * * * *"   // every minute: service-level ladder
	scheduleDigest      = "*/5 * * * *" // every 5 minutes: each supervisor's 07:00 digest, once a day
	scheduleAutoClose   = "7 * * * *"   // hourly: close resolved tickets nobody rated
	scheduleMaintenance = "17 3 * * *"  // daily at 03:17: dedup marks, expired counters and invitations
	scheduleRetention   = "47 3 * * *"  // daily at 03:47: personal data past BANSOSBOT_RETENTION (ops.go)
	scheduleAnnounce    = "@every 1s"   // keep announcements flowing with the capacity replies leave
	// Backups run on BANSOSBOT_BACKUP_CRON (ops.go).
)

// startCron schedules the jobs. SkipIfStillRunning before Recover: the
// other order stops a job for good after one panic.
func (m *Main) startCron() {
	m.jobs, m.stopJobs = context.WithCancel(context.Background())
	l := cron.PrintfLogger(slog.NewLogLogger(m.Log.With("component", "cron").Handler(), slog.LevelWarn))
	m.cron = cron.New(
		cron.WithLocation(m.Config.Location()),
		cron.WithChain(cron.SkipIfStillRunning(l), cron.Recover(l)),
		cron.WithLogger(l),
	)
	m.addJob(scheduleEscalation, "escalation", m.escalate)
	m.addJob(scheduleDigest, "digest", func(ctx context.Context) error {
		return m.Server.RunJob(ctx, "digest", func(tx bot.Tx) (flows.Outcome, error) { return m.Engine.Digest(ctx, tx, m.Now()) })
	})
	m.addJob(scheduleAutoClose, "auto-close", func(ctx context.Context) error {
		return m.Server.RunJob(ctx, "auto-close", func(tx bot.Tx) (flows.Outcome, error) { return m.Engine.AutoClose(tx, m.Now()) })
	})
	m.addJob(scheduleAnnounce, "announce", m.announce)
	m.addJob(scheduleMaintenance, "maintenance", m.maintenance)
	m.addJob(scheduleRetention, "retention", m.retentionJob)
	if spec := m.Config.backupSchedule(); spec != "" { // validated with the configuration
		m.addJob(spec, "backup", m.backupJob)
	}
	m.cron.Start()
}

func (m *Main) addJob(spec, name string, fn func(ctx context.Context) error) {
	if _, err := m.cron.AddFunc(spec, m.job(name, fn)); err != nil {
		panic("bad cron spec for " + name + ": " + err.Error()) // a constant above is wrong
	}
}

// job is one run of a scheduled job: at most 10 minutes, and cancelled
// when the program stops (Close waits for running jobs).
func (m *Main) job(name string, fn func(ctx context.Context) error) func() {
	return func() {
		if !m.Server.RunsJobs() {
			return // another replica on this database runs the jobs (its "cron" lease)
		}
		ctx, cancel := context.WithTimeout(m.jobs, 10*time.Minute)
		defer cancel()
		err := fn(ctx)
		switch {
		case errors.Is(err, store.ErrLeaseLost):
			m.Log.Info("job stopped: another replica runs the jobs now", "job", name)
		case err != nil && m.jobs.Err() != nil:
			m.Log.Info("job stopped: the program is stopping", "job", name, "err", err)
		case err != nil:
			m.Log.Error("job failed", "job", name, "err", err)
		}
	}
}

// announceWindowFor is how many announcement messages may wait in the
// outbox at once for a global limit of perSecond messages (0: Telegram's
// 30): 4/3 s of sending, so that a reply queued behind them waits at most
// that long, and the sender never runs dry between two runs of the job
// (every second).
func announceWindowFor(perSecond int) int {
	if perSecond <= 0 {
		perSecond = 30
	}
	return perSecond * 4 / 3
}

// announce tops the outbox up with the recipients of due announcements
// (Engine.Announce queues each once, in the same transaction).
func (m *Main) announce(ctx context.Context) error {
	var due bool
	if err := m.DB.View(func(tx *store.Tx) (err error) { due, err = flows.AnnouncementDue(tx, m.Now()); return err }); err != nil || !due {
		return err
	}
	waiting, err := m.DB.OutboxAnnounced()
	if err != nil || waiting >= m.announceWindow {
		return err
	}
	return m.Server.RunJob(ctx, "announce", func(tx bot.Tx) (flows.Outcome, error) {
		return m.Engine.Announce(ctx, tx, m.Now(), m.announceWindow-waiting)
	})
}

// escalate runs the escalation policy over the due tickets, in
// transactions of at most 200 tickets, until none is due: each step fires
// once, with its notifications queued in the same transaction.
func (m *Main) escalate(ctx context.Context) error {
	now := m.Now()
	const maxTries = 10
	tries := 0
	for ctx.Err() == nil {
		more := false
		err := m.Server.RunJob(ctx, "escalation", func(tx bot.Tx) (flows.Outcome, error) {
			o, moreDue, err := m.Engine.Escalate(ctx, tx, now, 200)
			more = moreDue
			return o, err
		})
		if pgstore.Retryable(err) && tries < maxTries {
			// PostgreSQL: busy replicas' updates kept conflicting with
			// this long transaction (pgstore already ran it again many
			// times); wait a little and run it again, nothing was written.
			tries++
			m.Log.Info("escalation: conflicting transactions; trying again", "try", tries)
			if !clock.Sleep(ctx, clock.Real, time.Duration(tries)*200*time.Millisecond) {
				return ctx.Err()
			}
			continue
		}
		if err != nil || !more {
			return err
		}
	}
	return ctx.Err()
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
	invites, err := m.DB.PurgeInvites(now.Add(-30 * 24 * time.Hour))
	if err != nil {
		return err
	}
	m.Log.Info("maintenance done", "dedup_marks_removed", marks, "counters_removed", counters, "invitations_removed", invites)
	m.sweepTemporaries(sweepMargin)
	return nil
}
