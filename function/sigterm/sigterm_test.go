package sigterm

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

// extensionsAPI answers register as status says (with id as the identifier) and records what reaches it; the
// first event/next is reported on next and then held open until the test ends, as Lambda holds it.
type extensionsAPI struct {
	status   int
	id       string
	register chan *http.Request
	body     chan string
	next     chan string
}

func newExtensionsAPI(t *testing.T, status int, id string) (*extensionsAPI, string) {
	t.Helper()
	api := &extensionsAPI{status: status, id: id, register: make(chan *http.Request, 1), body: make(chan string, 1), next: make(chan string, 1)}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/2020-01-01/extension/register":
			b, _ := io.ReadAll(r.Body)
			api.register <- r
			api.body <- string(b)
			if api.id != "" {
				w.Header().Set("Lambda-Extension-Identifier", api.id)
			}
			w.WriteHeader(api.status)
		case r.Method == http.MethodGet && r.URL.Path == "/2020-01-01/extension/event/next":
			api.next <- r.Header.Get("Lambda-Extension-Identifier")
			<-release
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return api, strings.TrimPrefix(srv.URL, "http://")
}

func TestRegisterAsksForNoEventsAndTellsLambdaItsInitIsDone(t *testing.T) {
	api, addr := newExtensionsAPI(t, http.StatusOK, "ext-1")
	if err := Register(addr).Enable(func() {}); err != nil {
		t.Fatal(err)
	}
	r := <-api.register
	if got := r.Header.Get("Lambda-Extension-Name"); got != ExtensionName {
		t.Errorf("Lambda-Extension-Name %q, want %q", got, ExtensionName)
	}
	if body := <-api.body; body != `{"events":[]}` {
		t.Errorf("register body %s, want no events", body)
	}
	select {
	case id := <-api.next:
		if id != "ext-1" {
			t.Errorf("event/next with identifier %q, want ext-1", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the extension never asked for its next event, so Lambda would wait for its init to end")
	}
}

func TestARefusedRegistrationIsNamedAndTheHookStillRuns(t *testing.T) {
	_, addr := newExtensionsAPI(t, http.StatusForbidden, "")
	ran := make(chan struct{})
	err := Register(addr).Enable(func() { close(ran) })
	if err == nil || !strings.Contains(err.Error(), "403 Forbidden") {
		t.Fatalf("error %v, want the Extensions API's 403 named", err)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the hook did not run on SIGTERM")
	}
}

func TestAnAnswerWithoutAnIdentifierIsAnError(t *testing.T) {
	_, addr := newExtensionsAPI(t, http.StatusOK, "")
	err := Register(addr).Enable(func() {})
	if err == nil || !strings.Contains(err.Error(), "Lambda-Extension-Identifier") {
		t.Fatalf("error %v, want the missing identifier named", err)
	}
}

func TestOutsideLambdaNothingIsSent(t *testing.T) {
	if err := Register("").Enable(func() {}); !errors.Is(err, ErrNotInLambda) {
		t.Fatalf("error %v, want ErrNotInLambda", err)
	}
}

func TestAnUnreachableAPIIsAnError(t *testing.T) {
	_, addr := newExtensionsAPI(t, http.StatusOK, "x")
	addr = addr[:strings.LastIndex(addr, ":")] + ":1" // nothing listens on port 1
	if err := Register(addr).Enable(func() {}); err == nil || !strings.Contains(err.Error(), "register for SIGTERM") {
		t.Fatalf("error %v, want the failed registration named", err)
	}
}
