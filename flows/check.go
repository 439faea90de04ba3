package flows

// registerCheck adds the eligibility status check (/cek).
func (e *Engine) registerCheck() {}
