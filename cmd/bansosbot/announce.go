package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/store"
)

const announceUsage = `Usage: bansosbot announce list | show ID | cancel ID

  list        the announcements, newest first: status, region, recipients and progress
  show ID     one announcement: its text, schedule, approval and delivery figures
  cancel ID   stop an announcement that has not finished (recipients already sent to keep it)

Supervisors and admins write announcements in the bot (/pengumuman); these
commands let an operator follow and stop them. Times are in BANSOSBOT_TZ.`

func announceFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("announce", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// runAnnounce lists, shows and cancels announcements.
func runAnnounce(ctx context.Context, cfg Config, db *store.DB, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(announceUsage)
	}
	fs := announceFlags()
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("announce: %w\n%s", err, announceUsage)
	}
	loc := cfg.Location()
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(loc).Format("2006-01-02 15:04 MST")
	}
	id := func() (uint64, error) {
		if fs.NArg() != 1 {
			return 0, fmt.Errorf("announce %s needs one announcement number\n%s", args[0], announceUsage)
		}
		n, err := strconv.ParseUint(fs.Arg(0), 10, 64)
		if err != nil || n == 0 {
			return 0, fmt.Errorf("announce %s: %q is not an announcement number (see bansosbot announce list)", args[0], fs.Arg(0))
		}
		return n, nil
	}
	switch args[0] {
	case "list":
		if fs.NArg() != 0 {
			return errors.New(announceUsage)
		}
		return db.View(func(tx *store.Tx) error {
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tREGION\tPROGRAM\tSEND AT\tRECIPIENTS\tQUEUED\tSENT\tFAILED\tBLOCKED")
			n := 0
			err := tx.Announcements(func(a *bansosbot.Announcement) bool {
				n++
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", a.ID, a.Status, regionLabel(a.Region), dash(a.Program),
					at(a.SendAt), a.Recipients, a.Queued, a.Sent, a.Failed, a.Blocked)
				return true
			})
			if n == 0 {
				fmt.Fprintln(tw, "(no announcements)")
			}
			if err != nil {
				return err
			}
			return tw.Flush()
		})
	case "show":
		n, err := id()
		if err != nil {
			return err
		}
		return db.View(func(tx *store.Tx) error {
			a, err := tx.Announcement(n)
			if err != nil {
				return fmt.Errorf("announce show: no announcement %d (see bansosbot announce list)", n)
			}
			fmt.Fprintf(stdout, "announcement %d: %s\nregion: %s  program: %s\nauthor: %d  approved by: %s\ncreated: %s  send at: %s  finished: %s\n",
				a.ID, a.Status, regionLabel(a.Region), dash(a.Program), a.Author, dash(idOrEmpty(a.ApprovedBy)), at(a.CreatedAt), at(a.SendAt), at(a.FinishedAt))
			fmt.Fprintf(stdout, "recipients: %d  queued: %d  sent: %d  failed: %d  blocked the bot: %d  unsubscribed from it: %d  used /cek or /lapor within 7 days: %d\n",
				a.Recipients, a.Queued, a.Sent, a.Failed, a.Blocked, a.Unsubscribed, a.Acted)
			for _, lang := range bansosbot.Languages {
				if t := a.Text[lang]; t != "" {
					fmt.Fprintf(stdout, "\ntext (%s):\n%s\n", lang, t)
				}
			}
			if a.PhotoID != "" {
				fmt.Fprintln(stdout, "\nwith a photo")
			}
			return nil
		})
	case "cancel":
		n, err := id()
		if err != nil {
			return err
		}
		return db.Update(func(tx *store.Tx) error {
			a, err := tx.Announcement(n)
			if err != nil {
				return fmt.Errorf("announce cancel: no announcement %d (see bansosbot announce list)", n)
			}
			if !a.Status.Active() {
				return fmt.Errorf("announce cancel: announcement %d is %s already; nothing to cancel", n, a.Status)
			}
			a.Status, a.FinishedAt = bansosbot.AnnCancelled, time.Now()
			if err := tx.PutAnnouncement(a); err != nil {
				return err
			}
			if err := tx.AppendAudit(&bansosbot.AuditEntry{At: time.Now(), Role: "operator", Action: "announce_control", Allowed: true,
				Reason: "c id=" + strconv.FormatUint(n, 10) + " (command line)"}); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "announcement %d cancelled after %d of %d recipients were queued\n", n, a.Queued, a.Recipients)
			return nil
		})
	}
	return fmt.Errorf("announce: unknown subcommand %q\n%s", args[0], announceUsage)
}

func regionLabel(r bansosbot.RegionCode) string {
	if r == "" {
		return "nasional"
	}
	return string(r)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func idOrEmpty(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
