//! `a2a-client`: an A2A client as a WebAssembly component.
//!
//! This file is the WIT glue only: it converts between the generated
//! bindings and the plain-Rust modules, which hold all behaviour and unit-test
//! natively (`cargo test`).

// `Error` is the typed value that crosses to WIT (kind, message, attempt
// trace); it is returned once per call, never on a hot path, so it is not boxed.
#![allow(clippy::result_large_err)]
#![deny(unsafe_code)]
#![warn(unreachable_pub)]
// The modules' one consumer, the component glue, is wasm32-only: natively
// (unit tests, the testing kit) much of the crate is unused, so dead code is
// reported by the wasm32 build, the one that ships.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
// The WASI 0.3 build drives the client's non-blocking halves: the blocking
// calls only the WASI 0.2 glue makes are unused there.
#![cfg_attr(feature = "p3", allow(dead_code))]

mod a2a;
mod base64;
mod cache;
mod card;
mod client;
mod config;
mod directory;
mod error;
mod ids;
mod message;
mod messaging;
mod platform;
mod push;
mod resume;
mod retry;
mod sse;
mod streaming;
/// The scripted transport and the property checks (`testing::checks`) the
/// fuzz targets and the harness's fuzzer drive; never part of the component.
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod transport;

/// The WASI 0.3 component (`--features p3`): world `a2a-client-async`.
#[cfg(all(target_arch = "wasm32", feature = "p3"))]
mod p3;

/// The WASI 0.2 component: world `a2a-client`.
#[cfg(all(target_arch = "wasm32", not(feature = "p3")))]
mod component {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    use crate::a2a::Call;
    use crate::client;
    use crate::message::Message;
    use crate::messaging::SendEnv;
    use crate::push::PushCall;
    use crate::resume::ResumingStream;
    use crate::transport::{WasiHttp, WasiStream};

    // The generated glue is the crate's only unsafe code: the canonical ABI
    // (exported symbols, raw pointers into linear memory) cannot be written
    // without it.
    #[allow(unsafe_code)]
    mod bindings {
        wit_bindgen::generate!({
        path: "wit",
        world: "a2a-client",
        with: {
            "wasi:http/types@0.2.12": ::wasi::http::types,
            "wasi:http/outgoing-handler@0.2.12": ::wasi::http::outgoing_handler,
            "wasi:io/error@0.2.12": ::wasi::io::error,
            "wasi:io/poll@0.2.12": ::wasi::io::poll,
            "wasi:io/streams@0.2.12": ::wasi::io::streams,
            "wasi:clocks/monotonic-clock@0.2.12": ::wasi::clocks::monotonic_clock,
            "wasi:clocks/wall-clock@0.2.12": ::wasi::clocks::wall_clock,
            "wasi:random/random@0.2.12": ::wasi::random::random,
        },
        generate_all,
        });
        use super::Component;
        export!(Component with_types_in self);
    }

    use bindings::exports::a2a::client::api as wit;

    struct Component;

    impl wit::Guest for Component {
        type Client = Client;
        type EventStream = EventStream;

        fn validate_peer_id(id: String) -> Option<String> {
            crate::ids::validate_peer_id(&id)
        }
    }

    type Core = Rc<RefCell<client::Client<WasiHttp>>>;

    /// The `client` resource: the plain-Rust client over `wasi:http`.
    struct Client {
        core: Core,
    }

    /// The `event-stream` resource: a streamed reply over `wasi:http`, and
    /// the client that made it (a cut stream is resumed through it, with
    /// its policy, budget and tokens, even after the `client` handle is
    /// dropped).
    struct EventStream {
        inner: RefCell<ResumingStream<WasiStream>>,
        client: Core,
    }

    impl EventStream {
        fn of(stream: ResumingStream<WasiStream>, client: &Core) -> wit::EventStream {
            wit::EventStream::new(EventStream { inner: RefCell::new(stream), client: Rc::clone(client) })
        }
    }

    impl wit::GuestEventStream for EventStream {
        fn next_event(&self) -> Result<Option<wit::StreamEvent>, wit::Error> {
            let mut stream = self.inner.borrow_mut();
            let event = self.client.borrow_mut().next_stream_event(&mut stream, &mut WasiEnv).map_err(to_wit)?;
            Ok(event.map(to_wit_event))
        }

        fn subscribe(&self) -> ::wasi::io::poll::Pollable {
            let inner = self.inner.borrow();
            match inner.current().body() {
                Some(body) if !inner.has_buffered() => {
                    body.subscribe().unwrap_or_else(|| ::wasi::clocks::monotonic_clock::subscribe_duration(0))
                }
                _ => ::wasi::clocks::monotonic_clock::subscribe_duration(0),
            }
        }

        fn protocol(&self) -> wit::Protocol {
            to_wit_protocol(self.inner.borrow().current().protocol())
        }

        fn resumes(&self) -> u32 {
            self.inner.borrow().resumes()
        }

        fn activated_extensions(&self) -> Vec<String> {
            self.inner.borrow().current().extensions().to_vec()
        }
    }

    impl Client {
        /// `send-message` and `send`.
        fn send_with(
            &self,
            peer_id: &str,
            message: Message,
            options: wit::CallOptions,
        ) -> Result<wit::Reply, wit::Error> {
            let ids = new_ids().map_err(to_wit)?;
            let ask = ask_of(&options);
            let source = options.source.as_deref();
            let sent = self.core.borrow_mut().send_message(peer_id, &message, source, &ask, &mut WasiEnv, ids);
            sent.map(to_wit_reply).map_err(to_wit)
        }

        /// `send-message-stream` and `send-stream`.
        fn stream_with(
            &self,
            peer_id: &str,
            message: Message,
            options: wit::CallOptions,
        ) -> Result<wit::EventStream, wit::Error> {
            let ids = new_ids().map_err(to_wit)?;
            let ask = ask_of(&options);
            let source = options.source.as_deref();
            let mut core = self.core.borrow_mut();
            let stream =
                core.send_message_stream(peer_id, &message, source, &ask, &mut WasiEnv, ids).map_err(to_wit)?;
            Ok(EventStream::of(stream, &self.core))
        }

        /// A push-config call.
        fn push(
            &self,
            peer_id: &str,
            call: &PushCall,
            options: wit::CallOptions,
        ) -> Result<Vec<wit::PushConfig>, wit::Error> {
            let ids = new_ids().map_err(to_wit)?;
            let ask = ask_of(&options);
            let source = options.source.as_deref();
            let mut core = self.core.borrow_mut();
            let configs = core.push_config(peer_id, call, source, &ask, &mut WasiEnv, &ids.request_id);
            configs.map(|list| list.into_iter().map(to_wit_push_config).collect()).map_err(to_wit)
        }

        /// `get-task` or `cancel-task`.
        fn task(
            &self,
            call: Call,
            peer_id: &str,
            task_id: &str,
            options: wit::CallOptions,
        ) -> Result<wit::Task, wit::Error> {
            let ids = new_ids().map_err(to_wit)?;
            let ask = ask_of(&options);
            let mut core = self.core.borrow_mut();
            let task = core.task_call(
                call,
                (peer_id, task_id),
                options.source.as_deref(),
                &ask,
                &mut WasiEnv,
                &ids.request_id,
            );
            task.map(to_wit_task).map_err(to_wit)
        }
    }

    fn now() -> u64 {
        ::wasi::clocks::monotonic_clock::now()
    }

    impl wit::GuestClient for Client {
        fn new(config: wit::Config) -> Result<Self, wit::Error> {
            let core = client::Client::new(raw_config(config), WasiHttp).map_err(to_wit)?;
            Ok(Client { core: Rc::new(RefCell::new(core)) })
        }

        fn set_token(&self, workspace_id: String, token: Option<String>) -> Result<(), wit::Error> {
            self.core.borrow_mut().set_token(&workspace_id, token).map_err(to_wit)
        }

        fn discover_peer(&self, peer_id: String, options: wit::CallOptions) -> Result<wit::Peer, wit::Error> {
            let source = options.source.as_deref();
            self.core.borrow_mut().discover_peer(&peer_id, source, now()).map(to_wit_peer).map_err(to_wit)
        }

        fn peers(&self, query: Option<String>, options: wit::CallOptions) -> Result<Vec<wit::Peer>, wit::Error> {
            let source = options.source.as_deref();
            let peers = self.core.borrow_mut().peers(query.as_deref(), source, now()).map_err(to_wit)?;
            Ok(peers.into_iter().map(to_wit_peer).collect())
        }

        fn workspace_info(&self, options: wit::CallOptions) -> Result<wit::Workspace, wit::Error> {
            let w = self.core.borrow_mut().workspace_info(options.source.as_deref(), now()).map_err(to_wit)?;
            Ok(wit::Workspace { id: w.id, name: w.name, role: w.role, status: w.status, raw: w.raw })
        }

        fn agent_card_url(&self, peer_id: String) -> Result<String, wit::Error> {
            self.core.borrow().agent_card_url(&peer_id).map_err(to_wit)
        }

        fn enrich_peer_metadata(&self, peer_id: String, options: wit::CallOptions) -> Option<wit::Peer> {
            self.core.borrow_mut().enrich(&peer_id, options.source.as_deref(), now()).map(to_wit_peer)
        }

        fn enrich_peer_metadata_nonblocking(&self, peer_id: String, options: wit::CallOptions) -> Option<wit::Peer> {
            self.core.borrow_mut().enrich_nonblocking(&peer_id, options.source.as_deref(), now()).map(to_wit_peer)
        }

        fn await_enrichment(&self, timeout_ms: u32) -> u32 {
            self.core.borrow_mut().await_enrichment(Duration::from_millis(timeout_ms.into()), now)
        }

        fn peer_name(&self, peer_id: String, source: Option<String>) -> Option<String> {
            self.core.borrow_mut().peer_name(&peer_id, source.as_deref(), now())
        }

        fn routed_source(&self, peer_id: String) -> Option<String> {
            self.core.borrow().routed_source(&peer_id)
        }

        fn send_message(
            &self,
            peer_id: String,
            text: String,
            options: wit::CallOptions,
        ) -> Result<wit::Reply, wit::Error> {
            self.send_with(&peer_id, Message::text(&text), options)
        }

        fn send(
            &self,
            peer_id: String,
            message: wit::OutgoingMessage,
            options: wit::CallOptions,
        ) -> Result<wit::Reply, wit::Error> {
            self.send_with(&peer_id, from_wit_message(message), options)
        }

        fn send_many(
            &self,
            targets: Vec<wit::SendTarget>,
            options: wit::CallOptions,
        ) -> Result<Vec<Result<wit::Reply, wit::Error>>, wit::Error> {
            let ask = ask_of(&options);
            let targets: Vec<(String, Message)> =
                targets.into_iter().map(|t| (t.peer_id, from_wit_message(t.message))).collect();
            let mut core = self.core.borrow_mut();
            let sent = core.send_many(&targets, options.source.as_deref(), &ask, &mut WasiEnv, new_ids);
            Ok(sent.map_err(to_wit)?.into_iter().map(|r| r.map(to_wit_reply).map_err(to_wit)).collect())
        }

        fn send_message_stream(
            &self,
            peer_id: String,
            text: String,
            options: wit::CallOptions,
        ) -> Result<wit::EventStream, wit::Error> {
            self.stream_with(&peer_id, Message::text(&text), options)
        }

        fn send_stream(
            &self,
            peer_id: String,
            message: wit::OutgoingMessage,
            options: wit::CallOptions,
        ) -> Result<wit::EventStream, wit::Error> {
            self.stream_with(&peer_id, from_wit_message(message), options)
        }

        fn subscribe_to_task(
            &self,
            peer_id: String,
            task_id: String,
            options: wit::CallOptions,
        ) -> Result<wit::EventStream, wit::Error> {
            let ids = new_ids().map_err(to_wit)?;
            let ask = ask_of(&options);
            let source = options.source.as_deref();
            let mut core = self.core.borrow_mut();
            let stream = core
                .subscribe_to_task((&peer_id, &task_id), source, &ask, &mut WasiEnv, &ids.request_id)
                .map_err(to_wit)?;
            Ok(EventStream::of(stream, &self.core))
        }

        fn extended_agent_card(
            &self,
            peer_id: String,
            options: wit::CallOptions,
        ) -> Result<wit::AgentCard, wit::Error> {
            let ids = new_ids().map_err(to_wit)?;
            let ask = ask_of(&options);
            let source = options.source.as_deref();
            let mut core = self.core.borrow_mut();
            let card = core.extended_agent_card(&peer_id, source, &ask, &mut WasiEnv, &ids.request_id);
            card.map(to_wit_card).map_err(to_wit)
        }

        fn create_push_config(
            &self,
            peer_id: String,
            config: wit::NewPushConfig,
            options: wit::CallOptions,
        ) -> Result<wit::PushConfig, wit::Error> {
            let call =
                PushCall::Create { task_id: config.task_id, id: config.id, url: config.url, token: config.token };
            self.push(&peer_id, &call, options).and_then(one_config)
        }

        fn get_push_config(
            &self,
            peer_id: String,
            task_id: String,
            config_id: String,
            options: wit::CallOptions,
        ) -> Result<wit::PushConfig, wit::Error> {
            self.push(&peer_id, &PushCall::Get { task_id, id: config_id }, options).and_then(one_config)
        }

        fn list_push_configs(
            &self,
            peer_id: String,
            task_id: String,
            options: wit::CallOptions,
        ) -> Result<Vec<wit::PushConfig>, wit::Error> {
            self.push(&peer_id, &PushCall::List { task_id }, options)
        }

        fn delete_push_config(
            &self,
            peer_id: String,
            task_id: String,
            config_id: String,
            options: wit::CallOptions,
        ) -> Result<(), wit::Error> {
            self.push(&peer_id, &PushCall::Delete { task_id, id: config_id }, options).map(drop)
        }

        fn list_tasks(
            &self,
            peer_id: String,
            query: wit::TaskQuery,
            options: wit::CallOptions,
        ) -> Result<wit::TaskPage, wit::Error> {
            let ids = new_ids().map_err(to_wit)?;
            let ask = ask_of(&options);
            let query = from_wit_query(query);
            let source = options.source.as_deref();
            let mut core = self.core.borrow_mut();
            let page = core.list_tasks(&peer_id, &query, source, &ask, &mut WasiEnv, &ids.request_id);
            page.map(to_wit_page).map_err(to_wit)
        }

        fn get_task(
            &self,
            peer_id: String,
            task_id: String,
            options: wit::CallOptions,
        ) -> Result<wit::Task, wit::Error> {
            self.task(Call::GetTask, &peer_id, &task_id, options)
        }

        fn cancel_task(
            &self,
            peer_id: String,
            task_id: String,
            options: wit::CallOptions,
        ) -> Result<wit::Task, wit::Error> {
            self.task(Call::CancelTask, &peer_id, &task_id, options)
        }

        fn agent_card(&self, peer_id: String, options: wit::CallOptions) -> Result<wit::AgentCard, wit::Error> {
            let source = options.source.as_deref();
            self.core.borrow_mut().agent_card(&peer_id, source, now()).map(to_wit_card).map_err(to_wit)
        }

        fn stats(&self) -> wit::CacheStats {
            to_wit_stats(self.core.borrow_mut().stats(now()))
        }
    }

    /// Randomness and clocks of a send, from WASI.
    struct WasiEnv;

    impl SendEnv for WasiEnv {
        fn random(&mut self) -> f64 {
            crate::retry::unit_interval(::wasi::random::random::get_random_u64())
        }
        fn unix_now(&mut self) -> u64 {
            ::wasi::clocks::wall_clock::now().seconds
        }
        fn mono_now(&mut self) -> u64 {
            now()
        }
    }

    /// The error code of a transport failure, as this world spells it.
    fn transport_code(code: ::wasi::http::types::ErrorCode) -> ::wasi::http::types::ErrorCode {
        code
    }

    include!("wit_convert.rs");
    use convert::*;
}
