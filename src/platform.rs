//! The platform's registry and workspace calls: request building, status
//! handling and response parsing for `discover-peer`, `peers`,
//! `workspace-info` and `agent-card-url`.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::{
    discover_message, excerpt, json_type_name, peers_diagnostic, workspace_info_message, Error, ErrorKind,
};
use crate::transport::{Method, Request, Response, Transport, TransportError};

/// The Python client's hint when a 410 body carries none.
pub(crate) const DEFAULT_REMOVED_HINT: &str =
    "Workspace was deleted on the platform. Regenerate workspace + token from the canvas → Tokens tab.";

/// A peer as the registry describes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Peer {
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
pub(crate) struct Workspace {
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
    pub(crate) fn from_object(obj: &Map<String, Value>, id: String) -> Self {
        Self {
            id,
            name: str_field(obj, "name"),
            role: str_field(obj, "role"),
            tier: obj.get("tier").and_then(Value::as_i64),
            status: str_field(obj, "status"),
            url: str_field(obj, "url"),
            parent_id: str_field(obj, "parent_id"),
            active_tasks: obj.get("active_tasks").and_then(Value::as_i64),
            agent_card: obj.get("agent_card").filter(|v| !v.is_null()).map(json_text),
            raw: json_text(obj),
        }
    }
}

/// The headers the Python client's `self_source_headers(src)` gave: the source id
/// and, when the source has a token, its bearer token.
pub(crate) fn source_headers(cfg: &Config, source: &str) -> Vec<(&'static str, String)> {
    let mut headers = vec![("x-workspace-id", source.to_owned())];
    headers.extend(auth_header(cfg, source));
    headers
}

/// The Python client's `auth_headers(src)`: a bearer token, or nothing.
fn auth_header(cfg: &Config, source: &str) -> Option<(&'static str, String)> {
    cfg.tokens.get(source).map(|t| ("authorization", format!("Bearer {t}")))
}

fn get(cfg: &Config, path: String, headers: Vec<(&'static str, String)>) -> Request {
    Request {
        method: Method::Get,
        path,
        headers,
        body: None,
        connect_timeout: cfg.read_timeout,
        timeout: cfg.read_timeout,
        total: cfg.read_total,
        max_body_bytes: cfg.max_body_bytes,
    }
}

/// Turns a transport failure into an error kind for `url`.
pub(crate) fn transport_kind(err: TransportError, url: &str) -> ErrorKind {
    match err {
        TransportError::Code(code) => ErrorKind::Transport { url: url.into(), code, attempt: 1 },
        TransportError::TimedOut(d) => {
            ErrorKind::TimedOut { url: url.into(), after_ms: d.as_millis().min(u32::MAX as u128) as u32 }
        }
        TransportError::TooLarge(limit) => ErrorKind::BodyTooLarge { url: url.into(), limit: limit as u32 },
    }
}

pub(crate) fn status_kind(url: &str, resp: &Response) -> ErrorKind {
    ErrorKind::HttpStatus { url: url.into(), status: resp.status, excerpt: excerpt(&resp.body) }
}

/// Parses a 2xx body as JSON.
pub(crate) fn parse_json(url: &str, resp: &Response) -> Result<Value, ErrorKind> {
    serde_json::from_slice(&resp.body).map_err(|e| ErrorKind::BadJson {
        url: url.into(),
        status: resp.status,
        detail: e.to_string(),
        excerpt: excerpt(&resp.body),
    })
}

pub(crate) fn shape(url: &str, resp: &Response, detail: String) -> ErrorKind {
    ErrorKind::UnexpectedShape { url: url.into(), status: resp.status, detail, excerpt: excerpt(&resp.body) }
}

/// Renders a failed call's error with its call-specific text.
fn finish<T>(result: Result<T, ErrorKind>, render: impl FnOnce(&ErrorKind) -> String) -> Result<T, Error> {
    result.map_err(|kind| {
        let message = render(&kind);
        Error::new(kind, message)
    })
}

/// The discovery request for `peer` (canonical) made as `source`.
pub(crate) fn discover_request(cfg: &Config, peer: &str, source: &str, timeout: Duration) -> Request {
    let mut req = get(cfg, format!("/registry/discover/{peer}"), source_headers(cfg, source));
    req.connect_timeout = timeout;
    req.timeout = timeout;
    req
}

/// Reads a discovery outcome: only a 200 with a JSON object is a peer; any
/// other JSON (a list, a string) is a shape error, since callers expect an object.
pub(crate) fn discover_outcome(
    cfg: &Config,
    peer: &str,
    outcome: Result<Response, TransportError>,
) -> Result<Peer, ErrorKind> {
    let url = cfg.platform.url(&format!("/registry/discover/{peer}"));
    let resp = outcome.map_err(|e| transport_kind(e, &url))?;
    if resp.status != 200 {
        return Err(status_kind(&url, &resp));
    }
    match parse_json(&url, &resp)? {
        Value::Object(obj) => {
            let id = str_field(&obj, "id").unwrap_or_else(|| peer.to_owned());
            Ok(Peer::from_object(&obj, id))
        }
        other => Err(shape(&url, &resp, format!("expected an object, got {}", json_type_name(&other)))),
    }
}

/// `GET /registry/discover/{peer}` as `source` (both canonical ids).
pub(crate) fn discover_peer(t: &mut impl Transport, cfg: &Config, peer: &str, source: &str) -> Result<Peer, Error> {
    let req = discover_request(cfg, peer, source, cfg.read_timeout);
    discover_peer_outcome(cfg, peer, t.send(&cfg.platform, &req))
}

/// Reads the answer to a `discover-peer` request (see [`discover_peer`]).
pub(crate) fn discover_peer_outcome(
    cfg: &Config,
    peer: &str,
    outcome: Result<Response, TransportError>,
) -> Result<Peer, Error> {
    finish(discover_outcome(cfg, peer, outcome), |kind| discover_message(kind, peer))
}

/// `GET /registry/{source}/peers[?q=…]`, read by [`peers_outcome`].
pub(crate) fn peers_request(cfg: &Config, query: Option<&str>, source: &str) -> Request {
    let mut path = format!("/registry/{source}/peers");
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        path.push_str("?q=");
        path.push_str(&percent_encode(q));
    }
    get(cfg, path, source_headers(cfg, source))
}

/// Reads the answer to `req`, a [`peers_request`] made as `source`;
/// failures carry the Python client's diagnostics.
pub(crate) fn peers_outcome(
    cfg: &Config,
    req: &Request,
    source: &str,
    outcome: Result<Response, TransportError>,
) -> Result<Vec<Peer>, Error> {
    let url = cfg.platform.url(&req.path);
    let result = (|| {
        let resp = outcome.map_err(|e| transport_kind(e, &url))?;
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
    finish(result, |kind| peers_diagnostic(kind, &cfg.platform.base(), source))
}

/// `GET /workspaces/{source}` with the source's bearer token, read by [`workspace_outcome`].
pub(crate) fn workspace_request(cfg: &Config, source: &str) -> Request {
    get(cfg, format!("/workspaces/{source}"), auth_header(cfg, source).into_iter().collect())
}

/// Reads the answer to a [`workspace_request`]; 410 is
/// `removed` with the platform's hint, even when the 410 body is not an
/// object (then with a default hint): the removal is never lost.
pub(crate) fn workspace_outcome(
    cfg: &Config,
    source: &str,
    outcome: Result<Response, TransportError>,
) -> Result<Workspace, Error> {
    let url = cfg.platform.url(&format!("/workspaces/{source}"));
    let result = (|| {
        let resp = outcome.map_err(|e| transport_kind(e, &url))?;
        match resp.status {
            200 => match parse_json(&url, &resp)? {
                Value::Object(obj) => Ok(Workspace {
                    id: str_field(&obj, "id").unwrap_or_else(|| source.to_owned()),
                    name: str_field(&obj, "name"),
                    role: str_field(&obj, "role"),
                    status: str_field(&obj, "status"),
                    raw: json_text(&obj),
                }),
                other => Err(shape(&url, &resp, format!("expected an object, got {}", json_type_name(&other)))),
            },
            410 => {
                let body = serde_json::from_slice::<Value>(&resp.body).ok();
                let obj = body.as_ref().and_then(Value::as_object);
                let field = |k: &str| obj.and_then(|o| str_field(o, k));
                Err(ErrorKind::Removed {
                    id: field("id").unwrap_or_else(|| source.to_owned()),
                    removed_at: field("removed_at"),
                    hint: field("hint").unwrap_or_else(|| DEFAULT_REMOVED_HINT.to_owned()),
                })
            }
            _ => Err(status_kind(&url, &resp)),
        }
    })();
    finish(result, |kind| workspace_info_message(kind, source))
}

/// The URL of a peer's registry record (the Python client's `_agent_card_url_for`).
pub(crate) fn agent_card_url(cfg: &Config, peer: &str) -> String {
    cfg.platform.url(&format!("/registry/discover/{peer}"))
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
pub(crate) fn percent_encode(value: &str) -> String {
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

/// `value` as JSON text, written straight into a string (not through the
/// `Display` formatter, and without copying a map into a `Value` first).
/// Maps and values parsed from JSON always serialise; were one ever not
/// to, the text is empty rather than the guest trapping.
pub(crate) fn json_text(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wasi::http::types::ErrorCode;

    use super::*;

    /// `workspace-info`, as the client makes it.
    fn workspace_info(t: &mut impl Transport, cfg: &Config, source: &str) -> Result<Workspace, Error> {
        let req = workspace_request(cfg, source);
        workspace_outcome(cfg, source, t.send(&cfg.platform, &req))
    }

    /// `peers`, as the client makes it: the request, sent, then read.
    fn peers(t: &mut impl Transport, cfg: &Config, query: Option<&str>, source: &str) -> Result<Vec<Peer>, Error> {
        let req = peers_request(cfg, query, source);
        let outcome = t.send(&cfg.platform, &req);
        peers_outcome(cfg, &req, source, outcome)
    }
    use crate::config::RawConfig;
    use crate::testing::FakeTransport as Fake;

    const ME: &str = "11111111-2222-4333-8444-555555555555";
    const OTHER: &str = "22222222-2222-4333-8444-555555555555";
    const PEER: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

    fn cfg() -> Config {
        Config::from_raw(RawConfig {
            workspace_id: ME.into(),
            platform_url: Some("http://platform:8080".into()),
            credentials: vec![(ME.into(), "tok-me".into()), (OTHER.into(), "tok-other".into())],
            ..Default::default()
        })
        .unwrap()
    }

    fn headers(req: &Request) -> Vec<(&str, &str)> {
        req.headers.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    #[test]
    fn discover_sends_the_python_clients_request() {
        let mut t = Fake::answering(200, &json!({"id": PEER, "name": "Builder", "url": "http://x"}).to_string());
        let peer = discover_peer(&mut t, &cfg(), PEER, ME).unwrap();
        assert_eq!(peer.id, PEER);
        assert_eq!(peer.name.as_deref(), Some("Builder"));
        assert_eq!(peer.url.as_deref(), Some("http://x"));
        let req = t.only_request();
        assert_eq!(req.method, Method::Get);
        assert_eq!(req.path, format!("/registry/discover/{PEER}"));
        assert_eq!(headers(req), [("x-workspace-id", ME), ("authorization", "Bearer tok-me")]);
        assert_eq!(req.timeout, std::time::Duration::from_secs(10));
    }

    #[test]
    fn discover_as_another_source_uses_its_token() {
        let mut t = Fake::answering(200, &json!({"id": PEER}).to_string());
        discover_peer(&mut t, &cfg(), PEER, OTHER).unwrap();
        assert_eq!(headers(t.only_request()), [("x-workspace-id", OTHER), ("authorization", "Bearer tok-other")]);
    }

    #[test]
    fn a_source_without_token_sends_no_authorization() {
        let third = "33333333-2222-4333-8444-555555555555";
        let mut t = Fake::answering(200, "{}");
        let peer = discover_peer(&mut t, &cfg(), PEER, third).unwrap();
        assert_eq!(peer.id, PEER, "an object without id is the peer asked for");
        assert_eq!(headers(t.only_request()), [("x-workspace-id", third)]);
    }

    #[test]
    fn discover_accepts_only_objects() {
        for (body, found) in [("[1]", "list"), ("\"x\"", "str"), ("null", "NoneType")] {
            let mut t = Fake::answering(200, body);
            let e = discover_peer(&mut t, &cfg(), PEER, ME).unwrap_err();
            assert!(matches!(e.kind, ErrorKind::UnexpectedShape { .. }), "{body}");
            assert!(e.message.contains(&format!("expected an object, got {found}")), "{}", e.message);
        }
    }

    #[test]
    fn discover_failures() {
        let mut t = Fake::answering(404, r#"{"error":"workspace not found"}"#);
        let e = discover_peer(&mut t, &cfg(), PEER, ME).unwrap_err();
        assert_eq!(
            e.message,
            format!("Discovery failed for {PEER}: not found in the registry (HTTP 404) [target=http://platform:8080/registry/discover/{PEER}]")
        );
        let mut t = Fake::answering(503, r#"{"error":"workspace not available","status":"offline"}"#);
        let e = discover_peer(&mut t, &cfg(), PEER, ME).unwrap_err();
        assert!(e.message.contains("HTTP 503: {\"error\":\"workspace not available\""), "{}", e.message);
        let mut t = Fake::answering(200, "<html>");
        let e = discover_peer(&mut t, &cfg(), PEER, ME).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::BadJson { status: 200, .. }));
    }

    #[test]
    fn peers_parse_the_registry_list() {
        let body = json!([{"id": PEER, "name": "B", "role": "builder", "tier": 2, "status": "online",
            "agent_card": {"name": "B"}, "url": "http://b", "parent_id": null, "active_tasks": 3, "extra": true}]);
        let mut t = Fake::answering(200, &body.to_string());
        let list = peers(&mut t, &cfg(), None, ME).unwrap();
        assert_eq!(list.len(), 1);
        let p = &list[0];
        assert_eq!((p.role.as_deref(), p.tier, p.active_tasks), (Some("builder"), Some(2), Some(3)));
        assert_eq!(p.parent_id, None);
        assert_eq!(p.agent_card.as_deref(), Some(r#"{"name":"B"}"#));
        assert!(p.raw.contains("\"extra\":true"));
        assert_eq!(t.only_request().path, format!("/registry/{ME}/peers"));
    }

    #[test]
    fn peers_query_is_encoded() {
        let mut t = Fake::answering(200, "[]");
        peers(&mut t, &cfg(), Some("data eng/ü&x=1"), ME).unwrap();
        assert_eq!(t.only_request().path, format!("/registry/{ME}/peers?q=data%20eng%2F%C3%BC%26x%3D1"));
    }

    #[test]
    fn peers_diagnostics_name_the_source_queried() {
        let mut t = Fake::answering(404, "{}");
        let e = peers(&mut t, &cfg(), None, OTHER).unwrap_err();
        assert!(e.message.starts_with(&format!("Workspace ID {OTHER} is not registered")), "{}", e.message);
        let mut t = Fake::answering(200, r#"{"peers": []}"#);
        let e = peers(&mut t, &cfg(), None, ME).unwrap_err();
        assert!(e.message.starts_with("Platform returned 200 but body was not a list: dict"), "{}", e.message);
        let mut t = Fake::answering(200, r#"[{"id": "x"}, "str"]"#);
        let e = peers(&mut t, &cfg(), None, ME).unwrap_err();
        assert!(e.message.contains("list item 1 is a str, not a dict"), "{}", e.message);
        let mut t = Fake::answering(200, r#"[{"name": "no id"}]"#);
        assert!(peers(&mut t, &cfg(), None, ME).unwrap_err().message.contains("list item 0 has no string \"id\""));
        let mut t = Fake::failing(TransportError::Code(ErrorCode::ConnectionRefused));
        let e = peers(&mut t, &cfg(), None, ME).unwrap_err();
        assert!(e.message.starts_with("Cannot reach platform at http://platform:8080: connection refused"));
        let mut t = Fake::failing(TransportError::TooLarge(1024));
        assert!(matches!(
            peers(&mut t, &cfg(), None, ME).unwrap_err().kind,
            ErrorKind::BodyTooLarge { limit: 1024, .. }
        ));
    }

    #[test]
    fn workspace_info_sends_only_the_bearer() {
        let mut t = Fake::answering(200, &json!({"id": ME, "name": "Me", "status": "online"}).to_string());
        let w = workspace_info(&mut t, &cfg(), ME).unwrap();
        assert_eq!((w.id.as_str(), w.name.as_deref()), (ME, Some("Me")));
        let req = t.only_request();
        assert_eq!(req.path, format!("/workspaces/{ME}"));
        assert_eq!(headers(req), [("authorization", "Bearer tok-me")]);
    }

    #[test]
    fn workspace_info_removed_with_and_without_body() {
        let body = json!({"id": ME, "removed_at": "2026-04-30T10:00:00Z", "hint": "Re-onboard."});
        let mut t = Fake::answering(410, &body.to_string());
        let e = workspace_info(&mut t, &cfg(), ME).unwrap_err();
        assert_eq!(e.message, "removed");
        assert!(
            matches!(&e.kind, ErrorKind::Removed { removed_at: Some(at), hint, .. } if at == "2026-04-30T10:00:00Z" && hint == "Re-onboard.")
        );
        for body in ["gone", "[]", ""] {
            let mut t = Fake::answering(410, body);
            let e = workspace_info(&mut t, &cfg(), ME).unwrap_err();
            match e.kind {
                ErrorKind::Removed { id, removed_at, hint } => {
                    assert_eq!((id.as_str(), removed_at, hint.as_str()), (ME, None, DEFAULT_REMOVED_HINT));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn workspace_info_tells_failures_apart() {
        for (status, start) in [
            (404, "not found"),
            (401, "authentication failed"),
            (403, "authentication failed"),
            (500, "platform error"),
        ] {
            let mut t = Fake::answering(status, "{}");
            let e = workspace_info(&mut t, &cfg(), ME).unwrap_err();
            assert!(e.message.starts_with(start), "{status}: {}", e.message);
        }
        let mut t = Fake::answering(200, "[]");
        assert!(matches!(workspace_info(&mut t, &cfg(), ME).unwrap_err().kind, ErrorKind::UnexpectedShape { .. }));
    }

    #[test]
    fn card_url() {
        assert_eq!(agent_card_url(&cfg(), PEER), format!("http://platform:8080/registry/discover/{PEER}"));
    }
}
