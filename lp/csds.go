package lp

import (
	"context"
	"net/http"
	"net/url"
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
	var out struct {
		BaseURIs []baseURI `json:"baseURIs"`
	}
	status, err := c.do("csds", req, &out)
	if err != nil {
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
		}
	}
	switch {
	case d.Sentinel == "":
		return d, protocolError("csds", status, "no %s in the domain list", ServiceSentinel)
	case d.IdP == "":
		return d, protocolError("csds", status, "no %s in the domain list", ServiceIdP)
	case d.Messaging == "":
		return d, protocolError("csds", status, "no %s in the domain list", ServiceMessaging)
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
	var out baseURI
	status, err := c.do("csds", req, &out)
	if err != nil {
		return "", err
	}
	if out.BaseURI == "" {
		return "", protocolError("csds", status, "no baseURI for %s", service)
	}
	return out.BaseURI, nil
}

// Domains returns the account's domains from a cache kept for the target's DomainsTTL, looking
// them up when stale. fetched reports whether this call made the lookup.
func (c *Client) Domains(ctx context.Context) (d Domains, fetched bool, err error) {
	return c.domains.get(ctx, func(ctx context.Context) (Domains, time.Time, error) {
		d, err := c.LookupDomains(ctx)
		return d, time.Now().Add(c.t.DomainsTTL), err
	})
}

// DomainLookups returns how many cached domain lookups were made.
func (c *Client) DomainLookups() int64 { return c.domains.count() }
