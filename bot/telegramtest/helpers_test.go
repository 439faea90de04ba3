package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

var (
	alice = User{ID: 1001, FirstName: "Alice", Username: "alice", LanguageCode: "id"}
	budi  = User{ID: 1002, FirstName: "Budi", LanguageCode: "id"}
)

func newServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	srv := NewServer("", append([]Option{WithLogf(t.Logf)}, opts...)...)
	t.Cleanup(srv.Close)
	return srv
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newClient returns the real client pointed at srv (not polling).
func newClient(t *testing.T, srv *Server, opts ...tg.Option) *tg.Bot {
	t.Helper()
	base := []tg.Option{
		tg.WithServerURL(srv.URL()),
		tg.WithSkipGetMe(),
		tg.WithErrorsHandler(func(err error) { t.Logf("client error: %v", err) }),
	}
	b, err := tg.New(srv.Token(), append(base, opts...)...)
	if err != nil {
		t.Fatalf("tg.New: %v", err)
	}
	return b
}

// startBot runs the real client with handler until the test ends. Handlers
// run one at a time, in update order.
func startBot(t *testing.T, srv *Server, handler tg.HandlerFunc) *tg.Bot {
	t.Helper()
	b := newClient(t, srv, tg.WithDefaultHandler(handler), tg.WithNotAsyncHandlers())
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.Start(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return b
}

// apiResult is Telegram's answer envelope.
type apiResult struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// rawCall calls a method with a JSON body and decodes the envelope.
func rawCall(t *testing.T, ctx context.Context, srv *Server, method string, body any) (int, apiResult) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"/bot"+srv.Token()+"/"+method, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return doRaw(t, req)
}

func doRaw(t *testing.T, req *http.Request) (int, apiResult) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var r apiResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: decode %q: %v", req.URL.Path, b, err)
	}
	return resp.StatusCode, r
}

// getUpdates polls once through plain HTTP.
func getUpdates(t *testing.T, ctx context.Context, srv *Server, offset int64, timeout int) []models.Update {
	t.Helper()
	code, r := rawCall(t, ctx, srv, "getUpdates", map[string]any{"offset": offset, "timeout": timeout})
	if code != 200 || !r.OK {
		t.Fatalf("getUpdates: %d %s", code, r.Description)
	}
	var ups []models.Update
	if err := json.Unmarshal(r.Result, &ups); err != nil {
		t.Fatal(err)
	}
	return ups
}

func updateIDs(ups []models.Update) []int64 {
	var ids []int64
	for _, u := range ups {
		ids = append(ids, u.ID)
	}
	return ids
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
