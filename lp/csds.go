package lp

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Domains are the hosts of the services a consumer journey needs, as the domain API (CSDS) gives
// them: bare host names (or host:port for a simulator), no scheme.
type Domains struct {
	Sentinel  string // AppJWT
	IdP       string // ConsumerJWS
	Messaging string // asyncMessagingEnt: CONVERSATION, SEND, close
}

// The CSDS service names the journey needs (case-sensitive).
const (
	ServiceSentinel  = "sentinel"
	ServiceIdP       = "idp"
	ServiceMessaging = "asyncMessagingEnt"
)

type baseURI struct {
	Service string `json:"service"`
	Account string `json:"account"`
	BaseURI string `json:"baseURI"`
}

// LookupDomains asks the domain API for all of the account's services, uncached.
func (c *Client) LookupDomains(ctx context.Context) (Domains, error) {
	u := c.t.CSDS + "/api/account/" + url.PathEscape(c.t.Account) + "/service/baseURI.json?version=1.0"
	req, err := c.newRequest(ctx, http.MethodGet, u, nil, "")
	if err != nil {
		return Domains{}, err
	}
	return call(c, "csds", req, decodeDomains)
}

// decodeDomains reads the all-services answer of the domain API.
func decodeDomains(status int, header http.Header, body []byte) (Domains, error) {
	var out struct {
		BaseURIs []baseURI `json:"baseURIs"`
	}
	if err := decodeJSON("csds", status, header, body, &out); err != nil {
		return Domains{}, err
	}
	var d Domains
	for _, b := range out.BaseURIs {
		switch b.Service {
		case ServiceSentinel:
			d.Sentinel = b.BaseURI
		case ServiceIdP:
			d.IdP = b.BaseURI
		case ServiceMessaging:
			d.Messaging = b.BaseURI
		default:
			continue
		}
		if !validHost(b.BaseURI) {
			return Domains{}, protocolError("csds", status, "the baseURI of %s is not a host name", b.Service)
		}
	}
	switch {
	case d.Sentinel == "":
		return Domains{}, protocolError("csds", status, "no %s in the domain list", ServiceSentinel)
	case d.IdP == "":
		return Domains{}, protocolError("csds", status, "no %s in the domain list", ServiceIdP)
	case d.Messaging == "":
		return Domains{}, protocolError("csds", status, "no %s in the domain list", ServiceMessaging)
	}
	return d, nil
}

// LookupService asks the domain API for one service's host, uncached.
func (c *Client) LookupService(ctx context.Context, service string) (string, error) {
	u := c.t.CSDS + "/api/account/" + url.PathEscape(c.t.Account) + "/service/" + url.PathEscape(service) + "/baseURI.json?version=1.0"
	req, err := c.newRequest(ctx, http.MethodGet, u, nil, "")
	if err != nil {
		return "", err
	}
	return call(c, "csds", req, func(status int, header http.Header, body []byte) (string, error) {
		return decodeService(service, status, header, body)
	})
}

// decodeService reads the one-service answer of the domain API.
func decodeService(service string, status int, header http.Header, body []byte) (string, error) {
	var out baseURI
	if err := decodeJSON("csds", status, header, body, &out); err != nil {
		return "", err
	}
	if out.BaseURI == "" {
		return "", protocolError("csds", status, "no baseURI for %s", service)
	}
	if !validHost(out.BaseURI) {
		return "", protocolError("csds", status, "the baseURI of %s is not a host name", service)
	}
	return out.BaseURI, nil
}

// validHost reports whether s is a bare host name or host:port, as CSDS documents baseURIs. The
// client prefixes it with a scheme and appends a path, so anything else (a path, a query, user
// info such as "va.msg.liveperson.net@elsewhere") could send credentials to another host.
func validHost(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	u, err := url.Parse("http://" + s)
	return err == nil && u.Host == s && u.User == nil && u.Path == "" && !u.ForceQuery &&
		u.RawQuery == "" && u.Fragment == "" && u.Opaque == "" && u.Hostname() != "" &&
		!strings.ContainsAny(s, "%")
}

// Domains returns the account's domains from a cache kept for the target's DomainsTTL, looking
// them up when stale. fetched reports whether this call made the lookup.
func (c *Client) Domains(ctx context.Context) (d Domains, fetched bool, err error) {
	return c.domains.get(ctx, func(ctx context.Context) (Domains, time.Time, error) {
		d, err := c.LookupDomains(ctx)
		return d, time.Now().Add(c.t.DomainsTTL), err
	})
}

// CachedDomains returns the account's domains when the cache holds a fresh answer: the
// journey's fast path, with no request and no wait.
func (c *Client) CachedDomains() (Domains, bool) { return c.domains.fresh() }

// DomainLookups returns how many cached domain lookups were made.
func (c *Client) DomainLookups() int64 { return c.domains.count() }
