package lpsim

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// remote is an http.Handler that forwards every request to a server over the network and copies
// the answer back: the helpers written for handlers (call, newConsumer, consumer.create, ...) then
// drive a real server over HTTP. Each request goes to its service's host (pathService), as CSDS
// gives them. A transport error is answered with status 599 and its text.
type remote struct {
	base   string            // "http://127.0.0.1:PORT": CSDS and the control routes
	hosts  map[string]string // CSDS service name → base URL
	client *http.Client
}

func newRemote(base string) remote {
	return newRemoteClient(base, &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()})
}

// newRemoteClient is newRemote with the given client, looking the hosts up with CSDS for the
// simulator's first account (none found: everything goes to base).
func newRemoteClient(base string, client *http.Client) remote {
	rm := remote{base: base, hosts: map[string]string{}, client: client}
	scheme, _, _ := strings.Cut(base, "://")
	var apps []App
	if getJSON(client, base+"/_lpsim/apps", &apps) != nil || len(apps) == 0 {
		return rm
	}
	var out struct{ BaseURIs []csdsEntry }
	if getJSON(client, base+csdsAllPath(apps[0].Account), &out) != nil {
		return rm
	}
	for _, e := range out.BaseURIs {
		rm.hosts[e.Service] = scheme + "://" + e.BaseURI
	}
	return rm
}

// getJSON GETs u and decodes its 200 answer into out.
func getJSON(client *http.Client, u string, out any) error {
	resp, err := client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// pathService returns the CSDS name of the service whose host serves path ("" for the domain
// API and the control routes).
func pathService(path string) string {
	path, _, _ = strings.Cut(path, "?")
	switch {
	case strings.HasPrefix(path, "/sentinel/"):
		return "sentinel"
	case strings.HasSuffix(path, "/consumer"):
		return "idp"
	case strings.Contains(path, "/messaging/"):
		return "asyncMessagingEnt"
	}
	return ""
}

// url returns the URL of a request for path at its service's host.
func (rm remote) url(path string) string {
	if h, ok := rm.hosts[pathService(path)]; ok {
		return h + path
	}
	return rm.base + path
}

func (rm remote) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, rm.url(r.URL.RequestURI()), r.Body)
	if err != nil {
		panic(err)
	}
	req.Header = r.Header.Clone()
	resp, err := rm.client.Do(req)
	if err != nil {
		w.WriteHeader(599)
		io.WriteString(w, err.Error())
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.WriteHeader(599)
		io.WriteString(w, err.Error())
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(b)
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader at a time.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// standalone runs Serve for cfg on 127.0.0.1:0 as `lpbench sim` would, and returns its base URL
// and banner. At the end of the test its context is cancelled and Serve must return nil promptly.
func standalone(t *testing.T, cfg Config) (url, banner string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, "", cfg, out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after its context was cancelled")
		}
	})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("Serve returned early: %v", err)
		default:
		}
		banner = out.String()
		if strings.Count(banner, "\n") > len(cfg.Accounts) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner from Serve; so far %q", banner)
		}
	}
	first, _, _ := strings.Cut(banner, "\n")
	url, ok := strings.CutPrefix(first, "lpsim listening on ")
	if !ok {
		t.Fatalf("banner's first line is %q", first)
	}
	return url, banner
}

// bannerCAFile returns the CA file a TLS server's banner names.
func bannerCAFile(t *testing.T, banner string) string {
	t.Helper()
	for _, l := range bannerLines(banner) {
		if rest, ok := strings.CutPrefix(l, "TLS certificates signed by the CA in "); ok {
			file, _, _ := strings.Cut(rest, " ")
			return file
		}
	}
	t.Fatalf("no CA file in the banner:\n%s", banner)
	return ""
}

// readFile returns a file's content, failing the test when it cannot be read.
func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bannerLines returns the banner's lines.
func bannerLines(banner string) []string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(banner))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}
