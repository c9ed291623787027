//! The platform's registry and workspace calls: request building, status
//! handling and response parsing for `discover-peer`, `peers`,
//! `workspace-info` and `agent-card-url`.

use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::{
    discover_message, excerpt, json_type_name, peers_diagnostic, workspace_info_message, Error, ErrorKind,
};
use crate::ids::validate_peer_id;
use crate::transport::{Method, Request, Response, Transport, TransportError};

/// The reference's hint when a 410 body carries none.
pub const DEFAULT_REMOVED_HINT: &str =
    "Workspace was deleted on the platform. Regenerate workspace + token from the canvas → Tokens tab.";

/// A peer as the registry describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    /// Workspace id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// Tier.
    pub tier: Option<i64>,
    /// Status.
    pub status: Option<String>,
    /// A2A URL.
    pub url: Option<String>,
    /// Parent workspace.
    pub parent_id: Option<String>,
    /// Active tasks.
    pub active_tasks: Option<i64>,
    /// Agent card as JSON text.
    pub agent_card: Option<String>,
    /// The whole object as JSON text.
    pub raw: String,
}

/// A workspace's own record.
#[derive(Debug, Clone, PartialEq)]
pub struct Workspace {
    /// Workspace id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// The whole object as JSON text.
    pub raw: String,
}

fn str_field(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl Peer {
    /// Reads the well-known fields of a registry object describing `id`.
    pub fn from_object(obj: &Map<String, Value>, id: String) -> Self {
        Self {
            id,
            name: str_field(obj, "name"),
            role: str_field(obj, "role"),
            tier: obj.get("tier").and_then(Value::as_i64),
            status: str_field(obj, "status"),
            url: str_field(obj, "url"),
            parent_id: str_field(obj, "parent_id"),
            active_tasks: obj.get("active_tasks").and_then(Value::as_i64),
            agent_card: obj.get("agent_card").filter(|v| !v.is_null()).map(Value::to_string),
            raw: Value::Object(obj.clone()).to_string(),
        }
    }
}

/// The headers the reference's `self_source_headers(src)` gave: the source id
/// and, when the source has a token, its bearer token.
fn source_headers(cfg: &Config, source: &str) -> Vec<(&'static str, String)> {
    let mut headers = vec![("x-workspace-id", source.to_owned())];
    headers.extend(auth_header(cfg, source));
    headers
}

/// The reference's `auth_headers(src)`: a bearer token, or nothing.
fn auth_header(cfg: &Config, source: &str) -> Option<(&'static str, String)> {
    cfg.tokens.get(source).map(|t| ("authorization", format!("Bearer {t}")))
}

fn get(cfg: &Config, path: String, headers: Vec<(&'static str, String)>) -> Request {
    Request {
        method: Method::Get,
        path,
        headers,
        body: None,
        timeout: cfg.read_timeout,
        total: cfg.read_total,
        max_body_bytes: cfg.max_body_bytes,
    }
}

/// Turns a transport failure into an error kind for `url`.
fn transport_kind(err: TransportError, url: &str) -> ErrorKind {
    match err {
        TransportError::Code(code) => ErrorKind::Transport { url: url.into(), code, attempt: 1 },
        TransportError::TimedOut(d) => ErrorKind::TimedOut {
            url: url.into(),
            after_ms: d.as_millis().min(u32::MAX as u128) as u32,
        },
        TransportError::TooLarge(limit) => ErrorKind::BodyTooLarge { url: url.into(), limit: limit as u32 },
    }
}

/// Sends a GET and returns the response whatever its status.
fn fetch(t: &mut impl Transport, cfg: &Config, req: Request) -> Result<Response, ErrorKind> {
    let url = cfg.platform.url(&req.path);
    t.send(&cfg.platform, &req).map_err(|e| transport_kind(e, &url))
}

fn status_kind(url: &str, resp: &Response) -> ErrorKind {
    ErrorKind::HttpStatus { url: url.into(), status: resp.status, excerpt: excerpt(&resp.body) }
}

/// Parses a 2xx body as JSON.
fn parse_json(url: &str, resp: &Response) -> Result<Value, ErrorKind> {
    serde_json::from_slice(&resp.body).map_err(|e| ErrorKind::BadJson {
        url: url.into(),
        status: resp.status,
        detail: e.to_string(),
        excerpt: excerpt(&resp.body),
    })
}

fn shape(url: &str, resp: &Response, detail: String) -> ErrorKind {
    ErrorKind::UnexpectedShape { url: url.into(), status: resp.status, detail, excerpt: excerpt(&resp.body) }
}

/// Renders a failed call's error with its call-specific text, scrubbed of tokens.
fn finish<T>(cfg: &Config, result: Result<T, ErrorKind>, render: impl FnOnce(&ErrorKind) -> String) -> Result<T, Error> {
    result.map_err(|kind| {
        let message = render(&kind);
        Error::new(kind, message).redact(cfg.tokens.values().map(String::as_str))
    })
}

/// `GET /registry/discover/{peer}` as `source`; only a JSON object is a peer (defect 7).
pub fn discover_peer(t: &mut impl Transport, cfg: &Config, peer_id: &str, source: Option<&str>) -> Result<Peer, Error> {
    let peer = validate_peer_id(peer_id).ok_or_else(|| Error::invalid_id("peer-id", peer_id))?;
    let source = cfg.source(source)?;
    let path = format!("/registry/discover/{peer}");
    let url = cfg.platform.url(&path);
    let result = (|| {
        let resp = fetch(t, cfg, get(cfg, path, source_headers(cfg, &source)))?;
        if resp.status != 200 {
            return Err(status_kind(&url, &resp));
        }
        match parse_json(&url, &resp)? {
            Value::Object(obj) => {
                let id = str_field(&obj, "id").unwrap_or_else(|| peer.clone());
                Ok(Peer::from_object(&obj, id))
            }
            other => Err(shape(&url, &resp, format!("expected an object, got {}", json_type_name(&other)))),
        }
    })();
    finish(cfg, result, |kind| discover_message(kind, &peer))
}

/// `GET /registry/{source}/peers[?q=…]`; failures carry the reference's diagnostics.
pub fn peers(t: &mut impl Transport, cfg: &Config, query: Option<&str>, source: Option<&str>) -> Result<Vec<Peer>, Error> {
    let source = cfg.source(source)?;
    let mut path = format!("/registry/{source}/peers");
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        path.push_str("?q=");
        path.push_str(&percent_encode(q));
    }
    let url = cfg.platform.url(&path);
    let result = (|| {
        let resp = fetch(t, cfg, get(cfg, path, source_headers(cfg, &source)))?;
        if resp.status != 200 {
            return Err(status_kind(&url, &resp));
        }
        let Value::Array(items) = parse_json(&url, &resp)? else {
            let found = serde_json::from_slice::<Value>(&resp.body).map(|v| json_type_name(&v)).unwrap_or("?");
            return Err(shape(&url, &resp, found.to_owned()));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(obj) => match str_field(obj, "id") {
                    Some(id) => Ok(Peer::from_object(obj, id)),
                    None => Err(shape(&url, &resp, format!("list item {i} has no string \"id\""))),
                },
                other => Err(shape(&url, &resp, format!("list item {i} is a {}, not a dict", json_type_name(other)))),
            })
            .collect()
    })();
    finish(cfg, result, |kind| peers_diagnostic(kind, &cfg.platform.base(), &source))
}

/// `GET /workspaces/{source}` with the source's bearer token; 410 is
/// `removed` with the platform's hint, even when the 410 body is not an
/// object (defect 10).
pub fn workspace_info(t: &mut impl Transport, cfg: &Config, source: Option<&str>) -> Result<Workspace, Error> {
    let source = cfg.source(source)?;
    let path = format!("/workspaces/{source}");
    let url = cfg.platform.url(&path);
    let result = (|| {
        let resp = fetch(t, cfg, get(cfg, path, auth_header(cfg, &source).into_iter().collect()))?;
        match resp.status {
            200 => match parse_json(&url, &resp)? {
                Value::Object(obj) => Ok(Workspace {
                    id: str_field(&obj, "id").unwrap_or_else(|| source.clone()),
                    name: str_field(&obj, "name"),
                    role: str_field(&obj, "role"),
                    status: str_field(&obj, "status"),
                    raw: Value::Object(obj).to_string(),
                }),
                other => Err(shape(&url, &resp, format!("expected an object, got {}", json_type_name(&other)))),
            },
            410 => {
                let body = serde_json::from_slice::<Value>(&resp.body).ok();
                let obj = body.as_ref().and_then(Value::as_object);
                let field = |k: &str| obj.and_then(|o| str_field(o, k));
                Err(ErrorKind::Removed {
                    id: field("id").unwrap_or_else(|| source.clone()),
                    removed_at: field("removed_at"),
                    hint: field("hint").unwrap_or_else(|| DEFAULT_REMOVED_HINT.to_owned()),
                })
            }
            _ => Err(status_kind(&url, &resp)),
        }
    })();
    finish(cfg, result, |kind| workspace_info_message(kind, &source))
}

/// The URL of a peer's registry record (the reference's `_agent_card_url_for`).
pub fn agent_card_url(cfg: &Config, peer_id: &str) -> Result<String, Error> {
    let peer = validate_peer_id(peer_id).ok_or_else(|| Error::invalid_id("peer-id", peer_id))?;
    Ok(cfg.platform.url(&format!("/registry/discover/{peer}")))
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
