package lp

import (
	"strings"
)

// Routing says where a CONVERSATION asks LivePerson to route the conversation: to a skill
// (SkillID; "-1" = any), or to a campaign's engagement (CampaignID and EngagementID, which
// LivePerson's docs prefer). The zero value asks nothing: the account's own routing rules decide.
type Routing struct {
	SkillID      string
	CampaignID   string
	EngagementID string
}

// ConsumerProfile is what every synthetic consumer tells LivePerson about itself with its
// CONVERSATION (userprofile.SetUserProfile): the "personal" SDE (first and last name, gender)
// and, when CustomerType is set, the "ctmrinfo" SDE's customer type. It is the same for every
// consumer of a run; on a live account it shows in agents' consumer info and in reports, hence
// the default says plainly that the consumer is lpbench's (DefaultConsumerProfile). There is no
// social id: one fixed for every consumer would merge thousands of consumers into one customer.
type ConsumerProfile struct {
	FirstName    string `yaml:"first_name"`
	LastName     string `yaml:"last_name"`
	Gender       string `yaml:"gender"`        // MALE or FEMALE; "" leaves it out
	CustomerType string `yaml:"customer_type"` // ctmrinfo's ctype; "" leaves ctmrinfo out
}

// DefaultConsumerProfile is the profile a synthetic consumer sets unless told otherwise: a name
// that says lpbench, no gender, no customer type, no social id.
func DefaultConsumerProfile() ConsumerProfile {
	return ConsumerProfile{FirstName: "lpbench", LastName: "synthetic consumer"}
}

// maxProfileField bounds each field of a ConsumerProfile.
const maxProfileField = 100

// ProfileError is a field of a ConsumerProfile that lpbench does not send: Key is its yaml key.
type ProfileError struct {
	Key, Msg string
}

func (e *ProfileError) Error() string { return e.Key + ": " + e.Msg }

// Validate returns a *ProfileError for the first field of p that lpbench would not send: a gender
// other than MALE or FEMALE, a field longer than 100 bytes or with control characters.
func (p ConsumerProfile) Validate() error {
	if p.Gender != "" && p.Gender != "MALE" && p.Gender != "FEMALE" {
		return &ProfileError{"gender", `want MALE, FEMALE or "" (left out), got "` + p.Gender + `"`}
	}
	for _, f := range []struct{ key, v string }{{"first_name", p.FirstName}, {"last_name", p.LastName}, {"customer_type", p.CustomerType}} {
		if len(f.v) > maxProfileField || strings.ContainsFunc(f.v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return &ProfileError{f.key, "want at most 100 bytes of printable text"}
		}
	}
	return nil
}

// The SetUserProfile SDEs and the routing fields of ConsumerRequestConversation, shaped as
// LivePerson documents them.
type (
	ctmrInfo struct {
		CType string `json:"ctype"`
	}
	personal struct {
		FirstName string `json:"firstname,omitempty"`
		LastName  string `json:"lastname,omitempty"`
		Gender    string `json:"gender,omitempty"`
	}
	campaignInfo struct {
		CampaignID   string `json:"campaignId"`
		EngagementID string `json:"engagementId"`
	}
)

// sdes returns the SDEs of the consumer profile p: ctmrinfo when it has a customer type,
// personal when it has a name or gender; none for an empty profile.
func (p ConsumerProfile) sdes() []sdes {
	var out []sdes
	if p.CustomerType != "" {
		out = append(out, sdes{Type: "ctmrinfo", Info: ctmrInfo{CType: p.CustomerType}})
	}
	if p.FirstName != "" || p.LastName != "" || p.Gender != "" {
		out = append(out, sdes{Type: "personal", Personal: personal{FirstName: p.FirstName, LastName: p.LastName, Gender: p.Gender}})
	}
	return out
}

// apply sets the routing fields of a ConsumerRequestConversation body: skillId and/or
// campaignInfo as asked, nothing for the account's default.
func (r Routing) apply(skill *string, campaign **campaignInfo) {
	*skill = r.SkillID
	if r.CampaignID != "" || r.EngagementID != "" {
		*campaign = &campaignInfo{CampaignID: r.CampaignID, EngagementID: r.EngagementID}
	}
}
