// Package lpsim is a simulator of the LivePerson consumer messaging API that lpbench drives: the
// domain API (CSDS), Sentinel AppJWTs, IdP ConsumerJWSs, CONVERSATION, SEND and close, with the
// AUTO_MESSAGES rule applied at the server, and the Connector API's webhooks that deliver the auto
// messages. It is the default target of lpbench and the ground truth of its tests: a [Ledger]
// counts every answered request, every injected fault and queue, every webhook notification
// emitted, delivered, retried and dropped, and, per recent conversation, the server-side
// create→first-send gap, whether auto messages were due, and whether the first one reached the
// webhook.
//
// It behaves like a loaded LivePerson, not like a mirror: accounts live in regions (va, lo, sy)
// with a network offset each; every endpoint has a service-time distribution and a capacity
// beyond which requests queue, so a ramp shows a knee; per-account rate limits answer 429 with
// Retry-After; faults (5xx, expired-token 401s, connection resets, trickled and malformed bodies,
// error bodies under 200, stall windows) are injected with configured probabilities, reproducibly
// with a Seed. [DefaultConfig] looks like a healthy three-region deployment without faults.
//
// A [Sim] is a [net/http.Handler]; [NewServer] runs one on 127.0.0.1 like httptest.NewServer, but
// as a real server the product can use, and [Serve] runs the standalone `lpbench sim`.
//
// # Hosts
//
// LivePerson serves each service at a host of its own, which CSDS names, and a client that sends
// a request to another service's host gets 404. A [Server] does the same on loopback without any
// DNS: it listens on its address (Server.URL: the domain API and the /_lpsim/ control routes) and
// on one more port of the same IP for each of sentinel, idp and asyncMessagingEnt. CSDS answers
// with the host name the request came to and the service's port, e.g. 127.0.0.1:41235 for
// sentinel, so a client that follows CSDS reaches the right host, and one that mixes them up gets
// 404 (not counted, like any unknown path). The services CSDS lists but the simulator does not
// serve (agentVep, leDataReporting) are given the domain API's host. [Server.ServiceURL] and the
// standalone banner give the service hosts. Config.SingleHost (single_host) serves everything at
// one address instead, for a simulator reached through one port (a proxy, a port forward); a
// [Sim] used as a plain http.Handler is one host too, and its CSDS answers with the request's
// host:port for every service.
//
// # Routes
//
//	GET  /api/account/{acc}/service/baseURI.json?version=1.0               CSDS, all services
//	GET  /api/account/{acc}/service/{service}/baseURI.json?version=1.0     CSDS, one service
//	     (both also without ".json", and under /csdr/account/{acc}/ instead of /api/account/{acc}/)
//	POST /sentinel/api/account/{acc}/app/token?v=1.0&grant_type=client_credentials   (sentinel host)
//	POST /sentinel/api/v2/account/{acc}/app/token                            Sentinel API v2 (form body)
//	GET  /sentinel/well-known/jwks                                           the AppJWTs' key set
//	POST /api/account/{acc}/consumer?v=1.0                                 IdP ConsumerJWS, v optional (idp host)
//	POST /api/account/{acc}/messaging/consumer/conversation?v=3            CONVERSATION (asyncMessagingEnt host)
//	POST /api/account/{acc}/messaging/consumer/conversation/send?v=3       SEND and close (asyncMessagingEnt host)
//	GET  /_lpsim/ledger[?account=ACC&consumer=PREFIX&after=SEQ&limit=N]    the Ledger as JSON (see Ledger)
//	POST /_lpsim/reset                                                     Sim.Reset, 204
//	GET  /_lpsim/apps                                                      accounts and generated credentials
//	POST /_lpsim/webhooks  {"account":ACC,"url":URL}                       register a webhook endpoint, 201
//	GET  /_lpsim/webhooks                                                  the registered endpoints
//	DELETE /_lpsim/webhooks/{id}                                           unregister one, 204
//
// The /_lpsim/ routes are the simulator's own control calls, not LivePerson endpoints: a
// client that also speaks to the real service must not use them there.
//
// # Behaviour where LivePerson's documentation is silent
//
// The simulator had to pick one behaviour for each of these; clients must not rely on them
// against the real service.
//
//   - Every error response, on every route, has the documented 401 shape
//     {"kind":"resp","code":STATUS,"body":{"title":..,"details":..,"errorCode":N},"type":".ReqBody$ErrorResp"};
//     errorCode is present only where lp-api.md lists one (the 401 codes, and 40001 for a missing or
//     wrong brandId, which answers 400).
//   - CSDS: the documented path, the same without ".json" (as public clients call it) and the
//     legacy /csdr/account/{acc}/ form all answer alike. version missing or not "1.0" → 400; unknown account → 401 (title "invalid site");
//     unknown service name (case-sensitive) → 404. Services: sentinel, idp, asyncMessagingEnt,
//     agentVep, leDataReporting. The baseURI is host:port, no scheme (see Hosts).
//   - Sentinel: v, client_id, client_secret and grant_type are read from the form body or the
//     query (the body wins). On the v1 path, v missing or not "1.0" (or "2.0", as LivePerson's
//     example for the v2 keys writes it) → 400; on the v2 path v is not needed, and one given must
//     be "2.0". grant_type missing or not client_credentials → 400; unknown account or wrong
//     credentials → 401. Both paths issue the same token: an RS256 JWT whose header is
//     {"kid":KID,"typ":"JWT","alg":"RS256"} as Sentinel's, verifiable with the key of that kid in
//     GET /sentinel/well-known/jwks ({"keys":[{"kty":"RSA","kid","use":"sig","alg":"RS256","n","e"}]},
//     not counted, delayed nor stalled). The RSA key is one per process (made at the first Sim);
//     the kid is random per Sim, and the signature covers it, so a token of another Sim never
//     verifies. exp = iat + the lifetime rounded up to whole seconds, but the token is refused
//     once the clock passes iat + the exact lifetime, so it never outlives its exp. ConsumerJWSs
//     are HS256 under a key random per Sim (nothing outside the Sim verifies them).
//   - Checks run in this order: body size (413; for Sentinel, the form), the rate limit (429) and
//     fault injection (see below), AppJWT (Authorization: the bare token or "Bearer " + token),
//     ConsumerJWS, the v query parameter (1.0 for the IdP, wrong → 400; 3 for messaging, missing
//     or wrong → 400), then the body's content. On the SEND path, the body is parsed before the
//     rate limit and faults, because it decides the endpoint (send or close).
//   - IdP: v may be left out, as public clients have done against real accounts for years; a v
//     that is given and not "1.0" → 400. A body that is not {"ext_consumer_id":STRING} with a
//     non-blank id → 400. lp_consumer_id is the hex SHA-256 of account, NUL, ext_consumer_id: stable across tokens and Sims.
//   - CONVERSATION: a body that is not a JSON array, whose first element is not
//     userprofile.SetUserProfile, that holds no or several cm.ConsumerRequestConversation, or any
//     other request type → 400; brandId missing or not the path account → 400 errorCode 40001;
//     ttrDefName, when present, must be NORMAL, URGENT, PRIORITIZED or CUSTOM (400 otherwise).
//     A consumer that already holds an open conversation gets 400, title
//     "Consumer already has an open conversation", details naming that conversation's id.
//   - SEND: the body is one object. ms.PublishEvent with a ContentEvent or RichContentEvent is a
//     message: it takes the conversation's next sequence (from 0), counts in Ledger.Sends and may be
//     the first send. ms.PublishEvent with a ChatStateEvent or AcceptStatusEvent is answered
//     200 {"reqId":..,"code":"OK","body":{}}, is counted in Requests[send] but is not a message.
//     Other event or request types → 400. Unknown dialogId → 400; a conversation owned by another
//     consumer → 401 40103 (checked before "closed", so nothing leaks); closed → 400.
//   - Close (cm.UpdateConversationField with ConversationStateField/CLOSE) answers
//     200 {"reqId":..,"code":"OK","body":{}}; any other field or state → 400; already closed → 400.
//     A request on the SEND path counts under [EndpointClose] when its body parses as a
//     cm.UpdateConversationField, otherwise under [EndpointSend] (405s, 413s and bodies that do not
//     parse included).
//   - Bodies are limited to 64 KiB: beyond, 413.
//   - Wrong method on a known path → 405 with Allow, counted under that path's endpoint; unknown path
//     → 404, not counted. The /_lpsim/ control routes are neither counted, delayed nor stalled.
//   - The Client-Properties header enables AUTO_MESSAGES when it parses as a JSON object whose
//     "features" array holds "AUTO_MESSAGES" (its "type" is not checked).
//   - Auto messages are emitted when the account has the feature and its app the Controller Bot
//     permission, both the CONVERSATION and the first message carried the header, and the first
//     message arrived no later than Window after the CONVERSATION request arrived (gap <= Window).
//     Later messages change nothing.
//   - ConsumerJWSs never expire, as documented, unless Config.ConsumerJWSLifetime is set; then an
//     expired one is refused with 401 errorCode 40103.
//   - Auto messages are notified with originatorMetadata.role CONTROLLER ([AutoMessageRole]); see
//     Webhooks below.
//   - Routing: a CONVERSATION's skillId (a string or a number) and campaignInfo are read; the
//     skill a conversation lands on is the one asked for when its account has no skill list
//     (Account.Skills nil), or the list holds it; otherwise (no skillId, "-1", or an id the list
//     does not hold) it is the default skill "-1" ([RouteSkill]). Sending an unknown skill id to
//     the default skill is this simulator's assumption: LivePerson does not document what it does
//     with one. campaignInfo routes nothing (the simulator has no campaigns): such a conversation
//     goes where its skillId, or the lack of one, says. The skill shows in
//     conversationDetails.skillId of the conversation's change notifications, and in the ledger
//     (Conversation.SkillAsked and Skill, Ledger.ConversationsBySkill).
//
// # Webhooks
//
// Each account's app installation has a set of webhook endpoints, every one of which receives
// every notification of the account; LivePerson registers one URL per event type, and the
// simulator sends every type to each endpoint, where the body's "type" tells them apart. The set
// starts with Account.WebhookURL, if any; [Sim.SetWebhook] replaces it with one URL (or empties
// it), as lpbench does in-process once its receiver listens; [Sim.AddWebhook] and
// [Sim.RemoveWebhook] add and remove one endpoint, and so do, for other processes, the control
// calls below ([RegisterWebhook] and [UnregisterWebhook] are their client side). Several lpbench
// processes sharing one standalone simulator thus each register their own receiver and each
// receive every notification of the account, their own conversations' and the others'; each
// verifies its own conversations (by ext_consumer_id) with its endpoint's records in the ledger.
//
//   - POST /_lpsim/webhooks with {"account":STRING,"url":STRING} → 201
//     {"id":"wh-…","account":..,"url":..}. A body that is not that object, with both strings
//     non-empty, → 400; a URL that is not an absolute http or https URL → 400; an account the
//     simulator does not serve → 404; beyond 64 KiB → 413. A URL the account already has is the
//     same endpoint (an app installation's webhook is one URL): the answer carries its id, and it
//     stays until each of its registrations is removed, so the shards of a distributed run that
//     all register one webhook relay have it receive every notification once. Ids are random,
//     never reused.
//   - DELETE /_lpsim/webhooks/{id} → 204; an id not registered → 404. Any endpoint may be
//     removed this way, the configured one and SetWebhook's included.
//   - GET /_lpsim/webhooks → 200, a JSON array of {"id","account","url"}, by account in
//     configuration order, then in order of registration.
//   - Errors have the error shape above (without errorCode); other methods → 405 with Allow.
//     Like every control route, these are neither counted, delayed nor stalled, and need no
//     credentials: the simulator listens on loopback only, unless AllowRemote.
//   - Registrations survive Reset. A notification's endpoints are fixed when it is emitted:
//     one registered later does not get it, one removed later still does.
//
// An account's installation may lack webhooks for some event types, or be another app's:
//
//   - Account.WebhookEvents (webhook_events) lists the event types the installation has a
//     webhook for, by their capabilities.webhooks names ([WebhookEventTypes]:
//     ms.MessagingEventNotification.ContentEvent, .RichContentEvent, .ChatStateEvent,
//     .AcceptStatusEvent, cqm.ExConversationChangeNotification); empty, the default, is every
//     type. A notification of another type is not emitted (Ledger.Webhooks.Unsubscribed counts
//     it): without ContentEvent neither the consumer's echo of a text message nor any auto
//     message arrives, while the conversation changes do.
//   - Account.WebhookClientID and WebhookClientSecret (webhook_client_id, webhook_client_secret),
//     set together, are the client id and secret of another installation whose webhooks reach
//     the endpoints: deliveries carry its x-liveperson-client-id and are signed with its secret,
//     so a receiver that checks them with the app's secret refuses them all. Unset, the
//     default, the app's own (ClientID, ClientSecret) are used. The secret is never printed.
//
// Without an endpoint nothing is sent (Ledger.Webhooks.NoEndpoint counts what would have
// been). With one or more, the simulator emits, one change per notification:
//
//   - cqm.ExConversationChangeNotification UPSERT, state and stage OPEN, when a conversation is
//     created, and state and stage CLOSE (with endTs, closeReason CONSUMER, effectiveTTR -1) when
//     it is closed, in the shape of lp-api.md §6 with the fields of LivePerson's schema and demo
//     connector (testdata/fixtures/conversation-open-notification.json and
//     conversation-close-notification.json): result.effectiveTTR (startTs + the TTR while open),
//     skillId (the skill the conversation was routed to: see "Routing" below), the participants, the one MAIN MESSAGING dialog
//     (dialogs[], its id the conversation's, with the same participants, state, creationTs and
//     endTs, closedBy CONSUMER), and metaDataLastUpdateTs, the time of this change, strictly
//     increasing per conversation so a receiver can order the changes by it. The participants are
//     the consumer (role CONSUMER, id its lp_consumer_id) and, once auto messages were posted, the
//     controller (role CONTROLLER, the auto messages' originatorId).
//   - ms.MessagingEventNotification for every accepted consumer message (ContentEvent or
//     RichContentEvent): the event as the consumer sent it, its sequence, role CONSUMER.
//   - After a first message that qualifies for AUTO_MESSAGES, the configured auto messages
//     (WebhookConfig.AutoMessages) as ContentEvents, text/plain, with the sequences that follow the
//     consumer's message (the consumer's next message comes after them), originatorId a stable
//     id per account and role CONTROLLER. LivePerson does not document the role: CONTROLLER is
//     the messaging API's role for the system participant whose permission (Controller Bot) the
//     rule requires, and it is neither the consumer's role, which receivers filter out, nor an
//     agent's. Without an endpoint, auto messages take no sequence, so the consumer's sequences
//     stay consecutive as before.
//
// serverTimestamp, startTs and endTs are Unix milliseconds on the Sim's clock. Emission never
// delays an answer: notifications are handed to a dispatcher (at most WebhookConfig.Workers
// attempts in flight, at most QueueSize notifications pending; a notification emitted into a
// full queue is dropped, reason "queue_full"). Each is one HTTP POST with Content-Type
// application/json and the headers x-liveperson-account-id, x-liveperson-client-id and
// x-liveperson-signature: "sha1=" + Base64(HMAC-SHA1(app client secret, the exact body sent)).
// Its first attempt starts after a delay drawn from WebhookConfig.Latency; an answer other than
// 2xx, a transport error or no answer within Timeout (10s) fails the attempt, and up to
// MaxRetries (0–5) more attempts follow, each RetryInterval (30s) after the start of the one
// before; when the last fails, the notification is dropped (reason "failed").
//
// Order: per endpoint and conversation, notifications are delivered in the order they were
// emitted, which is sequence order (and metaDataLastUpdateTs order) for a consumer that awaits
// each answer: one whose delay is over waits while the one before it has not had its first
// attempt answered, failed or lost, even with many workers and the same latency for all. Only
// retries (a failed attempt releases the next notification), reordering and duplicates, below,
// and several concurrent requests on one conversation, break that order.
//
// Loss, duplication and reordering, each with its probability:
//
//   - Loss is per attempt: a lost attempt is never sent, and counts as failed, so a retry may
//     recover it (after RetryInterval, which then shows in the delivery's latency); without
//     retries, or when the last attempt is lost, the notification is dropped (reason "loss").
//     Per attempt rather than per notification so that max_retries does what it does in
//     LivePerson: with 5 % loss and no retries, the conversations whose receiver saw no auto
//     message are exactly those whose first auto message the ledger shows dropped; with
//     retries, they are recovered.
//   - A duplicated notification, once delivered, is POSTed once more (the same bytes) after
//     another latency draw.
//   - A reordered notification waits an extra delay, uniform in (0, ReorderDelay], before its
//     first attempt, so later notifications overtake it. Latency draws alone may reorder too.
//
// A notification is emitted once, and delivered once to each endpoint its account had at
// emission: every delivery has its own latency, loss, reordering, duplicate and retries, as if
// each endpoint were the only one. The draws come from their own generators seeded by
// Config.Seed, apart from the latency and fault draws of the API. Ledger.Webhooks counts
// notifications emitted (once each, whatever the number of endpoints) and their deliveries:
// delivered, dropped (by reason) and pending, attempts retried and lost, duplicates posted and
// deliveries reordered; with one endpoint, deliveries and notifications are the same.
// Ledger.WebhookEndpoints counts the deliveries per endpoint. Each ledger Conversation tells how
// many auto messages were emitted (notifications) and delivered (deliveries), and the fate of
// its first auto message: one per conversation, however many endpoints it went to. It is
// delivered when it reached every endpoint (when the last answered, the most attempts any
// took), dropped when one endpoint or more never got it, and its FirstAutoMessageDeliveries
// tell, per endpoint id, which. [Server.Close] stops
// the dispatcher at once: pending notifications, retries included, are dropped (reason
// "shutdown"), attempts in flight are cancelled, and no goroutine is left; a Sim that is never
// closed holds none once its deliveries are over. [Sim.Reset] zeroes the webhook counters;
// notifications emitted before it are still delivered, but no longer counted.
//
// # Load, limits and faults
//
//   - Latency: an answer takes, after its work, the endpoint's sampled service time, then its
//     region's offset (Config.RegionLatency: network distance, holding no capacity), then waits
//     out any stall. Errors take the same time as successes.
//   - Capacity (Config.Capacity, per endpoint, shared by all accounts): at most Concurrency
//     requests in service and Rate entering service per second; beyond, requests wait in FIFO
//     order, never refused. The wait counts in the answer's time; arrival times in the ledger stay
//     at arrival. Ledger.Queues shows, per endpoint, how many waited, for how long, how many at once.
//   - Rate limits (Config.RateLimits, a token bucket per account and endpoint): an empty bucket
//     answers 429 in the error shape, title "Too many requests, please try again later", with a
//     Retry-After header in whole seconds. A refused request does nothing; it is counted under 429.
//     Requests for an unknown account are not limited (they are refused later).
//   - Faults (Config.Faults, per endpoint; Sim.SetFaults): one draw per request that passed the rate
//     limit picks at most one fault. All but trickle replace the answer and do none of the
//     request's work, so conversation counts stay exact: 500 and 503 in the error shape; 401
//     errorCode 40102 "AppJWT is expired"; reset (a 200's headers and half its body, then the
//     connection closes: the client reads an unexpected EOF; it is counted under 200); malformed
//     (200, not JSON); error body (200 whose body says code 500: for CONVERSATION the documented
//     array with a conversation element of code 500 and no conversationId, for SEND and close the
//     response object with code 500, elsewhere the error shape). Trickle serves the request and
//     writes its answer one byte per TrickleDelay. Ledger.Faults counts each kind per endpoint,
//     and the responses held by stalls (kind "stall").
//   - Stalls: Sim.Stall(d) from now, and Config.Stalls windows from the Sim's creation.
//   - Fault draws and latency samples come from two generators seeded by Config.Seed: the same
//     requests in the same order meet the same faults. Webhook deliveries draw from two more.
//
// # Ledger
//
// The ledger's counters are exact whatever the simulator has served: requests by endpoint and
// status, faults, queues, tokens, conversations created and closed, sends, auto messages,
// conversations by skill, webhook notifications and deliveries by outcome and endpoint. The
// detail of each conversation (Ledger.Conversations) is kept for a bounded number of them, so
// that a simulator shared by runs for weeks holds bounded memory:
//
//   - Config.LedgerConversations (ledger_conversations, `lpbench sim -ledger-conversations N`)
//     is how many of the most recent conversations, by creation, are kept; default
//     [DefaultLedgerConversations] (20,000, about 20 MB), several times the largest run a test
//     compares with the ledger; -1 keeps every one, as before the bound (memory then grows by
//     about 1 KB per conversation).
//   - Beyond the most recent ones, a conversation is forgotten once it is closed and every
//     delivery of its auto messages is delivered or dropped. An open conversation is never
//     forgotten: the one-open-conversation-per-consumer rule and its 400, which names the open
//     one, hold whatever the bound (and a consumer holds at most one).
//   - A request about a forgotten conversation (SEND, close) gets 400 "Unknown conversation"
//     rather than "Conversation is closed".
//   - Ledger.ConversationsKept and ConversationsForgotten count the two sides; each kept
//     conversation carries Seq, its creation number since New or Reset (from 1).
//
// Nothing else grows with the conversations or consumers served: open conversations are bounded
// by the consumers holding them, pending webhook deliveries by WebhookConfig.QueueSize, verified
// tokens by a cache of 4,096. What grows with runs rather than conversations: an entry per
// webhook endpoint registered (Ledger.WebhookEndpoints, until Reset; an endpoint that is never
// removed stays registered) and one per distinct skill id asked for (ConversationsBySkill).
//
// GET /_lpsim/ledger answers the whole ledger, every kept conversation listed, as [Sim.Ledger]
// does; its parameters select which conversations are listed ([Sim.LedgerOf], [LedgerQuery]),
// the counters being whole in every answer:
//
//   - account=ACC: only the account's conversations;
//   - consumer=PREFIX: only those whose ext_consumer_id starts with PREFIX; lpbench's consumer
//     ids begin with "lpbench-RUN-" (the journey.consumer_id pattern, {run} being the run's
//     random id), so consumer=lpbench-RUN- lists one run's;
//   - after=SEQ: only those created after the conversation with that Seq;
//   - limit=N: at most N, in creation order; when more were left out, next_after is the Seq of
//     the last one listed, to pass as after= for the next page (absent on the last page);
//     limit=0 lists none: the counters alone.
//
// Conversations, then next_after, come last in the JSON form: they are copied and written a
// chunk at a time, so neither the answer nor a copy of every conversation exists whole in the
// simulator's memory, and requests are served meanwhile. The counters are those of the answer's
// start; conversations created after it are not listed. A parameter that is not a whole number
// ≥ 0 → 400 in the error shape, naming it.
//
// # Reset and sharing
//
// [Sim.Reset] (POST /_lpsim/reset) forgets every conversation and zeroes the ledger (Seq starts
// again from 1) and the rate limit buckets, keeping configuration, clock and issued tokens.
// Several clients may share one
// simulator: conversation ids are random UUIDs, and consumers are told apart by account and
// ext_consumer_id, so clients using distinct consumer ids (lpbench puts a random run id in them)
// never collide; each finds its conversations in the ledger by ext_consumer_id (consumer=PREFIX
// lists them alone). A shared simulator keeps the detail of its most recent conversations only
// (see Ledger): a client that compares its run with the ledger's detail reads it before more
// than LedgerConversations others are created, or gives the simulator a larger bound.
//
// # Time
//
// Arrival times are taken when a request reaches the handler, before any queue or simulated
// latency, on the server's monotonic clock (durations since the Sim was created). The queue and
// the simulated latency are spent after the work and before the response is written; then, if a
// stall is in force, the response is held until it ends. Every wait ends early when the request's
// context ends or the [Server] closes. Webhook delays and retries run on real time, like these
// waits: an injected clock moves the ledger and the timestamps, not the deliveries.
//
// # Standalone
//
// [Serve] listens on loopback only (127.0.0.1:0 by default) unless Config.AllowRemote, prints
// "lpsim listening on http://HOST:PORT", with Config.TLS the CA file, the service hosts (see
// Hosts), one line per account (id, region, client id and, when generated locally, the client
// secret) and how to register a webhook endpoint, serves until its context ends and shuts down
// gracefully.
//
// # TLS
//
// With Config.TLS (`lpbench sim -tls`), every host of a Server speaks HTTPS (TLS 1.2 or newer,
// HTTP/1.1) with one certificate for localhost, 127.0.0.1, ::1 and the listening host, signed
// by a CA made at start (ECDSA P-256, valid 30 days). The CA certificate (PEM) is written to
// Config.TLSCAFile (never over a file it did not write), or to a file in a new temporary
// directory removed by Close; Server.CAFile and the banner name it, and clients verify against
// it. Webhook deliveries are unchanged.
package lpsim
