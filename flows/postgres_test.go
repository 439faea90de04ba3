package flows_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bansosbot/bansosbot/store"
	"github.com/bansosbot/bansosbot/store/pgstore/pgtest"
)

// onPostgres is set in the run of this package's tests that
// TestTranscriptsOnPostgres starts.
const onPostgres = "BANSOSBOT_FLOWS_ON_POSTGRES"

// openStore opens the harness's store: a bbolt file, or a PostgreSQL
// schema of the test's own in the run on PostgreSQL.
func openStore(t *testing.T, opts store.Options) *store.DB {
	t.Helper()
	if os.Getenv(onPostgres) != "" {
		return pgtest.OpenStore(t, opts)
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "test.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestTranscriptsOnPostgres runs this package's tests again, each harness
// on PostgreSQL instead of bbolt: every golden transcript must come out
// the same (one harness, one golden comparison, the store a parameter).
// The random walk (TestMonkey) stays on bbolt, and so does the tally
// property test (TestReportFromTalliesEqualsScan opens a bbolt store of
// its own: on PostgreSQL it would only run again unchanged).
//
// The tests are shared out among pgRuns processes that run at once: most
// of their time is round trips to the server, which overlap.
func TestTranscriptsOnPostgres(t *testing.T) {
	pgtest.DSN(t)
	if os.Getenv(onPostgres) != "" {
		t.Skip("this is the run on PostgreSQL")
	}
	if *update {
		t.Skip("-update rewrites the transcripts from the bbolt run")
	}
	list, err := exec.Command(os.Args[0], "-test.list", "^Test").Output()
	if err != nil {
		t.Fatalf("listing the tests: %v", err)
	}
	skip := map[string]bool{"TestTranscriptsOnPostgres": true, "TestMonkey": true, "TestReportFromTalliesEqualsScan": true}
	groups := make([][]string, pgRuns)
	n := 0
	for _, name := range strings.Fields(string(list)) {
		if strings.HasPrefix(name, "Test") && !skip[name] {
			groups[n%pgRuns] = append(groups[n%pgRuns], name)
			n++
		}
	}
	if n < 50 {
		t.Fatalf("only %d tests listed:\n%s", n, list)
	}
	var wg sync.WaitGroup
	outs, errs := make([][]byte, pgRuns), make([]error, pgRuns)
	for i, names := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run", "^("+strings.Join(names, "|")+")$", "-test.count", "1")
			cmd.Env = append(os.Environ(), onPostgres+"=1")
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range groups {
		if errs[i] != nil {
			t.Errorf("the tests on PostgreSQL failed (run %d of %d): %v\n%s", i+1, pgRuns, errs[i], outs[i])
		}
	}
}

// pgRuns is how many processes run the tests on PostgreSQL at once.
const pgRuns = 4

// storeBytes is everything the store holds: the bbolt file's bytes (free
// pages included), or on PostgreSQL every bucket's keys and values (rows
// deleted there are gone from what any query reads; VACUUM reclaims their
// space).
func storeBytes(db *store.DB) ([]byte, error) {
	if db.Bolt() {
		return os.ReadFile(db.Path())
	}
	var out []byte
	err := db.Walk(func(b, k, v []byte) error {
		out = append(append(append(out, b...), k...), v...)
		return nil
	})
	return out, err
}
