package flows

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bansosbot/bansosbot"
	"github.com/looplab/fsm"
)

// Names of the staff workspace's flows.
const (
	staffFlow   = "sf" // invitations and staff management
	workFlow    = "wk" // the queue and the actions on a ticket
	citizenFlow = "ct" // the citizen's side: answers, rating, "not solved"
)

// InviteTTL is how long an invitation made in the bot stays valid.
const InviteTTL = 72 * time.Hour

// registerStaff adds staff registration, the queue and ticket actions.
func (e *Engine) registerStaff() {
	e.addFlow(staffAdmin{staff: e.roster})
	e.addFlow(e.desk.flow)
	e.addFlow(citizenSide{cat: e.cat, routes: e.routes, sla: e.sla, menu: e.menu})
	e.addCommand(Command{ID: "register", Names: map[string]string{"id": "daftar", "en": "register"}, Desc: "cmd.register", Run: e.roster.register})
	e.addCommand(Command{ID: "queue", Names: map[string]string{"id": "antrian", "en": "queue"}, Desc: "cmd.queue", Staff: true,
		Run: func(c *Conv) error { return e.desk.showQueue(c, queueAll, 0, false) }})
	e.addCommand(Command{ID: "summary", Names: map[string]string{"id": "ringkasan", "en": "summary"}, Desc: "cmd.summary", Staff: true, Supervisors: true, Run: e.desk.summary})
	e.addCommand(Command{ID: "invite", Names: map[string]string{"id": "undang", "en": "invite"}, Desc: "cmd.invite", Staff: true,
		Run: func(c *Conv) error { return c.Start(staffFlow) }})
	e.addCommand(Command{ID: "staff", Names: map[string]string{"id": "petugas", "en": "staff"}, Desc: "cmd.staff", Staff: true, Run: e.roster.listStaff})
}

// roster keeps the staff records: registration with an invitation code,
// invitations, the staff list and deactivation.
type roster struct {
	admins       []int64 // configured admins (Config.Admins)
	inviteSecret []byte  // Config.InviteKey
	nikKey       []byte  // Config.NIKKey, from which the invitation keys are derived
	ticketKey    []byte  // Config.TicketKey, when there is no NIK key
	cat          *catalog
	menu         menu
}

// systemConv is a conversation of nobody, for work done outside an input
// (routing from another flow's helpers, cron jobs): notifications are
// collected in its replies and its audit entries have actor 0.
func (e *Engine) systemConv(tx Store, now time.Time) *Conv {
	return &Conv{e: e, Tx: tx, Now: now, Lang: bansosbot.Languages[0], Session: &bansosbot.Session{}}
}

// actorRole is the role recorded for the user in the audit log and in
// ticket history.
func (c *Conv) actorRole() string {
	switch {
	case c.In.UserID == 0:
		return RoleSystem
	case c.staff == nil:
		return RoleCitizen
	}
	return string(c.staff.Role)
}

// audit records an entry for the current user at the current time.
func (c *Conv) audit(a bansosbot.AuditEntry) error {
	a.At, a.Actor, a.Role = c.Now, c.In.UserID, c.actorRole()
	if c.staff != nil && !c.staff.Active {
		a.Role = "inactive_" + a.Role
	}
	return c.Tx.AppendAudit(&a)
}

// refuse records a refused attempt and answers politely; nothing else
// changes.
func (c *Conv) refuse(action string, ticketID uint64, reason string, msg Msg) error {
	c.watchRefusal(msg.Key)
	if err := c.audit(bansosbot.AuditEntry{Action: action, TicketID: ticketID, Reason: reason}); err != nil {
		return err
	}
	if c.In.Callback != nil && !c.answered {
		c.AnswerCallback(msg, true)
	} else { // a typed command, or a menu button already answered
		c.Say(msg)
	}
	return nil
}

func idStr(id uint64) string { return strconv.FormatUint(id, 10) }

// parseID reads a ticket or user id from a button payload.
func parseID(s string) (uint64, bool) {
	id, err := strconv.ParseUint(s, 10, 64)
	return id, err == nil && id > 0
}

func (k *catalog) categoryName(t *bansosbot.Ticket) Localized {
	cat, ok := k.categories.Get(t.Category)
	if !ok {
		return Localized{bansosbot.Languages[0]: t.Category}
	}
	return Localized(cat.Names)
}

func (k *catalog) regionName(r bansosbot.RegionCode) string {
	if r == "" {
		return "Indonesia"
	}
	return k.regions.DisplayName(r)
}

// staffName names a staff member for other staff.
func staffName(tx Store, id int64) (string, error) {
	s, err := tx.Staff(id)
	if err != nil || s == nil || s.Name == "" {
		return "#" + strconv.FormatInt(id, 10), err
	}
	return s.Name, nil
}

// regionList renders a staff member's regions.
func (k *catalog) regionList(rs []bansosbot.RegionCode) string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = k.regionName(r)
	}
	return strings.Join(names, "; ")
}

// ---- registration with an invitation code ----

// register links the sender's account to staff with an invitation code
// (/daftar CODE). Every attempt is audited; unknown, used and expired
// codes are refused, and attempts are rate limited against guessing.
func (ro *roster) register(c *Conv) error {
	ok, _, err := c.Tx.Allow("invite:"+strconv.FormatInt(c.In.UserID, 10), 5, time.Hour, c.Now)
	if err != nil {
		return err
	}
	if !ok {
		c.refused(LimitInvites)
		return c.refuse(bansosbot.AuditRegister, 0, "rate", T("staff.register_too_many"))
	}
	if strings.TrimSpace(c.In.Args) == "" {
		c.Say(T("staff.register_usage"))
		return nil
	}
	if slices.Contains(ro.admins, c.In.UserID) {
		// A stored record would take precedence over the configured admin role.
		return c.refuse(bansosbot.AuditRegister, 0, "config_admin", T("staff.register_admin"))
	}
	code, valid := bansosbot.NormalizeInviteCode(c.In.Args)
	var inv *bansosbot.Invite
	if valid {
		if inv, err = c.Tx.Invite(bansosbot.HashInviteCode(ro.inviteKey(), code)); err != nil {
			return err
		}
	}
	if inv == nil {
		return c.refuse(bansosbot.AuditRegister, 0, "unknown", T("staff.invite_unknown"))
	}
	if err := inv.Check(c.Now); err != nil {
		reason := "expired"
		if bansosbot.ErrorKey(err) == "staff.invite_used" {
			reason = "used"
		}
		return c.refuse(bansosbot.AuditRegister, 0, reason, T(bansosbot.ErrorKey(err)))
	}
	s := &bansosbot.Staff{UserID: c.In.UserID, Name: c.In.FirstName, Role: inv.Role, Regions: inv.Regions,
		Active: true, CreatedAt: c.Now, CreatedBy: inv.CreatedBy}
	if old, err := c.Tx.Staff(c.In.UserID); err != nil {
		return err
	} else if old != nil {
		s.CreatedAt = old.CreatedAt
	}
	if s.Name == "" {
		s.Name = "#" + strconv.FormatInt(c.In.UserID, 10)
	}
	if err := c.Tx.PutStaff(s); err != nil {
		return err
	}
	inv.UsedBy, inv.UsedAt = c.In.UserID, c.Now
	if err := c.Tx.PutInvite(inv); err != nil {
		return err
	}
	p := c.EnsureProfile()
	if p.Lang == "" {
		p.Lang = c.Lang
	}
	if err := c.Tx.PutProfile(p); err != nil {
		return err
	}
	c.staff = s
	if err := c.audit(bansosbot.AuditEntry{Action: bansosbot.AuditRegister, Target: inv.CreatedBy, Allowed: true}); err != nil {
		return err
	}
	c.End()
	c.Say(T("staff.registered", "Role", T("role."+string(s.Role)), "Regions", ro.cat.regionList(s.Regions)))
	if inv.CreatedBy != 0 && inv.CreatedBy != c.In.UserID {
		if err := c.Notify(inv.CreatedBy, Reply{Action: Send, Text: []Msg{T("staff.invite_redeemed",
			"Name", s.Name, "Role", T("role."+string(s.Role)))}}); err != nil {
			return err
		}
	}
	return ro.menu.showMenu(c)
}

// inviteKey keys the stored hashes of invitation codes: Config.InviteKey,
// or one derived from the NIK (or ticket) key.
func (ro *roster) inviteKey() []byte {
	if len(ro.inviteSecret) > 0 {
		return ro.inviteSecret
	}
	key := ro.nikKey
	if len(key) == 0 {
		key = ro.ticketKey
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("bansosbot invite hash"))
	return m.Sum(nil)
}

// inviteCode derives an invitation code from a secret key and the
// invitation's sequence number: unguessable without the key, and the same
// if the transaction runs twice.
func (ro *roster) inviteCode(seq uint64) (string, error) {
	key := ro.nikKey
	if len(key) == 0 {
		key = ro.ticketKey
	}
	if len(key) == 0 {
		return "", errors.New("flows: invitation codes need a secret key (NIKKey or TicketKey)")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("bansosbot invite code\x00" + strconv.FormatUint(seq, 10)))
	return bansosbot.NewInviteCode(bytes.NewReader(m.Sum(nil)))
}

// CreateInvite stores a new invitation made by staff member by (0 for the
// command line) and returns its code. A supervisor may invite only
// workers, within their own area; an admin anyone anywhere. Refusals are
// *Error EUnauthorized.
func (ro *roster) CreateInvite(tx Store, by *bansosbot.Staff, role bansosbot.Role, regions []bansosbot.RegionCode, ttl time.Duration, now time.Time) (string, *bansosbot.Invite, error) {
	if err := ro.checkInvite(by, role, regions); err != nil {
		return "", nil, err
	}
	seq, err := tx.NextInviteSeq()
	if err != nil {
		return "", nil, err
	}
	code, err := ro.inviteCode(seq)
	if err != nil {
		return "", nil, err
	}
	inv := &bansosbot.Invite{CodeHash: bansosbot.HashInviteCode(ro.inviteKey(), code), Role: role, Regions: regions,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if by != nil {
		inv.CreatedBy = by.UserID
	}
	return code, inv, tx.PutInvite(inv)
}

// checkInvite applies who may invite whom where.
func (ro *roster) checkInvite(by *bansosbot.Staff, role bansosbot.Role, regions []bansosbot.RegionCode) error {
	if err := bansosbot.CheckAssignment(role, regions, ro.cat.regions); err != nil {
		return err
	}
	if by == nil || by.Role == bansosbot.RoleAdmin {
		return nil
	}
	if by.Role != bansosbot.RoleSupervisor || role != bansosbot.RoleWorker {
		return bansosbot.Errorf(bansosbot.EUnauthorized, "staff.invite_not_allowed")
	}
	for _, r := range regions {
		if !by.Covers(r) {
			return bansosbot.Errorf(bansosbot.EUnauthorized, "staff.invite_outside")
		}
	}
	return nil
}

// staffAdmin is the invitation conversation (/undang): role, region,
// then the code.
type staffAdmin struct {
	staff *roster
}

var inviteMachine = NewMachine("invite", fsm.Events{
	{Name: "role_chosen", Src: []string{"role"}, Dst: "region"},
	{Name: "back", Src: []string{"region"}, Dst: "role"},
})

type inviteDraft struct {
	Role bansosbot.Role `json:"role"`
}

func (staffAdmin) Name() string { return staffFlow }

// free: the staff list's buttons (each press is authorized).
func (staffAdmin) free(string) bool { return true }

func (f staffAdmin) Start(c *Conv) error {
	s := c.Staff()
	if s == nil || (s.Role != bansosbot.RoleAdmin && s.Role != bansosbot.RoleSupervisor) {
		return c.refuse(bansosbot.AuditInvite, 0, "role", T("staff.invite_not_allowed"))
	}
	c.Begin(staffFlow, "role")
	if s.Role == bansosbot.RoleSupervisor { // supervisors invite workers only: the role is chosen for them
		if err := c.SaveDraft(inviteDraft{Role: bansosbot.RoleWorker}); err != nil {
			return err
		}
		if _, err := c.fire(inviteMachine, "role_chosen"); err != nil {
			return err
		}
	}
	return f.Prompt(c)
}

func (f staffAdmin) Prompt(c *Conv) error {
	var d inviteDraft
	if err := c.LoadDraft(&d); err != nil {
		return err
	}
	switch c.Session.State {
	case "deactivate": // resumed after a pause: start again from the list
		c.End()
		return f.staff.listStaff(c)
	case "role":
		c.Ask([]Msg{T("staff.invite_role")}, [][]Choice{
			{{T("role.worker"), string(bansosbot.RoleWorker)}, {T("role.supervisor"), string(bansosbot.RoleSupervisor)}},
			{{T("role.admin"), string(bansosbot.RoleAdmin)}, {T("general.cancel"), PayloadCancel}},
		})
		return nil
	}
	rows := [][]Choice{}
	s := c.Staff()
	if s != nil && s.Role == bansosbot.RoleSupervisor {
		for _, r := range s.Regions {
			if r != "" {
				rows = append(rows, []Choice{{T("staff.btn_region", "Region", f.staff.cat.regionName(r)), "r:" + string(r)}})
			}
		}
	}
	if d.Role == bansosbot.RoleSupervisor && s != nil && s.Role == bansosbot.RoleAdmin {
		rows = append(rows, []Choice{{T("staff.btn_national"), "r:"}})
	}
	last := []Choice{{T("general.cancel"), PayloadCancel}}
	if s != nil && s.Role == bansosbot.RoleAdmin {
		last = append([]Choice{{T("general.back"), PayloadBack}}, last...)
	}
	c.Ask([]Msg{T("staff.invite_region", "Role", T("role."+string(d.Role)))}, append(rows, last))
	return nil
}

func (f staffAdmin) Handle(c *Conv) error {
	if strings.HasPrefix(c.Payload, "d:") || strings.HasPrefix(c.Payload, "D:") {
		return f.staff.deactivate(c, c.Payload)
	}
	if c.Session.Flow != staffFlow { // a forged or old button of this flow
		c.AnswerCallback(T("general.button_stale"), false)
		return nil
	}
	var d inviteDraft
	if err := c.LoadDraft(&d); err != nil {
		return err
	}
	s := c.Staff()
	if s == nil {
		c.End()
		return c.refuse(bansosbot.AuditInvite, 0, "not_staff", T("staff.refused_not_staff"))
	}
	switch c.Session.State {
	case "role":
		role := bansosbot.Role(c.Payload)
		if !role.Valid() {
			return f.Prompt(c)
		}
		if _, err := c.fire(inviteMachine, "role_chosen"); err != nil {
			return err
		}
		c.AnswerCallback(Msg{}, false)
		d.Role = role
		if err := c.SaveDraft(d); err != nil {
			return err
		}
		if role == bansosbot.RoleAdmin {
			return f.create(c, s, d.Role, nil)
		}
		return f.Prompt(c)
	case "region":
		if c.Payload == PayloadBack && s.Role == bansosbot.RoleAdmin {
			if _, err := c.fire(inviteMachine, "back"); err != nil {
				return err
			}
			c.AnswerCallback(Msg{}, false)
			return f.Prompt(c)
		}
		var regions []bansosbot.RegionCode
		switch {
		case strings.HasPrefix(c.Payload, "r:"):
			regions = []bansosbot.RegionCode{bansosbot.RegionCode(c.Payload[2:])}
		case c.In.Callback == nil && c.In.Text != "":
			rs, err := bansosbot.ParseRegionList(c.In.Text)
			if err != nil {
				c.Say(T("staff.invite_bad_region"))
				return f.Prompt(c)
			}
			regions = rs
		default:
			return f.Prompt(c)
		}
		c.AnswerCallback(Msg{}, false)
		return f.create(c, s, d.Role, regions)
	}
	return f.Prompt(c)
}

func (f staffAdmin) create(c *Conv, s *bansosbot.Staff, role bansosbot.Role, regions []bansosbot.RegionCode) error {
	code, inv, err := f.staff.CreateInvite(c.Tx, s, role, regions, InviteTTL, c.Now)
	if key := bansosbot.ErrorKey(err); key != "" {
		if bansosbot.ErrorCode(err) == bansosbot.EUnauthorized {
			c.End()
			return c.refuse(bansosbot.AuditInvite, 0, "outside", T(key))
		}
		c.Say(T(key))
		return f.Prompt(c)
	}
	if err != nil {
		return err
	}
	if err := c.audit(bansosbot.AuditEntry{Action: bansosbot.AuditInvite, Allowed: true, Reason: string(role)}); err != nil {
		return err
	}
	c.End()
	c.Say(T("staff.invite_created", "Code", bansosbot.FormatInviteCode(code), "Role", T("role."+string(role)),
		"Regions", f.staff.cat.regionList(regions), "Expires", Time{T: inv.ExpiresAt, Loc: regionZone(regions)}))
	return nil
}

// regionZone is the time zone to show times of a staff member's area in.
func regionZone(rs []bansosbot.RegionCode) *time.Location {
	if len(rs) == 0 {
		return bansosbot.RegionCode("").TimeZone()
	}
	return rs[0].TimeZone()
}

// ---- staff management by admins ----

// listStaff shows the staff to an admin, each with a deactivate button
// (/petugas). Deactivation keeps the record for the audit log.
func (ro *roster) listStaff(c *Conv) error {
	s := c.Staff()
	if s == nil || s.Role != bansosbot.RoleAdmin {
		return c.refuse(bansosbot.AuditStaffLst, 0, "role", T("staff.admin_only"))
	}
	var all []*bansosbot.Staff
	if err := c.Tx.AllStaff(func(x *bansosbot.Staff) bool { all = append(all, x); return true }); err != nil {
		return err
	}
	slices.SortStableFunc(all, func(a, b *bansosbot.Staff) int {
		if a.Active != b.Active {
			if a.Active {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	lines := []Msg{T("staff.list_head", "Count", len(all))}
	var rows [][]Choice
	for _, x := range all {
		lines = append(lines, T("staff.list_line", "Name", x.Name, "UserID", strconv.FormatInt(x.UserID, 10),
			"Role", T("role."+string(x.Role)), "Regions", ro.cat.regionList(x.Regions), "Active", x.Active))
		if x.Active && x.UserID != s.UserID && len(rows) < 20 {
			rows = append(rows, []Choice{{T("staff.btn_deactivate", "Name", x.Name), "d:" + strconv.FormatInt(x.UserID, 10)}})
		}
	}
	if err := c.audit(bansosbot.AuditEntry{Action: bansosbot.AuditStaffLst, Allowed: true}); err != nil {
		return err
	}
	c.Reply(Reply{Action: Send, Text: lines, Buttons: Buttons(staffFlow, rows)})
	return nil
}

// deactivate handles the deactivate buttons of the staff list; the press
// is authorized again, then confirmed.
func (ro *roster) deactivate(c *Conv, payload string) error {
	verb, arg, _ := strings.Cut(payload, ":")
	uid, err := strconv.ParseInt(arg, 10, 64)
	s := c.Staff()
	switch {
	case s == nil || s.Role != bansosbot.RoleAdmin:
		return c.refuse(bansosbot.AuditStaffOff, 0, "role", T("staff.admin_only"))
	case err != nil || uid == 0:
		return c.refuse(bansosbot.AuditStaffOff, 0, "bad_id", T("staff.refused_staff_unknown"))
	}
	target, err := c.Tx.Staff(uid)
	if err != nil {
		return err
	}
	if target == nil || !target.Active || uid == s.UserID {
		return c.refuse(bansosbot.AuditStaffOff, 0, "bad_id", T("staff.refused_staff_unknown"))
	}
	if verb == "d" { // ask first
		c.Begin(staffFlow, "deactivate")
		c.AnswerCallback(Msg{}, false)
		c.Ask([]Msg{T("staff.deactivate_confirm", "Name", target.Name)}, [][]Choice{{
			{T("staff.btn_deactivate_yes"), "D:" + arg}, {T("general.cancel"), PayloadCancel},
		}})
		return nil
	}
	target.Active = false
	if err := c.Tx.PutStaff(target); err != nil {
		return err
	}
	if err := c.audit(bansosbot.AuditEntry{Action: bansosbot.AuditStaffOff, Target: uid, Allowed: true}); err != nil {
		return err
	}
	c.End()
	c.AnswerCallback(Msg{}, false)
	c.Say(T("staff.deactivated", "Name", target.Name))
	return nil
}
