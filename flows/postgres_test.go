package flows_test

import (
	"os"
	"os/exec"
	"path/filepath"
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
// The random walk (TestMonkey) stays on bbolt.
func TestTranscriptsOnPostgres(t *testing.T) {
	pgtest.DSN(t)
	if os.Getenv(onPostgres) != "" {
		t.Skip("this is the run on PostgreSQL")
	}
	if *update {
		t.Skip("-update rewrites the transcripts from the bbolt run")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^Test", "-test.skip", "^(TestTranscriptsOnPostgres|TestMonkey)$", "-test.count", "1")
	cmd.Env = append(os.Environ(), onPostgres+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tests on PostgreSQL failed: %v\n%s", err, out)
	}
}

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
