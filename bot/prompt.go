package bot

// sentPrompt records the message id of a delivered prompt (a call with
// Prompt): the next input of the chat can then remove the prompt's
// buttons when it answers the question by typing, as a press of one of
// them does (flows.Conv.clearAnswered). It runs in the goroutine of the
// call, before its outcome reaches the sender's loop, so one chat's
// prompts are recorded in the order they were sent and the loop never
// waits for the write. A failed write loses only that removal.
func (s *Server) sentPrompt(c call, messageID int, err error) {
	if c.Prompt == nil || err != nil || messageID == 0 {
		return
	}
	p := *c.Prompt
	p.MessageID = messageID
	if err := s.db.PutPrompt(c.ChatID, p); err != nil {
		s.log.Warn("outbox: record the prompt's message", "err", err)
	}
}
