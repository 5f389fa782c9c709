package lpsim

import (
	"net/http"
)

// route is one path of the simulated API with the method it accepts.
type route struct {
	method  string
	path    string
	ep      Endpoint // "" for control routes: not counted
	handler http.HandlerFunc
}

// routes builds the ServeMux. Every path is registered twice: with its method, and without one to
// answer other methods with 405 in the documented error shape (counted under the path's
// endpoint). The method-specific pattern is more specific, so it wins for the right method. "/"
// catches unknown paths.
func (s *Sim) routes() *http.ServeMux {
	const acct = "/api/account/{acc}"
	table := []route{
		{http.MethodGet, acct + "/service/baseURI.json", EndpointCSDS, s.handleCSDSAll},
		{http.MethodGet, acct + "/service/{service}/baseURI.json", EndpointCSDS, s.handleCSDSOne},
		{http.MethodPost, "/sentinel" + acct + "/app/token", EndpointAppJWT, s.handleAppJWT},
		{http.MethodPost, acct + "/consumer", EndpointConsumerJWS, s.handleConsumerJWS},
		{http.MethodPost, acct + "/messaging/consumer/conversation", EndpointCreate, s.handleCreate},
		{http.MethodPost, acct + "/messaging/consumer/conversation/send", EndpointSend, s.handleSend},
		{http.MethodGet, "/_lpsim/ledger", "", s.handleLedger},
		{http.MethodPost, "/_lpsim/reset", "", s.handleReset},
		{http.MethodGet, "/_lpsim/apps", "", s.handleApps},
	}
	mux := http.NewServeMux()
	for _, rt := range table {
		mux.HandleFunc(rt.method+" "+rt.path, rt.handler)
		mux.HandleFunc(rt.path, s.methodNotAllowed(rt))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, "", errNotFound)
	})
	return mux
}

// methodNotAllowed answers requests on rt's path with another method.
func (s *Sim) methodNotAllowed(rt route) http.HandlerFunc {
	allow := []string{rt.method}
	if rt.method == http.MethodGet {
		allow = []string{"GET, HEAD"} // a GET pattern also serves HEAD
	}
	e := apiErr{
		status:  http.StatusMethodNotAllowed,
		title:   "Method not allowed",
		details: "use " + rt.method,
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Allow"] = allow
		s.fail(w, r, rt.ep, e)
	}
}
