package main

import (
	"fmt"
	"strconv"

	"github.com/bansosbot/bansosbot/flows"
)

// The citizens' abuse limits: flows.DefaultLimits, with the ones an
// operator may change from the options.

// validateLimits checks the limit options (called by validate).
func (c *Config) validateLimits() []error {
	var errs []error
	if c.FilingsPerDay != "" {
		if n, err := strconv.Atoi(c.FilingsPerDay); err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("BANSOSBOT_FILINGS_PER_DAY: %q is not a number of complaints (0 disables the limit)", c.FilingsPerDay))
		}
	}
	if c.AnnounceApproval != "" {
		if n, err := strconv.Atoi(c.AnnounceApproval); err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("BANSOSBOT_ANNOUNCE_APPROVAL: %q is not a number of recipients (1 or more)", c.AnnounceApproval))
		}
	}
	return errs
}

// limits are the engine's limits under this configuration.
func (c *Config) limits() flows.Limits {
	l := flows.DefaultLimits()
	if n, err := strconv.Atoi(c.FilingsPerDay); err == nil && n >= 0 {
		l.FilingsPerDay = n
	}
	return l
}

// announceApprovalOver is the size above which an announcement needs a
// second staff member's approval (0: the engine's default).
func (c *Config) announceApprovalOver() int {
	n, _ := strconv.Atoi(c.AnnounceApproval)
	return n
}
