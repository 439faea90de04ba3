// Package bansosbot holds the domain of the bansos (social assistance) bot:
// citizens, staff, tickets and their statuses, complaint categories, regions,
// NIK validation, the eligibility registry model, service-level policies and
// the business calendar; and the records of the update pipeline that the
// store keeps and the bot works with (pipeline.go). It depends on the
// standard library only; storage, Telegram and workflows live in the
// store, bot and flows packages.
package bansosbot
