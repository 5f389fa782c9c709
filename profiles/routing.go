package profiles

import (
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Routing says where a target's conversations are routed: to a skill (SkillID), to a campaign's
// engagement (CampaignID and EngagementID), or by the account's own rules (Default), chosen
// explicitly. It is written `default`, `{skill_id: "1234"}` or
// `{campaign_id: "…", engagement_id: "…"}`; a live target must have one, so that no synthetic
// consumer lands in human agents' queues by accident.
type Routing struct {
	Default      bool   `yaml:"-"`
	SkillID      string `yaml:"skill_id,omitempty"`
	CampaignID   string `yaml:"campaign_id,omitempty"`
	EngagementID string `yaml:"engagement_id,omitempty"`
}

// AnySkill is the skill id LivePerson reads as "any skill".
const AnySkill = "-1"

// routingChoices names the forms of a routing entry, for messages.
const routingChoices = `default (the account's own routing), {skill_id: "1234"}, or {campaign_id: "…", engagement_id: "…"}`

func (r *Routing) decodeYAML(d *decoder, n *yaml.Node, path string) {
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str" && n.Value == "default":
		*r = Routing{Default: true}
		return
	case n.Kind != yaml.MappingNode:
		d.errorf(n, path, "want %s, got %s", routingChoices, kindName(n))
		return
	}
	d.pairs(n, path, func(key string, kn, vn *yaml.Node) {
		var dst *string
		switch key {
		case "skill_id":
			dst = &r.SkillID
		case "campaign_id":
			dst = &r.CampaignID
		case "engagement_id":
			dst = &r.EngagementID
		default:
			d.errorf(kn, join(path, key), "unknown key (known keys: skill_id, campaign_id, engagement_id)")
			return
		}
		d.routingID(vn, reflect.ValueOf(dst).Elem(), join(path, key))
	})
}

// routingID reads a LivePerson id: a string or an integer, kept as written.
func (d *decoder) routingID(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int") {
		d.errorf(n, path, `want an id such as "1234", got %s`, kindName(n))
		return
	}
	v.SetString(n.Value)
}

// MarshalYAML writes the routing in the form a profile reads.
func (r Routing) MarshalYAML() (any, error) {
	if r.Default {
		return "default", nil
	}
	type plain Routing // without this method
	return plain(r), nil
}

// checkRouting checks target t's routing at key path at: one of the three forms, with ids as
// LivePerson writes them (digits; "-1" for any skill); a live target must have one.
func checkRouting(d *decoder, at string, t *Target) {
	r := t.Routing
	if r == nil {
		if t.Kind() == KindLive {
			d.errorf(nil, at, "live target %q has no routing: set routing to %s (best a test skill with a bot and no human agents)",
				t.Name, routingChoices)
		}
		return
	}
	at += ".routing"
	if hasErrorsUnder(d, at) {
		return // a value that could not be read is not judged again
	}
	hasSkill, hasCampaign := r.SkillID != "" || d.has(at+".skill_id"), r.CampaignID != "" || r.EngagementID != ""
	switch {
	case r.Default:
	case hasSkill && hasCampaign:
		d.errorf(nil, at, "set skill_id or campaign_id with engagement_id, not both")
	case hasSkill:
		if r.SkillID != AnySkill && !isDigits(r.SkillID) {
			d.errorf(nil, at+".skill_id", `want a skill id of digits (or "-1" for any skill), got %q`, r.SkillID)
		}
	case r.CampaignID == "" || r.EngagementID == "":
		if !hasCampaign {
			d.errorf(nil, at, "want %s, got an empty mapping", routingChoices)
			return
		}
		missing := "campaign_id"
		if r.EngagementID == "" {
			missing = "engagement_id"
		}
		d.errorf(nil, at, "a campaign's routing needs both campaign_id and engagement_id; %s is missing", missing)
	default:
		for _, f := range []struct{ key, v string }{{"campaign_id", r.CampaignID}, {"engagement_id", r.EngagementID}} {
			if !isDigits(f.v) {
				d.errorf(nil, at+"."+f.key, "want an id of digits (from the account's campaigns), got %q", f.v)
			}
		}
	}
}

// isDigits reports whether s is a non-empty string of ASCII digits.
func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// String describes the routing for plans and reports.
func (r *Routing) String() string {
	switch {
	case r == nil:
		return "the account's default (not set)"
	case r.Default:
		return "the account's default"
	case r.SkillID != "":
		return "skill " + r.SkillID
	default:
		return "campaign " + r.CampaignID + ", engagement " + r.EngagementID
	}
}
