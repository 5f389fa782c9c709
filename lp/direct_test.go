package lp

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRoundTripAsDo: the default client's direct round trip answers as http.Client.Do with the
// same transport and no redirects followed: the same status and body, and the same error text for
// a refused connection, HTTPS spoken to an HTTP server, and a redirect with an unparsable Location.
func TestRoundTripAsDo(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved":
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(http.StatusFound)
		case "/bad-location":
			w.Header().Set("Location", "http://[::1/%zz")
			w.WriteHeader(http.StatusTemporaryRedirect)
		default:
			fmt.Fprint(w, "hello")
		}
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	c, err := NewClient(Target{Name: "t", Account: "1", CSDS: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if c.direct == nil {
		t.Fatal("the default client is not sent directly")
	}
	https := "https://" + srv.Listener.Addr().String()
	for _, u := range []string{srv.URL + "/", srv.URL + "/moved", srv.URL + "/bad-location", refused + "/", https + "/"} {
		var got [2]string
		for i, send := range []func(*http.Request) (*http.Response, error){func(r *http.Request) (*http.Response, error) { return c.roundTrip(c.direct, r) }, c.http.Do} {
			req, err := c.newRequest(context.Background(), http.MethodPost, u, []byte("{}"), "application/json")
			if err != nil {
				t.Fatal(err)
			}
			resp, err := send(req)
			if err != nil {
				got[i] = "error " + err.Error()
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got[i] = fmt.Sprintf("%d %s %q", resp.StatusCode, resp.Header.Get("Location"), b)
		}
		if got[0] != got[1] {
			t.Errorf("%s: direct %s, Do %s", u, got[0], got[1])
		}
	}
	if _, err := NewClient(Target{Name: "t", Account: "1", CSDS: srv.URL, Transport: http.DefaultTransport, HTTP: http.DefaultClient}); err == nil {
		t.Error("a Transport with an HTTP client accepted")
	}
}

// TestMessagingURL: the Send API URLs are built once per host and path, and a new messaging host
// (a refreshed domain lookup) gets its own.
func TestMessagingURL(t *testing.T) {
	t.Parallel()
	c, err := NewClient(Target{Name: "t", Account: "a/1", CSDS: "http://127.0.0.1:1", Scheme: "http"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ host, path, want string }{
		{"h1", "/x", "http://h1/api/account/a%2F1/x"},
		{"h1", "/y", "http://h1/api/account/a%2F1/y"},
		{"h1", "/x", "http://h1/api/account/a%2F1/x"},
		{"h2", "/x", "http://h2/api/account/a%2F1/x"},
		{"h1", "/y", "http://h1/api/account/a%2F1/y"},
	} {
		if got := c.messagingURL(tc.host, tc.path); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.host, tc.path, got, tc.want)
		}
	}
}
