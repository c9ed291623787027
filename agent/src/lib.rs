//! An example agent component built on the A2A client.
//!
//! It imports `a2a:client/api` (satisfied by composing it with the
//! a2a-client component, see `host-test/build.rs`) and exports
//! `wasi:http/incoming-handler`, so any HTTP-serving component host
//! (`wasmtime serve`, wasmCloud's HTTP server) can run it:
//!
//! - `POST /delegate` `{"peer": "<uuid>", "text": "…", "source": "<uuid>"?,
//!   "protocol": "v0.3" | "v1.0" | "auto"?}` (another `protocol` is 400) →
//!   200 `{"text", "kind", "attempts"}`, or the client's error with a status
//!   (400 for a bad request or id, 413 for a text too large to send, 502 for
//!   a failure upstream);
//! - `POST /inbound` `{"from": "<uuid>", "text": "…"}` (a push from a peer) →
//!   200 `{"from": {"id", "name", "role"} or null, "text"}`: the sender
//!   labelled from the client's cache without waiting for the registry
//!   (null while its lookup is in flight; a later push gets the label), 400
//!   for a bad id;
//! - `GET /peers` → 200 `[{"id", "name", "role", "status"}]`;
//! - `GET /stats` → 200, the client's cache counters under their WIT names
//!   (`entries`, `hits`, `negative-hits`, `misses`, `evictions`,
//!   `in-flight`, `names`, `routes`).
//!
//! Every answer carries `x-agent-instance`, an id of the instance that made
//! it, so whether the host reused an instance is visible from outside.
//!
//! The client is made on an instance's first request and kept for every
//! request that instance serves (made again only when the configuration
//! changes; a changed token alone is rotated in place), so its cache, its
//! lookups in flight and its retry budget live as long as the instance —
//! how long that is, is the host's choice (docs/deploying.md).
//!
//! Configuration comes the way each host gives it. By default from the
//! environment (`wasmtime serve --env`): `WORKSPACE_ID`, `PLATFORM_URL` and
//! `WORKSPACE_TOKEN`, the Python client's variables, and `CACHE_TTL_MS` (how
//! long a peer's record stays fresh). With the `wasmcloud` feature from
//! `wasi:config/store@0.2.0-draft` (wasmCloud's named config, its components
//! get no environment): `workspace_id`, `platform_url`, `workspace_token`,
//! `cache_ttl_ms`. The agent never panics: every failure is an answer.
//!
//! With the `p3` feature it is the agent for WASI 0.3 hosts instead
//! (`p3.rs`): the same routes and answers (`answers.rs`, shared) served as
//! `wasi:http/handler@0.3.0`, many requests at once per instance.

/// The agent for WASI 0.3 hosts (`--features p3`).
#[cfg(all(target_arch = "wasm32", feature = "p3"))]
mod p3;

/// The agent for WASI 0.2 hosts.
#[cfg(all(target_arch = "wasm32", not(feature = "p3")))]
mod component {
    use std::cell::RefCell;

    use serde_json::Value;

    #[cfg(not(feature = "wasmcloud"))]
    wit_bindgen::generate!({
        path: ["../wit", "wit"],
        world: "a2a:agent/agent",
        with: {
            "wasi:http/types@0.2.12": ::wasi::http::types,
            "wasi:io/error@0.2.12": ::wasi::io::error,
            "wasi:io/poll@0.2.12": ::wasi::io::poll,
            "wasi:io/streams@0.2.12": ::wasi::io::streams,
            "wasi:clocks/monotonic-clock@0.2.12": ::wasi::clocks::monotonic_clock,
            "wasi:random/random@0.2.12": ::wasi::random::random,
            "wasi:cli/environment@0.2.12": ::wasi::cli::environment,
        },
        generate_all,
    });

    #[cfg(feature = "wasmcloud")]
    wit_bindgen::generate!({
        path: ["../wit", "wit"],
        world: "a2a:agent/agent-wasmcloud",
        with: {
            "wasi:http/types@0.2.12": ::wasi::http::types,
            "wasi:io/error@0.2.12": ::wasi::io::error,
            "wasi:io/poll@0.2.12": ::wasi::io::poll,
            "wasi:io/streams@0.2.12": ::wasi::io::streams,
            "wasi:clocks/monotonic-clock@0.2.12": ::wasi::clocks::monotonic_clock,
            "wasi:random/random@0.2.12": ::wasi::random::random,
        },
        generate_all,
    });

    /// The host's configuration values, names in snake case: the
    /// environment's names in upper case (`WORKSPACE_ID` → `workspace_id`).
    #[cfg(not(feature = "wasmcloud"))]
    fn host_settings() -> Vec<(String, String)> {
        let env = ::wasi::cli::environment::get_environment();
        // Only names written in upper case count, as environment variables are.
        let upper = env.into_iter().filter(|(name, _)| name.to_ascii_uppercase() == *name);
        upper.map(|(name, value)| (name.to_ascii_lowercase(), value)).collect()
    }

    /// The host's configuration values, from its `wasi:config/store`; a
    /// store error reads as none set.
    #[cfg(feature = "wasmcloud")]
    fn host_settings() -> Vec<(String, String)> {
        self::wasi::config::store::get_all().unwrap_or_default()
    }

    use ::wasi::http::types::{Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam};
    use a2a::client::api::{self, Client};

    include!("answers.rs");
    use answers::*;
    use exports::wasi::http::incoming_handler::Guest;

    /// Largest request body read: twice the client's default `max-body-bytes`,
    /// so a text the client can send (its JSON escaping included) reaches the
    /// client, which answers `request-too-large` itself past its limit.
    const MAX_REQUEST: usize = 8 * 1024 * 1024;

    struct Agent;

    impl Guest for Agent {
        fn handle(request: IncomingRequest, out: ResponseOutparam) {
            let (status, body) = route(&request);
            respond(out, status, body.to_string().as_bytes());
        }
    }

    export!(Agent);

    fn route(request: &IncomingRequest) -> (u16, Value) {
        let path = request.path_with_query().unwrap_or_default();
        match (request.method(), path.split('?').next().unwrap_or("")) {
            (Method::Post, "/delegate") => with_body(request, delegate),
            (Method::Post, "/inbound") => with_body(request, inbound),
            (Method::Get, "/peers") => peers(),
            (Method::Get, "/stats") => stats(),
            _ => failure(404, "not-found", "try POST /delegate, POST /inbound, GET /peers or GET /stats".into()),
        }
    }

    fn with_body(request: &IncomingRequest, handle: fn(&[u8]) -> (u16, Value)) -> (u16, Value) {
        match read_body(request) {
            Ok(body) => handle(&body),
            Err(BodyError::TooLarge) => {
                failure(413, "request-too-large", format!("request body over {MAX_REQUEST} bytes"))
            }
            Err(BodyError::Unreadable(why)) => bad_request(why),
        }
    }

    thread_local! {
        /// This instance's client and the settings it was built from: made on
        /// the first request, kept for every later one the instance serves.
        static KEPT: RefCell<Option<(Settings, Client)>> = const { RefCell::new(None) };
        /// Which instance answered (a random number drawn on its first
        /// request), sent as `x-agent-instance`: how an operator or a test
        /// sees whether the host reused the instance (and so the cache) or
        /// made a new one.
        static INSTANCE: u64 = ::wasi::random::random::get_random_u64();
    }

    /// Runs `call` with this instance's client, made (or remade, when the
    /// host's settings changed) first.
    fn with_client(call: impl FnOnce(&Client) -> (u16, Value)) -> (u16, Value) {
        let now = Settings::read(host_settings());
        KEPT.with_borrow_mut(|kept| {
            if let Some((settings, client)) = kept.as_mut().filter(|(settings, _)| settings.same_client(&now)) {
                if settings.token != now.token {
                    if let Err(e) = client.set_token(&now.workspace_id, now.token.as_deref()) {
                        return error(&e);
                    }
                    settings.token = now.token;
                }
                return call(client);
            }
            *kept = None;
            let config = match now.config() {
                Ok(config) => config,
                Err(answer) => return answer,
            };
            match Client::new(&config) {
                Ok(client) => {
                    let answer = call(&client);
                    *kept = Some((now, client));
                    answer
                }
                Err(e) => error(&e),
            }
        })
    }

    fn delegate(body: &[u8]) -> (u16, Value) {
        match delegate_args(body) {
            Ok((peer, text, options)) => with_client(|c| delegated(c.send_message(&peer, &text, &options))),
            Err(answer) => answer,
        }
    }

    /// A push from a peer, labelled with the peer's name and role from the
    /// cache; never waits on the registry.
    fn inbound(body: &[u8]) -> (u16, Value) {
        match inbound_args(body) {
            Ok((from, text)) => {
                with_client(|c| labelled(c.enrich_peer_metadata_nonblocking(&from, &no_options()), text))
            }
            Err(answer) => answer,
        }
    }

    fn peers() -> (u16, Value) {
        with_client(|c| listed(c.peers(None, &no_options())))
    }

    fn stats() -> (u16, Value) {
        with_client(|c| counted(c.stats()))
    }

    enum BodyError {
        TooLarge,
        Unreadable(String),
    }

    fn read_body(request: &IncomingRequest) -> Result<Vec<u8>, BodyError> {
        let unreadable = |why: &str| BodyError::Unreadable(why.to_string());
        let body = request.consume().map_err(|()| unreadable("request body unavailable"))?;
        let stream = body.stream().map_err(|()| unreadable("request body stream unavailable"))?;
        let mut buf = Vec::new();
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => {
                    buf.extend_from_slice(&chunk);
                    if buf.len() > MAX_REQUEST {
                        return Err(BodyError::TooLarge);
                    }
                }
                Err(::wasi::io::streams::StreamError::Closed) => break,
                Err(e) => return Err(BodyError::Unreadable(format!("reading the request body: {e:?}"))),
            }
        }
        drop(stream);
        drop(::wasi::http::types::IncomingBody::finish(body));
        Ok(buf)
    }

    fn respond(out: ResponseOutparam, status: u16, body: &[u8]) {
        let headers = Fields::new();
        let _ = headers.set("content-type", &[b"application/json".to_vec()]);
        let _ = headers.set("content-length", &[body.len().to_string().into_bytes()]);
        let _ = headers.set("x-agent-instance", &[INSTANCE.with(|id| id.to_string()).into_bytes()]);
        let response = OutgoingResponse::new(headers);
        let _ = response.set_status_code(status);
        let Ok(outgoing) = response.body() else {
            return;
        };
        ResponseOutparam::set(out, Ok(response));
        if let Ok(stream) = outgoing.write() {
            for chunk in body.chunks(4096) {
                if stream.blocking_write_and_flush(chunk).is_err() {
                    break;
                }
            }
        }
        let _ = OutgoingBody::finish(outgoing, None);
    }
}
