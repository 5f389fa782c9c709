package sample

// WebhookStats count the webhook deliveries of one target's receiver: lp's receiver keeps them,
// the result carries them.
type WebhookStats struct {
	Received     int64 `json:"received"`      // deliveries with a valid signature
	BadSignature int64 `json:"bad_signature"` // refused with 401: missing, forged or altered
	Undecodable  int64 `json:"undecodable"`   // signed deliveries whose body is not a notification
	AutoMessages int64 `json:"auto_messages"` // first auto messages matched to a waiting journey
	Duplicates   int64 `json:"duplicates"`    // auto messages delivered again: a sequence already seen for their conversation
	Unmatched    int64 `json:"unmatched"`     // for conversations of no journey of this run
	Late         int64 `json:"late"`          // first auto messages that came after their journey stopped waiting
	Echoes       int64 `json:"echoes"`        // the consumer's own messages echoed back (ignored)
	Overflow     int64 `json:"overflow"`      // dropped: the receiver's queue was full
	// With a webhook relay (webhooks.relay): Relayed counts the deliveries that came through it
	// (all of Received); RelayDropped those the relay dropped for this subscriber, its queue
	// full (the shard read too slowly); RelayMissed the others it received while the shard was
	// subscribed that never came (received while the subscription was lost and opened again, or
	// still on their way when the run stopped); RelayReconnects the subscriptions opened again
	// after one was lost; RelayUncertain the times the shard could not tell what it lost (the
	// relay restarted during the run, or its final count could not be read at the end).
	Relayed         int64 `json:"relayed,omitempty"`
	RelayDropped    int64 `json:"relay_dropped,omitempty"`
	RelayMissed     int64 `json:"relay_missed,omitempty"`
	RelayReconnects int64 `json:"relay_reconnects,omitempty"`
	RelayUncertain  int64 `json:"relay_uncertain,omitempty"`
	// Reordered counts notifications that arrived after a later one of their conversation: an
	// auto message below a sequence already seen, a conversation change older
	// (metaDataLastUpdateTs) than one already seen.
	Reordered int64 `json:"reordered,omitempty"`
}

// Add adds o's counts to s.
func (s *WebhookStats) Add(o WebhookStats) {
	s.Received += o.Received
	s.BadSignature += o.BadSignature
	s.Undecodable += o.Undecodable
	s.AutoMessages += o.AutoMessages
	s.Duplicates += o.Duplicates
	s.Unmatched += o.Unmatched
	s.Late += o.Late
	s.Echoes += o.Echoes
	s.Overflow += o.Overflow
	s.Relayed += o.Relayed
	s.RelayDropped += o.RelayDropped
	s.RelayMissed += o.RelayMissed
	s.RelayReconnects += o.RelayReconnects
	s.RelayUncertain += o.RelayUncertain
	s.Reordered += o.Reordered
}
