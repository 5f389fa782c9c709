package lpsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxControlAnswer bounds what the client helpers read of a simulator's answer.
const maxControlAnswer = 64 << 10

// RegisterWebhook registers hookURL as one more webhook endpoint of account at the standalone
// simulator simURL ("http://HOST:PORT", as its banner prints), with POST /_lpsim/webhooks, and
// returns the endpoint's id for UnregisterWebhook. Every notification of the account is then
// delivered to hookURL too, alongside the endpoints other processes registered. c nil means
// http.DefaultClient; ctx bounds the call. Errors name the simulator and its answer.
func RegisterWebhook(ctx context.Context, c *http.Client, simURL, account, hookURL string) (id string, err error) {
	body, err := json.Marshal(struct {
		Account string `json:"account"`
		URL     string `json:"url"`
	}{account, hookURL})
	if err != nil { // two strings: cannot happen
		return "", err
	}
	what := "POST /_lpsim/webhooks"
	b, err := control(ctx, c, http.MethodPost, simURL, "/_lpsim/webhooks", body, http.StatusCreated, what)
	if err != nil {
		return "", err
	}
	var h Webhook
	if err := json.Unmarshal(b, &h); err != nil || h.ID == "" {
		return "", fmt.Errorf("lpsim: %s answered %s with no webhook id: %.200q", strings.TrimRight(simURL, "/"), what, b)
	}
	return h.ID, nil
}

// UnregisterWebhook removes the webhook endpoint with the given id (from RegisterWebhook) from the
// standalone simulator simURL, with DELETE /_lpsim/webhooks/{id}. c nil means
// http.DefaultClient; ctx bounds the call. An unknown id is an error (404) naming the simulator.
func UnregisterWebhook(ctx context.Context, c *http.Client, simURL, id string) error {
	what := "DELETE /_lpsim/webhooks/" + id
	_, err := control(ctx, c, http.MethodDelete, simURL, "/_lpsim/webhooks/"+url.PathEscape(id), nil, http.StatusNoContent, what)
	return err
}

// control makes one control call and returns its body (at most maxControlAnswer bytes) when
// the status is want; otherwise an error naming the simulator, the call, the status and, when
// the answer is in the simulator's error shape, its title and details.
func control(ctx context.Context, c *http.Client, method, simURL, path string, body []byte, want int, what string) ([]byte, error) {
	if c == nil {
		c = http.DefaultClient
	}
	base := strings.TrimRight(simURL, "/")
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("lpsim: %s to the simulator at %q: %w", what, simURL, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("lpsim: %s to the simulator at %s: %w", what, base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxControlAnswer))
	if err != nil {
		return nil, fmt.Errorf("lpsim: %s to the simulator at %s: reading the answer: %w", what, base, err)
	}
	if resp.StatusCode == want {
		return b, nil
	}
	var e errorBody
	if json.Unmarshal(b, &e) == nil && e.Body.Title != "" {
		return nil, fmt.Errorf("lpsim: the simulator at %s answered %s to %s: %s: %s", base, resp.Status, what, e.Body.Title, e.Body.Details)
	}
	return nil, fmt.Errorf("lpsim: the simulator at %s answered %s to %s (is it an lpbench simulator?)", base, resp.Status, what)
}

// Apps returns the accounts of the standalone simulator simURL and their apps' credentials
// (GET /_lpsim/apps; secrets only where the simulator generated them). c nil means
// http.DefaultClient; ctx bounds the call.
func Apps(ctx context.Context, c *http.Client, simURL string) ([]App, error) {
	const what = "GET /_lpsim/apps"
	b, err := control(ctx, c, http.MethodGet, simURL, "/_lpsim/apps", nil, http.StatusOK, what)
	if err != nil {
		return nil, err
	}
	var apps []App
	if err := json.Unmarshal(b, &apps); err != nil {
		return nil, fmt.Errorf("lpsim: %s answered %s with no list of apps: %v", strings.TrimRight(simURL, "/"), what, err)
	}
	return apps, nil
}
