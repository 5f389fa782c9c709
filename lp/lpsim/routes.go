package lpsim

import (
	"net/http"
	"slices"
	"strings"
)

// route is one path of the simulated API with the method it accepts.
type route struct {
	method  string
	path    string
	ep      Endpoint // "" for control routes: not counted
	handler http.HandlerFunc
}

// routes builds the ServeMux. Every route is registered with its method, and every path once
// more without one, to answer other methods with 405 in the documented error shape (counted under
// the path's endpoint) and an Allow header listing the path's methods. The method-specific
// patterns are more specific, so they win for their methods. "/" catches unknown paths.
func (s *Sim) routes() *http.ServeMux {
	const acct = "/api/account/{acc}"
	var table []route
	// CSDS: the documented form, the same without ".json" (as public clients call it), and the
	// legacy /csdr/ form, each for all services and for one.
	for _, prefix := range []string{acct, "/csdr/account/{acc}"} {
		for _, ext := range []string{".json", ""} {
			table = append(table,
				route{http.MethodGet, prefix + "/service/baseURI" + ext, EndpointCSDS, s.handleCSDSAll},
				route{http.MethodGet, prefix + "/service/{service}/baseURI" + ext, EndpointCSDS, s.handleCSDSOne})
		}
	}
	table = append(table, []route{
		{http.MethodPost, "/sentinel" + acct + "/app/token", EndpointAppJWT, s.handleAppJWT},
		{http.MethodPost, acct + "/consumer", EndpointConsumerJWS, s.handleConsumerJWS},
		{http.MethodPost, acct + "/messaging/consumer/conversation", EndpointCreate, s.handleCreate},
		{http.MethodPost, acct + "/messaging/consumer/conversation/send", EndpointSend, s.handleSend},
		{http.MethodGet, "/_lpsim/ledger", "", s.handleLedger},
		{http.MethodPost, "/_lpsim/reset", "", s.handleReset},
		{http.MethodGet, "/_lpsim/apps", "", s.handleApps},
		{http.MethodGet, "/_lpsim/webhooks", "", s.handleListWebhooks},
		{http.MethodPost, "/_lpsim/webhooks", "", s.handleAddWebhook},
		{http.MethodDelete, "/_lpsim/webhooks/{id}", "", s.handleRemoveWebhook},
	}...)
	mux := http.NewServeMux()
	methods := map[string][]string{} // path → its methods, in table order
	var paths []string
	for _, rt := range table {
		mux.HandleFunc(rt.method+" "+rt.path, rt.handler)
		if methods[rt.path] == nil {
			paths = append(paths, rt.path)
		}
		methods[rt.path] = append(methods[rt.path], rt.method)
	}
	for _, p := range paths {
		i := slices.IndexFunc(table, func(rt route) bool { return rt.path == p })
		mux.HandleFunc(p, s.methodNotAllowed(table[i].ep, methods[p]))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, "", errNotFound)
	})
	return mux
}

// methodNotAllowed answers requests on a path with a method other than its methods, counted
// under ep.
func (s *Sim) methodNotAllowed(ep Endpoint, methods []string) http.HandlerFunc {
	var names []string
	for _, m := range methods {
		names = append(names, m)
		if m == http.MethodGet {
			names = append(names, http.MethodHead) // a GET pattern also serves HEAD
		}
	}
	allow := []string{strings.Join(names, ", ")}
	e := apiErr{
		status:  http.StatusMethodNotAllowed,
		title:   "Method not allowed",
		details: "use " + strings.Join(methods, " or "),
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Allow"] = allow
		s.fail(w, r, ep, e)
	}
}
