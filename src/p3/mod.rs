//! The WIT glue of the WASI 0.3 component (world `a2a-client-async`,
//! `wit/async/`): the client's calls that wait on the network are async
//! exports, each a task of its own, so one instance serves many requests at
//! once. They share one client — its cache, its lookups in flight, its
//! retry budget — and borrow it only between awaits, never across one.

// A borrow of the shared client held across an await would trap the instance
// the moment a concurrent call borrows it.
#![deny(clippy::await_holding_refcell_ref)]

mod codes;
mod transport;

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

use std::task::Waker;
use std::time::Duration;

use crate::a2a::{Ask, Call, Protocol, SendIds, Task};
use crate::client::{self, ExtendedCard, Prepared, ProxyCall, PushConfigs, SendCall, StreamHead, TaskCall, TaskList};
use crate::error::{Error, ErrorKind};
use crate::message::Message;
use crate::messaging::{Answered, Calls, Job, SendEnv, Sent};
use crate::push::PushCall;
use crate::resume::{ResumingStream, StreamIo};
use crate::streaming;
use crate::transport::{Opened, Pending, Request, Response, TransportError};
use transport::{ready, Body, InFlight, WasiHttp3};

// The generated glue is the crate's only unsafe code: the canonical ABI
// (exported symbols, raw pointers into linear memory) cannot be written
// without it.
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "wit/async",
        world: "a2a-client-async",
        with: {
            "wasi:http/types@0.3.0": wasip3::http::types,
            "wasi:http/client@0.3.0": wasip3::http::client,
            "wasi:clocks/types@0.3.0": wasip3::clocks::types,
            "wasi:clocks/monotonic-clock@0.3.0": wasip3::clocks::monotonic_clock,
            "wasi:clocks/system-clock@0.3.0": wasip3::clocks::system_clock,
            "wasi:random/random@0.3.0": wasip3::random::random,
        },
        generate_all,
    });
    use super::Component;
    export!(Component with_types_in self);
}

use bindings::exports::a2a::client_async::api as wit;

/// How many registry lookups a call waits for before it reads a card still
/// missing as no card (see [`client::Client::send_job`], `proxy_job`).
const LOOKUP_WAITS: u32 = 3;

/// The error code of a transport failure, as this world spells it.
fn transport_code(code: ::wasi::http::types::ErrorCode) -> wasip3::http::types::ErrorCode {
    codes::to_p3(code)
}

include!("../wit_convert.rs");
use convert::*;

struct Component;

impl wit::Guest for Component {
    type Client = Client;
    type EventStream = EventStream;

    fn validate_peer_id(id: String) -> Option<String> {
        crate::ids::validate_peer_id(&id)
    }
}

type Core = Rc<RefCell<client::Client<WasiHttp3>>>;

/// The `client` resource: the plain-Rust client over `wasi:http@0.3`.
#[derive(Clone)]
struct Client {
    core: Core,
}

/// The `event-stream` resource: a streamed reply over `wasi:http@0.3`, and
/// the client that made it (a cut stream is resumed through it, even after
/// the `client` handle is dropped).
struct EventStream {
    turn: RefCell<Turn>,
    client: Client,
}

/// The stream, between the calls that read it in turn.
struct Turn {
    /// None while a call reads it.
    stream: Option<ResumingStream<Body>>,
    /// The calls waiting for their turn.
    waiting: Vec<Waker>,
    /// What the stream showed when last put back (for the calls that
    /// ask while it is being read).
    protocol: Protocol,
    resumes: u32,
    extensions: Vec<String>,
}

/// A stream taken for one read; put back (and the next reader woken) when
/// dropped — also when the read is cancelled midway, which loses nothing
/// (`ResumingStream::next` is cancel-safe, and so is `Body::next`).
struct Lease<'a> {
    turn: &'a RefCell<Turn>,
    stream: Option<ResumingStream<Body>>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let waiting = {
            let mut turn = self.turn.borrow_mut();
            if let Some(stream) = self.stream.take() {
                turn.protocol = stream.current().protocol();
                turn.resumes = stream.resumes();
                turn.extensions = stream.current().extensions().to_vec();
                turn.stream = Some(stream);
            }
            std::mem::take(&mut turn.waiting)
        };
        waiting.into_iter().for_each(Waker::wake);
    }
}

impl EventStream {
    fn of(stream: ResumingStream<Body>, client: &Client) -> wit::EventStream {
        let turn = Turn {
            protocol: stream.current().protocol(),
            resumes: stream.resumes(),
            extensions: stream.current().extensions().to_vec(),
            stream: Some(stream),
            waiting: Vec::new(),
        };
        wit::EventStream::new(EventStream { turn: RefCell::new(turn), client: client.clone() })
    }

    /// The stream, once no other call is reading it.
    async fn lease(&self) -> Lease<'_> {
        let stream = poll_fn(|cx| {
            let mut turn = self.turn.borrow_mut();
            match turn.stream.take() {
                Some(stream) => Poll::Ready(stream),
                None => {
                    if !turn.waiting.iter().any(|w| w.will_wake(cx.waker())) {
                        turn.waiting.push(cx.waker().clone());
                    }
                    Poll::Pending
                }
            }
        })
        .await;
        Lease { turn: &self.turn, stream: Some(stream) }
    }
}

impl wit::GuestEventStream for EventStream {
    async fn next_event(&self) -> Result<Option<wit::StreamEvent>, wit::Error> {
        let mut lease = self.lease().await;
        let event = match lease.stream.as_mut() {
            Some(stream) => stream.next(&self.client).await,
            None => Ok(None),
        };
        drop(lease);
        event.map(|e| e.map(to_wit_event)).map_err(to_wit)
    }

    fn protocol(&self) -> wit::Protocol {
        to_wit_protocol(self.turn.borrow().protocol)
    }

    fn resumes(&self) -> u32 {
        self.turn.borrow().resumes
    }

    fn activated_extensions(&self) -> Vec<String> {
        self.turn.borrow().extensions.clone()
    }
}

/// A stream's waits, awaited: the shared client is borrowed only between them.
impl StreamIo<WasiHttp3> for Client {
    fn client<R>(&self, f: impl FnOnce(&mut client::Client<WasiHttp3>) -> R) -> R {
        f(&mut self.core.borrow_mut())
    }

    fn mono_now(&self) -> u64 {
        now()
    }

    fn random(&self) -> f64 {
        WasiEnv3.random()
    }

    async fn pause(&self, delay: Duration) {
        wasip3::clocks::monotonic_clock::wait_for(delay.as_nanos().min(u64::MAX as u128) as u64).await;
    }

    async fn next_chunk(&self, body: &mut Body, within: Duration) -> Result<Option<Vec<u8>>, TransportError> {
        body.next(within).await
    }

    async fn subscribe(
        &self,
        target: (&str, &str),
        source: &str,
        ask: &Ask,
        request_id: &str,
    ) -> Result<streaming::EventStream<Body>, Error> {
        let opened = self.subscription(target, Some(source), ask, request_id).await;
        self.core.borrow().handed_out(opened.map(|(stream, _)| stream))
    }

    async fn read_task(
        &self,
        (peer_id, task_id): (&str, &str),
        source: &str,
        ask: &Ask,
        request_id: &str,
    ) -> Result<Task, Error> {
        let what = TaskCall { call: Call::GetTask, task_id };
        Ok(self.proxy_as(what, (peer_id, Some(source), ask), request_id).await?.task)
    }
}

fn now() -> u64 {
    wasip3::clocks::monotonic_clock::now()
}

/// Randomness and clocks of a send, from WASI 0.3.
struct WasiEnv3;

impl SendEnv for WasiEnv3 {
    fn random(&mut self) -> f64 {
        crate::retry::unit_interval(wasip3::random::random::get_random_u64())
    }
    fn unix_now(&mut self) -> u64 {
        wasip3::clocks::system_clock::now().seconds.max(0) as u64
    }
    fn mono_now(&mut self) -> u64 {
        now()
    }
}

impl Client {
    /// One request, awaited.
    async fn fetch(&self, req: &Request) -> Result<Response, TransportError> {
        let mut pending = self.core.borrow_mut().start(req)?;
        ready(std::slice::from_ref(&pending), None).await;
        pending.poll().unwrap_or_else(|| {
            Err(TransportError::Code(::wasi::http::types::ErrorCode::InternalError(Some(
                "a request ended without an outcome".into(),
            ))))
        })
    }

    /// The calls of `jobs`, all in flight at once (the state machine of
    /// `send-many`, driven by awaits instead of a blocking wait).
    async fn run(&self, jobs: Vec<Job>) -> Vec<Result<Answered, Error>> {
        let env = &mut WasiEnv3;
        let mut calls = Calls::new(&mut self.core.borrow_mut().proxy(), env, jobs);
        while !calls.start_due(&mut self.core.borrow_mut().proxy(), env) {
            let (pending, next) = calls.waiting_on();
            let pending: Vec<InFlight> = pending.into_iter().cloned().collect();
            let next = next.copied();
            ready(&pending, next).await;
            calls.progress(&mut self.core.borrow_mut().proxy(), env);
        }
        calls.outcomes()
    }

    /// A send's job and ids: the message checked, the version chosen (after
    /// waiting, without blocking the instance, for the peer's card when
    /// `auto` needs it), no request made yet.
    async fn prepare(
        &self,
        peer_id: &str,
        message: &Message,
        source: Option<&str>,
        ask: &Ask,
    ) -> Result<(Job, SendIds), Error> {
        let ids = new_ids()?;
        let call = SendCall { peer_id, message, source, ask, ids: &ids, call: Call::Send };
        let job = self.job(|core, lookups_left| core.send_job(&call, lookups_left, now())).await?;
        Ok((job, ids))
    }

    /// A call's job, prepared step by step: a step gives the job, or a
    /// registry lookup to wait for (without blocking the instance) before
    /// the next step.
    async fn job(
        &self,
        mut step: impl FnMut(&mut client::Client<WasiHttp3>, u32) -> Result<Prepared<InFlight>, Error>,
    ) -> Result<Job, Error> {
        let mut lookups_left = LOOKUP_WAITS;
        loop {
            // Bound first: a borrow in the `match` itself would live through the await.
            let prepared = step(&mut self.core.borrow_mut(), lookups_left)?;
            match prepared {
                Prepared::Ready(job) => return Ok(job),
                Prepared::Wait(lookup) => ready(&[lookup], None).await,
                Prepared::Retry => {}
            }
            lookups_left = lookups_left.saturating_sub(1);
        }
    }

    /// One job, run with the retries of a send.
    async fn run_one(&self, job: Job) -> Result<Answered, Error> {
        self.run(vec![job]).await.pop().unwrap_or_else(|| {
            Err(Error::new(ErrorKind::InvalidConfig("no call".into()), "[A2A_ERROR] no call".into()))
        })
    }

    /// A [`ProxyCall`]: its job prepared (waiting, without blocking the
    /// instance, for the peer's card when `auto` needs it), run with the
    /// retries of a send, its answer read.
    async fn proxy<C: ProxyCall>(&self, what: C, peer_id: &str, options: &wit::CallOptions) -> Result<C::Out, Error> {
        let request_id = new_ids()?.request_id;
        let ask = ask_of(options);
        self.proxy_as(what, (peer_id, options.source.as_deref(), &ask), &request_id).await
    }

    /// [`Self::proxy`] to `target` (peer, source, version asked), with its JSON-RPC id.
    async fn proxy_as<C: ProxyCall>(
        &self,
        what: C,
        target: (&str, Option<&str>, &Ask),
        request_id: &str,
    ) -> Result<C::Out, Error> {
        let job = self.job(|core, lookups_left| core.proxy_job(&what, target, request_id, lookups_left, now())).await?;
        let (peer, protocol) = (job.peer.clone(), job.spoken.protocol);
        let answered = self.run_one(job).await;
        self.core.borrow().proxy_read(&what, &peer, protocol, answered)
    }

    /// A stream's job opened: the head of its response read, its events to
    /// follow (or one whole answer as a one-event stream, or its error).
    async fn open(&self, job: Job) -> Result<streaming::EventStream<Body>, Error> {
        let Job { peer, source, spoken, body, .. } = job;
        let (req, url) = self.core.borrow().stream_request(&peer, &source, &spoken, body)?;
        let platform = self.core.borrow().platform().clone();
        let started = now();
        let opened = transport::open(&platform, &req).await;
        let opened = opened.map_err(|e| Error::a2a(crate::platform::transport_kind(e, &url)))?;
        let head = self.core.borrow().stream_head(opened, url, &spoken, started);
        match head {
            StreamHead::Events(stream) => Ok(*stream),
            StreamHead::Whole(mut opened, url) => {
                let (within, cap) = self.core.borrow().body_limits();
                let body = opened.body.rest(within, cap).await;
                let answer = Opened { status: opened.status, headers: opened.headers, body };
                self.core.borrow().stream_answer(answer, url, &spoken, WasiEnv3.unix_now())
            }
        }
    }

    /// One subscription to a task (`target`: peer and task), unresumed, and
    /// the peer and source it is made to (canonical).
    async fn subscription(
        &self,
        (peer_id, task_id): (&str, &str),
        source: Option<&str>,
        ask: &Ask,
        request_id: &str,
    ) -> Result<(streaming::EventStream<Body>, (String, String)), Error> {
        let what = TaskCall { call: Call::Subscribe, task_id };
        let target = (peer_id, source, ask);
        let job = self.job(|core, lookups_left| core.proxy_job(&what, target, request_id, lookups_left, now())).await?;
        let made_to = (job.peer.clone(), job.source.clone());
        Ok((self.open(job).await?, made_to))
    }

    /// `send-message-stream` and `send-stream`: one attempt (see
    /// `client::Client::send_message_stream`).
    async fn stream_with(
        &self,
        peer_id: &str,
        message: Message,
        options: wit::CallOptions,
    ) -> Result<wit::EventStream, wit::Error> {
        let ids = new_ids().map_err(to_wit)?;
        let ask = ask_of(&options);
        let source = options.source.as_deref();
        let call = SendCall { peer_id, message: &message, source, ask: &ask, ids: &ids, call: Call::Stream };
        let job = self.job(|core, lookups_left| core.send_job(&call, lookups_left, now())).await;
        let opened = match job {
            Ok(job) => {
                let target = (job.peer.clone(), job.source.clone());
                self.open(job).await.map(|stream| ResumingStream::new(stream, target, ids.request_id.clone()))
            }
            Err(e) => Err(e),
        };
        let stream = self.core.borrow().handed_out(opened).map_err(to_wit)?;
        Ok(EventStream::of(stream, self))
    }

    /// A push-config call.
    async fn push(
        &self,
        peer_id: &str,
        call: PushCall,
        options: &wit::CallOptions,
    ) -> Result<Vec<wit::PushConfig>, wit::Error> {
        let configs = self.proxy(PushConfigs(&call), peer_id, options).await.map_err(to_wit)?;
        Ok(configs.into_iter().map(to_wit_push_config).collect())
    }

    /// `get-task` or `cancel-task`.
    async fn task(
        &self,
        call: Call,
        peer_id: &str,
        task_id: &str,
        options: &wit::CallOptions,
    ) -> Result<wit::Task, wit::Error> {
        self.proxy(TaskCall { call, task_id }, peer_id, options).await.map(to_wit_task).map_err(to_wit)
    }

    /// `send-message` and `send`.
    async fn send_with(
        &self,
        peer_id: &str,
        message: Message,
        options: wit::CallOptions,
    ) -> Result<wit::Reply, wit::Error> {
        let ask = ask_of(&options);
        let (job, ids) = self.prepare(peer_id, &message, options.source.as_deref(), &ask).await.map_err(to_wit)?;
        let protocol = job.spoken.protocol;
        let answered = self.run_one(job).await;
        let sent = answered.map(|Answered { reply, attempts }| Sent { reply, ids, attempts, protocol });
        let sent = self.core.borrow().handed_out(sent);
        sent.map(to_wit_reply).map_err(to_wit)
    }
}

/// Every one of `futures`, run together; their outputs in order.
async fn all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut waiting = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(out) => *output = Some(out),
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

impl wit::GuestClient for Client {
    fn new(config: wit::Config) -> Result<Self, wit::Error> {
        let core = client::Client::new(raw_config(config), WasiHttp3).map_err(to_wit)?;
        Ok(Client { core: Rc::new(RefCell::new(core)) })
    }

    fn set_token(&self, workspace_id: String, token: Option<String>) -> Result<(), wit::Error> {
        self.core.borrow_mut().set_token(&workspace_id, token).map_err(to_wit)
    }

    async fn discover_peer(&self, peer_id: String, options: wit::CallOptions) -> Result<wit::Peer, wit::Error> {
        let source = options.source.as_deref();
        let (req, peer, source) = self.core.borrow_mut().discover_begin(&peer_id, source, now()).map_err(to_wit)?;
        let outcome = self.fetch(&req).await;
        self.core.borrow_mut().discover_end(&peer, &source, outcome, now()).map(to_wit_peer).map_err(to_wit)
    }

    async fn peers(&self, query: Option<String>, options: wit::CallOptions) -> Result<Vec<wit::Peer>, wit::Error> {
        let source = options.source.as_deref();
        let (req, source) = self.core.borrow_mut().peers_begin(query.as_deref(), source, now()).map_err(to_wit)?;
        let outcome = self.fetch(&req).await;
        let peers = self.core.borrow_mut().peers_end(&req, &source, outcome, now()).map_err(to_wit)?;
        Ok(peers.into_iter().map(to_wit_peer).collect())
    }

    async fn workspace_info(&self, options: wit::CallOptions) -> Result<wit::Workspace, wit::Error> {
        let (req, source) = self.core.borrow_mut().workspace_begin(options.source.as_deref(), now()).map_err(to_wit)?;
        let outcome = self.fetch(&req).await;
        let w = self.core.borrow_mut().workspace_end(&source, outcome).map_err(to_wit)?;
        Ok(wit::Workspace { id: w.id, name: w.name, role: w.role, status: w.status, raw: w.raw })
    }

    fn agent_card_url(&self, peer_id: String) -> Result<String, wit::Error> {
        self.core.borrow().agent_card_url(&peer_id).map_err(to_wit)
    }

    async fn enrich_peer_metadata(&self, peer_id: String, options: wit::CallOptions) -> Option<wit::Peer> {
        let begun = self.core.borrow_mut().enrich_begin(&peer_id, options.source.as_deref(), now());
        let (key, peer, req) = match begun {
            Ok(lookup) => lookup,
            Err(answer) => return answer.map(to_wit_peer),
        };
        let outcome = self.fetch(&req).await;
        self.core.borrow_mut().enrich_end(key, &peer, outcome, now()).map(to_wit_peer)
    }

    async fn await_enrichment(&self, timeout_ms: u32) -> u32 {
        let deadline = now().saturating_add(u64::from(timeout_ms) * 1_000_000);
        loop {
            let pending = self.core.borrow_mut().lookups_in_flight(now());
            if pending.is_empty() || now() >= deadline {
                return pending.len() as u32;
            }
            ready(&pending, Some(deadline)).await;
        }
    }

    /// Async so that the lookup it starts is a task of this call, which
    /// goes on after the call has answered.
    async fn enrich_peer_metadata_nonblocking(&self, peer_id: String, options: wit::CallOptions) -> Option<wit::Peer> {
        self.core.borrow_mut().enrich_nonblocking(&peer_id, options.source.as_deref(), now()).map(to_wit_peer)
    }

    fn peer_name(&self, peer_id: String, source: Option<String>) -> Option<String> {
        self.core.borrow_mut().peer_name(&peer_id, source.as_deref(), now())
    }

    fn routed_source(&self, peer_id: String) -> Option<String> {
        self.core.borrow().routed_source(&peer_id)
    }

    fn stats(&self) -> wit::CacheStats {
        to_wit_stats(self.core.borrow_mut().stats(now()))
    }

    async fn send_message(
        &self,
        peer_id: String,
        text: String,
        options: wit::CallOptions,
    ) -> Result<wit::Reply, wit::Error> {
        self.send_with(&peer_id, Message::text(&text), options).await
    }

    async fn send(
        &self,
        peer_id: String,
        message: wit::OutgoingMessage,
        options: wit::CallOptions,
    ) -> Result<wit::Reply, wit::Error> {
        self.send_with(&peer_id, from_wit_message(message), options).await
    }

    async fn send_many(
        &self,
        targets: Vec<wit::SendTarget>,
        options: wit::CallOptions,
    ) -> Result<Vec<Result<wit::Reply, wit::Error>>, wit::Error> {
        client::check_send_many(targets.len()).map_err(to_wit)?;
        let ask = ask_of(&options);
        let source = options.source.as_deref();
        // Each target's job (an invalid one is its error, and no request),
        // then every job in flight at once.
        let messages: Vec<(String, Message)> =
            targets.into_iter().map(|t| (t.peer_id, from_wit_message(t.message))).collect();
        // Prepared together: the cards the targets need are looked up at once.
        let prepared =
            all(messages.iter().map(|(peer, message)| self.prepare(peer, message, source, &ask)).collect()).await;
        let mut outcomes: Vec<Option<Result<Sent, Error>>> = Vec::with_capacity(prepared.len());
        let (mut jobs, mut sends) = (Vec::new(), Vec::new());
        for (i, outcome) in prepared.into_iter().enumerate() {
            match outcome {
                Ok((job, ids)) => {
                    sends.push((i, ids, job.spoken.protocol));
                    jobs.push(job);
                    outcomes.push(None);
                }
                Err(e) => outcomes.push(Some(Err(e))),
            }
        }
        for ((i, ids, protocol), answered) in sends.into_iter().zip(self.run(jobs).await) {
            outcomes[i] = Some(answered.map(|Answered { reply, attempts }| Sent { reply, ids, attempts, protocol }));
        }
        let core = self.core.borrow();
        let outcomes = outcomes.into_iter().flatten().map(|sent| core.handed_out(sent));
        Ok(outcomes.map(|sent| sent.map(to_wit_reply).map_err(to_wit)).collect())
    }

    async fn send_message_stream(
        &self,
        peer_id: String,
        text: String,
        options: wit::CallOptions,
    ) -> Result<wit::EventStream, wit::Error> {
        self.stream_with(&peer_id, Message::text(&text), options).await
    }

    async fn send_stream(
        &self,
        peer_id: String,
        message: wit::OutgoingMessage,
        options: wit::CallOptions,
    ) -> Result<wit::EventStream, wit::Error> {
        self.stream_with(&peer_id, from_wit_message(message), options).await
    }

    async fn subscribe_to_task(
        &self,
        peer_id: String,
        task_id: String,
        options: wit::CallOptions,
    ) -> Result<wit::EventStream, wit::Error> {
        let request_id = new_ids().map_err(to_wit)?.request_id;
        let ask = ask_of(&options);
        let source = options.source.as_deref();
        let opened = self.subscription((&peer_id, &task_id), source, &ask, &request_id).await;
        let stream = opened.map(|(stream, made_to)| ResumingStream::new(stream, made_to, request_id));
        let stream = self.core.borrow().handed_out(stream).map_err(to_wit)?;
        Ok(EventStream::of(stream, self))
    }

    async fn agent_card(&self, peer_id: String, options: wit::CallOptions) -> Result<wit::AgentCard, wit::Error> {
        let source = options.source.as_deref();
        let begun = self.core.borrow_mut().agent_card_begin(&peer_id, source, now()).map_err(to_wit)?;
        let card = match begun {
            Ok(card) => card,
            Err((req, peer, source)) => {
                let outcome = self.fetch(&req).await;
                self.core.borrow_mut().agent_card_end(&peer, &source, outcome, now()).map_err(to_wit)?
            }
        };
        Ok(to_wit_card(card))
    }

    async fn extended_agent_card(
        &self,
        peer_id: String,
        options: wit::CallOptions,
    ) -> Result<wit::AgentCard, wit::Error> {
        self.proxy(ExtendedCard, &peer_id, &options).await.map(to_wit_card).map_err(to_wit)
    }

    async fn create_push_config(
        &self,
        peer_id: String,
        config: wit::NewPushConfig,
        options: wit::CallOptions,
    ) -> Result<wit::PushConfig, wit::Error> {
        let call = PushCall::Create { task_id: config.task_id, id: config.id, url: config.url, token: config.token };
        self.push(&peer_id, call, &options).await.and_then(one_config)
    }

    async fn get_push_config(
        &self,
        peer_id: String,
        task_id: String,
        config_id: String,
        options: wit::CallOptions,
    ) -> Result<wit::PushConfig, wit::Error> {
        self.push(&peer_id, PushCall::Get { task_id, id: config_id }, &options).await.and_then(one_config)
    }

    async fn list_push_configs(
        &self,
        peer_id: String,
        task_id: String,
        options: wit::CallOptions,
    ) -> Result<Vec<wit::PushConfig>, wit::Error> {
        self.push(&peer_id, PushCall::List { task_id }, &options).await
    }

    async fn delete_push_config(
        &self,
        peer_id: String,
        task_id: String,
        config_id: String,
        options: wit::CallOptions,
    ) -> Result<(), wit::Error> {
        self.push(&peer_id, PushCall::Delete { task_id, id: config_id }, &options).await.map(drop)
    }

    async fn list_tasks(
        &self,
        peer_id: String,
        query: wit::TaskQuery,
        options: wit::CallOptions,
    ) -> Result<wit::TaskPage, wit::Error> {
        let query = from_wit_query(query);
        self.proxy(TaskList(&query), &peer_id, &options).await.map(to_wit_page).map_err(to_wit)
    }

    async fn get_task(
        &self,
        peer_id: String,
        task_id: String,
        options: wit::CallOptions,
    ) -> Result<wit::Task, wit::Error> {
        self.task(Call::GetTask, &peer_id, &task_id, &options).await
    }

    async fn cancel_task(
        &self,
        peer_id: String,
        task_id: String,
        options: wit::CallOptions,
    ) -> Result<wit::Task, wit::Error> {
        self.task(Call::CancelTask, &peer_id, &task_id, &options).await
    }
}
