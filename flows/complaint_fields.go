package flows

import "github.com/bansosbot/bansosbot"

// Texts of the categories with their own prompt (Category.Prompt): usul,
// sanggah and PBI-JK reactivation. Each is a switch over the known
// prompts (bansosbot.Prompts), so that the locale test sees every key.

// categoryIntro says, when the category is chosen, what the bot can and
// cannot do for it; nil for the general categories.
func categoryIntro(cat *bansosbot.Category) *Msg {
	var m Msg
	switch cat.Prompt {
	case "pbi":
		m = T("pbi.intro")
	default:
		return nil
	}
	return &m
}

// descriptionPrompt is the description question of the draft's category.
func descriptionPrompt(d *reportDraft, lo, hi int) Msg {
	prompt := ""
	if d.cat != nil {
		prompt = d.cat.Prompt
	}
	switch prompt {
	case "pbi":
		return T("pbi.ask_description", "Min", lo, "Max", hi)
	}
	return T("complaint.ask_description", "Min", lo, "Max", hi)
}

// afterFiling says what happens next, after the ticket number; nil for the
// general categories.
func afterFiling(cat *bansosbot.Category) *Msg {
	var m Msg
	switch cat.Prompt {
	case "pbi":
		m = T("pbi.after")
	default:
		return nil
	}
	return &m
}
