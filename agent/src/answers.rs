// The agent's answers, shared by its WASI 0.2 glue (`lib.rs`) and its WASI
// 0.3 glue (`p3.rs`): each includes this file where `api` names its world's
// client bindings (the two client worlds' types are the same).
mod answers {
    use super::api::{self, CachePolicy, CacheStats, CallOptions, Config, Credential, Error, ErrorKind, Peer, Protocol, Reply, ReplyKind};
    use serde_json::{json, Value};

    pub(super) fn bad_request(message: String) -> (u16, Value) {
        failure(400, "bad-request", message)
    }

    /// Every error answer's shape: `{"error": {"kind", "message"}}`.
    pub(super) fn failure(status: u16, kind: &str, message: String) -> (u16, Value) {
        (status, json!({"error": {"kind": kind, "message": message}}))
    }

    /// What the client is built from, as the host gives it now.
    pub(super) struct Settings {
        pub(super) workspace_id: String,
        pub(super) platform_url: Option<String>,
        pub(super) token: Option<String>,
        pub(super) cache_ttl_ms: Option<String>,
    }

    impl Settings {
        pub(super) fn read(all: Vec<(String, String)>) -> Self {
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
        pub(super) fn same_client(&self, now: &Settings) -> bool {
            (&self.workspace_id, &self.platform_url, &self.cache_ttl_ms)
                == (&now.workspace_id, &now.platform_url, &now.cache_ttl_ms)
        }

        pub(super) fn config(&self) -> Result<Config, (u16, Value)> {
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

    /// A client error as an answer: the caller's fault is 400, the rest 502.
    pub(super) fn error(e: &Error) -> (u16, Value) {
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

    /// No call options: the client's defaults.
    pub(super) fn no_options() -> CallOptions {
        CallOptions { source: None, protocol: None, extensions: Vec::new() }
    }

    /// `POST /delegate`'s body: the peer, the text, and the call's options
    /// (`source`, and `protocol`: `"v0.3"`, `"v1.0"` or `"auto"`).
    pub(super) fn delegate_args(body: &[u8]) -> Result<(String, String, CallOptions), (u16, Value)> {
        let Ok(args) = serde_json::from_slice::<Value>(body) else {
            return Err(bad_request("the body is not JSON: send {\"peer\": \"<id>\", \"text\": \"…\"}".into()));
        };
        let (Some(peer), Some(text)) = (args["peer"].as_str(), args["text"].as_str()) else {
            return Err(bad_request("\"peer\" and \"text\" (strings) are required".into()));
        };
        let protocol = match &args["protocol"] {
            Value::Null => None,
            Value::String(p) if p == "v0.3" => Some(Protocol::V03),
            Value::String(p) if p == "v1.0" => Some(Protocol::V10),
            Value::String(p) if p == "auto" => Some(Protocol::Auto),
            other => return Err(bad_request(format!("\"protocol\" is \"v0.3\", \"v1.0\" or \"auto\", not {other}"))),
        };
        let options = CallOptions { source: args["source"].as_str().map(str::to_owned), protocol, extensions: Vec::new() };
        Ok((peer.to_owned(), text.to_owned(), options))
    }

    /// A delegation's answer.
    pub(super) fn delegated(outcome: Result<Reply, Error>) -> (u16, Value) {
        match outcome {
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

    /// `POST /inbound`'s body: the sender (canonical) and the text.
    pub(super) fn inbound_args(body: &[u8]) -> Result<(String, String), (u16, Value)> {
        let Ok(args) = serde_json::from_slice::<Value>(body) else {
            return Err(bad_request("the body is not JSON: send {\"from\": \"<peer-id>\", \"text\": \"…\"}".into()));
        };
        let (Some(from), Some(text)) = (args["from"].as_str(), args["text"].as_str()) else {
            return Err(bad_request("\"from\" and \"text\" (strings) are required".into()));
        };
        let Some(from) = api::validate_peer_id(from) else {
            let shown: String = from.chars().take(80).collect();
            return Err(failure(400, "invalid-id", format!("invalid peer id in \"from\" (expected a UUID): {shown:?}")));
        };
        Ok((from, text.to_owned()))
    }

    /// A push, labelled with its sender's record (none while it is looked up).
    pub(super) fn labelled(sender: Option<Peer>, text: String) -> (u16, Value) {
        let label = sender.map(|p| json!({"id": p.id, "name": p.name, "role": p.role}));
        (200, json!({"from": label, "text": text}))
    }

    /// `GET /peers`'s answer.
    pub(super) fn listed(outcome: Result<Vec<Peer>, Error>) -> (u16, Value) {
        match outcome {
            Ok(peers) => {
                let list = peers.iter().map(|p| json!({"id": p.id, "name": p.name, "role": p.role, "status": p.status}));
                (200, Value::Array(list.collect()))
            }
            Err(e) => error(&e),
        }
    }

    /// `GET /stats`'s answer: the counters under their WIT names.
    pub(super) fn counted(s: CacheStats) -> (u16, Value) {
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
    }
}
