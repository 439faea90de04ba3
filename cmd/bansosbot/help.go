package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
)

// Every command answers "-h", "--help" and "help" with its usage, its
// flags and their defaults, and does not run: the help is printed before
// anything touches the data directory. The flags come from the same
// functions the commands parse with, so the help cannot drift from them.

const doctorUsage = `Usage: bansosbot doctor
       bansosbot doctor --recount [--rebuild]

Checks the configuration, the data directory and its permissions, the
secret, the database (or the running bot, through DATA/control.sock) and
the Bot API, and says how to fix what is wrong. Exits 1 when something is
wrong (warnings alone do not fail).

--recount recounts every ticket and compares the report counters (what
reports, the dashboard and /metrics read) with the recount; it exits 1
when they differ. --rebuild then builds them afresh (needed after the
business calendar or the categories changed). Both run inside the
running bot when there is one.`

// commandHelp returns the usage and flags of a command (sub is its first
// argument, for commands with subcommands); ok is false for an unknown
// command.
func commandHelp(cmd, sub string) (usage string, fs *flag.FlagSet, ok bool) {
	switch cmd {
	case "staff":
		fs, _ := staffFlags(sub)
		return staffUsage, fs, true
	case "registry":
		switch sub {
		case "import":
			fs, _ = importFlags(io.Discard)
		case "gen":
			fs, _, _, _, _ = genFlags()
		case "stats", "rollback":
			fs, _ = langFlags("registry " + sub)
		}
		return registryUsage, fs, true
	case "tickets":
		fs, _ := exportFlags()
		return exportUsage, fs, true
	case "report":
		fs, _ := reportFlags()
		return reportUsage, fs, true
	case "audit":
		fs, _, _ := auditFlags()
		return auditUsage, fs, true
	case "backup":
		fs, _ := backupFlags()
		return backupUsage, fs, true
	case "restore":
		fs, _ := restoreFlags()
		return restoreUsage, fs, true
	case "rotate-secret":
		fs, _, _, _, _, _ := rotateFlags()
		return rotateUsage, fs, true
	case "demo":
		fs, _, _, _ := demoFlags()
		return demoUsage, fs, true
	case "migrate":
		return migrateUsage, nil, true
	case "migrate-store":
		fs, _, _ := migrateStoreFlags(Config{})
		return migrateStoreUsage, fs, true
	case "doctor":
		return doctorUsage, nil, true
	case "health":
		fs, _ := healthFlags()
		return healthUsage, fs, true
	case "region":
		return regionUsage, nil, true
	case "announce":
		return announceUsage, announceFlags(), true
	}
	return "", nil, false
}

// subcommands lists the commands whose first argument is a subcommand.
var subcommands = []string{"staff", "registry", "tickets", "region", "announce"}

// isHelp reports whether an argument asks for help.
func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" || a == "help" }

// wantsHelp reports whether the arguments of cmd ask for its help: "help"
// in the (sub)command's place, or -h/--help among its flags.
func wantsHelp(cmd string, args []string) bool {
	if len(args) > 0 && isHelp(args[0]) {
		return true
	}
	if slices.Contains(subcommands, cmd) && len(args) > 1 && args[1] == "help" {
		return true
	}
	return slices.ContainsFunc(args, func(a string) bool { return a != "help" && isHelp(a) })
}

// printHelp prints the help of cmd; false for an unknown command.
func printHelp(cmd string, args []string, w io.Writer) bool {
	sub := ""
	if len(args) > 0 && !isHelp(args[0]) {
		sub = args[0]
	}
	usage, fs, ok := commandHelp(cmd, sub)
	if !ok {
		return false
	}
	fmt.Fprintln(w, usage)
	if fs != nil && hasFlags(fs) {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fmt.Fprintln(w, "\nEvery command also takes the global options (-data, -secret, -tz, ...): bansosbot help")
	return true
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseInterspersed parses fs from args and returns the positional
// arguments, with flags allowed after them too: operators type
// "registry import -date D file.csv --dry-run", which the flag package
// alone would take as two files. After "--" everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}
