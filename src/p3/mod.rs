//! The WIT glue of the WASI 0.3 component (world `a2a-client-async`,
//! `wit/async/`): the client's calls that wait on the network are async
//! exports, each a task of its own, so one instance serves many requests at
//! once. They share one client — its cache, its lookups in flight, its
//! retry budget — and borrow it only between awaits, never across one.

mod codes;
mod transport;

use std::cell::RefCell;
use std::rc::Rc;

use crate::client::{self, Prepared, SendCall};
use crate::error::{Error, ErrorKind};
use crate::message::Message;
use crate::messaging::{Answered, Calls, Job, SendEnv, Sent};
use crate::transport::{Pending, Request, Response, TransportError};
use transport::{ready, InFlight, WasiHttp3};

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

/// How many registry lookups a send waits for before it reads a card still
/// missing as no card (see [`client::Client::send_job`]).
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

    fn validate_peer_id(id: String) -> Option<String> {
        crate::ids::validate_peer_id(&id)
    }
}

type Core = Rc<RefCell<client::Client<WasiHttp3>>>;

/// The `client` resource: the plain-Rust client over `wasi:http@0.3`.
struct Client {
    core: Core,
}

fn now() -> u64 {
    wasip3::clocks::monotonic_clock::now()
}

/// Randomness and clocks of a send, from WASI 0.3.
struct WasiEnv3;

impl SendEnv for WasiEnv3 {
    fn random(&mut self) -> f64 {
        (wasip3::random::random::get_random_u64() >> 11) as f64 / (1u64 << 53) as f64
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

    /// `send-message` and `send`.
    async fn send_with(
        &self,
        peer_id: &str,
        message: Message,
        options: wit::CallOptions,
    ) -> Result<wit::Reply, wit::Error> {
        let ids = new_ids().map_err(to_wit)?;
        let ask = ask_of(&options);
        let source = options.source.as_deref();
        let call = SendCall { peer_id, message: &message, source, ask: &ask, ids: &ids };
        let mut lookups_left = LOOKUP_WAITS;
        let job = loop {
            let step = self.core.borrow_mut().send_job(&call, lookups_left, now());
            match step.map_err(to_wit)? {
                Prepared::Ready(job) => break job,
                Prepared::Wait(lookup) => ready(&[lookup], None).await,
                Prepared::Retry => {}
            }
            lookups_left = lookups_left.saturating_sub(1);
        };
        let protocol = job.spoken.protocol;
        let answered = self.run(vec![job]).await.pop().unwrap_or_else(|| {
            Err(Error::new(ErrorKind::InvalidConfig("no call".into()), "[A2A_ERROR] no call".into()))
        });
        let sent = answered.map(|Answered { reply, attempts }| Sent { reply, ids, attempts, protocol });
        let sent = self.core.borrow().handed_out(sent);
        sent.map(to_wit_reply).map_err(to_wit)
    }
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

    fn agent_card_url(&self, peer_id: String) -> Result<String, wit::Error> {
        self.core.borrow().agent_card_url(&peer_id).map_err(to_wit)
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
}
