package lpsim

import (
	"encoding/json"
	"net"
	"net/http"
	"slices"
)

// csdsServices are the service names CSDS knows (case-sensitive): the three lpbench uses and two
// more, so a client that picks its services out of the full list is exercised.
var csdsServices = []string{"sentinel", "idp", "asyncMessagingEnt", "agentVep", "leDataReporting"}

// csdsEntry is one service of a CSDS answer (fixtures/csds-one.json).
type csdsEntry struct {
	Service string `json:"service"`
	Account string `json:"account"`
	BaseURI string `json:"baseURI"`
}

// errUnknownSite is CSDS's answer for an account it does not know.
var errUnknownSite = apiErr{status: http.StatusUnauthorized, title: "invalid site", details: "unknown account"}

// csdsAccount checks what both CSDS forms share: version=1.0, then a known account.
func (s *Sim) csdsAccount(r *http.Request) (string, apiErr) {
	if e := checkVersion(r, "version", "1.0"); e.failed() {
		return "", e
	}
	acc := r.PathValue("acc")
	if s.accounts[acc] == nil {
		return "", errUnknownSite
	}
	return acc, apiErr{}
}

// handleCSDSAll answers GET /api/account/{acc}/service/baseURI.json: every service
// (fixtures/csds-all.json).
func (s *Sim) handleCSDSAll(w http.ResponseWriter, r *http.Request) {
	w, ok := s.admit(w, r, EndpointCSDS, nil)
	if !ok {
		return
	}
	acc, e := s.csdsAccount(r)
	if e.failed() {
		s.fail(w, r, EndpointCSDS, e)
		return
	}
	var out struct {
		BaseURIs []csdsEntry `json:"baseURIs"`
	}
	out.BaseURIs = make([]csdsEntry, len(csdsServices))
	for i, svc := range csdsServices {
		out.BaseURIs[i] = csdsEntry{Service: svc, Account: acc, BaseURI: s.baseURI(r, svc)}
	}
	s.respondJSON(w, r, EndpointCSDS, http.StatusOK, out)
}

// handleCSDSOne answers GET /api/account/{acc}/service/{service}/baseURI.json: one service
// (fixtures/csds-one.json); an unknown service name is 404.
func (s *Sim) handleCSDSOne(w http.ResponseWriter, r *http.Request) {
	w, ok := s.admit(w, r, EndpointCSDS, nil)
	if !ok {
		return
	}
	acc, e := s.csdsAccount(r)
	if e.failed() {
		s.fail(w, r, EndpointCSDS, e)
		return
	}
	svc := r.PathValue("service")
	if !slices.Contains(csdsServices, svc) {
		s.fail(w, r, EndpointCSDS, apiErr{status: http.StatusNotFound, title: "Unknown service", details: "no service " + svc})
		return
	}
	s.respondJSON(w, r, EndpointCSDS, http.StatusOK, csdsEntry{Service: svc, Account: acc, BaseURI: s.baseURI(r, svc)})
}

// baseURI is what CSDS answers for service name svc: the host the request came to with the
// port of the service's own host when a Server gave it one (sentinel, idp, asyncMessagingEnt),
// otherwise the request's host:port, so a client that follows CSDS comes back to this server.
func (s *Sim) baseURI(r *http.Request, svc string) string {
	host := requestHost(r)
	i := slices.Index(serviceNames[:], svc)
	if i <= 0 || s.ports[i] == "" {
		return host
	}
	name, _, err := net.SplitHostPort(host)
	if err != nil { // no port
		name = host
	}
	return net.JoinHostPort(name, s.ports[i])
}

// respondJSON responds with v marshalled.
func (s *Sim) respondJSON(w http.ResponseWriter, r *http.Request, ep Endpoint, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // plain data only: cannot happen
		panic(err)
	}
	s.respond(w, r, ep, status, b)
}
