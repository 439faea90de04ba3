package flows

import (
	"strings"

	"github.com/bansosbot/bansosbot"
)

// Ready answers (issue 11 item 9): a category asking bansosbot.FieldAnswers
// (INFO_REQUEST) first offers the configured answers. A citizen whose
// question one of them answers leaves without a ticket; "I still want to
// ask an officer" goes on filing. The step is rsAnswers of reportMachine;
// the answer shown is reportDraft.Topic.

// Payloads of the answers step.
const (
	answerTopic = "t:"   // t:<id> shows an answer
	answerList  = "list" // back to the list of topics
	answerOK    = "ok"   // the answer helped: no ticket
	answerAsk   = "ask"  // still wants an officer: go on filing
	maxTopics   = 8      // answers shown as buttons
)

func (f report) promptAnswers(c *Conv, d *reportDraft) error {
	as := f.cat.answers
	if a, ok := as.Get(d.Topic); ok {
		c.Ask([]Msg{T("answers.answer", "Title", Localized(a.Titles), "Text", Localized(a.Texts))}, [][]Choice{
			{{T("answers.ok"), answerOK}},
			{{T("answers.still_ask"), answerAsk}},
			{{T("answers.other_topics"), answerList}},
			navRow()})
		return nil
	}
	rows := make([][]Choice, 0, len(as.Items)+2)
	for i, a := range as.Items {
		if i == maxTopics {
			break
		}
		rows = append(rows, []Choice{{T("answers.topic_button", "Title", Localized(a.Titles)), answerTopic + a.ID}})
	}
	rows = append(rows, []Choice{{T("answers.still_ask"), answerAsk}}, navRow())
	c.Ask([]Msg{T("answers.ask")}, rows)
	return nil
}

func (f report) handleAnswers(c *Conv, d *reportDraft) error {
	switch p := c.Payload; {
	case strings.HasPrefix(p, answerTopic):
		id := strings.TrimPrefix(p, answerTopic)
		if _, ok := f.cat.answers.Get(id); !ok {
			break
		}
		d.Topic = id
		if err := c.SaveDraft(d); err != nil {
			return err
		}
		c.AnswerCallback(Msg{}, false)
		return f.prompt(c, d)
	case p == answerList:
		d.Topic = ""
		if err := c.SaveDraft(d); err != nil {
			return err
		}
		c.AnswerCallback(Msg{}, false)
		return f.prompt(c, d)
	case p == answerOK:
		// Answered: nothing is filed and the draft goes.
		f.log.Info("ready answer accepted", "answer", d.Topic)
		c.End()
		c.AnswerCallback(Msg{}, false)
		c.Say(T("answers.thanks"))
		return f.menu.showMenu(c)
	case p == answerAsk:
		d.Topic = ""
		return f.advance(c, d)
	}
	f.explain(c)
	return f.prompt(c, d)
}

// disagreeMsg tells a citizen where to go when they disagree with how a
// ticket ended (rejected, closed); nil when not configured.
func (k *catalog) disagreeMsg() *Msg {
	if k.answers == nil || len(k.answers.Disagree) == 0 {
		return nil
	}
	m := T("answers.disagree", "Text", Localized(k.answers.Disagree))
	return &m
}

// endedMsgs appends the disagreement pointer to a message about a ticket
// that ended.
func (k *catalog) endedMsgs(text []Msg, t *bansosbot.Ticket) []Msg {
	if m := k.disagreeMsg(); m != nil && (t.Status == bansosbot.StatusRejected || t.Status == bansosbot.StatusClosed) {
		return append(text, *m)
	}
	return text
}
