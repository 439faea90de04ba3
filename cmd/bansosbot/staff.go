package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/bansosbot/bansosbot/locales"
	"github.com/bansosbot/bansosbot/store"
)

const staffUsage = `Usage:
  bansosbot staff add --id TELEGRAM_ID --name NAME --role worker|supervisor|admin --region REGION[,REGION] [--update]
  bansosbot staff list
  bansosbot staff remove --id TELEGRAM_ID [--purge]
  bansosbot staff invite --role worker|supervisor|admin --region REGION[,REGION] [--ttl 72h]
  bansosbot staff invites
  bansosbot staff revoke CODE|ID

A REGION is a Kemendagri code prefix: 32 (province), 32.01 (kabupaten/kota),
32.01.05 (kecamatan); "nasional" is the whole nation (supervisors only); or
a name ("kab bogor", "jawa barat": bansosbot region find NAME shows codes).
add on an id that is staff already shows what would change and changes it
only with --update. remove deactivates (the audit log keeps the name);
--purge deletes the record. invite prints a one-time code; the person sends
/daftar CODE to the bot. invites lists the pending invitations; revoke
cancels one, by its code or the ID invites shows.`

// runStaff manages staff from the command line: add (or update), list,
// remove (deactivate), invite, invites, revoke. Every change is recorded
// in the audit log with actor 0 and role "cli".
func runStaff(ctx context.Context, cfg Config, db *store.DB, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("staff: missing subcommand\n%s", staffUsage)
	}
	fs, o := staffFlags(args[0])
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("staff %s: %w\n%s", args[0], err, staffUsage)
	}
	if fs.NArg() > 0 && args[0] != "revoke" {
		return fmt.Errorf("staff %s: unexpected %q\n%s", args[0], fs.Arg(0), staffUsage)
	}
	id, name, role, region, ttl, purge, update := o.id, o.name, o.role, o.region, o.ttl, o.purge, o.update
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
		return staffAdd(db, &bansosbot.Staff{UserID: *id, Name: strings.TrimSpace(*name), Role: r, Regions: regions, Active: true, CreatedAt: now}, *update, stdout)
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tREGIONS\tACTIVE\tSINCE")
		err := db.View(func(tx *store.Tx) error {
			return tx.AllStaff(func(s *bansosbot.Staff) bool {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%v\t%s\n", s.UserID, s.Name, s.Role, regionCodes(s.Regions), s.Active, s.CreatedAt.In(cfg.Location()).Format("2006-01-02"))
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
		inv := &bansosbot.Invite{CodeHash: bansosbot.HashInviteCode(cfg.key("invite"), code), Role: r, Regions: regions, CreatedAt: now, ExpiresAt: now.Add(*ttl)}
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
			bansosbot.FormatInviteCode(code), r, regionNames(regions), inv.ExpiresAt.In(cfg.Location()).Format(cliTime), bansosbot.FormatInviteCode(code))
		return nil
	case "invites":
		return staffInvites(cfg, db, stdout)
	case "revoke":
		if fs.NArg() != 1 {
			return fmt.Errorf("staff revoke: give the code or the ID shown by staff invites\n%s", staffUsage)
		}
		return staffRevoke(cfg, db, fs.Arg(0), stdout)
	}
	return fmt.Errorf("staff: unknown subcommand %q\n%s", args[0], staffUsage)
}

// staffOpts are the flags of the staff subcommands; each subcommand
// defines only its own (the others stay at their zero value).
type staffOpts struct {
	id                 *int64
	name, role, region *string
	ttl                *time.Duration
	purge, update      *bool
}

// staffFlags defines the flags of "staff SUB" (also for its help).
func staffFlags(sub string) (*flag.FlagSet, staffOpts) {
	fs := flag.NewFlagSet("staff "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := staffOpts{id: new(int64), name: new(string), role: new(string), region: new(string), ttl: new(time.Duration), purge: new(bool), update: new(bool)}
	switch sub {
	case "add":
		fs.Int64Var(o.id, "id", 0, "Telegram user id")
		fs.StringVar(o.name, "name", "", "name shown to other staff")
		fs.StringVar(o.role, "role", "", "worker, supervisor or admin")
		fs.StringVar(o.region, "region", "", "region codes or names, comma-separated")
		fs.BoolVar(o.update, "update", false, "change the record of someone who is staff already")
	case "remove":
		fs.Int64Var(o.id, "id", 0, "Telegram user id")
		fs.BoolVar(o.purge, "purge", false, "delete the record instead of deactivating it")
	case "invite":
		fs.StringVar(o.role, "role", "", "worker, supervisor or admin")
		fs.StringVar(o.region, "region", "", "region codes or names, comma-separated")
		fs.DurationVar(o.ttl, "ttl", 72*time.Hour, "how long the invitation stays valid")
	}
	return fs, o
}

// staffAdd stores a new staff member; one who is staff already is changed
// only with update, and what changes is shown either way (a mistyped id
// must not silently overwrite a colleague).
func staffAdd(db *store.DB, s *bansosbot.Staff, update bool, stdout io.Writer) error {
	var changes []string
	var old *bansosbot.Staff
	err := db.Update(func(tx *store.Tx) error {
		var err error
		if old, err = tx.Staff(s.UserID); err != nil {
			return err
		}
		if old != nil {
			s.CreatedAt, s.CreatedBy = old.CreatedAt, old.CreatedBy
			if changes = staffChanges(old, s); len(changes) == 0 || !update {
				return nil
			}
		}
		if err := tx.PutStaff(s); err != nil {
			return err
		}
		reason := string(s.Role)
		if old != nil {
			reason += " (update)"
		}
		return tx.AppendAudit(&bansosbot.AuditEntry{At: s.CreatedAt, Role: "cli", Action: bansosbot.AuditStaffAdd, Target: s.UserID, Allowed: true, Reason: reason})
	})
	switch {
	case err != nil:
		return fmt.Errorf("staff add: %w", err)
	case old == nil:
		fmt.Fprintf(stdout, "added %s (%d) as %s for %s\n", s.Name, s.UserID, s.Role, regionNames(s.Regions))
	case len(changes) == 0:
		fmt.Fprintf(stdout, "unchanged: %s (%d) is a %s for %s already\n", s.Name, s.UserID, s.Role, regionNames(s.Regions))
	case !update:
		return fmt.Errorf("staff add: %d is staff already (%s, %s for %s); nothing changed. This would change:\n  %s\nto change it: the same command with --update",
			s.UserID, old.Name, old.Role, regionCodes(old.Regions), strings.Join(changes, "\n  "))
	default:
		fmt.Fprintf(stdout, "updated %s (%d):\n  %s\n", s.Name, s.UserID, strings.Join(changes, "\n  "))
	}
	return nil
}

// staffChanges lists what differs between two records of a person.
func staffChanges(old, s *bansosbot.Staff) []string {
	var out []string
	if old.Name != s.Name {
		out = append(out, fmt.Sprintf("name: %q → %q", old.Name, s.Name))
	}
	if old.Role != s.Role {
		out = append(out, fmt.Sprintf("role: %s → %s", old.Role, s.Role))
	}
	if regionCodes(old.Regions) != regionCodes(s.Regions) {
		out = append(out, fmt.Sprintf("regions: %s → %s", regionCodes(old.Regions), regionCodes(s.Regions)))
	}
	if !old.Active {
		out = append(out, "active: false → true (reactivated)")
	}
	return out
}

// regionCodes lists region codes for a table ("nasional" for the nation).
func regionCodes(rs []bansosbot.RegionCode) string {
	codes := make([]string, len(rs))
	for i, r := range rs {
		codes[i] = string(r)
		if r == "" {
			codes[i] = "nasional"
		}
	}
	return strings.Join(codes, ",")
}

// inviteID is how staff invites names an invitation (the code itself is
// not stored): the start of its code hash.
func inviteID(inv *bansosbot.Invite) string {
	h := strings.TrimPrefix(inv.CodeHash, bansosbot.InviteHashPrefix)
	return h[:min(10, len(h))]
}

// staffInvites lists the pending invitations, oldest first.
func staffInvites(cfg Config, db *store.DB, stdout io.Writer) error {
	now := db.Now()
	var pending []*bansosbot.Invite
	err := db.View(func(tx *store.Tx) error {
		return tx.Invites(func(inv *bansosbot.Invite) bool {
			if inv.Check(now) == nil {
				pending = append(pending, inv)
			}
			return true
		})
	})
	if err != nil {
		return fmt.Errorf("staff invites: %w", err)
	}
	slices.SortFunc(pending, func(a, b *bansosbot.Invite) int { return a.CreatedAt.Compare(b.CreatedAt) })
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tREGIONS\tBY\tCREATED\tEXPIRES")
	loc := cfg.Location()
	for _, inv := range pending {
		by := "cli"
		if inv.CreatedBy != 0 {
			by = strconv.FormatInt(inv.CreatedBy, 10)
		}
		expires := inv.ExpiresAt.In(loc).Format(cliTime)
		if !inv.Keyed() {
			expires += " (made before keyed codes: cannot be redeemed; revoke it and invite again)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", inviteID(inv), inv.Role, regionCodes(inv.Regions), by,
			inv.CreatedAt.In(loc).Format(cliTime), expires)
	}
	if len(pending) == 0 {
		fmt.Fprintln(tw, "(no pending invitations)")
	}
	return tw.Flush()
}

// cliTime is how the command line prints times (in BANSOSBOT_TZ).
const cliTime = "2006-01-02 15:04 MST"

// staffRevoke cancels a pending invitation, given its code or the ID
// staff invites shows: it expires now (the code then answers "expired").
func staffRevoke(cfg Config, db *store.DB, arg string, stdout io.Writer) error {
	now := db.Now()
	var found *bansosbot.Invite
	err := db.Update(func(tx *store.Tx) error {
		if code, ok := bansosbot.NormalizeInviteCode(arg); ok {
			inv, err := tx.Invite(bansosbot.HashInviteCode(cfg.key("invite"), code))
			if err != nil {
				return err
			}
			found = inv
		} else if id := strings.ToLower(strings.TrimSpace(arg)); len(id) >= 6 {
			err := tx.Invites(func(inv *bansosbot.Invite) bool {
				if strings.HasPrefix(inviteID(inv), id) && inv.Check(now) == nil {
					found = inv
					return false
				}
				return true
			})
			if err != nil {
				return err
			}
		}
		if found == nil || found.Check(now) != nil {
			return nil
		}
		found.ExpiresAt = now
		if err := tx.PutInvite(found); err != nil {
			return err
		}
		return tx.AppendAudit(&bansosbot.AuditEntry{At: now, Role: "cli", Action: bansosbot.AuditRevoke, Allowed: true, Reason: string(found.Role)})
	})
	switch {
	case err != nil:
		return fmt.Errorf("staff revoke: %w", err)
	case found == nil:
		return fmt.Errorf("staff revoke: no invitation with code or ID %q (bansosbot staff invites lists the pending ones)", arg)
	case !found.ExpiresAt.Equal(now):
		why := "expired or revoked " + found.ExpiresAt.In(cfg.Location()).Format(cliTime)
		if found.UsedBy != 0 || !found.UsedAt.IsZero() {
			why = fmt.Sprintf("used by %d on %s", found.UsedBy, found.UsedAt.In(cfg.Location()).Format(cliTime))
		}
		return fmt.Errorf("staff revoke: the invitation %s is not pending any more: %s", inviteID(found), why)
	}
	fmt.Fprintf(stdout, "revoked the invitation %s for a %s of %s\n", inviteID(found), found.Role, regionNames(found.Regions))
	return nil
}

// assignment parses and validates --role and --region. A region may be
// given by name ("kab bogor"); a name that fits several is refused with
// the candidates and their codes.
func assignment(role, region string) (bansosbot.Role, []bansosbot.RegionCode, error) {
	r := bansosbot.Role(strings.ToLower(strings.TrimSpace(role)))
	if !r.Valid() {
		return "", nil, fmt.Errorf("--role %q is not a role: worker, supervisor or admin", role)
	}
	var regions []bansosbot.RegionCode
	for _, part := range strings.Split(region, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		c, err := resolveRegion(part)
		if err != nil {
			return "", nil, err
		}
		if !slices.Contains(regions, c) {
			regions = append(regions, c)
		}
	}
	if err := bansosbot.CheckAssignment(r, regions, bansosbot.DefaultRegions()); err != nil {
		return "", nil, errors.New(userText(err))
	}
	return r, regions, nil
}

// resolveRegion reads one --region item: a code, "nasional", or a name.
func resolveRegion(s string) (bansosbot.RegionCode, error) {
	return resolveRegionIn(bansosbot.DefaultRegions(), s)
}

// resolveRegionIn reads one --region item against rs: a code,
// "nasional" (""), or a name down to the kecamatan; a name that fits
// several regions is refused with the candidates and their codes. The
// --region of staff, report and tickets export read it alike.
func resolveRegionIn(rs *bansosbot.Regions, s string) (bansosbot.RegionCode, error) {
	s = strings.TrimSpace(s)
	if list, err := bansosbot.ParseRegionList(s); err == nil && len(list) == 1 {
		return list[0], nil
	}
	r, cands, ok := rs.Resolve(s, 3, 8)
	if ok {
		return r.Code, nil
	}
	if len(cands) == 0 {
		return "", fmt.Errorf("--region %q: neither a region code (32, 32.01, 32.01.05) nor a known name (bansosbot region find NAME)", s)
	}
	lines := make([]string, len(cands))
	for i, c := range cands {
		lines[i] = fmt.Sprintf("%-9s %s", c.Code, rs.DisplayName(c.Code))
	}
	return "", fmt.Errorf("--region %q fits several regions; give the code:\n  %s", s, strings.Join(lines, "\n  "))
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

const auditUsage = `Usage: bansosbot audit --ticket NUMBER | --staff TELEGRAM_ID [--out FILE]

Prints the audit log of a ticket, or of what a person did or tried, oldest
first, with times in BANSOSBOT_TZ. It never holds message text.`

func auditFlags() (fs *flag.FlagSet, ticket *string, staff *int64) {
	fs = flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs, fs.String("ticket", "", "ticket number, e.g. BS-7K3M9QX"), fs.Int64("staff", 0, "Telegram user id of the actor")
}

// runAudit prints the audit log of a ticket (--ticket BS-XXXXXXX) or of a
// person (--staff TELEGRAM_ID), oldest first.
func runAudit(ctx context.Context, cfg Config, db *store.DB, args []string, stdout io.Writer) error {
	fs, ticket, staff := auditFlags()
	if err := fs.Parse(args); err != nil || (*ticket == "") == (*staff == 0) || fs.NArg() > 0 {
		return errors.New(auditUsage)
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
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.In(cfg.Location()).Format("2006-01-02 15:04:05 MST"), e.Actor, e.Role, e.Action, no, target, result, e.Reason)
		}
		if len(entries) == 0 {
			fmt.Fprintln(tw, "(no entries)")
		}
		return tw.Flush()
	})
}
