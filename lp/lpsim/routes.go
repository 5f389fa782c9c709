package lpsim

import (
	"net/http"
	"slices"
	"strings"
)

// service is a LivePerson host a route belongs to: the domain API's (which also serves the
// simulator's control routes), Sentinel's, the IdP's or the messaging service's. CSDS names the
// last three.
type service int

const (
	svcCSDS      service = iota // the domain API and the /_lpsim/ control routes
	svcSentinel                 // CSDS "sentinel"
	svcIdP                      // CSDS "idp"
	svcMessaging                // CSDS "asyncMessagingEnt"
	numServices
)

// serviceNames are the CSDS names of the services with hosts of their own, by service.
var serviceNames = [numServices]string{svcSentinel: "sentinel", svcIdP: "idp", svcMessaging: "asyncMessagingEnt"}

// route is one path of the simulated API with the method it accepts and the host serving it.
type route struct {
	method  string
	path    string
	ep      Endpoint // "" for control routes and the key set: not counted
	svc     service
	handler http.HandlerFunc
}

// table lists every route.
func (s *Sim) table() []route {
	const acct = "/api/account/{acc}"
	var table []route
	// CSDS: the documented form, the same without ".json" (as public clients call it), and the
	// legacy /csdr/ form, each for all services and for one.
	for _, prefix := range []string{acct, "/csdr/account/{acc}"} {
		for _, ext := range []string{".json", ""} {
			table = append(table,
				route{http.MethodGet, prefix + "/service/baseURI" + ext, EndpointCSDS, svcCSDS, s.handleCSDSAll},
				route{http.MethodGet, prefix + "/service/{service}/baseURI" + ext, EndpointCSDS, svcCSDS, s.handleCSDSOne})
		}
	}
	return append(table, []route{
		{http.MethodPost, "/sentinel" + acct + "/app/token", EndpointAppJWT, svcSentinel, s.handleAppJWT},
		{http.MethodPost, "/sentinel/api/v2/account/{acc}/app/token", EndpointAppJWT, svcSentinel, s.handleAppJWTv2},
		{http.MethodGet, "/sentinel/well-known/jwks", "", svcSentinel, s.handleJWKS},
		{http.MethodPost, acct + "/consumer", EndpointConsumerJWS, svcIdP, s.handleConsumerJWS},
		{http.MethodPost, acct + "/messaging/consumer/conversation", EndpointCreate, svcMessaging, s.handleCreate},
		{http.MethodPost, acct + "/messaging/consumer/conversation/send", EndpointSend, svcMessaging, s.handleSend},
		{http.MethodGet, "/_lpsim/ledger", "", svcCSDS, s.handleLedger},
		{http.MethodPost, "/_lpsim/reset", "", svcCSDS, s.handleReset},
		{http.MethodGet, "/_lpsim/apps", "", svcCSDS, s.handleApps},
		{http.MethodGet, "/_lpsim/webhooks", "", svcCSDS, s.handleListWebhooks},
		{http.MethodPost, "/_lpsim/webhooks", "", svcCSDS, s.handleAddWebhook},
		{http.MethodDelete, "/_lpsim/webhooks/{id}", "", svcCSDS, s.handleRemoveWebhook},
	}...)
}

// routes builds the ServeMux of the routes of the services for which serves is true: all of them
// for the Sim as one handler, one for each host of a Server. Every route is registered with its
// method, and every path once more without one, to answer other methods with 405 in the
// documented error shape (counted under the path's endpoint) and an Allow header listing the
// path's methods. The method-specific patterns are more specific, so they win for their methods.
// "/" catches unknown paths, and the paths of the other hosts: 404, as a LivePerson host answers
// a path of another service.
func (s *Sim) routes(serves func(service) bool) *http.ServeMux {
	var table []route
	for _, rt := range s.table() {
		if serves(rt.svc) {
			table = append(table, rt)
		}
	}
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
