package flows

import "github.com/bansosbot/bansosbot"

// catalog answers from the configured catalogs: categories, regions,
// programs, ready answers and the service levels of categories. Its
// methods stay next to the flows that first needed them (staff.go,
// announce.go, answers.go, complaint_fields.go, routing.go); every flow
// and job that names a region or a category holds it.
type catalog struct {
	categories bansosbot.Categories
	regions    *bansosbot.Regions
	programs   bansosbot.Programs
	answers    *bansosbot.Answers
	sla        *bansosbot.SLAPolicies
}

func newCatalog(cfg *Config) *catalog {
	return &catalog{categories: cfg.Categories, regions: cfg.Regions, programs: cfg.Programs, answers: cfg.Answers, sla: cfg.SLA}
}
