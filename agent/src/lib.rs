//! An example agent component built on the A2A client.
//!
//! It imports `a2a:client/api` (satisfied by composing it with the
//! a2a-client component, see `host-test/build.rs`) and exports
//! `wasi:http/incoming-handler`, so any HTTP-serving component host
//! (`wasmtime serve`, wasmCloud's HTTP server) can run it:
//!
//! - `POST /delegate` `{"peer": "<uuid>", "text": "…", "source": "<uuid>"?}` →
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

#[cfg(target_arch = "wasm32")]
mod component {
    use std::cell::RefCell;

    use serde_json::{json, Value};

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
    use a2a::client::api::{CachePolicy, CallOptions, Client, Config, Credential, Error, ErrorKind, ReplyKind};
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

    fn bad_request(message: String) -> (u16, Value) {
        failure(400, "bad-request", message)
    }

    /// Every error answer's shape: `{"error": {"kind", "message"}}`.
    fn failure(status: u16, kind: &str, message: String) -> (u16, Value) {
        (status, json!({"error": {"kind": kind, "message": message}}))
    }

    /// What the client is built from, as the host gives it now.
    struct Settings {
        workspace_id: String,
        platform_url: Option<String>,
        token: Option<String>,
        cache_ttl_ms: Option<String>,
    }

    impl Settings {
        fn read() -> Self {
            let all = host_settings();
            let setting = |name: &str| all.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            Settings {
                workspace_id: setting("workspace_id").unwrap_or_default(),
                platform_url: setting("platform_url"),
                token: setting("workspace_token"),
                cache_ttl_ms: setting("cache_ttl_ms"),
            }
        }

        /// Whether a client built from `self` serves `now` as it is, but for
        /// the token (which `set-token` rotates without losing the cache).
        fn same_client(&self, now: &Settings) -> bool {
            (&self.workspace_id, &self.platform_url, &self.cache_ttl_ms)
                == (&now.workspace_id, &now.platform_url, &now.cache_ttl_ms)
        }

        fn config(&self) -> Result<Config, (u16, Value)> {
            let ttl_ms = match &self.cache_ttl_ms {
                None => None,
                Some(text) => Some(text.trim().parse::<u32>().map_err(|_| {
                    failure(500, "invalid-config", format!("cache_ttl_ms is not a number of milliseconds: {text:?}"))
                })?),
            };
            let cache = ttl_ms.map(|ttl_ms| CachePolicy {
                max_entries: None,
                ttl_ms: Some(ttl_ms),
                negative_ttl_ms: None,
                transient_negative_ttl_ms: None,
                max_in_flight: None,
            });
            let credentials = self
                .token
                .iter()
                .map(|token| Credential { workspace_id: self.workspace_id.clone(), token: token.clone() })
                .collect();
            Ok(Config {
                workspace_id: self.workspace_id.clone(),
                platform_url: self.platform_url.clone(),
                credentials,
                timeouts: None,
                max_body_bytes: None,
                cache,
                retry: None,
                protocol: None,
            })
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
        let now = Settings::read();
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
        let Ok(args) = serde_json::from_slice::<Value>(body) else {
            return bad_request("the body is not JSON: send {\"peer\": \"<id>\", \"text\": \"…\"}".into());
        };
        let (Some(peer), Some(text)) = (args["peer"].as_str(), args["text"].as_str()) else {
            return bad_request("\"peer\" and \"text\" (strings) are required".into());
        };
        let options =
            CallOptions { source: args["source"].as_str().map(str::to_owned), protocol: None, extensions: Vec::new() };
        with_client(|c| match c.send_message(peer, text, &options) {
            Ok(reply) => {
                let kind = match &reply.kind {
                    ReplyKind::Message => json!({"type": "message"}),
                    ReplyKind::Task(t) => json!({"type": "task", "id": t.id, "state": t.state}),
                };
                (200, json!({"text": reply.text, "kind": kind, "attempts": reply.attempts.len()}))
            }
            Err(e) => error(&e),
        })
    }

    /// A push from a peer, labelled with the peer's name and role from the
    /// cache; never waits on the registry.
    fn inbound(body: &[u8]) -> (u16, Value) {
        let Ok(args) = serde_json::from_slice::<Value>(body) else {
            return bad_request("the body is not JSON: send {\"from\": \"<peer-id>\", \"text\": \"…\"}".into());
        };
        let (Some(from), Some(text)) = (args["from"].as_str(), args["text"].as_str()) else {
            return bad_request("\"from\" and \"text\" (strings) are required".into());
        };
        let Some(from) = a2a::client::api::validate_peer_id(from) else {
            let shown: String = from.chars().take(80).collect();
            return failure(400, "invalid-id", format!("invalid peer id in \"from\" (expected a UUID): {shown:?}"));
        };
        with_client(|c| {
            let label = c
                .enrich_peer_metadata_nonblocking(
                    &from,
                    &CallOptions { source: None, protocol: None, extensions: Vec::new() },
                )
                .map(|p| json!({"id": p.id, "name": p.name, "role": p.role}));
            (200, json!({"from": label, "text": text}))
        })
    }

    fn peers() -> (u16, Value) {
        with_client(|c| match c.peers(None, &CallOptions { source: None, protocol: None, extensions: Vec::new() }) {
            Ok(peers) => {
                let list: Vec<Value> = peers
                    .iter()
                    .map(|p| json!({"id": p.id, "name": p.name, "role": p.role, "status": p.status}))
                    .collect();
                (200, Value::Array(list))
            }
            Err(e) => error(&e),
        })
    }

    fn stats() -> (u16, Value) {
        with_client(|c| {
            let s = c.stats();
            let stats = json!({
                "entries": s.entries,
                "hits": s.hits,
                "negative-hits": s.negative_hits,
                "misses": s.misses,
                "evictions": s.evictions,
                "in-flight": s.in_flight,
                "names": s.names,
                "routes": s.routes,
            });
            (200, stats)
        })
    }

    /// A client error as an answer: the caller's fault is 400, the rest 502.
    fn error(e: &Error) -> (u16, Value) {
        let (status, kind) = match &e.kind {
            ErrorKind::InvalidId(_) => (400, "invalid-id"),
            ErrorKind::InvalidConfig(_) => (500, "invalid-config"),
            ErrorKind::InvalidMessage(_) => (400, "invalid-message"),
            ErrorKind::Unsupported(_) => (501, "unsupported"),
            ErrorKind::HostFailure(_) => (500, "host-failure"),
            ErrorKind::Transport(_) => (502, "transport"),
            ErrorKind::TimedOut(_) => (504, "timed-out"),
            ErrorKind::HttpStatus(_) => (502, "http-status"),
            ErrorKind::BadJson(_) => (502, "bad-json"),
            ErrorKind::UnexpectedShape(_) => (502, "unexpected-shape"),
            ErrorKind::BodyTooLarge(_) => (502, "body-too-large"),
            // The caller's message is too large for the client to send.
            ErrorKind::RequestTooLarge(_) => (413, "request-too-large"),
            ErrorKind::Removed(_) => (502, "removed"),
            ErrorKind::RpcError(_) => (502, "rpc-error"),
            ErrorKind::AgentError(_) => (502, "agent-error"),
            ErrorKind::PlatformError(_) => (502, "platform-error"),
            ErrorKind::StreamCut(_) => (502, "stream-cut"),
        };
        let (status, mut answer) = failure(status, kind, e.message.clone());
        answer["error"]["attempts"] = e.attempts.len().into();
        (status, answer)
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
