package flows

// registerComplaints adds the complaint conversation (/lapor) and the
// citizen's ticket views (/tiket).
func (e *Engine) registerComplaints() {}
