package flows

// AddTestCommand registers a command only a test has (the harness's
// deliberately bad flows).
func AddTestCommand(e *Engine, cmd Command) { e.addCommand(cmd) }
