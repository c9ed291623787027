//! The agent for WASI 0.3 hosts: `wasi:http/handler@0.3.0`, whose `handle`
//! is async, so one instance serves many requests at once. They share the
//! instance's one client — a delegation waiting on a slow peer holds only
//! its own request — and so its cache: a push from a peer is labelled from
//! a lookup another request started.
//!
//! Same routes, answers and configuration (the environment) as the WASI 0.2
//! agent (`lib.rs`).

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::Value;
use wasip3::http::types::{ErrorCode, Fields, Method, Request, Response};
use wasip3::wit_bindgen::StreamResult;
use wasip3::{wit_future, wit_stream};

wit_bindgen::generate!({
    path: ["../wit/async", "wit/async"],
    world: "a2a:agent-async/agent-async",
    with: {
        "wasi:http/types@0.3.0": wasip3::http::types,
        "wasi:clocks/types@0.3.0": wasip3::clocks::types,
    },
    generate_all,
});

use a2a::client_async::api::{self, Client};

include!("answers.rs");
use answers::*;

/// Largest request body read (see `lib.rs`).
const MAX_REQUEST: usize = 8 * 1024 * 1024;

struct Agent;

wasip3::http::service::export!(Agent);

impl wasip3::exports::http::handler::Guest for Agent {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let (status, body) = route(request).await;
        Ok(respond(status, body.to_string().into_bytes()))
    }
}

async fn route(request: Request) -> (u16, Value) {
    let path = request.get_path_with_query().unwrap_or_default();
    let path = path.split('?').next().unwrap_or("").to_owned();
    match (request.get_method(), path.as_str()) {
        (Method::Post, "/delegate") => match read_body(request).await {
            Ok(body) => delegate(&body).await,
            Err(answer) => answer,
        },
        (Method::Post, "/inbound") => match read_body(request).await {
            Ok(body) => inbound(&body).await,
            Err(answer) => answer,
        },
        (Method::Get, "/peers") => match client() {
            Ok(c) => listed(c.peers(None, no_options()).await),
            Err(answer) => answer,
        },
        (Method::Get, "/stats") => match client() {
            Ok(c) => counted(c.stats()),
            Err(answer) => answer,
        },
        _ => failure(404, "not-found", "try POST /delegate, POST /inbound, GET /peers or GET /stats".into()),
    }
}

async fn delegate(body: &[u8]) -> (u16, Value) {
    let (peer, text, options) = match delegate_args(body) {
        Ok(args) => args,
        Err(answer) => return answer,
    };
    match client() {
        Ok(c) => delegated(c.send_message(peer, text, options).await),
        Err(answer) => answer,
    }
}

async fn inbound(body: &[u8]) -> (u16, Value) {
    let (from, text) = match inbound_args(body) {
        Ok(args) => args,
        Err(answer) => return answer,
    };
    match client() {
        Ok(c) => labelled(c.enrich_peer_metadata_nonblocking(from, no_options()).await, text),
        Err(answer) => answer,
    }
}

thread_local! {
    /// This instance's client and the settings it was built from: made on
    /// the first request, kept for every later one, shared by the requests
    /// in flight (each holds a handle, never the cell, across an await).
    static KEPT: RefCell<Option<(Settings, Rc<Client>)>> = const { RefCell::new(None) };
    /// Which instance answered (see `lib.rs`).
    static INSTANCE: u64 = ::wasi::random::random::get_random_u64();
}

/// The host's configuration values, names in snake case (see `lib.rs`).
fn host_settings() -> Vec<(String, String)> {
    let env = ::wasi::cli::environment::get_environment();
    let upper = env.into_iter().filter(|(name, _)| name.to_ascii_uppercase() == *name);
    upper.map(|(name, value)| (name.to_ascii_lowercase(), value)).collect()
}

/// This instance's client, made (or remade, when the host's settings
/// changed) first.
fn client() -> Result<Rc<Client>, (u16, Value)> {
    let now = Settings::read(host_settings());
    KEPT.with_borrow_mut(|kept| {
        if let Some((settings, client)) = kept.as_mut().filter(|(settings, _)| settings.same_client(&now)) {
            if settings.token != now.token {
                client.set_token(&now.workspace_id, now.token.as_deref()).map_err(|e| error(&e))?;
                settings.token = now.token;
            }
            return Ok(Rc::clone(client));
        }
        *kept = None;
        let client = Rc::new(Client::new(&now.config()?).map_err(|e| error(&e))?);
        *kept = Some((now, Rc::clone(&client)));
        Ok(client)
    })
}

/// The request's body, at most [`MAX_REQUEST`] bytes.
async fn read_body(request: Request) -> Result<Vec<u8>, (u16, Value)> {
    let (_, handled) = wit_future::new(|| Ok(()));
    let (mut body, trailers) = Request::consume_body(request, handled);
    let mut buf = Vec::new();
    loop {
        let (result, chunk) = body.read(Vec::with_capacity(64 * 1024)).await;
        match result {
            StreamResult::Complete(_) => {
                buf.extend_from_slice(&chunk);
                if buf.len() > MAX_REQUEST {
                    return Err(failure(413, "request-too-large", format!("request body over {MAX_REQUEST} bytes")));
                }
            }
            StreamResult::Dropped | StreamResult::Cancelled => break,
        }
    }
    drop(body);
    match trailers.await {
        Ok(_) => Ok(buf),
        Err(e) => Err(bad_request(format!("reading the request body: {e:?}"))),
    }
}

/// A JSON answer with its length, written as the host takes it.
fn respond(status: u16, body: Vec<u8>) -> Response {
    let headers = Fields::from_list(&[
        ("content-type".into(), b"application/json".to_vec()),
        ("content-length".into(), body.len().to_string().into_bytes()),
        ("x-agent-instance".into(), INSTANCE.with(|id| id.to_string()).into_bytes()),
    ])
    .unwrap_or_else(|_| Fields::new());
    let (mut contents, contents_rx) = wit_stream::new();
    let (trailers, trailers_rx) = wit_future::new(|| Ok(None));
    let (response, _sent) = Response::new(headers, Some(contents_rx), trailers_rx);
    let _ = response.set_status_code(status);
    wasip3::wit_bindgen::spawn_local(async move {
        if contents.write_all(body).await.is_empty() {
            drop(contents);
            let _ = trailers.write(Ok(None)).await;
        }
    });
    response
}
