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
//! - `GET /peers` → 200 `[{"id", "name", "role", "status"}]`.
//!
//! Configuration comes the way each host gives it. By default from the
//! environment (`wasmtime serve --env`): `WORKSPACE_ID`, `PLATFORM_URL` and
//! `WORKSPACE_TOKEN`, the reference client's variables. With the `wasmcloud`
//! feature from `wasi:config/store@0.2.0-draft` (wasmCloud's named config, its
//! components get no environment): `workspace_id`, `platform_url`,
//! `workspace_token`. The agent never panics: every failure is an answer.

#[cfg(target_arch = "wasm32")]
mod component {
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
        },
        generate_all,
    });

    /// One configuration value (`name` in snake case), from the environment
    /// in upper case (`workspace_id` → `WORKSPACE_ID`).
    #[cfg(not(feature = "wasmcloud"))]
    fn setting(name: &str) -> Option<String> {
        let name = name.to_ascii_uppercase();
        ::wasi::cli::environment::get_environment().into_iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// One configuration value (`name` in snake case), from the host's
    /// `wasi:config/store`; a store error reads as unset.
    #[cfg(feature = "wasmcloud")]
    fn setting(name: &str) -> Option<String> {
        self::wasi::config::store::get(name).ok().flatten()
    }

    use ::wasi::http::types::{Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam};
    use a2a::client::api::{Client, Config, Credential, Error, ErrorKind, ReplyKind};
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
            (Method::Post, "/delegate") => match read_body(request) {
                Ok(body) => delegate(&body),
                Err(BodyError::TooLarge) => (
                    413,
                    json!({"error": {"kind": "request-too-large", "message": format!("request body over {MAX_REQUEST} bytes")}}),
                ),
                Err(BodyError::Unreadable(why)) => bad_request(why),
            },
            (Method::Get, "/peers") => peers(),
            _ => (404, json!({"error": {"kind": "not-found", "message": "try POST /delegate or GET /peers"}})),
        }
    }

    fn bad_request(message: String) -> (u16, Value) {
        (400, json!({"error": {"kind": "bad-request", "message": message}}))
    }

    /// The client configured from the host's settings.
    fn client() -> Result<Client, Error> {
        let workspace_id = setting("workspace_id").unwrap_or_default();
        let credentials = setting("workspace_token")
            .map(|token| vec![Credential { workspace_id: workspace_id.clone(), token }])
            .unwrap_or_default();
        Client::new(&Config {
            workspace_id,
            platform_url: setting("platform_url"),
            credentials,
            timeouts: None,
            max_body_bytes: None,
            cache: None,
            retry: None,
            protocol: None,
        })
    }

    fn delegate(body: &[u8]) -> (u16, Value) {
        let Ok(args) = serde_json::from_slice::<Value>(body) else {
            return bad_request("the body is not JSON: send {\"peer\": \"<id>\", \"text\": \"…\"}".into());
        };
        let (Some(peer), Some(text)) = (args["peer"].as_str(), args["text"].as_str()) else {
            return bad_request("\"peer\" and \"text\" (strings) are required".into());
        };
        let source = args["source"].as_str();
        let reply = client().and_then(|c| c.send_message(peer, text, source));
        match reply {
            Ok(reply) => {
                let kind = match &reply.kind {
                    ReplyKind::Message => json!({"type": "message"}),
                    ReplyKind::Task(t) => json!({"type": "task", "id": t.id, "state": t.state}),
                };
                (200, json!({"text": reply.text, "kind": kind, "attempts": reply.attempts.len()}))
            }
            Err(e) => error(&e),
        }
    }

    fn peers() -> (u16, Value) {
        match client().and_then(|c| c.peers(None, None)) {
            Ok(peers) => {
                let list: Vec<Value> = peers
                    .iter()
                    .map(|p| json!({"id": p.id, "name": p.name, "role": p.role, "status": p.status}))
                    .collect();
                (200, Value::Array(list))
            }
            Err(e) => error(&e),
        }
    }

    /// A client error as an answer: the caller's fault is 400, the rest 502.
    fn error(e: &Error) -> (u16, Value) {
        let (status, kind) = match &e.kind {
            ErrorKind::InvalidId(_) => (400, "invalid-id"),
            ErrorKind::InvalidConfig(_) => (500, "invalid-config"),
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
        };
        (status, json!({"error": {"kind": kind, "message": e.message, "attempts": e.attempts.len()}}))
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
