package bansosbot

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"unicode/utf8"
)

// Answers are the ready answers to common questions (payment stages and
// amounts, requirements, "bansos is free", where else to complain), per
// language, offered before an information request becomes a ticket; and
// the text that tells a citizen where to go when they disagree with a
// rejected or closed ticket. Operators keep them current without a
// release (config/answers.json).
type Answers struct {
	// Source says where the facts come from and when they were checked
	// (for the operator; never shown).
	Source string `json:"source,omitempty"`
	// Disagree, per language: where a citizen can turn when they disagree
	// with how a ticket ended (outside the Dinas Sosial: SP4N-LAPOR!, the
	// Ombudsman). Empty: nothing is added.
	Disagree map[string]string `json:"disagree,omitempty"`
	Items    []Answer          `json:"answers"`
}

// Answer is one ready answer.
type Answer struct {
	ID     string            `json:"id"`     // short, in button data: [a-z0-9_]{1,16}
	Titles map[string]string `json:"titles"` // the button, per language
	Texts  map[string]string `json:"texts"`  // the answer, per language (plain text; shown as is)
}

// Get returns the answer with the id.
func (as *Answers) Get(id string) (Answer, bool) {
	if as == nil {
		return Answer{}, false
	}
	for _, a := range as.Items {
		if a.ID == id {
			return a, true
		}
	}
	return Answer{}, false
}

// Limits of the answers file: a title is a button, a text one message.
const (
	AnswerTitleMax = 60
	AnswerTextMax  = 3000
)

var answerID = regexp.MustCompile(`^[a-z0-9_]{1,16}$`)

//go:embed config/answers.json
var defaultAnswers []byte

// DefaultAnswers returns the embedded config/answers.json.
func DefaultAnswers() *Answers {
	as, err := LoadAnswers(bytes.NewReader(defaultAnswers))
	if err != nil {
		panic("bansosbot: embedded answers are invalid: " + err.Error())
	}
	return as
}

// LoadAnswers reads and validates an answers file (JSON; see
// config/answers.json for the format): ids unique and short, a title and
// a text in every language, within the limits.
func LoadAnswers(r io.Reader) (*Answers, error) {
	var as Answers
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&as); err != nil {
		return nil, fmt.Errorf("answers: %w", err)
	}
	seen := map[string]bool{}
	for i, a := range as.Items {
		if !answerID.MatchString(a.ID) {
			return nil, fmt.Errorf("answers: entry %d: id %q must be 1-16 of a-z, 0-9, _", i+1, a.ID)
		}
		if seen[a.ID] {
			return nil, fmt.Errorf("answers: id %s appears twice", a.ID)
		}
		seen[a.ID] = true
		for _, l := range Languages {
			switch t, x := a.Titles[l], a.Texts[l]; {
			case t == "" || x == "":
				return nil, fmt.Errorf("answers: %s has no title or text in %q", a.ID, l)
			case utf8.RuneCountInString(t) > AnswerTitleMax:
				return nil, fmt.Errorf("answers: %s: the %q title is longer than %d characters", a.ID, l, AnswerTitleMax)
			case utf8.RuneCountInString(x) > AnswerTextMax:
				return nil, fmt.Errorf("answers: %s: the %q text is longer than %d characters", a.ID, l, AnswerTextMax)
			}
		}
	}
	if len(as.Disagree) > 0 {
		for _, l := range Languages {
			if d := as.Disagree[l]; d == "" || utf8.RuneCountInString(d) > AnswerTextMax {
				return nil, fmt.Errorf("answers: disagree needs a text in %q of at most %d characters", l, AnswerTextMax)
			}
		}
	}
	return &as, nil
}
