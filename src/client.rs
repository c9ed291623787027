//! The `client` resource in plain Rust: configuration, the peer directory
//! and a transport, and one method per WIT method. Time (`now`, monotonic
//! nanoseconds) is passed in by the glue, so every path unit-tests natively.

use std::time::Duration;

use crate::a2a::{self, Ask, Call, Protocol, ProtocolChoice, ReplyKind, SendIds, Spoken, Task, TaskQuery};
use crate::card::{self, AgentCard};
use crate::config::{Config, RawConfig};
use crate::directory::{Cached, Directory, Key, Stats};
use crate::error::{excerpt, redacted, Error, ErrorKind, Redact};
use crate::ids::{id_bits, validate_peer_id, validate_task_id};
use crate::message::{self, Message};
use crate::messaging::{self, Answered, Expect, Proxy, SendEnv, Sent};
use crate::platform::{self, Peer, Workspace};
use crate::push::{self, PushCall, PushConfig};
use crate::resume::ResumingStream;
use crate::retry::RetryBudget;
use crate::streaming::EventStream;
use crate::transport::{read_rest, Method, Opened, Request, Response, Transport, TransportError};

/// A configured client over transport `T`.
pub(crate) struct Client<T: Transport> {
    config: Config,
    directory: Directory<T::Pending>,
    budget: RetryBudget,
    transport: T,
}

/// A task as a peer reported it (`get-task`, `cancel-task`), and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskReport {
    /// The task.
    pub task: Task,
    /// The version spoken.
    pub protocol: Protocol,
    /// Every attempt.
    pub attempts: Vec<crate::error::Attempt>,
}

/// A page of `list-tasks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskPage {
    /// The tasks.
    pub tasks: Vec<Task>,
    /// The next page's token; none on the last page.
    pub next_page_token: Option<String>,
    /// How many tasks match in all, when the peer says.
    pub total_size: Option<u32>,
    /// Every attempt.
    pub attempts: Vec<crate::error::Attempt>,
}

impl Redact for TaskPage {
    fn texts_mut(&mut self) -> Vec<&mut String> {
        self.attempts.iter_mut().map(|a| &mut a.outcome).collect()
    }
}

/// Most extensions one call may ask for.
const MAX_EXTENSIONS: usize = 32;

/// The extension URIs a call asks for, each usable in a header (not empty,
/// at most 2 KiB, no spaces, commas or control characters), repeats dropped.
fn checked_extensions(asked: &[String]) -> Result<Vec<String>, ErrorKind> {
    let mut out: Vec<String> = Vec::with_capacity(asked.len().min(MAX_EXTENSIONS));
    for uri in asked {
        let usable = !uri.is_empty()
            && uri.len() <= 2048
            && !uri.chars().any(|c| c == ',' || c.is_whitespace() || c.is_control());
        if !usable {
            return Err(ErrorKind::invalid_id("extensions", uri));
        }
        if !out.contains(uri) {
            out.push(uri.clone());
        }
    }
    if out.len() > MAX_EXTENSIONS {
        let value = format!("{} URIs (at most {MAX_EXTENSIONS})", out.len());
        return Err(ErrorKind::InvalidId { param: "extensions".into(), value });
    }
    Ok(out)
}

/// A push-config call made sendable: task and config ids usable, the URL
/// and token free of spaces and control characters.
fn checked_push(call: &PushCall) -> Result<(), ErrorKind> {
    if validate_task_id(call.task_id()).is_none() {
        return Err(ErrorKind::invalid_task_id(call.task_id()));
    }
    if let Some(id) = call.config_id().filter(|id| validate_task_id(id).is_none()) {
        return Err(ErrorKind::invalid_id("config-id", id));
    }
    if let PushCall::Create { url, token, .. } = call {
        let unclean = |t: &str| t.is_empty() || t.chars().any(|c| c.is_control() || c.is_whitespace());
        if unclean(url) {
            return Err(ErrorKind::InvalidMessage(format!(
                "push config url is empty or has a space or control character: {}",
                crate::ids::quote_input(url, 80)
            )));
        }
        if token.as_deref().is_some_and(unclean) {
            return Err(ErrorKind::InvalidMessage(
                "push config token is empty or has a space or control character".into(),
            ));
        }
    }
    Ok(())
}

/// Longest page token accepted, in bytes (an opaque cursor from the peer).
const MAX_PAGE_TOKEN: usize = 4096;

/// A `list-tasks` query made sendable: ids and token checked, the state in
/// v1.0 spelling.
fn checked_query(query: &TaskQuery) -> Result<TaskQuery, ErrorKind> {
    if let Some(id) = query.context_id.as_deref().filter(|id| validate_task_id(id).is_none()) {
        return Err(ErrorKind::invalid_id("context-id", id));
    }
    if let Some(state) = query.status.as_deref().filter(|s| validate_task_id(s).is_none()) {
        return Err(ErrorKind::invalid_id("state", state));
    }
    let bad_token = |t: &&str| t.is_empty() || t.len() > MAX_PAGE_TOKEN || t.chars().any(char::is_control);
    if let Some(token) = query.page_token.as_deref().filter(bad_token) {
        return Err(ErrorKind::invalid_id("page-token", token));
    }
    Ok(TaskQuery { status: query.status.as_deref().map(a2a::v1_state), ..query.clone() })
}

impl Redact for TaskReport {
    fn texts_mut(&mut self) -> Vec<&mut String> {
        self.attempts.iter_mut().map(|a| &mut a.outcome).collect()
    }
}

/// Results that carry only what the platform or a peer sent as data, or
/// (a stream) scrub their own errors as they hand them out.
impl Redact for Peer {}
impl Redact for PushConfig {}
impl Redact for Workspace {}
impl Redact for AgentCard {}
impl Redact for String {}
impl Redact for () {}
impl<S> Redact for EventStream<S> {}

/// Most targets of one `send-many`.
pub(crate) const MAX_SEND_MANY: usize = 64;

/// Lookups in flight looked at by each call's bounded sweep.
const HARVEST_BUDGET: usize = 8;

/// A `send-many` of `targets` targets is allowed (at most [`MAX_SEND_MANY`]).
pub(crate) fn check_send_many(targets: usize) -> Result<(), Error> {
    if targets > MAX_SEND_MANY {
        let msg = format!("send-many takes at most {MAX_SEND_MANY} targets, got {targets}");
        return Err(Error::new(ErrorKind::InvalidConfig(msg.clone()), format!("[A2A_ERROR] {msg}")));
    }
    Ok(())
}

fn key(source: &str, peer: &str) -> Option<Key> {
    Some((id_bits(source)?, id_bits(peer)?))
}

/// What the head of a stream's response says ([`Client::stream_head`]).
pub(crate) enum StreamHead<S> {
    /// Events follow.
    Events(Box<EventStream<S>>),
    /// One whole answer (of this URL) is to be read.
    Whole(Opened<S>, String),
}

/// How a call that chooses its version by the peer's card (`auto`) reads it.
#[derive(Debug, Clone, Copy)]
enum CardRead {
    /// From the cache, else a registry lookup made there and then (blocking).
    LookUp,
    /// From the cache only; on the `last_chance`, a card still missing is
    /// no card. (The WASI 0.3 glue's way, through `send_job` and `proxy_job`.)
    #[cfg_attr(not(feature = "p3"), allow(dead_code))]
    CacheOnly { last_chance: bool },
}

/// A step of a call prepared without blocking ([`Client::send_job`],
/// [`Client::proxy_job`]).
#[derive(Debug)]
#[cfg_attr(not(feature = "p3"), allow(dead_code))] // the WASI 0.3 glue's
pub(crate) enum Prepared<P> {
    /// The job to run.
    Ready(messaging::Job),
    /// Wait for this request in flight, then prepare again.
    Wait(P),
    /// Prepare again at once (a lookup failed to start and was remembered).
    Retry,
}

/// What one `send-message` is asked to send (see [`Client::send_job`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SendCall<'a> {
    /// The peer, as the caller gave it.
    pub peer_id: &'a str,
    /// The message.
    pub message: &'a Message,
    /// The explicit source, if any.
    pub source: Option<&'a str>,
    /// The version and extensions asked for.
    pub ask: &'a Ask,
    /// The JSON-RPC id and message id, the same on every attempt.
    pub ids: &'a SendIds,
    /// `Send`, or `Stream` for a streamed send's request.
    pub call: Call,
}

/// The card in a peer's registry record (an empty card when it has none).
fn card_in(record: &Peer) -> AgentCard {
    card::from_record(&record.raw).unwrap_or_else(|| card::read(&serde_json::Value::Null))
}

/// A JSON-RPC call through the proxy other than a send — a task, push-config,
/// extended-card or list call: its input checked, its body once the version
/// is known, its answer read. The blocking client makes one with
/// `Client::proxy_call`; the WASI 0.3 glue prepares its job without
/// blocking (`Client::proxy_job`), runs it, and reads the answer
/// (`Client::proxy_read`): the same checks, body and reading in both.
pub(crate) trait ProxyCall {
    /// What the caller gets.
    type Out: Redact;
    /// The call's own input checked (no request when it fails).
    fn check(&self) -> Result<(), ErrorKind>;
    /// The JSON-RPC body in the version spoken, or why the call cannot be
    /// made in it.
    fn body(&self, spoken: &Spoken, request_id: &str) -> Result<Vec<u8>, ErrorKind>;
    /// What the answer's `result` must be.
    fn expect(&self) -> Expect {
        Expect::AnyResult
    }
    /// Reads the answer (its attempts kept) of a call to the proxy at `url`.
    fn read(&self, url: String, protocol: Protocol, answered: Answered) -> Result<Self::Out, Error>;
}

/// `get-task` / `cancel-task`: the task as the peer reports it.
pub(crate) struct TaskCall<'a> {
    /// `GetTask` or `CancelTask`.
    pub call: Call,
    /// The task, as the caller gave it.
    pub task_id: &'a str,
}

impl ProxyCall for TaskCall<'_> {
    type Out = TaskReport;

    fn check(&self) -> Result<(), ErrorKind> {
        validate_task_id(self.task_id).map(drop).ok_or_else(|| ErrorKind::invalid_task_id(self.task_id))
    }

    fn body(&self, spoken: &Spoken, request_id: &str) -> Result<Vec<u8>, ErrorKind> {
        Ok(spoken.stamp(a2a::task_body(spoken.protocol, self.call, request_id, self.task_id)))
    }

    fn expect(&self) -> Expect {
        Expect::MessageOrTask
    }

    /// The task the answer holds (a Message is a shape error).
    fn read(&self, url: String, protocol: Protocol, answered: Answered) -> Result<TaskReport, Error> {
        let Answered { reply, attempts } = answered;
        match reply.kind {
            ReplyKind::Task { id, context_id, state, artifacts } => {
                let task = Task {
                    id: id.unwrap_or_else(|| self.task_id.to_owned()),
                    context_id,
                    state,
                    text: reply.text,
                    parts: reply.parts,
                    artifacts,
                    metadata: reply.metadata,
                    raw: reply.raw,
                };
                Ok(TaskReport { task, protocol, attempts })
            }
            ReplyKind::Message => {
                let detail = "expected a Task, got a Message".to_owned();
                let kind =
                    ErrorKind::UnexpectedShape { url, status: 200, detail, excerpt: excerpt(reply.raw.as_bytes()) };
                Err(Error { attempts, ..Error::a2a(kind) })
            }
        }
    }
}

/// `extended-agent-card`: the card a peer shows the callers it
/// authenticates (`agent/getAuthenticatedExtendedCard` in v0.3,
/// `GetExtendedAgentCard` in v1.0); never cached (it may differ per caller).
pub(crate) struct ExtendedCard;

impl ProxyCall for ExtendedCard {
    type Out = AgentCard;

    fn check(&self) -> Result<(), ErrorKind> {
        Ok(())
    }

    fn body(&self, spoken: &Spoken, request_id: &str) -> Result<Vec<u8>, ErrorKind> {
        Ok(spoken.stamp(a2a::extended_card_body(spoken.protocol, request_id)))
    }

    fn read(&self, url: String, _: Protocol, answered: Answered) -> Result<AgentCard, Error> {
        let read = |card: &serde_json::Value| match card {
            serde_json::Value::Object(_) => Ok(card::read(card)),
            other => Err(format!("result is not an agent card (an object): {}", a2a::short(other))),
        };
        read_json(url, answered, read).map(|(card, _)| card)
    }
}

/// A task's push-notification configs: create, get, list or delete; the
/// configs the answer holds (none for a delete).
pub(crate) struct PushConfigs<'a>(pub &'a PushCall);

impl ProxyCall for PushConfigs<'_> {
    type Out = Vec<PushConfig>;

    fn check(&self) -> Result<(), ErrorKind> {
        checked_push(self.0)
    }

    fn body(&self, spoken: &Spoken, request_id: &str) -> Result<Vec<u8>, ErrorKind> {
        Ok(spoken.stamp(push::body(spoken.protocol, self.0, request_id)))
    }

    fn read(&self, url: String, _: Protocol, answered: Answered) -> Result<Vec<PushConfig>, Error> {
        read_json(url, answered, |result| push::read(self.0, result)).map(|(configs, _)| configs)
    }
}

/// `list-tasks`: `ListTasks` (A2A v1.0; v0.3 has no such method, so a call
/// in v0.3 is `unsupported` and sends nothing).
pub(crate) struct TaskList<'a>(pub &'a TaskQuery);

impl ProxyCall for TaskList<'_> {
    type Out = TaskPage;

    fn check(&self) -> Result<(), ErrorKind> {
        checked_query(self.0).map(drop)
    }

    fn body(&self, spoken: &Spoken, request_id: &str) -> Result<Vec<u8>, ErrorKind> {
        if spoken.protocol == Protocol::V0_3 {
            let why = "list-tasks is A2A v1.0's ListTasks and v0.3 has no way to list tasks: \
                       call it with protocol v10 (or auto, for a peer whose card lists 1.0)";
            return Err(ErrorKind::Unsupported(why.into()));
        }
        Ok(spoken.stamp(a2a::list_tasks_body(request_id, &checked_query(self.0)?)))
    }

    fn read(&self, url: String, _: Protocol, answered: Answered) -> Result<TaskPage, Error> {
        let (page, attempts) = read_json(url, answered, a2a::read_task_page)?;
        let a2a::ListedPage { tasks, next_page_token, total_size } = page;
        Ok(TaskPage { tasks, next_page_token, total_size, attempts })
    }
}

/// The `result` of an answer whose result is any JSON (a card, a page,
/// configs), read by `read`; a result it refuses is an `unexpected-shape`
/// error saying where. The attempts come back with what was read.
fn read_json<R>(
    url: String,
    answered: Answered,
    read: impl FnOnce(&serde_json::Value) -> Result<R, String>,
) -> Result<(R, Vec<crate::error::Attempt>), Error> {
    let Answered { reply, attempts } = answered;
    let result: serde_json::Value = serde_json::from_str(&reply.raw).unwrap_or_default();
    match read(&result) {
        Ok(read) => Ok((read, attempts)),
        Err(detail) => {
            let excerpt = excerpt(reply.raw.as_bytes());
            Err(Error { attempts, ..Error::a2a(ErrorKind::UnexpectedShape { url, status: 200, detail, excerpt }) })
        }
    }
}

impl<T: Transport> Client<T> {
    /// Every result the client hands out passes through here, the one place
    /// tokens are scrubbed: a server that echoes a request's
    /// `Authorization` header (into a body an error quotes, or an attempt's
    /// outcome) must not leak it through us.
    pub(crate) fn handed_out<R: Redact>(&self, result: R) -> R {
        redacted(result, self.config.tokens.values().map(String::as_str))
    }

    /// Checks `raw` and builds a client; makes no request.
    pub(crate) fn new(raw: RawConfig, transport: T) -> Result<Self, Error> {
        let config = Config::from_raw(raw)?;
        let budget = RetryBudget::new(config.retry.budget_tokens, config.retry.budget_refill_percent);
        Ok(Self { directory: Directory::new(config.cache.clone()), budget, config, transport })
    }

    /// Replaces or removes a workspace's token.
    pub(crate) fn set_token(&mut self, workspace_id: &str, token: Option<String>) -> Result<(), Error> {
        let result = self.config.set_token(workspace_id, token);
        self.handed_out(result)
    }

    /// The source a call about `peer` acts as: the explicit one, else the
    /// source whose `peers` listing last included the peer, else this
    /// workspace (the Python client's multi-workspace auto-routing).
    pub(crate) fn source_for(&self, peer: &str, explicit: Option<&str>) -> Result<String, ErrorKind> {
        if explicit.is_some_and(|s| !s.trim().is_empty()) {
            return self.config.source(explicit);
        }
        let routed = id_bits(peer).and_then(|bits| self.directory.route(bits));
        Ok(routed.map(|(_, id)| id.to_owned()).unwrap_or_else(|| self.config.workspace_id.clone()))
    }

    /// Stores finished enrichment lookups; never blocks. Every call starts
    /// with it: a bounded sweep (so a call costs the same with 1 or 1000
    /// lookups in flight) that also covers `key`'s own lookup.
    pub(crate) fn harvest_for(&mut self, key: Option<Key>, now: u64) {
        let config = &self.config;
        self.directory
            .harvest_some(HARVEST_BUDGET, key, now, |peer, outcome| platform::discover_outcome(config, peer, outcome));
    }

    /// A bounded sweep of the lookups in flight (see [`Self::harvest_for`]).
    pub(crate) fn harvest(&mut self, now: u64) {
        self.harvest_for(None, now);
    }

    /// Stores every finished lookup (one readiness check for all); never blocks.
    pub(crate) fn harvest_all(&mut self, now: u64) {
        let config = &self.config;
        self.directory
            .harvest_all(&mut self.transport, now, |peer, outcome| platform::discover_outcome(config, peer, outcome));
    }

    /// `discover-peer`: a fresh registry lookup (which also refreshes the cache).
    pub(crate) fn discover_peer(&mut self, peer_id: &str, source: Option<&str>, now: u64) -> Result<Peer, Error> {
        let (req, peer, source) = self.discover_begin(peer_id, source, now)?;
        let outcome = self.transport.send(&self.config.platform, &req);
        self.discover_end(&peer, &source, outcome, now)
    }

    /// The first half of `discover-peer`, up to the request to send: the
    /// request, the canonical peer and source.
    pub(crate) fn discover_begin(
        &mut self,
        peer_id: &str,
        source: Option<&str>,
        now: u64,
    ) -> Result<(Request, String, String), Error> {
        self.harvest(now);
        let (peer, source) = self.canonical_ids(peer_id, source).map_err(|e| self.handed_out(Error::from(e)))?;
        Ok((platform::discover_request(&self.config, &peer, &source, self.config.read_timeout), peer, source))
    }

    /// The second half of `discover-peer`: reads the answer, refreshes the cache.
    pub(crate) fn discover_end(
        &mut self,
        peer: &str,
        source: &str,
        outcome: Result<Response, TransportError>,
        now: u64,
    ) -> Result<Peer, Error> {
        let found = platform::discover_peer_outcome(&self.config, peer, outcome);
        if let (Ok(found), Some(key)) = (&found, key(source, peer)) {
            self.directory.store(key, &Ok(found.clone()), now);
        }
        self.handed_out(found)
    }

    /// `peers`: the source's registry listing, which also warms the cache
    /// and the routing map.
    pub(crate) fn peers(&mut self, query: Option<&str>, source: Option<&str>, now: u64) -> Result<Vec<Peer>, Error> {
        let (req, source) = self.peers_begin(query, source, now)?;
        let outcome = self.transport.send(&self.config.platform, &req);
        self.peers_end(&req, &source, outcome, now)
    }

    /// The first half of `peers`: the request and the canonical source.
    pub(crate) fn peers_begin(
        &mut self,
        query: Option<&str>,
        source: Option<&str>,
        now: u64,
    ) -> Result<(Request, String), Error> {
        self.harvest(now);
        let source = self.config.source(source).map_err(|e| self.handed_out(Error::from(e)))?;
        Ok((platform::peers_request(&self.config, query, &source), source))
    }

    /// The second half of `peers`: reads the answer to `req`, warms the
    /// cache and the routes.
    pub(crate) fn peers_end(
        &mut self,
        req: &Request,
        source: &str,
        outcome: Result<Response, TransportError>,
        now: u64,
    ) -> Result<Vec<Peer>, Error> {
        let peers = platform::peers_outcome(&self.config, req, source, outcome);
        if let (Ok(peers), Some(bits)) = (&peers, id_bits(source)) {
            self.directory.record_listing((bits, source), peers, now);
        }
        self.handed_out(peers)
    }

    /// `workspace-info`.
    pub(crate) fn workspace_info(&mut self, source: Option<&str>, now: u64) -> Result<Workspace, Error> {
        let (req, source) = self.workspace_begin(source, now)?;
        let outcome = self.transport.send(&self.config.platform, &req);
        self.workspace_end(&source, outcome)
    }

    /// The first half of `workspace-info`: the request and the canonical source.
    pub(crate) fn workspace_begin(&mut self, source: Option<&str>, now: u64) -> Result<(Request, String), Error> {
        self.harvest(now);
        let source = self.config.source(source).map_err(|e| self.handed_out(Error::from(e)))?;
        Ok((platform::workspace_request(&self.config, &source), source))
    }

    /// The second half of `workspace-info`: reads the answer.
    pub(crate) fn workspace_end(
        &mut self,
        source: &str,
        outcome: Result<Response, TransportError>,
    ) -> Result<Workspace, Error> {
        self.handed_out(platform::workspace_outcome(&self.config, source, outcome))
    }

    /// `agent-card-url`.
    pub(crate) fn agent_card_url(&self, peer_id: &str) -> Result<String, Error> {
        let peer = validate_peer_id(peer_id).ok_or_else(|| ErrorKind::invalid_id("peer-id", peer_id));
        self.handed_out(peer.map(|peer| platform::agent_card_url(&self.config, &peer)).map_err(Error::from))
    }

    /// The cache key of a call about `peer_id`, computed without allocating
    /// (the hit path); `None` for any invalid input — enrichment degrades to
    /// the bare id, never errs.
    fn enrich_key(&self, peer_id: &str, source: Option<&str>) -> Option<Key> {
        let peer = id_bits(peer_id)?;
        let source = match source.filter(|s| !s.trim().is_empty()) {
            Some(explicit) => id_bits(explicit)?,
            None => self.directory.route(peer).map(|(bits, _)| bits).unwrap_or(self.config.workspace_bits),
        };
        Some((source, peer))
    }

    /// The canonical peer and source ids of a call (for a request).
    fn enrich_ids(&self, peer_id: &str, source: Option<&str>) -> Option<(String, String)> {
        let peer = validate_peer_id(peer_id)?;
        let source = self.source_for(&peer, source).ok()?;
        Some((peer, source))
    }

    /// The first steps of both enrichment calls: harvest (including this
    /// peer's lookup), then the cache. `Err(answer)` when the call is done:
    /// an invalid id, or a fresh (positive or negative) entry.
    fn enrich_lookup(&mut self, peer_id: &str, source: Option<&str>, now: u64) -> Result<Key, Option<Peer>> {
        let key = self.enrich_key(peer_id, source);
        self.harvest_for(key, now);
        let key = key.ok_or(None)?;
        match self.directory.cached(key, now) {
            Cached::Record(peer) => Err(Some(peer)),
            Cached::Failure => Err(None),
            Cached::Nothing => Ok(key),
        }
    }

    /// `enrich-peer-metadata`: the cached record, else a registry lookup
    /// bounded by the enrichment timeout; failures are remembered and give none.
    pub(crate) fn enrich(&mut self, peer_id: &str, source: Option<&str>, now: u64) -> Option<Peer> {
        let (key, peer, req) = match self.enrich_begin(peer_id, source, now) {
            Ok(lookup) => lookup,
            Err(answer) => return answer,
        };
        let outcome = self.transport.send(&self.config.platform, &req);
        self.enrich_end(key, &peer, outcome, now)
    }

    /// The first half of `enrich-peer-metadata`: the lookup to make (its
    /// cache key, the canonical peer, the request), or the answer when the
    /// cache has one or the id is invalid.
    pub(crate) fn enrich_begin(
        &mut self,
        peer_id: &str,
        source: Option<&str>,
        now: u64,
    ) -> Result<(Key, String, Request), Option<Peer>> {
        let key = self.enrich_lookup(peer_id, source, now)?;
        let (peer, source) = self.enrich_ids(peer_id, source).ok_or(None)?;
        let req = self.request(&peer, &source);
        Ok((key, peer, req))
    }

    /// The second half of `enrich-peer-metadata`: stores the lookup's outcome.
    pub(crate) fn enrich_end(
        &mut self,
        key: Key,
        peer: &str,
        outcome: Result<Response, TransportError>,
        now: u64,
    ) -> Option<Peer> {
        let result = platform::discover_outcome(&self.config, peer, outcome);
        self.directory.store(key, &result, now);
        result.ok()
    }

    /// `enrich-peer-metadata-nonblocking`: the cached record if fresh, else
    /// none at once — after starting a lookup unless one is in flight for
    /// this peer and source (or too many are).
    pub(crate) fn enrich_nonblocking(&mut self, peer_id: &str, source: Option<&str>, now: u64) -> Option<Peer> {
        let key = match self.enrich_lookup(peer_id, source, now) {
            Ok(key) => key,
            Err(answer) => return answer,
        };
        if self.directory.is_in_flight(key) || !self.directory.has_room() {
            return None;
        }
        let (peer, source) = self.enrich_ids(peer_id, source)?;
        let req = self.request(&peer, &source);
        match self.transport.start(&self.config.platform, &req) {
            Ok(pending) => self.directory.track(key, peer, pending),
            Err(e) => {
                let result = platform::discover_outcome(&self.config, &peer, Err(e));
                self.directory.store(key, &result, now);
            }
        }
        None
    }

    fn request(&self, peer: &str, source: &str) -> crate::transport::Request {
        let mut req = platform::discover_request(&self.config, peer, source, self.config.enrich_timeout);
        req.total = self.config.enrich_timeout;
        req
    }

    /// `await-enrichment`: waits up to `timeout` for the lookups in flight,
    /// storing each as it completes; returns how many are still in flight.
    pub(crate) fn await_enrichment(&mut self, timeout: Duration, now: impl Fn() -> u64) -> u32 {
        let timer = self.transport.timer(timeout);
        loop {
            self.harvest_all(now());
            if self.directory.in_flight() == 0 || self.transport.expired(&timer) {
                return self.directory.in_flight() as u32;
            }
            let pending = self.directory.pending();
            self.transport.wait(&pending, Some(&timer));
        }
    }

    /// The enrichment lookups still in flight, after storing every finished
    /// one: what an async `await-enrichment` waits on.
    #[cfg_attr(not(feature = "p3"), allow(dead_code))] // the WASI 0.3 glue's
    pub(crate) fn lookups_in_flight(&mut self, now: u64) -> Vec<T::Pending>
    where
        T::Pending: Clone,
    {
        self.harvest_all(now);
        self.directory.pending().into_iter().cloned().collect()
    }

    /// The display name last seen for `peer` by the source a call would use.
    pub(crate) fn peer_name(&mut self, peer_id: &str, source: Option<&str>, now: u64) -> Option<String> {
        let key = self.enrich_key(peer_id, source);
        self.harvest_for(key, now);
        self.directory.name(key?).map(str::to_owned)
    }

    /// The source whose listing last included `peer`.
    pub(crate) fn routed_source(&self, peer_id: &str) -> Option<String> {
        self.directory.route(id_bits(peer_id)?).map(|(_, id)| id.to_owned())
    }

    /// `send-message` / `send`: a message to `peer_id` through the platform
    /// proxy, as the explicit source, else the routed one, else this
    /// workspace; in the A2A version asked for, else the config's. A message
    /// that cannot be sent makes no request.
    pub(crate) fn send_message(
        &mut self,
        peer_id: &str,
        message: &Message,
        source: Option<&str>,
        ask: &Ask,
        env: &mut impl SendEnv,
        ids: SendIds,
    ) -> Result<Sent, Error> {
        let now = env.mono_now();
        let checked = message::check(message);
        let result = self.call_ids(peer_id, source, now).and_then(|ids| Ok((ids, checked?)));
        let result = result.map_err(Error::a2a).and_then(|((peer, source), message)| {
            let spoken = self.spoken_for(&peer, &source, ask, now).map_err(Error::a2a)?;
            self.proxy().send_message(env, &peer, &source, &spoken, &message, ids)
        });
        self.handed_out(result)
    }

    /// Starts `req` on the platform without waiting for it.
    #[cfg_attr(not(feature = "p3"), allow(dead_code))] // the WASI 0.3 glue's
    pub(crate) fn start(&mut self, req: &Request) -> Result<T::Pending, TransportError> {
        self.transport.start(&self.config.platform, req)
    }

    /// The A2A proxy path of this client's calls.
    pub(crate) fn proxy(&mut self) -> Proxy<'_, T> {
        Proxy { transport: &mut self.transport, config: &self.config, budget: &mut self.budget }
    }

    /// `send-many`: one message to each of several peers, all sent at once
    /// (see [`Proxy::call_many`]); one outcome per target, in order. An
    /// invalid peer id or message is that target's error, and makes no
    /// request.
    pub(crate) fn send_many(
        &mut self,
        targets: &[(String, Message)],
        source: Option<&str>,
        ask: &Ask,
        env: &mut impl SendEnv,
        mut new_ids: impl FnMut() -> Result<SendIds, Error>,
    ) -> Result<Vec<Result<Sent, Error>>, Error> {
        check_send_many(targets.len())?;
        let now = env.mono_now();
        // One sweep of the lookups in flight for the whole fan-out.
        self.harvest(now);
        let mut outcomes: Vec<Option<Result<Sent, Error>>> = Vec::with_capacity(targets.len());
        let mut jobs = Vec::new();
        let mut sends = Vec::new();
        for (i, (peer_id, message)) in targets.iter().enumerate() {
            let prepared = self.canonical_ids(peer_id, source).and_then(|ids| Ok((ids, message::check(message)?)));
            let prepared = prepared.map_err(Error::a2a).and_then(|((peer, source), checked)| {
                let spoken = self.spoken_for(&peer, &source, ask, now).map_err(Error::a2a)?;
                Ok((peer, source, spoken, checked, new_ids()?))
            });
            match prepared {
                Ok((peer, source, spoken, checked, ids)) => {
                    let protocol = spoken.protocol;
                    let body = spoken.stamp(a2a::message_body(protocol, Call::Send, &ids, &checked));
                    jobs.push(messaging::Job { peer, source, spoken, body, expect: Expect::MessageOrTask });
                    sends.push((i, ids, protocol));
                    outcomes.push(None);
                }
                Err(e) => outcomes.push(Some(Err(e))),
            }
        }
        let answered = self.proxy().call_many(env, jobs);
        for ((i, ids, protocol), outcome) in sends.into_iter().zip(answered) {
            outcomes[i] = Some(outcome.map(|Answered { reply, attempts }| Sent { reply, ids, attempts, protocol }));
        }
        let outcomes = outcomes.into_iter().map(|o| o.expect("every target has an outcome")).collect();
        Ok(self.handed_out(outcomes))
    }

    /// `send-message-stream`: `message/stream` (`SendStreamingMessage`), the
    /// reply's events to be pulled from the returned stream. One attempt: a
    /// peer may have started work, so a stream is never silently re-sent.
    pub(crate) fn send_message_stream(
        &mut self,
        peer_id: &str,
        message: &Message,
        source: Option<&str>,
        ask: &Ask,
        env: &mut impl SendEnv,
        ids: SendIds,
    ) -> Result<ResumingStream<T::Stream>, Error> {
        let now = env.mono_now();
        let checked = message::check(message);
        let result = self.call_ids(peer_id, source, now).and_then(|ids| Ok((ids, checked?)));
        let result = result.map_err(Error::a2a).and_then(|((peer, source), message)| {
            let spoken = self.spoken_for(&peer, &source, ask, now).map_err(Error::a2a)?;
            let protocol = spoken.protocol;
            let body = spoken.stamp(a2a::message_body(protocol, Call::Stream, &ids, &message));
            let stream = self.open_stream(&peer, &source, &spoken, body, env)?;
            Ok(ResumingStream::new(stream, (peer, source), ids.request_id.clone()))
        });
        self.handed_out(result)
    }

    /// `subscribe-to-task`: `tasks/resubscribe` (v0.3) or `SubscribeToTask`
    /// (v1.0), the task's events from now on, pulled from the returned
    /// stream like a streamed send's (and resumed like one). One attempt.
    pub(crate) fn subscribe_to_task(
        &mut self,
        target: (&str, &str),
        source: Option<&str>,
        ask: &Ask,
        env: &mut impl SendEnv,
        request_id: &str,
    ) -> Result<ResumingStream<T::Stream>, Error> {
        self.subscription(target, source, ask, env, request_id).and_then(|stream| {
            let (peer, source) = self.canonical_ids(target.0, source).map_err(Error::a2a)?;
            Ok(ResumingStream::new(stream, (peer, source), request_id.to_owned()))
        })
    }

    /// One subscription to a task, unresumed.
    pub(crate) fn subscription(
        &mut self,
        target: (&str, &str),
        source: Option<&str>,
        ask: &Ask,
        env: &mut impl SendEnv,
        request_id: &str,
    ) -> Result<EventStream<T::Stream>, Error> {
        let (peer_id, task_id) = target;
        let now = env.mono_now();
        let result = self.task_ids(peer_id, task_id, source, now).map_err(Error::a2a);
        let result = result.and_then(|((peer, source), task_id)| {
            let spoken = self.spoken_for(&peer, &source, ask, now).map_err(Error::a2a)?;
            let protocol = spoken.protocol;
            let body = spoken.stamp(a2a::task_body(protocol, Call::Subscribe, request_id, task_id));
            self.open_stream(&peer, &source, &spoken, body, env)
        });
        self.handed_out(result)
    }

    /// The retry policy (resubscriptions follow it too).
    pub(crate) fn retry_policy(&self) -> &crate::config::RetryPolicy {
        &self.config.retry
    }

    /// The retry budget every send shares (resubscriptions draw on it too).
    pub(crate) fn retry_budget(&mut self) -> &mut RetryBudget {
        &mut self.budget
    }

    /// Waits `delay` (a backoff), through the transport's timer.
    pub(crate) fn pause(&mut self, delay: Duration) {
        let timer = self.transport.timer(delay);
        self.transport.wait(&[], Some(&timer));
    }

    /// Opens a stream request (`body`) to `peer` and reads its head: an
    /// event stream, or one whole JSON-RPC answer as a one-event stream, or
    /// the error it holds.
    fn open_stream(
        &mut self,
        peer: &str,
        source: &str,
        spoken: &Spoken,
        body: Vec<u8>,
        env: &mut impl SendEnv,
    ) -> Result<EventStream<T::Stream>, Error> {
        let (req, url) = self.stream_request(peer, source, spoken, body)?;
        let started = env.mono_now();
        let opened = self.transport.open(&self.config.platform, &req);
        let opened = opened.map_err(|e| Error::a2a(platform::transport_kind(e, &url)))?;
        match self.stream_head(opened, url, spoken, started) {
            StreamHead::Events(stream) => Ok(*stream),
            StreamHead::Whole(mut opened, url) => {
                let body = read_rest(&mut opened.body, self.config.send_read, self.config.max_body_bytes);
                self.stream_answer(
                    Opened { status: opened.status, headers: opened.headers, body },
                    url,
                    spoken,
                    env.unix_now(),
                )
            }
        }
    }

    /// The request of a stream (`body`, to `peer` as `source`), and its URL.
    pub(crate) fn stream_request(
        &self,
        peer: &str,
        source: &str,
        spoken: &Spoken,
        body: Vec<u8>,
    ) -> Result<(Request, String), Error> {
        let cfg = &self.config;
        let path = format!("/workspaces/{peer}/a2a");
        let url = cfg.platform.url(&path);
        let mut headers = messaging::a2a_headers(cfg, source, spoken);
        headers.push(("accept", "text/event-stream".into()));
        let head_within = cfg.send_read.min(cfg.retry.total_budget);
        messaging::check_request_size(cfg, &url, &body)?;
        let req = Request {
            method: Method::Post,
            path,
            headers,
            body: Some(body.into()),
            connect_timeout: cfg.send_connect.min(cfg.retry.total_budget),
            // The host's first-byte and between-bytes timeouts stay out of the
            // way: the stream bounds each wait itself (a typed `timed-out`).
            timeout: cfg.retry.total_budget,
            total: head_within,
            max_body_bytes: cfg.max_body_bytes,
        };
        Ok((req, url))
    }

    /// What the head of a stream's response (`opened`, from `url`, opened
    /// at `started`) says: events follow, or the body is one whole answer
    /// to read and give to [`Self::stream_answer`].
    pub(crate) fn stream_head(
        &self,
        opened: Opened<T::Stream>,
        url: String,
        spoken: &Spoken,
        started: u64,
    ) -> StreamHead<T::Stream> {
        let ct = opened.header("content-type").unwrap_or("").trim_start().to_ascii_lowercase();
        if (200..300).contains(&opened.status) && ct.starts_with("text/event-stream") {
            let activated = messaging::activated_extensions(&opened.headers);
            let stream = EventStream::new(opened.body, url, &self.config, spoken.clone(), started);
            return StreamHead::Events(Box::new(stream.activated(activated)));
        }
        StreamHead::Whole(opened, url)
    }

    /// A stream request's answer that is not a stream (status, headers and
    /// the body as read): an error status, or one whole JSON-RPC answer as a
    /// one-event stream, or the error it holds.
    pub(crate) fn stream_answer(
        &self,
        answer: Opened<Result<Vec<u8>, TransportError>>,
        url: String,
        spoken: &Spoken,
        unix_now: u64,
    ) -> Result<EventStream<T::Stream>, Error> {
        let cfg = &self.config;
        let Opened { status, headers, body } = answer;
        let body = body.map_err(|e| Error::a2a(platform::transport_kind(e, &url)))?;
        let activated = messaging::activated_extensions(&headers);
        let resp = Response { status, headers, body };
        if let Some(err) = messaging::response_error(&url, &resp, || unix_now) {
            return Err(err);
        }
        let json: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
        match a2a::read_stream_event(&json) {
            Ok(event) => Ok(EventStream::single(event, url, cfg, spoken.clone()).activated(activated)),
            Err(why) => {
                let why = match why {
                    a2a::Outcome::Shape(detail) => format!(": {detail}"),
                    _ => String::new(),
                };
                Err(Error::a2a(ErrorKind::UnexpectedShape {
                    url: url.clone(),
                    status: resp.status,
                    detail: format!("a JSON answer to a stream request that is no A2A event{why}"),
                    excerpt: excerpt(&resp.body),
                }))
            }
        }
    }

    /// `get-task` / `cancel-task`: `tasks/get` / `tasks/cancel` (v0.3) or
    /// `GetTask` / `CancelTask` (v1.0) through the proxy, retried like a send.
    pub(crate) fn task_call(
        &mut self,
        call: Call,
        target: (&str, &str),
        source: Option<&str>,
        ask: &Ask,
        env: &mut impl SendEnv,
        request_id: &str,
    ) -> Result<TaskReport, Error> {
        let (peer_id, task_id) = target;
        self.proxy_call(&TaskCall { call, task_id }, peer_id, source, ask, env, request_id)
    }

    /// `extended-agent-card` (see [`ExtendedCard`]).
    pub(crate) fn extended_agent_card(
        &mut self,
        peer_id: &str,
        source: Option<&str>,
        ask: &Ask,
        env: &mut impl SendEnv,
        request_id: &str,
    ) -> Result<AgentCard, Error> {
        self.proxy_call(&ExtendedCard, peer_id, source, ask, env, request_id)
    }

    /// `create-push-config`, `get-push-config`, `list-push-configs`,
    /// `delete-push-config` (see [`PushConfigs`]).
    pub(crate) fn push_config(
        &mut self,
        peer_id: &str,
        call: &PushCall,
        source: Option<&str>,
        ask: &Ask,
        env: &mut impl SendEnv,
        request_id: &str,
    ) -> Result<Vec<PushConfig>, Error> {
        self.proxy_call(&PushConfigs(call), peer_id, source, ask, env, request_id)
    }

    /// `list-tasks` (see [`TaskList`]).
    pub(crate) fn list_tasks(
        &mut self,
        peer_id: &str,
        query: &TaskQuery,
        source: Option<&str>,
        ask: &Ask,
        env: &mut impl SendEnv,
        request_id: &str,
    ) -> Result<TaskPage, Error> {
        self.proxy_call(&TaskList(query), peer_id, source, ask, env, request_id)
    }

    /// A [`ProxyCall`], made and waited for: the ids and the call's input
    /// checked (no request when they fail), the version chosen, the job run
    /// with the retries of a send, the answer read.
    fn proxy_call<C: ProxyCall>(
        &mut self,
        what: &C,
        peer_id: &str,
        source: Option<&str>,
        ask: &Ask,
        env: &mut impl SendEnv,
        request_id: &str,
    ) -> Result<C::Out, Error> {
        let now = env.mono_now();
        let result = self.call_ids(peer_id, source, now).and_then(|ids| what.check().map(|()| ids));
        let result = result.map_err(Error::a2a).and_then(|(peer, source)| {
            let spoken = self.spoken_for(&peer, &source, ask, now).map_err(Error::a2a)?;
            let protocol = spoken.protocol;
            let body = what.body(&spoken, request_id).map_err(Error::a2a)?;
            let url = self.a2a_url(&peer);
            let answered =
                self.proxy().call(env, messaging::Job { peer, source, spoken, body, expect: what.expect() })?;
            what.read(url, protocol, answered)
        });
        self.handed_out(result)
    }

    /// The proxy URL of A2A calls to `peer` (for errors).
    fn a2a_url(&self, peer: &str) -> String {
        self.config.platform.url(&format!("/workspaces/{peer}/a2a"))
    }

    /// The canonical peer and source of a call about a task, and the task id
    /// checked to be sendable.
    fn task_ids<'t>(
        &mut self,
        peer_id: &str,
        task_id: &'t str,
        source: Option<&str>,
        now: u64,
    ) -> Result<((String, String), &'t str), ErrorKind> {
        let ids = self.call_ids(peer_id, source, now)?;
        Ok((ids, validate_task_id(task_id).ok_or_else(|| ErrorKind::invalid_task_id(task_id))?))
    }

    /// The canonical peer and source of an A2A call (after the harvest every
    /// call starts with).
    fn call_ids(&mut self, peer_id: &str, source: Option<&str>, now: u64) -> Result<(String, String), ErrorKind> {
        self.harvest(now);
        self.canonical_ids(peer_id, source)
    }

    /// The canonical peer and source of a call about `peer_id`.
    fn canonical_ids(&self, peer_id: &str, source: Option<&str>) -> Result<(String, String), ErrorKind> {
        let peer = validate_peer_id(peer_id).ok_or_else(|| ErrorKind::invalid_id("peer-id", peer_id))?;
        let source = self.source_for(&peer, source)?;
        Ok((peer, source))
    }

    /// The version a call to `peer` speaks and the tenant it names: the
    /// call's choice of version, else the config's; `auto` takes the peer
    /// card's preferred interface (v0.3 when there is no card). A call that
    /// names v1.0 takes the tenant of the card's v1.0 interface when the
    /// card is cached (it makes no lookup for it).
    /// The extensions asked for are checked first (an error, and no request,
    /// for one that cannot go in a header).
    fn spoken_for(&mut self, peer: &str, source: &str, ask: &Ask, now: u64) -> Result<Spoken, ErrorKind> {
        let spoken = self.spoken(peer, source, ask, now, CardRead::LookUp)?;
        Ok(spoken.unwrap_or_else(|| Spoken { protocol: Protocol::V0_3, tenant: None, extensions: Vec::new() }))
    }

    /// [`Self::spoken_for`], reading the card of an `auto` call as `read`
    /// says; none when it is to be looked up first (`CacheOnly`, and the
    /// cache has nothing for the peer).
    fn spoken(
        &mut self,
        peer: &str,
        source: &str,
        ask: &Ask,
        now: u64,
        read: CardRead,
    ) -> Result<Option<Spoken>, ErrorKind> {
        if let Some(spoken) = &ask.continuing {
            return Ok(Some(spoken.clone()));
        }
        let extensions = checked_extensions(&ask.extensions)?;
        let (protocol, tenant) = match ask.protocol.unwrap_or(self.config.protocol) {
            ProtocolChoice::V0_3 => (Protocol::V0_3, None),
            ProtocolChoice::V1_0 => {
                let cached = key(source, peer).and_then(|k| self.directory.peek(k, now));
                let card = cached.and_then(|record| card::from_record(&record.raw));
                (Protocol::V1_0, card.and_then(|c| c.tenant_for(Protocol::V1_0)))
            }
            ProtocolChoice::Auto => match read {
                CardRead::LookUp => match self.card_of(peer, source, now) {
                    Ok(card) => card.preferred(),
                    _ => (Protocol::V0_3, None),
                },
                CardRead::CacheOnly { last_chance } => match key(source, peer).map(|k| self.directory.cached(k, now)) {
                    Some(Cached::Record(record)) => card_in(&record).preferred(),
                    Some(Cached::Nothing) if !last_chance => return Ok(None),
                    // A remembered failure (or, after the lookups a call may
                    // wait for, still nothing): no card, as when a lookup fails.
                    _ => (Protocol::V0_3, None),
                },
            },
        };
        Ok(Some(Spoken { protocol, tenant, extensions }))
    }

    /// `send-message`'s request, prepared without blocking (the WASI 0.3
    /// build awaits the network between such steps): the job to run, or —
    /// when an `auto` call needs the peer's card and the cache has none —
    /// a registry lookup in flight to wait for, after which the caller asks
    /// again. Concurrent calls about one peer wait on one lookup (the one
    /// `enrich-peer-metadata-nonblocking` would start). `lookups_left`
    /// bounds the waits: with none left, a card still missing is no card.
    #[cfg_attr(not(feature = "p3"), allow(dead_code))] // the WASI 0.3 glue's
    pub(crate) fn send_job(
        &mut self,
        send: &SendCall<'_>,
        lookups_left: u32,
        now: u64,
    ) -> Result<Prepared<T::Pending>, Error>
    where
        T::Pending: Clone,
    {
        let SendCall { peer_id, message, source, ask, ids, call } = *send;
        let checked = message::check(message);
        let check = checked.as_ref().map(drop).map_err(Clone::clone);
        let body = |spoken: &Spoken| match &checked {
            Ok(checked) => Ok(spoken.stamp(a2a::message_body(spoken.protocol, call, ids, checked))),
            Err(e) => Err(e.clone()),
        };
        self.prepare_job((peer_id, source, ask), check, body, Expect::MessageOrTask, lookups_left, now)
    }

    /// A [`ProxyCall`]'s job, prepared without blocking like
    /// [`Self::send_job`]'s; its answer is read by [`Self::proxy_read`].
    #[cfg_attr(not(feature = "p3"), allow(dead_code))] // the WASI 0.3 glue's
    pub(crate) fn proxy_job<C: ProxyCall>(
        &mut self,
        what: &C,
        target: (&str, Option<&str>, &Ask),
        request_id: &str,
        lookups_left: u32,
        now: u64,
    ) -> Result<Prepared<T::Pending>, Error>
    where
        T::Pending: Clone,
    {
        let body = |spoken: &Spoken| what.body(spoken, request_id);
        self.prepare_job(target, what.check(), body, what.expect(), lookups_left, now)
    }

    /// Reads the answer of a [`ProxyCall`] made to `peer` in `protocol`.
    #[cfg_attr(not(feature = "p3"), allow(dead_code))] // the WASI 0.3 glue's
    pub(crate) fn proxy_read<C: ProxyCall>(
        &self,
        what: &C,
        peer: &str,
        protocol: Protocol,
        answered: Result<Answered, Error>,
    ) -> Result<C::Out, Error> {
        self.handed_out(answered.and_then(|answered| what.read(self.a2a_url(peer), protocol, answered)))
    }

    /// A call's job without blocking: the ids of `(peer, source, ask)`
    /// checked, then the call's own `check`, then the version (or the card
    /// lookup to wait for), then its body.
    fn prepare_job(
        &mut self,
        (peer_id, source, ask): (&str, Option<&str>, &Ask),
        check: Result<(), ErrorKind>,
        body: impl FnOnce(&Spoken) -> Result<Vec<u8>, ErrorKind>,
        expect: Expect,
        lookups_left: u32,
        now: u64,
    ) -> Result<Prepared<T::Pending>, Error>
    where
        T::Pending: Clone,
    {
        let job = (|| {
            let (peer, source) = self.canonical_ids(peer_id, source)?;
            // The sweep every call starts with, covering this peer's own
            // lookup: a card that has arrived is read now, however many
            // lookups are in flight.
            self.harvest_for(key(&source, &peer), now);
            check?;
            let read = CardRead::CacheOnly { last_chance: lookups_left == 0 };
            let Some(spoken) = self.spoken(&peer, &source, ask, now, read)? else {
                return Ok(self.card_lookup(&peer, &source, now));
            };
            let body = body(&spoken)?;
            Ok(Prepared::Ready(messaging::Job { peer, source, spoken, body, expect }))
        })();
        job.map_err(|e| self.handed_out(Error::a2a(e)))
    }

    /// The registry lookup of `peer` as `source` to wait for: the one in
    /// flight, else a new one (tracked like a non-blocking enrichment's),
    /// else — when as many are in flight as the cache policy allows — any
    /// of those, to try again once it is done.
    #[cfg_attr(not(feature = "p3"), allow(dead_code))] // the WASI 0.3 glue's
    fn card_lookup(&mut self, peer: &str, source: &str, now: u64) -> Prepared<T::Pending>
    where
        T::Pending: Clone,
    {
        let Some(key) = key(source, peer) else { return Prepared::Retry };
        if let Some(pending) = self.directory.pending_of(key) {
            return Prepared::Wait(pending.clone());
        }
        if !self.directory.has_room() {
            // Store what has finished first: what is left is still in flight.
            self.harvest_all(now);
        }
        if !self.directory.has_room() {
            return self.directory.pending().first().map_or(Prepared::Retry, |p| Prepared::Wait((*p).clone()));
        }
        let req = platform::discover_request(&self.config, peer, source, self.config.read_timeout);
        match self.transport.start(&self.config.platform, &req) {
            Ok(pending) => {
                self.directory.track(key, peer.to_owned(), pending.clone());
                Prepared::Wait(pending)
            }
            Err(e) => {
                let result = platform::discover_outcome(&self.config, peer, Err(e));
                self.directory.store(key, &result, now);
                Prepared::Retry
            }
        }
    }

    /// `agent-card`: the peer's card from its cached registry record while
    /// fresh, else from a lookup that refreshes the cache.
    pub(crate) fn agent_card(&mut self, peer_id: &str, source: Option<&str>, now: u64) -> Result<AgentCard, Error> {
        let result = self.call_ids(peer_id, source, now).map_err(Error::from);
        let result = result.and_then(|(peer, source)| self.card_of(&peer, &source, now));
        self.handed_out(result)
    }

    /// The first half of `agent-card`: the card when the cache has the
    /// peer's record, else the lookup to make (request, canonical peer and
    /// source), whose answer [`Self::agent_card_end`] reads.
    #[cfg_attr(not(feature = "p3"), allow(dead_code))] // the WASI 0.3 glue's
    pub(crate) fn agent_card_begin(
        &mut self,
        peer_id: &str,
        source: Option<&str>,
        now: u64,
    ) -> Result<Result<AgentCard, (Request, String, String)>, Error> {
        let (peer, source) = self.call_ids(peer_id, source, now).map_err(|e| self.handed_out(Error::from(e)))?;
        match key(&source, &peer).map(|k| self.directory.cached(k, now)) {
            Some(Cached::Record(record)) => Ok(Ok(card_in(&record))),
            _ => Ok(Err((
                platform::discover_request(&self.config, &peer, &source, self.config.read_timeout),
                peer,
                source,
            ))),
        }
    }

    /// The second half of `agent-card`: the lookup's record (which refreshes
    /// the cache), read for its card.
    #[cfg_attr(not(feature = "p3"), allow(dead_code))] // the WASI 0.3 glue's
    pub(crate) fn agent_card_end(
        &mut self,
        peer: &str,
        source: &str,
        outcome: Result<Response, TransportError>,
        now: u64,
    ) -> Result<AgentCard, Error> {
        self.discover_end(peer, source, outcome, now).map(|record| card_in(&record))
    }

    fn card_of(&mut self, peer: &str, source: &str, now: u64) -> Result<AgentCard, Error> {
        let key = key(source, peer);
        let cached = key.map(|k| self.directory.cached(k, now));
        let record = match cached {
            Some(Cached::Record(record)) => record,
            _ => {
                let found = platform::discover_peer(&mut self.transport, &self.config, peer, source)?;
                if let Some(key) = key {
                    self.directory.store(key, &Ok(found.clone()), now);
                }
                found
            }
        };
        Ok(card_in(&record))
    }

    /// The platform base URL requests go to (for checks of the config).
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn platform_base(&self) -> String {
        self.config.platform.base()
    }

    /// The platform, as requests address it.
    #[cfg_attr(not(feature = "p3"), allow(dead_code))] // the WASI 0.3 glue's
    pub(crate) fn platform(&self) -> &crate::config::PlatformUrl {
        &self.config.platform
    }

    /// How a body is read: each wait for bytes, and the most bytes taken.
    #[cfg_attr(not(feature = "p3"), allow(dead_code))] // the WASI 0.3 glue's
    pub(crate) fn body_limits(&self) -> (Duration, usize) {
        (self.config.send_read, self.config.max_body_bytes)
    }

    /// The transport (for checks that script it or read what it sent).
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The cache counters (after storing every finished lookup).
    pub(crate) fn stats(&mut self, now: u64) -> Stats {
        self.harvest_all(now);
        self.directory.stats()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wasi::http::types::ErrorCode;

    use super::*;
    use crate::config::RawCachePolicy;
    use crate::error::ErrorKind;
    use crate::testing::{Chunk, FakeTransport, FixedEnv};
    use crate::transport::TransportError;

    const ME: &str = "11111111-2222-4333-8444-555555555555";
    const ALT: &str = "22222222-2222-4333-8444-555555555555";
    const PEER: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    const S: u64 = 1_000_000_000;

    fn client(t: FakeTransport) -> Client<FakeTransport> {
        Client::new(
            RawConfig {
                workspace_id: ME.into(),
                platform_url: Some("http://p".into()),
                credentials: vec![(ME.into(), "tok-me".into()), (ALT.into(), "tok-alt".into())],
                cache: Some(RawCachePolicy { max_entries: Some(2), ..Default::default() }),
                ..Default::default()
            },
            t,
        )
        .unwrap()
    }

    fn record(id: &str, name: &str) -> String {
        json!({"id": id, "name": name}).to_string()
    }

    fn header<'a>(req: &'a crate::transport::Request, name: &str) -> Option<&'a str> {
        req.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn invalid_ids_make_no_request() {
        let mut c = client(FakeTransport::default());
        let e = c.discover_peer("../../admin", None, 0).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::InvalidId { ref param, .. } if param == "peer-id"));
        let e = c.discover_peer(PEER, Some("x\r\nInjected: 1"), 0).unwrap_err();
        assert_eq!(e.message, "invalid source (expected a UUID): 'x\\r\\nInjected: 1'");
        assert!(c.peers(None, Some(".."), 0).is_err());
        assert!(c.workspace_info(Some("/"), 0).is_err());
        assert!(c.agent_card_url("nope").is_err());
        assert_eq!(c.enrich("nope", None, 0), None);
        assert_eq!(c.enrich(PEER, Some("../x"), 0), None);
        assert_eq!(c.enrich_nonblocking("nope", None, 0), None);
        assert!(c.transport.sent.is_empty());
    }

    #[test]
    fn enrich_hits_the_cache_within_the_ttl() {
        let mut t = FakeTransport::answering(200, &record(PEER, "Builder"));
        t.then_answer(200, &record(PEER, "Builder v2"));
        let mut c = client(t);
        assert_eq!(c.enrich(PEER, None, 0).unwrap().name.as_deref(), Some("Builder"));
        assert_eq!(c.enrich(&PEER.to_uppercase(), None, 299 * S).unwrap().name.as_deref(), Some("Builder"));
        assert_eq!(c.transport.sent.len(), 1);
        assert_eq!(c.transport.sent[0].timeout, Duration::from_secs(2), "the Python client's short timeout");
        // At exactly the TTL the entry is stale and refetched.
        assert_eq!(c.enrich(PEER, None, 300 * S).unwrap().name.as_deref(), Some("Builder v2"));
        assert_eq!(c.transport.sent.len(), 2);
        let s = c.stats(0);
        assert_eq!((s.hits, s.misses, s.entries, s.names), (1, 2, 1, 1));
        assert_eq!(c.peer_name(PEER, None, 0).as_deref(), Some("Builder v2"));
    }

    #[test]
    fn an_empty_name_is_no_name() {
        let mut t = FakeTransport::answering(200, &record(PEER, ""));
        t.then_answer(200, &record(PEER, "Builder"));
        t.then_answer(200, &record(PEER, ""));
        let mut c = client(t);
        // Not recorded when first seen empty…
        assert_eq!(c.enrich(PEER, None, 0).unwrap().name.as_deref(), Some(""));
        assert_eq!(c.peer_name(PEER, None, 0), None);
        assert_eq!(c.stats(0).names, 0);
        // …and never replacing a known name.
        assert_eq!(c.enrich(PEER, None, 300 * S).unwrap().name.as_deref(), Some("Builder"));
        assert_eq!(c.enrich(PEER, None, 600 * S).unwrap().name.as_deref(), Some(""));
        assert_eq!(c.peer_name(PEER, None, 600 * S).as_deref(), Some("Builder"));
    }

    #[test]
    fn failures_are_cached_by_kind() {
        let mut t = FakeTransport::answering(404, "{}");
        t.then_fail(TransportError::Code(ErrorCode::ConnectionRefused));
        let mut c = client(t);
        // 404: remembered for the full negative TTL (300 s).
        assert_eq!(c.enrich(PEER, None, 0), None);
        assert_eq!(c.enrich(PEER, None, 299 * S), None);
        assert_eq!(c.transport.sent.len(), 1);
        assert_eq!(c.stats(0).negative_hits, 1);
        // Refused (as ALT): remembered for the transient TTL (30 s) only.
        assert_eq!(c.enrich(PEER, Some(ALT), 0), None);
        assert_eq!(c.enrich(PEER, Some(ALT), 29 * S), None);
        assert_eq!(c.transport.sent.len(), 2);
        c.transport.then_answer(200, &record(PEER, "Back"));
        assert_eq!(c.enrich(PEER, Some(ALT), 30 * S).unwrap().name.as_deref(), Some("Back"));
    }

    #[test]
    fn negative_ttl_classes() {
        let c = client(FakeTransport::default());
        let status = |status| ErrorKind::HttpStatus { url: String::new(), status, excerpt: String::new() };
        for s in [400, 403, 404, 410] {
            assert_eq!(c.directory.negative_ttl(&status(s)), Duration::from_secs(300), "{s}");
        }
        for s in [401, 429, 500, 502, 503] {
            assert_eq!(c.directory.negative_ttl(&status(s)), Duration::from_secs(30), "{s}");
        }
        let refused = ErrorKind::Transport { url: String::new(), code: ErrorCode::ConnectionRefused, attempt: 1 };
        assert_eq!(c.directory.negative_ttl(&refused), Duration::from_secs(30));
        let late = ErrorKind::TimedOut { url: String::new(), after_ms: 1 };
        assert_eq!(c.directory.negative_ttl(&late), Duration::from_secs(30));
    }

    #[test]
    fn one_workspace_never_sees_what_only_another_may() {
        let mut t = FakeTransport::answering(403, r#"{"error":"not allowed"}"#);
        t.then_answer(200, &record(PEER, "Secret"));
        let mut c = client(t);
        assert_eq!(c.enrich(PEER, None, 0), None); // ME is refused
        assert_eq!(c.enrich(PEER, Some(ALT), 0).unwrap().name.as_deref(), Some("Secret"));
        assert_eq!(c.enrich(PEER, None, 1), None, "ALT's record is not served to ME");
        assert_eq!(c.peer_name(PEER, None, 0), None);
        assert_eq!(c.transport.sent.len(), 2);
        assert_eq!(header(&c.transport.sent[1], "authorization"), Some("Bearer tok-alt"));
    }

    #[test]
    fn listing_routes_peers_through_their_source() {
        let mut t = FakeTransport::answering(200, &json!([{"id": PEER, "name": "Via Alt"}]).to_string());
        t.then_answer(200, &record(PEER, "fresh"));
        let mut c = client(t);
        c.peers(None, Some(ALT), 0).unwrap();
        assert_eq!(c.routed_source(PEER).as_deref(), Some(ALT));
        // The listing warmed the cache for ALT, and later calls route through ALT.
        assert_eq!(c.enrich(PEER, None, 1).unwrap().name.as_deref(), Some("Via Alt"));
        assert_eq!(c.transport.sent.len(), 1);
        c.discover_peer(PEER, None, 2).unwrap();
        assert_eq!(header(&c.transport.sent[1], "x-workspace-id"), Some(ALT));
        // An explicit source overrides the route.
        assert_eq!(c.source_for(PEER, Some(ME)).unwrap(), ME);
    }

    #[test]
    fn the_last_listing_wins() {
        let list = json!([{"id": PEER, "name": "P"}]).to_string();
        let mut t = FakeTransport::answering(200, &list);
        t.then_answer(200, &list);
        let mut c = client(t);
        c.peers(None, Some(ALT), 0).unwrap();
        c.peers(None, None, 1).unwrap();
        assert_eq!(c.routed_source(PEER).as_deref(), Some(ME));
    }

    #[test]
    fn nonblocking_returns_none_then_the_record() {
        let mut t = FakeTransport::default();
        let release = t.then_hold();
        let mut c = client(t);
        assert_eq!(c.enrich_nonblocking(PEER, None, 0), None);
        assert_eq!(c.enrich_nonblocking(PEER, None, 0), None, "still in flight");
        assert_eq!(c.transport.sent.len(), 1, "no second request while one is in flight");
        assert_eq!(c.stats(0).in_flight, 1);
        release.answer(200, &record(PEER, "Builder"));
        assert_eq!(c.enrich_nonblocking(PEER, None, 1).unwrap().name.as_deref(), Some("Builder"));
        assert_eq!(c.stats(0).in_flight, 0);
    }

    #[test]
    fn harvest_happens_on_any_call() {
        let mut t = FakeTransport::default();
        let release = t.then_hold();
        t.then_answer(200, "[]");
        let mut c = client(t);
        c.enrich_nonblocking(PEER, None, 0);
        release.fail(TransportError::TimedOut(Duration::from_secs(2)));
        c.peers(None, None, 1).unwrap();
        let s = c.stats(0);
        assert_eq!((s.in_flight, s.entries), (0, 1));
        assert_eq!(c.enrich_nonblocking(PEER, None, 2), None);
        assert_eq!(c.stats(0).negative_hits, 1, "the time-out was remembered");
    }

    #[test]
    fn a_late_failure_does_not_replace_a_fresher_record() {
        let mut t = FakeTransport::default();
        let release = t.then_hold();
        t.then_answer(200, &json!([{"id": PEER, "name": "Listed"}]).to_string());
        let mut c = client(t);
        c.enrich_nonblocking(PEER, None, 0);
        c.peers(None, None, 1).unwrap();
        release.fail(TransportError::TimedOut(Duration::from_secs(2)));
        c.harvest(2);
        assert_eq!(c.enrich_nonblocking(PEER, None, 3).unwrap().name.as_deref(), Some("Listed"));
    }

    #[test]
    fn each_call_sweeps_a_bounded_share_of_the_lookups() {
        let mut t = FakeTransport::default();
        let held: Vec<_> = (0..20).map(|_| t.then_hold()).collect();
        let mut c = Client::new(RawConfig { workspace_id: ME.into(), ..Default::default() }, t).unwrap();
        let peer = |i: usize| format!("aaaaaaaa-bbbb-4ccc-8ddd-{i:012}");
        for i in 0..20 {
            c.enrich_nonblocking(&peer(i), None, 0);
        }
        for r in held {
            r.answer(404, "{}");
        }
        c.harvest(1);
        assert_eq!(c.directory.in_flight(), 12, "one call looks at {HARVEST_BUDGET}");
        // A call about a peer always looks at that peer's own lookup.
        assert!(c.enrich_nonblocking(&peer(19), None, 1).is_none());
        assert_eq!(c.directory.stats().negative_hits, 1);
        c.harvest(1);
        c.harvest(1);
        assert_eq!(c.directory.in_flight(), 0, "every lookup is looked at in turn");
    }

    #[test]
    fn in_flight_is_bounded() {
        let mut t = FakeTransport::default();
        let _held: Vec<_> = (0..3).map(|_| t.then_hold()).collect();
        let mut c = Client::new(
            RawConfig {
                workspace_id: ME.into(),
                cache: Some(RawCachePolicy { max_in_flight: Some(2), ..Default::default() }),
                ..Default::default()
            },
            t,
        )
        .unwrap();
        for i in 0..5 {
            let peer = format!("aaaaaaaa-bbbb-4ccc-8ddd-00000000000{i}");
            assert_eq!(c.enrich_nonblocking(&peer, None, 0), None);
        }
        assert_eq!(c.transport.sent.len(), 2);
        assert_eq!(c.stats(0).in_flight, 2);
    }

    #[test]
    fn await_enrichment_stores_what_completed() {
        let mut t = FakeTransport::default();
        let release = t.then_hold();
        let mut c = client(t);
        c.enrich_nonblocking(PEER, None, 0);
        assert_eq!(c.await_enrichment(Duration::from_millis(1), || 0), 1, "still held");
        release.answer(200, &record(PEER, "B"));
        assert_eq!(c.await_enrichment(Duration::from_millis(1), || 0), 0);
        assert_eq!(c.stats(0).entries, 1);
    }

    #[test]
    fn every_map_is_bounded() {
        let mut t = FakeTransport::default();
        for i in 0..10 {
            t.then_answer(200, &record(&format!("aaaaaaaa-bbbb-4ccc-8ddd-00000000000{i}"), "n"));
        }
        let mut c = client(t);
        for i in 0..10 {
            c.enrich(&format!("aaaaaaaa-bbbb-4ccc-8ddd-00000000000{i}"), None, 0);
        }
        let s = c.stats(0);
        assert_eq!((s.entries, s.names, s.evictions), (2, 2, 8));
    }

    /// An `auto` send's card, read without blocking: concurrent sends wait
    /// on one lookup, then speak what the card prefers.
    #[test]
    fn sends_without_blocking_wait_on_one_card_lookup() {
        let mut t = FakeTransport::default();
        let release = t.then_hold();
        let mut c = client(t);
        let (message, ids, ask) =
            (Message::text("hi"), ids(), Ask { protocol: Some(ProtocolChoice::Auto), ..Ask::default() });
        let call = SendCall { peer_id: PEER, message: &message, source: None, ask: &ask, ids: &ids, call: Call::Send };
        assert!(matches!(c.send_job(&call, 3, 0), Ok(Prepared::Wait(_))));
        assert!(matches!(c.send_job(&call, 3, 0), Ok(Prepared::Wait(_))), "the second waits on the same lookup");
        assert_eq!(c.transport.sent.len(), 1, "one lookup for both");
        let card = json!({"id": PEER, "name": "B", "agent_card": {"supportedInterfaces": [
            {"url": "http://x", "protocolBinding": "JSONRPC", "protocolVersion": "1.0", "tenant": "t1"}]}});
        release.answer(200, &card.to_string());
        let Ok(Prepared::Ready(job)) = c.send_job(&call, 2, S) else { panic!("the card is cached now") };
        assert_eq!((job.spoken.protocol, job.spoken.tenant.as_deref()), (Protocol::V1_0, Some("t1")));
        assert_eq!(job.peer, PEER);
        assert_eq!(c.transport.sent.len(), 1);
    }

    /// A card that has arrived is read by the next step even with many
    /// other lookups in flight (the bounded sweep alone might not reach it).
    #[test]
    fn a_sends_own_lookup_is_read_among_many_in_flight() {
        let mut t = FakeTransport::default();
        let others: Vec<_> = (0..30).map(|_| t.then_hold()).collect();
        let card = t.then_hold();
        let mut c = client(t);
        for i in 0..30 {
            assert_eq!(c.enrich_nonblocking(&format!("cccccccc-0000-4000-8000-{i:012}"), None, 0), None);
        }
        let (message, ids, ask) =
            (Message::text("hi"), ids(), Ask { protocol: Some(ProtocolChoice::Auto), ..Ask::default() });
        let call = SendCall { peer_id: PEER, message: &message, source: None, ask: &ask, ids: &ids, call: Call::Send };
        for _ in 0..5 {
            assert!(matches!(c.send_job(&call, 3, 0), Ok(Prepared::Wait(_))));
        }
        let v1 = json!({"id": PEER, "agent_card": {"supportedInterfaces": [
            {"url": "http://x", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}]}});
        card.answer(200, &v1.to_string());
        let Ok(Prepared::Ready(job)) = c.send_job(&call, 3, 0) else { panic!("the card has arrived") };
        assert_eq!(job.spoken.protocol, Protocol::V1_0);
        assert_eq!(c.transport.sent.len(), 31, "one lookup for the send");
        drop(others);
    }

    /// A lookup that fails, or a card still missing when no waits are
    /// left, is no card: v0.3, as a blocking send does.
    #[test]
    fn a_card_that_cannot_be_read_is_no_card() {
        let mut t = FakeTransport::default();
        t.then_answer(404, "{}");
        let mut c = client(t);
        let (message, ids, ask) =
            (Message::text("hi"), ids(), Ask { protocol: Some(ProtocolChoice::Auto), ..Ask::default() });
        let call = SendCall { peer_id: PEER, message: &message, source: None, ask: &ask, ids: &ids, call: Call::Send };
        assert!(matches!(c.send_job(&call, 3, 0), Ok(Prepared::Wait(_))));
        let Ok(Prepared::Ready(job)) = c.send_job(&call, 2, 0) else { panic!("the failure is remembered") };
        assert_eq!(job.spoken.protocol, Protocol::V0_3);
        let other = SendCall { peer_id: ALT, ..call };
        let Ok(Prepared::Ready(job)) = c.send_job(&other, 0, 0) else { panic!("no waits left: no lookup") };
        assert_eq!(job.spoken.protocol, Protocol::V0_3);
        assert_eq!(c.transport.sent.len(), 1);
        let bad = SendCall { peer_id: "../x", ..call };
        assert!(matches!(c.send_job(&bad, 3, 0), Err(e) if matches!(e.kind, ErrorKind::InvalidId { .. })));
    }

    fn ids() -> SendIds {
        SendIds { request_id: "rid".into(), message_id: "mid".into() }
    }

    fn ok_body(text: &str) -> String {
        json!({"jsonrpc": "2.0", "id": "rid", "result": {"kind": "message", "parts": [{"kind": "text", "text": text}]}})
            .to_string()
    }

    /// Every token the client holds, in every text it hands out.
    fn leaks(texts: Vec<&mut String>) -> Vec<String> {
        texts.into_iter().filter(|t| t.contains("tok-me") || t.contains("tok-alt")).map(|t| t.clone()).collect()
    }

    #[test]
    fn echoed_tokens_are_redacted_from_platform_errors() {
        let mut c = client(FakeTransport::answering(400, r#"{"error":"bad header Authorization: Bearer tok-me"}"#));
        let mut e = c.discover_peer(PEER, None, 0).unwrap_err();
        assert!(e.message.contains("Bearer [redacted]"), "{}", e.message);
        assert_eq!(leaks(e.texts_mut()), Vec::<String>::new());
        c.transport.then_answer(500, "tok-alt says no");
        let mut e = c.peers(None, Some(ALT), 0).unwrap_err();
        assert_eq!(leaks(e.texts_mut()), Vec::<String>::new());
    }

    #[test]
    fn echoed_tokens_are_redacted_from_sends_and_their_traces() {
        let echo = r#"{"error":"upstream said: Authorization: Bearer tok-me"}"#;
        // A 401 (not retried) that echoes the token.
        let mut c = client(FakeTransport::answering(401, r#"{"error":"bad token tok-me"}"#));
        let mut e =
            c.send_message(PEER, &Message::text("hi"), None, &Ask::default(), &mut FixedEnv, ids()).unwrap_err();
        assert!(e.message.contains("[redacted]"), "{}", e.message);
        assert_eq!(leaks(e.texts_mut()), Vec::<String>::new());
        // A retried 502 that echoes it, then a success: the trace is scrubbed.
        c.transport.then_answer(502, echo).then_answer(200, &ok_body("ok"));
        let sent = c.send_message(PEER, &Message::text("hi"), None, &Ask::default(), &mut FixedEnv, ids()).unwrap();
        assert_eq!(
            sent.attempts[0].outcome,
            "HTTP 502 from the platform: upstream said: Authorization: Bearer [redacted]"
        );
        // Every attempt failing: the error and its trace.
        for _ in 0..5 {
            c.transport.then_answer(502, echo);
        }
        let mut e =
            c.send_message(PEER, &Message::text("hi"), None, &Ask::default(), &mut FixedEnv, ids()).unwrap_err();
        assert_eq!(e.attempts.len(), 5);
        assert_eq!(leaks(e.texts_mut()), Vec::<String>::new());
        // send-many: each target's outcome, as the source ALT (its token).
        c.transport.then_answer(403, "no, tok-alt").then_answer(200, &ok_body("ok"));
        let targets = [(PEER.to_owned(), Message::text("a")), (PEER.to_owned(), Message::text("b"))];
        let mut outcomes = c.send_many(&targets, Some(ALT), &Ask::default(), &mut FixedEnv, || Ok(ids())).unwrap();
        assert_eq!(leaks(outcomes.texts_mut()), Vec::<String>::new());
        assert!(outcomes.iter().any(|o| o.as_ref().is_err_and(|e| e.message.contains("[redacted]"))));
    }

    #[test]
    fn echoed_tokens_are_redacted_from_task_calls_and_stream_openings() {
        let mut c = client(FakeTransport::answering(200, &ok_body("a message echoing tok-me")));
        let mut e =
            c.task_call(Call::GetTask, (PEER, "task-1"), None, &Ask::default(), &mut FixedEnv, "rid").unwrap_err();
        assert!(matches!(e.kind, ErrorKind::UnexpectedShape { .. }), "{e:?}");
        assert_eq!(leaks(e.texts_mut()), Vec::<String>::new());
        c.transport.then_stream(400, "text/plain", vec![Chunk::Data(b"tok-me".to_vec())]);
        let Err(mut e) = c.send_message_stream(PEER, &Message::text("hi"), None, &Ask::default(), &mut FixedEnv, ids())
        else {
            panic!("opened")
        };
        assert_eq!(leaks(e.texts_mut()), Vec::<String>::new());
    }

    #[test]
    fn a2a_calls_word_invalid_input_their_own_way() {
        let mut c = client(FakeTransport::default());
        let e = c.send_message("nope", &Message::text("hi"), None, &Ask::default(), &mut FixedEnv, ids()).unwrap_err();
        assert_eq!(e.message, "[A2A_ERROR] invalid peer_id (expected UUID): 'nope'");
        let e = c.task_call(Call::GetTask, (PEER, ""), None, &Ask::default(), &mut FixedEnv, "rid").unwrap_err();
        assert!(
            e.message.starts_with("[A2A_ERROR] invalid task-id (expected 1 to ")
                && e.message.ends_with(" bytes without control characters): ''"),
            "{}",
            e.message
        );
        let e = c.discover_peer("nope", None, 0).unwrap_err();
        assert_eq!(e.message, "invalid peer-id (expected a UUID): 'nope'");
        assert!(c.transport.sent.is_empty());
    }
}
