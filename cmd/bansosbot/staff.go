package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/locales"
	"github.com/bansosbot/bansosbot/store"
)

const staffUsage = `Usage:
  bansosbot staff add --id TELEGRAM_ID --name NAME --role worker|supervisor|admin --region CODE[,CODE]
  bansosbot staff list
  bansosbot staff remove --id TELEGRAM_ID [--purge]
  bansosbot staff invite --role worker|supervisor|admin --region CODE[,CODE] [--ttl 72h]

Region codes are Kemendagri prefixes: 32 (province), 32.01 (kabupaten/kota),
32.01.05 (kecamatan); "nasional" is the whole nation (supervisors only).
remove deactivates (the audit log keeps the name); --purge deletes the record.
invite prints a one-time code; the person sends /daftar CODE to the bot.`

// runStaff manages staff from the command line: add, list, remove
// (deactivate), invite. Every change is recorded in the audit log with
// actor 0 and role "cli".
func runStaff(ctx context.Context, db *store.DB, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("staff: missing subcommand\n%s", staffUsage)
	}
	fs := flag.NewFlagSet("staff "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	id := fs.Int64("id", 0, "Telegram user id")
	name := fs.String("name", "", "name shown to other staff")
	role := fs.String("role", "", "worker, supervisor or admin")
	region := fs.String("region", "", "region codes, comma-separated")
	ttl := fs.Duration("ttl", 72*time.Hour, "how long an invitation stays valid")
	purge := fs.Bool("purge", false, "delete the record instead of deactivating it")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("staff %s: %w\n%s", args[0], err, staffUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("staff %s: unexpected %q\n%s", args[0], fs.Arg(0), staffUsage)
	}
	now := db.Now()
	switch args[0] {
	case "add":
		if *id <= 0 || strings.TrimSpace(*name) == "" {
			return errors.New("staff add: --id and --name are required")
		}
		r, regions, err := assignment(*role, *region)
		if err != nil {
			return fmt.Errorf("staff add: %w", err)
		}
		s := &bansosbot.Staff{UserID: *id, Name: strings.TrimSpace(*name), Role: r, Regions: regions, Active: true, CreatedAt: now}
		err = db.Update(func(tx *store.Tx) error {
			if old, err := tx.Staff(*id); err != nil {
				return err
			} else if old != nil {
				s.CreatedAt, s.CreatedBy = old.CreatedAt, old.CreatedBy
			}
			if err := tx.PutStaff(s); err != nil {
				return err
			}
			return tx.AppendAudit(&bansosbot.AuditEntry{At: now, Role: "cli", Action: bansosbot.AuditStaffAdd, Target: *id, Allowed: true, Reason: string(r)})
		})
		if err != nil {
			return fmt.Errorf("staff add: %w", err)
		}
		fmt.Fprintf(stdout, "added %s (%d) as %s for %s\n", s.Name, s.UserID, s.Role, regionNames(regions))
		return nil
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tREGIONS\tACTIVE\tSINCE")
		err := db.View(func(tx *store.Tx) error {
			return tx.AllStaff(func(s *bansosbot.Staff) bool {
				codes := make([]string, len(s.Regions))
				for i, r := range s.Regions {
					codes[i] = string(r)
					if r == "" {
						codes[i] = "nasional"
					}
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%v\t%s\n", s.UserID, s.Name, s.Role, strings.Join(codes, ","), s.Active, s.CreatedAt.Format("2006-01-02"))
				return true
			})
		})
		if err != nil {
			return fmt.Errorf("staff list: %w", err)
		}
		return tw.Flush()
	case "remove":
		if *id <= 0 {
			return errors.New("staff remove: --id is required")
		}
		var s *bansosbot.Staff
		err := db.Update(func(tx *store.Tx) error {
			var err error
			if s, err = tx.Staff(*id); err != nil || s == nil {
				return err
			}
			if *purge {
				err = tx.DeleteStaff(*id)
			} else {
				s.Active = false
				err = tx.PutStaff(s)
			}
			if err != nil {
				return err
			}
			return tx.AppendAudit(&bansosbot.AuditEntry{At: now, Role: "cli", Action: bansosbot.AuditStaffOff, Target: *id, Allowed: true})
		})
		if err != nil {
			return fmt.Errorf("staff remove: %w", err)
		}
		if s == nil {
			return fmt.Errorf("staff remove: no staff member with id %d", *id)
		}
		what := "deactivated"
		if *purge {
			what = "deleted"
		}
		fmt.Fprintf(stdout, "%s %s (%d)\n", what, s.Name, s.UserID)
		return nil
	case "invite":
		r, regions, err := assignment(*role, *region)
		if err != nil {
			return fmt.Errorf("staff invite: %w", err)
		}
		if *ttl <= 0 {
			return errors.New("staff invite: --ttl must be positive")
		}
		code, err := bansosbot.NewInviteCode(rand.Reader)
		if err != nil {
			return err
		}
		inv := &bansosbot.Invite{CodeHash: bansosbot.HashInviteCode(code), Role: r, Regions: regions, CreatedAt: now, ExpiresAt: now.Add(*ttl)}
		err = db.Update(func(tx *store.Tx) error {
			if err := tx.PutInvite(inv); err != nil {
				return err
			}
			return tx.AppendAudit(&bansosbot.AuditEntry{At: now, Role: "cli", Action: bansosbot.AuditInvite, Allowed: true, Reason: string(r)})
		})
		if err != nil {
			return fmt.Errorf("staff invite: %w", err)
		}
		fmt.Fprintf(stdout, "%s\n\none-time code for a %s of %s, valid until %s.\nThe person sends /daftar %s to the bot.\n",
			bansosbot.FormatInviteCode(code), r, regionNames(regions), inv.ExpiresAt.Format(time.RFC3339), bansosbot.FormatInviteCode(code))
		return nil
	}
	return fmt.Errorf("staff: unknown subcommand %q\n%s", args[0], staffUsage)
}

// assignment parses and validates --role and --region.
func assignment(role, region string) (bansosbot.Role, []bansosbot.RegionCode, error) {
	r := bansosbot.Role(strings.ToLower(strings.TrimSpace(role)))
	var regions []bansosbot.RegionCode
	if strings.TrimSpace(region) != "" {
		var err error
		if regions, err = bansosbot.ParseRegionList(region); err != nil {
			return "", nil, fmt.Errorf("--region %q: %s", region, userText(err))
		}
	}
	if err := bansosbot.CheckAssignment(r, regions, bansosbot.DefaultRegions()); err != nil {
		return "", nil, errors.New(userText(err))
	}
	return r, regions, nil
}

var tags = regexp.MustCompile(`<[^>]+>`)

// userText is the English catalog text of a *bansosbot.Error, without
// Telegram's HTML.
func userText(err error) string {
	key := bansosbot.ErrorKey(err)
	if key == "" {
		return err.Error()
	}
	return tags.ReplaceAllString(locales.MustDefault().Text("en", key, nil), "")
}

func regionNames(rs []bansosbot.RegionCode) string {
	if len(rs) == 0 {
		return "everywhere"
	}
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = "Indonesia"
		if r != "" {
			names[i] = bansosbot.DefaultRegions().DisplayName(r) + " (" + string(r) + ")"
		}
	}
	return strings.Join(names, "; ")
}

// runAudit prints the audit log of a ticket (--ticket BS-XXXXXXX) or of a
// person (--staff TELEGRAM_ID), oldest first.
func runAudit(ctx context.Context, db *store.DB, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	ticket := fs.String("ticket", "", "ticket number, e.g. BS-7K3M9QX")
	staff := fs.Int64("staff", 0, "Telegram user id of the actor")
	if err := fs.Parse(args); err != nil || (*ticket == "") == (*staff == 0) || fs.NArg() > 0 {
		return errors.New("usage: bansosbot audit --ticket NUMBER | --staff TELEGRAM_ID")
	}
	return db.View(func(tx *store.Tx) error {
		var entries []bansosbot.AuditEntry
		if *ticket != "" {
			no, err := bansosbot.ParseTicketNo(*ticket)
			if err != nil {
				return fmt.Errorf("audit: %q is not a ticket number", *ticket)
			}
			t, err := tx.TicketByNo(no)
			if err != nil {
				return fmt.Errorf("audit: ticket %s not found", no)
			}
			if entries, err = tx.AuditByTicket(t.ID); err != nil {
				return err
			}
		} else {
			var err error
			if entries, err = tx.AuditByStaff(*staff); err != nil {
				return err
			}
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tACTOR\tROLE\tACTION\tTICKET\tTARGET\tRESULT\tREASON")
		names := map[uint64]string{}
		for _, e := range entries {
			no := ""
			if e.TicketID != 0 {
				if _, ok := names[e.TicketID]; !ok {
					names[e.TicketID] = "#" + strconv.FormatUint(e.TicketID, 10) // a forged id names no ticket
					if t, err := tx.Ticket(e.TicketID); err == nil {
						names[e.TicketID] = string(t.No)
					}
				}
				no = names[e.TicketID]
			}
			target, result := "", "refused"
			if e.Target != 0 {
				target = strconv.FormatInt(e.Target, 10)
			}
			if e.Allowed {
				result = "allowed"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format(time.RFC3339), e.Actor, e.Role, e.Action, no, target, result, e.Reason)
		}
		if len(entries) == 0 {
			fmt.Fprintln(tw, "(no entries)")
		}
		return tw.Flush()
	})
}
