package flows

import (
	"github.com/bansosbot/bansosbot"
	"github.com/looplab/fsm"
)

// Names of the basic flows.
const (
	consentFlow  = "cs"
	languageFlow = "lg"
	menuFlow     = "mn"
	privacyFlow  = "pv"
)

func (e *Engine) registerBasics() {
	pv := privacy{cat: e.cat, log: e.cfg.Log}
	e.addFlow(consent{menu: e.menu, notice: privacyNotice{controller: e.cfg.Controller, retention: e.cfg.Retention}})
	e.addFlow(languageChoice{menu: e.menu})
	e.addFlow(e.menu)
	e.addFlow(pv)
	e.addCommand(Command{ID: "start", Names: map[string]string{"id": "start"}, Desc: "cmd.start", Run: e.menu.startCommand})
	e.addCommand(Command{ID: "menu", Names: map[string]string{"id": "menu"}, Desc: "cmd.menu", Consent: true, Run: e.menu.showMenu})
	e.addCommand(Command{ID: "help", Names: map[string]string{"id": "bantuan", "en": "help"}, Desc: "cmd.help", Run: help})
	e.addCommand(Command{ID: "language", Names: map[string]string{"id": "bahasa", "en": "language"}, Desc: "cmd.language",
		Run: func(c *Conv) error { return c.Start(languageFlow) }})
	e.addCommand(Command{ID: "cancel", Names: map[string]string{"id": "batal", "en": "cancel"}, Desc: "cmd.cancel", Run: e.cancel})
	e.addCommand(Command{ID: "mydata", Names: map[string]string{"id": "datasaya", "en": "mydata"}, Desc: "cmd.mydata", Run: pv.showMyData})
	e.addCommand(Command{ID: "deletedata", Names: map[string]string{"id": "hapusdata", "en": "deletedata"}, Desc: "cmd.deletedata",
		Run: func(c *Conv) error { return c.Start(privacyFlow) }})
}

// startCommand greets: the privacy notice for a new user, the menu for one
// who already agreed.
func (m menu) startCommand(c *Conv) error {
	if !c.Consented() && !c.IsStaff() {
		return c.Start(consentFlow)
	}
	c.park(menuFlow) // /start in the middle of /lapor keeps the complaint
	c.End()
	c.Say(T("start.welcome_back"))
	return m.showMenu(c)
}

// consent shows the privacy notice (UU PDP: who controls the data, what
// for, who sees it, how long, the rights) and records the answer with the
// notice's version. The notice offers the other language: the language
// chosen there is the citizen's language, never asked again. A citizen who
// declined is remembered by a session without any personal data (state
// "declined", the language; removed with the other idle drafts): when
// they come back they are asked to agree with one button, not shown the
// whole notice again.
type consent struct {
	menu   menu
	notice privacyNotice
}

var consentMachine = NewMachine("consent", fsm.Events{
	{Name: "agree", Src: []string{"notice", "declined"}, Dst: "agreed"},
	{Name: "decline", Src: []string{"notice"}, Dst: "declined"},
	{Name: "switch_language", Src: []string{"notice"}, Dst: "notice"},
	{Name: "read", Src: []string{"declined"}, Dst: "notice"},
})

type consentDraft struct {
	Lang string `json:"lang,omitempty"`
}

func (consent) Name() string { return consentFlow }

func (f consent) Start(c *Conv) error {
	if c.Session.Flow == consentFlow && c.Session.State == "declined" {
		return f.Prompt(c) // the short "agree first", with the same draft (language)
	}
	c.Begin(consentFlow, "notice")
	return f.Prompt(c)
}

func (f consent) Prompt(c *Conv) error {
	var d consentDraft
	if err := c.LoadDraft(&d); err != nil {
		return err
	}
	if d.Lang != "" {
		c.Lang = d.Lang
	}
	if c.Session.State == "declined" {
		c.Ask([]Msg{T("consent.agree_first")}, [][]Choice{
			{{T("consent.agree"), "yes"}},
			{{T("consent.read_notice"), "read"}},
		})
		return nil
	}
	other := "en"
	if c.Lang == "en" {
		other = "id"
	}
	c.Ask([]Msg{f.notice.notice()}, [][]Choice{
		{{T("consent.agree"), "yes"}, {T("consent.decline"), "no"}},
		{{T("lang.switch_to_" + other), "lang:" + other}},
	})
	return nil
}

func (f consent) Handle(c *Conv) error {
	var d consentDraft
	if err := c.LoadDraft(&d); err != nil {
		return err
	}
	if d.Lang != "" {
		c.Lang = d.Lang
	}
	event := ""
	switch c.Payload {
	case "yes":
		event = "agree"
	case "no":
		event = "decline"
	case "read":
		event = "read"
	case "lang:id", "lang:en":
		event = "switch_language"
	}
	if event == "" || !consentMachine.Can(c.Session.State, event) {
		// text or media while the notice waits for an answer
		return f.Prompt(c)
	}
	next, err := c.fire(consentMachine, event)
	if err != nil {
		return err
	}
	switch next {
	case "agreed":
		p := c.EnsureProfile()
		p.Lang = c.Lang
		p.ConsentVersion, p.ConsentAt = bansosbot.ConsentVersion, c.Now
		if err := c.Tx.PutProfile(p); err != nil {
			return err
		}
		c.End()
		c.AnswerCallback(T("consent.recorded"), false)
		// The notice's language is the citizen's choice: not asked again
		// (/bahasa changes it).
		c.Say(T("consent.thanks"), T("consent.language_hint"))
		return f.menu.showMenu(c)
	case "declined":
		if c.Profile != nil { // a profile of an older notice's consent goes
			if err := c.Tx.DeleteProfile(c.In.UserID); err != nil {
				return err
			}
			c.Profile = nil
		}
		c.Say(T("consent.declined"))
		return nil
	case "notice":
		if event == "switch_language" {
			d.Lang = c.Payload[len("lang:"):]
			if err := c.SaveDraft(d); err != nil {
				return err
			}
			c.Lang = d.Lang
		}
		return f.Prompt(c)
	}
	return f.Prompt(c)
}

// languageChoice lets the user pick Indonesian or English.
type languageChoice struct {
	menu menu
}

func (languageChoice) Name() string { return languageFlow }

func (f languageChoice) Start(c *Conv) error {
	c.Begin(languageFlow, "choose")
	return f.Prompt(c)
}

func (languageChoice) Prompt(c *Conv) error {
	c.Ask([]Msg{T("lang.choose")}, [][]Choice{{
		{T("lang.name_id"), "id"}, {T("lang.name_en"), "en"},
	}})
	return nil
}

func (f languageChoice) Handle(c *Conv) error {
	if c.Payload != "id" && c.Payload != "en" {
		return f.Prompt(c)
	}
	c.Lang = c.Payload
	if c.Consented() || c.IsStaff() {
		p := c.EnsureProfile()
		p.Lang = c.Lang
		if err := c.Tx.PutProfile(p); err != nil {
			return err
		}
	}
	c.End()
	c.AnswerCallback(Msg{}, false)
	c.Say(T("lang.set"))
	return f.menu.showMenu(c)
}

// menu is the main menu; its buttons run commands by id. Every flow that
// ends by showing it holds it.
type menu struct {
	cmds *[]Command // the engine's commands, in the order registered
}

func (menu) Name() string { return menuFlow }

// free: every menu button (Handle answers those the user may not use).
func (menu) free(string) bool { return true }

func (f menu) Start(c *Conv) error { return f.showMenu(c) }

func (f menu) Prompt(c *Conv) error { return f.showMenu(c) }

func (f menu) Handle(c *Conv) error {
	for _, item := range f.menuItems(c) {
		if item.Payload == c.Payload {
			c.AnswerCallback(Msg{}, false)
			return c.RunCommand(c.Payload)
		}
	}
	c.AnswerCallback(T("general.button_unknown"), false)
	return nil
}

// menuItems are the main menu's buttons the user may use: the commands
// registered by the features, in this order, when present.
func (m menu) menuItems(c *Conv) []Choice {
	var items []Choice
	for _, id := range []string{"check", "report", "tickets", "subscribe", "queue", "summary", "chart", "announce", "help", "language"} {
		for _, cmd := range *m.cmds {
			if cmd.ID == id && (!cmd.Staff || c.IsStaff()) && (!cmd.Supervisors || c.IsStaff() && c.Staff().Role != bansosbot.RoleWorker) {
				items = append(items, Choice{T("menu." + id), id})
			}
		}
	}
	return items
}

func (m menu) showMenu(c *Conv) error {
	items := m.menuItems(c)
	rows := make([][]Choice, 0, (len(items)+1)/2)
	for i := 0; i < len(items); i += 2 {
		rows = append(rows, items[i:min(i+2, len(items))])
	}
	c.Reply(Reply{Action: Send, Text: []Msg{T("menu.title")}, Buttons: Buttons(menuFlow, rows)})
	return nil
}

func help(c *Conv) error {
	c.Say(T("help.text"))
	return nil
}
