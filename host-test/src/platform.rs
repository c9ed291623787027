//! An in-process agent platform for tests and the demo: a real HTTP/1.1
//! server on 127.0.0.1 (a free port) serving the platform's registry and
//! workspace API (`GET /registry/discover/{id}`, `GET /registry/{ws}/peers`,
//! `GET /workspaces/{ws}` and the `POST /workspaces/{peer}/a2a` proxy), with a
//! request log and per-route fault injection.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A workspace registered with the platform.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// Canonical id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Tier.
    pub tier: i64,
    /// `online`, `offline`, ...; `offline` peers answer 503 on discover.
    pub status: String,
    /// Bearer token the platform expects from this workspace, if any.
    pub token: Option<String>,
    /// Ids this workspace may see and talk to.
    pub peers: Vec<String>,
    /// Parent workspace.
    pub parent_id: Option<String>,
    /// When set, the workspace is removed: `GET /workspaces/{id}` answers 410.
    pub removed_at: Option<String>,
    /// A real A2A agent (`http://127.0.0.1:<port>/`) the proxy forwards this
    /// workspace's `POST /workspaces/{id}/a2a` to, headers and streamed
    /// answer included; none: the scripted agent (`crate::agent`) answers.
    pub upstream: Option<String>,
    /// The agent card the registry serves for this workspace (in its
    /// discover record and peers listing, as `agent_card`).
    pub agent_card: Option<Value>,
}

impl Workspace {
    /// An online workspace with no token and no peers.
    pub fn new(id: &str, name: &str, role: &str) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            role: role.into(),
            tier: 2,
            status: "online".into(),
            token: None,
            peers: Vec::new(),
            parent_id: None,
            removed_at: None,
            upstream: None,
            agent_card: None,
        }
    }

    fn agent_url(&self, base: &str) -> String {
        format!("{base}/agents/{}", self.id)
    }
}

/// Which API route a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET /registry/discover/{id}`.
    Discover,
    /// `GET /registry/{ws}/peers`.
    Peers,
    /// `GET /workspaces/{ws}`.
    Workspace,
    /// `POST /workspaces/{peer}/a2a`.
    A2a,
    /// Every route.
    Any,
}

impl Route {
    fn of(method: &Method, segments: &[&str]) -> Option<Route> {
        match (method, segments) {
            (&Method::GET, ["registry", "discover", _]) => Some(Route::Discover),
            (&Method::GET, ["registry", _, "peers"]) => Some(Route::Peers),
            (&Method::GET, ["workspaces", _]) => Some(Route::Workspace),
            (&Method::POST, ["workspaces", _, "a2a"]) => Some(Route::A2a),
            _ => None,
        }
    }
}

/// What a faulted route does instead of its normal answer.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer this status, content type and body.
    Respond {
        /// Status code.
        status: u16,
        /// `Content-Type`.
        content_type: &'static str,
        /// Body.
        body: Vec<u8>,
    },
    /// Wait, then answer normally.
    Delay(Duration),
    /// Close the connection without answering.
    Drop,
    /// Answer 200 with a body of this many bytes (`[` then spaces), sent in 64 KiB chunks.
    Huge(usize),
    /// Another fault, with these extra response headers (e.g. `retry-after`).
    WithHeaders(Box<Fault>, Vec<(String, String)>),
    /// Answer 200, send the headers and the first `chunk` bytes of the normal body, then
    /// one chunk every `every` (a trickling peer).
    Trickle {
        /// Bytes per chunk.
        chunk: usize,
        /// Pause between chunks.
        every: Duration,
    },
    /// Answer 200 `text/event-stream` with these chunks, one every `every`,
    /// then close — or start over, forever (an endless stream).
    Events {
        /// The raw chunks (SSE lines and blank lines as the test wants them).
        chunks: Vec<String>,
        /// Pause between chunks.
        every: Duration,
        /// Start over after the last chunk, until the client goes away.
        forever: bool,
    },
    /// Forward to the peer's agent as usual, but end the response after
    /// this many complete server-sent events — cleanly between events, or
    /// with half of the next event sent (a proxy that drops a stream).
    CutStream {
        /// Complete events passed through.
        after_events: usize,
        /// Send the first half of the next event before ending.
        mid_event: bool,
    },
}

impl Fault {
    /// A JSON answer.
    pub fn json(status: u16, body: Value) -> Self {
        Fault::Respond { status, content_type: "application/json", body: body.to_string().into_bytes() }
    }

    /// A raw answer with a content type.
    pub fn raw(status: u16, content_type: &'static str, body: &str) -> Self {
        Fault::Respond { status, content_type, body: body.as_bytes().to_vec() }
    }
}

struct RouteFault {
    route: Route,
    fault: Fault,
    remaining: Option<usize>,
}

/// A request the platform received.
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    /// Method.
    pub method: String,
    /// Path with query.
    pub path: String,
    /// Headers (names lower-case), in arrival order.
    pub headers: Vec<(String, String)>,
    /// Body as text.
    pub body: String,
}

impl LoggedRequest {
    /// The value of a header, if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    workspaces: HashMap<String, Workspace>,
    faults: Vec<RouteFault>,
    /// Requests whose path contains the text wait this long before their answer.
    delays: Vec<(String, Duration)>,
    log: Vec<LoggedRequest>,
}

/// A running platform. Stops when dropped.
pub struct Platform {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    server: JoinHandle<()>,
}

impl Drop for Platform {
    fn drop(&mut self) {
        self.server.abort();
    }
}

type Body = BoxBody<Bytes, Infallible>;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

fn json_response(status: u16, body: Value) -> Response<Body> {
    Response::builder().status(status).header("content-type", "application/json").body(full(body.to_string())).unwrap()
}

/// Marker error: makes hyper close the connection without a response.
#[derive(Debug)]
struct DropConnection;
impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fault: connection dropped")
    }
}
impl std::error::Error for DropConnection {}

impl Platform {
    /// Starts a platform with these workspaces on a free loopback port.
    pub async fn start(workspaces: Vec<Workspace>) -> std::io::Result<Platform> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            workspaces: workspaces.into_iter().map(|w| (w.id.clone(), w)).collect(),
            ..Default::default()
        }));
        let base = format!("http://{addr}");
        let shared = state.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let state = shared.clone();
                let base = base.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), base.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Platform { addr, state, server })
    }

    /// The loopback address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Delays the answer to every request whose path contains `part` (a
    /// slow corner of the registry), for as long as the platform runs.
    pub fn delay_paths(&self, part: &str, by: Duration) {
        self.state.lock().unwrap().delays.push((part.into(), by));
    }

    /// Applies `fault` to the next `times` requests of `route` (`None`: all).
    pub fn fault(&self, route: Route, fault: Fault, times: Option<usize>) {
        self.state.lock().unwrap().faults.push(RouteFault { route, fault, remaining: times });
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.state.lock().unwrap().faults.clear();
    }

    /// Every request received so far.
    pub fn log(&self) -> Vec<LoggedRequest> {
        self.state.lock().unwrap().log.clone()
    }

    /// Forgets the requests received so far.
    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }

    /// Changes a workspace (its status, token, removal, peers...).
    pub fn update(&self, id: &str, change: impl FnOnce(&mut Workspace)) {
        if let Some(w) = self.state.lock().unwrap().workspaces.get_mut(id) {
            change(w);
        }
    }
}

async fn handle(
    state: Arc<Mutex<State>>,
    base: String,
    req: Request<Incoming>,
) -> Result<Response<Body>, DropConnection> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let path = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let segments: Vec<&str> = parts.uri.path().trim_matches('/').split('/').collect();
    let route = Route::of(&parts.method, &segments);
    let (fault, delay) = {
        let mut state = state.lock().unwrap();
        state.log.push(LoggedRequest {
            method: parts.method.to_string(),
            path: path.clone(),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect(),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let delay = state.delays.iter().find(|(part, _)| path.contains(part.as_str())).map(|(_, d)| *d);
        (take_fault(&mut state.faults, route), delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let (fault, extra_headers) = match fault {
        Some(Fault::WithHeaders(inner, headers)) => (Some(*inner), headers),
        other => (other, Vec::new()),
    };
    let mut response = respond(&state, &base, &parts, &segments, &body, fault).await?;
    for (name, value) in extra_headers {
        if let (Ok(name), Ok(value)) = (http::HeaderName::try_from(name), http::HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    Ok(response)
}

/// The answer to a request, as faulted.
async fn respond(
    state: &Arc<Mutex<State>>,
    base: &str,
    parts: &http::request::Parts,
    segments: &[&str],
    body: &[u8],
    fault: Option<Fault>,
) -> Result<Response<Body>, DropConnection> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let query = parts.uri.query().and_then(|q| q.strip_prefix("q=")).map(percent_decode);
    let caller = Caller { id: header("x-workspace-id"), authorization: header("authorization"), query };
    let answer = |state: &State| answer(state, base, &parts.method, segments, &caller, body);
    match fault {
        None => {
            let upstream = upstream_of(&state.lock().unwrap(), &parts.method, segments, &caller);
            match upstream {
                Some(url) => Ok(forward(&url, parts, body, None).await),
                None => Ok(answer(&state.lock().unwrap())),
            }
        }
        Some(Fault::CutStream { after_events, mid_event }) => {
            let upstream = upstream_of(&state.lock().unwrap(), &parts.method, segments, &caller);
            match upstream {
                Some(url) => Ok(forward(&url, parts, body, Some((after_events, mid_event))).await),
                None => Ok(json_response(500, json!({"error": "a stream cut needs a peer with an upstream agent"}))),
            }
        }
        Some(Fault::Respond { status, content_type, body }) => {
            Ok(Response::builder().status(status).header("content-type", content_type).body(full(body)).unwrap())
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            Ok(answer(&state.lock().unwrap()))
        }
        Some(Fault::Drop) => Err(DropConnection),
        Some(Fault::WithHeaders(..)) => {
            Ok(json_response(500, json!({"error": "nested header faults are not supported"})))
        }
        Some(Fault::Huge(size)) => {
            let chunks = (0..size.div_ceil(65536)).map(move |i| {
                let len = (size - i * 65536).min(65536);
                let mut chunk = vec![b' '; len];
                if i == 0 {
                    chunk[0] = b'[';
                }
                Ok::<_, Infallible>(Frame::data(Bytes::from(chunk)))
            });
            let body = StreamBody::new(futures_util::stream::iter(chunks)).boxed();
            Ok(Response::builder().status(200).header("content-type", "application/json").body(body).unwrap())
        }
        Some(Fault::Events { chunks, every, forever }) => {
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Infallible>>(1);
            tokio::spawn(async move {
                loop {
                    for piece in &chunks {
                        if tx.send(Ok(Frame::data(Bytes::from(piece.clone())))).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(every).await;
                    }
                    if !forever {
                        return;
                    }
                }
            });
            let body = StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx)).boxed();
            Ok(Response::builder().status(200).header("content-type", "text/event-stream").body(body).unwrap())
        }
        Some(Fault::Trickle { chunk, every }) => {
            let normal = answer(&state.lock().unwrap());
            let (head, body) = normal.into_parts();
            let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Infallible>>(1);
            tokio::spawn(async move {
                for (i, piece) in bytes.chunks(chunk.max(1)).enumerate() {
                    if i > 0 {
                        tokio::time::sleep(every).await;
                    }
                    if tx.send(Ok(Frame::data(Bytes::copy_from_slice(piece)))).await.is_err() {
                        return;
                    }
                }
            });
            let body = StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx)).boxed();
            let mut head = head;
            head.headers.remove("content-length");
            Ok(Response::from_parts(head, body))
        }
    }
}

/// The upstream agent an A2A call goes to, when its peer has one and the
/// caller may reach it (else the platform answers itself, refusals included).
fn upstream_of(state: &State, method: &Method, segments: &[&str], caller: &Caller) -> Option<String> {
    if Route::of(method, segments) != Some(Route::A2a) {
        return None;
    }
    let authorized = |ws: &Workspace| match &ws.token {
        None => true,
        Some(token) => caller.authorization.as_deref() == Some(&format!("Bearer {token}")),
    };
    let peer = reachable_peer(state, caller, segments[1], &authorized).ok()?;
    peer.upstream.clone()
}

/// Forwards an A2A call to a real agent, as the platform's proxy does: the
/// JSON-RPC body and the A2A headers go up, the status, content type and
/// body (streamed as it arrives: SSE) come back. An unreachable agent is 502.
async fn forward(
    upstream: &str,
    parts: &http::request::Parts,
    body: &[u8],
    cut: Option<(usize, bool)>,
) -> Response<Body> {
    let fail = |what: String| json_response(502, json!({"error": format!("upstream agent: {what}")}));
    let Ok(uri) = upstream.parse::<http::Uri>() else { return fail(format!("bad URL {upstream}")) };
    let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
    let stream = match tokio::net::TcpStream::connect(&authority).await {
        Ok(s) => s,
        Err(e) => return fail(format!("connect {authority}: {e}")),
    };
    let (mut sender, conn) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
        Ok(pair) => pair,
        Err(e) => return fail(format!("handshake: {e}")),
    };
    tokio::spawn(conn);
    let mut req = Request::builder().method(Method::POST).uri(uri.path()).header("host", authority.as_str());
    // The A2A headers pass through both ways, like a proxy that speaks A2A.
    for name in ["content-type", "accept", "a2a-version", "a2a-extensions", "x-a2a-extensions"] {
        if let Some(value) = parts.headers.get(name) {
            req = req.header(name, value);
        }
    }
    let Ok(req) = req.body(Full::new(Bytes::copy_from_slice(body))) else { return fail("request".into()) };
    let resp = match sender.send_request(req).await {
        Ok(r) => r,
        Err(e) => return fail(format!("request: {e}")),
    };
    let (head, mut incoming) = resp.into_parts();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Infallible>>(16);
    tokio::spawn(async move {
        // Frame by frame, so a stream reaches the client as the agent writes it.
        let Some((after_events, mid_event)) = cut else {
            while let Some(Ok(frame)) = incoming.frame().await {
                if tx.send(Ok(frame)).await.is_err() {
                    return;
                }
            }
            return;
        };
        // Cut: pass complete events through until `after_events`, then end.
        let mut pending = Vec::new();
        let mut passed = 0;
        while let Some(Ok(frame)) = incoming.frame().await {
            let Ok(data) = frame.into_data() else { continue };
            pending.extend_from_slice(&data);
            while let Some(end) = event_end(&pending) {
                if passed == after_events {
                    if mid_event {
                        let half = Bytes::copy_from_slice(&pending[..end / 2]);
                        let _ = tx.send(Ok(Frame::data(half))).await;
                    }
                    return;
                }
                let event: Vec<u8> = pending.drain(..end).collect();
                if tx.send(Ok(Frame::data(Bytes::from(event)))).await.is_err() {
                    return;
                }
                passed += 1;
            }
        }
    });
    let mut out = Response::builder().status(head.status);
    for name in ["content-type", "a2a-extensions", "x-a2a-extensions"] {
        for value in head.headers.get_all(name) {
            out = out.header(name, value);
        }
    }
    out.body(StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx)).boxed()).unwrap()
}

/// Where the first complete server-sent event of `buf` ends (after its
/// blank line, `\n\n` or `\r\n\r\n`).
fn event_end(buf: &[u8]) -> Option<usize> {
    let find = |pat: &[u8]| buf.windows(pat.len()).position(|w| w == pat).map(|i| i + pat.len());
    match (find(b"\n\n"), find(b"\r\n\r\n")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn take_fault(faults: &mut Vec<RouteFault>, route: Option<Route>) -> Option<Fault> {
    let i = faults.iter().position(|f| f.route == Route::Any || Some(f.route) == route)?;
    let fault = faults[i].fault.clone();
    match &mut faults[i].remaining {
        Some(1) => {
            faults.remove(i);
        }
        Some(n) => *n -= 1,
        None => {}
    }
    Some(fault)
}

/// What a request says about its caller.
struct Caller {
    /// `X-Workspace-ID`.
    id: Option<String>,
    /// `Authorization`.
    authorization: Option<String>,
    /// The decoded `?q=` filter.
    query: Option<String>,
}

/// Decodes `%XX` escapes (and `+` as a space) of a query value.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The peer `peer_id` as the caller of a discover or A2A call may reach it:
/// the `X-Workspace-ID` names a known workspace whose token was sent, the
/// peer exists, is one of the caller's peers, and is available. The refusal
/// is the response to send (test server: its size does not matter).
#[allow(clippy::result_large_err)]
fn reachable_peer<'a>(
    state: &'a State,
    caller: &Caller,
    peer_id: &str,
    authorized: &dyn Fn(&Workspace) -> bool,
) -> Result<&'a Workspace, Response<Body>> {
    let Some(caller_id) = &caller.id else {
        return Err(json_response(400, json!({"error": "X-Workspace-ID header required"})));
    };
    let Some(from) = state.workspaces.get(&caller_id.to_ascii_lowercase()) else {
        return Err(json_response(401, json!({"error": "unknown caller workspace"})));
    };
    if !authorized(from) {
        return Err(json_response(401, json!({"error": "invalid token"})));
    }
    let Some(peer) = state.workspaces.get(peer_id) else {
        return Err(json_response(404, json!({"error": "workspace not found"})));
    };
    if !from.peers.contains(&peer.id) {
        return Err(json_response(403, json!({"error": "not allowed to talk to that workspace"})));
    }
    if peer.status == "offline" || peer.removed_at.is_some() {
        return Err(json_response(503, json!({"error": "workspace not available", "status": peer.status})));
    }
    Ok(peer)
}

/// The platform's own answer, as its handlers give it: errors are JSON
/// `{"error": …}` bodies (400 without `X-Workspace-ID`, 401 for a wrong token,
/// 403 for a peer the caller may not talk to, 404 for an unknown workspace,
/// 503 for an unavailable peer, 410 with a hint for a removed workspace); an
/// allowed A2A call gets the scripted agent's reply.
fn answer(
    state: &State,
    base: &str,
    method: &Method,
    segments: &[&str],
    caller: &Caller,
    body: &[u8],
) -> Response<Body> {
    let authorization = &caller.authorization;
    let not_found = || json_response(404, json!({"error": "workspace not found"}));
    // The bearer token must be the one of the workspace the call acts as.
    let authorized = |ws: &Workspace| match &ws.token {
        None => true,
        Some(token) => authorization.as_deref() == Some(&format!("Bearer {token}")),
    };
    match Route::of(method, segments) {
        Some(Route::Discover) => {
            let peer = match reachable_peer(state, caller, segments[2], &authorized) {
                Ok(peer) => peer,
                Err(refusal) => return refusal,
            };
            let mut record = json!({"id": peer.id, "url": peer.agent_url(base), "name": peer.name, "role": peer.role, "status": peer.status});
            if let Some(card) = &peer.agent_card {
                record["agent_card"] = card.clone();
            }
            json_response(200, record)
        }
        Some(Route::Peers) => {
            let Some(ws) = state.workspaces.get(segments[1]) else { return not_found() };
            if !authorized(ws) {
                return json_response(401, json!({"error": "invalid token"}));
            }
            let list: Vec<Value> = ws
                .peers
                .iter()
                .filter_map(|id| state.workspaces.get(id))
                .filter(|p| match &caller.query {
                    // The platform's `?q=`: a case-insensitive substring of name or role.
                    Some(q) => {
                        let q = q.to_lowercase();
                        p.name.to_lowercase().contains(&q) || p.role.to_lowercase().contains(&q)
                    }
                    None => true,
                })
                .map(|p| {
                    json!({
                        "id": p.id, "name": p.name, "role": p.role, "tier": p.tier, "status": p.status,
                        "agent_card": p.agent_card.clone().unwrap_or_else(|| json!({"name": p.name, "url": p.agent_url(base)})),
                        "url": p.agent_url(base), "parent_id": p.parent_id, "active_tasks": 0,
                    })
                })
                .collect();
            json_response(200, Value::Array(list))
        }
        Some(Route::Workspace) => {
            let Some(ws) = state.workspaces.get(segments[1]) else { return not_found() };
            if !authorized(ws) {
                return json_response(401, json!({"error": "invalid token"}));
            }
            if let Some(at) = &ws.removed_at {
                return json_response(
                    410,
                    json!({"id": ws.id, "removed_at": at, "hint": "Workspace was removed. Re-onboard it from the canvas."}),
                );
            }
            json_response(
                200,
                json!({"id": ws.id, "name": ws.name, "role": ws.role, "tier": ws.tier, "status": ws.status,
                       "parent_id": ws.parent_id, "url": ws.agent_url(base)}),
            )
        }
        Some(Route::A2a) => {
            if let Err(refusal) = reachable_peer(state, caller, segments[1], &authorized) {
                return refusal;
            }
            json_response(200, crate::agent::answer(body))
        }
        Some(Route::Any) | None => json_response(404, json!({"error": "no such route"})),
    }
}
