//! WIT values as JSON, for the CLI's `--json` output and its batch mode.
//!
//! Field names are the WIT names (kebab-case). `raw` and `agent-card` hold
//! JSON text in WIT; here they are embedded as JSON values.

use serde_json::{json, Value};
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;

use crate::bindings::{
    AgentCard, Artifact, Attempt, CacheStats, Error, ErrorKind, FileContent, Part, Peer, Protocol, PushConfig, Reply,
    ReplyKind, RpcReason, StreamEvent, Task, TaskPage, Workspace,
};

fn embedded(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// A peer record.
pub fn peer(p: &Peer) -> Value {
    json!({
        "id": p.id, "name": p.name, "role": p.role, "tier": p.tier, "status": p.status, "url": p.url,
        "parent-id": p.parent_id, "active-tasks": p.active_tasks,
        "agent-card": p.agent_card.as_deref().map(embedded), "raw": embedded(&p.raw),
    })
}

/// A workspace record.
pub fn workspace(w: &Workspace) -> Value {
    json!({"id": w.id, "name": w.name, "role": w.role, "status": w.status, "raw": embedded(&w.raw)})
}

/// One attempt of a send.
pub fn attempt(a: &Attempt) -> Value {
    json!({"number": a.number, "outcome": a.outcome, "delay-ms": a.delay_ms, "took-ms": a.took_ms})
}

/// A reply to `send-message`.
pub fn reply(r: &Reply) -> Value {
    let kind = match &r.kind {
        ReplyKind::Message => json!({"message": null}),
        ReplyKind::Task(t) => json!({"task": {"id": t.id, "context-id": t.context_id, "state": t.state,
            "artifacts": artifacts(&t.artifacts)}}),
    };
    json!({
        "protocol": protocol(r.protocol), "text": r.text, "parts": parts(&r.parts),
        "metadata": r.metadata.as_deref().map(embedded), "kind": kind, "request-id": r.request_id,
        "message-id": r.message_id, "attempts": r.attempts.iter().map(attempt).collect::<Vec<_>>(), "raw": embedded(&r.raw),
        "activated-extensions": r.activated_extensions,
    })
}

/// Parts: `{"text": …}`, `{"data": <the JSON>}`, `{"file": {"name", "media-type", "bytes" (base64) | "uri"}}`.
pub fn parts(parts: &[Part]) -> Vec<Value> {
    use base64::Engine;
    parts
        .iter()
        .map(|p| match p {
            Part::Text(text) => json!({"text": text}),
            Part::Data(data) => json!({"data": embedded(data)}),
            Part::File(f) => {
                let mut file = json!({"name": f.name, "media-type": f.media_type});
                match &f.content {
                    FileContent::Bytes(bytes) => {
                        file["bytes"] = base64::engine::general_purpose::STANDARD.encode(bytes).into()
                    }
                    FileContent::Uri(uri) => file["uri"] = uri.as_str().into(),
                }
                json!({"file": file})
            }
        })
        .collect()
}

/// A task's artifacts.
pub fn artifacts(artifacts: &[Artifact]) -> Vec<Value> {
    artifacts.iter().map(|a| json!({"id": a.id, "name": a.name, "parts": parts(&a.parts)})).collect()
}

/// A protocol version as the WIT spells it.
pub fn protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::V03 => "v03",
        Protocol::V10 => "v10",
        Protocol::Auto => "auto",
    }
}

/// A task (`get-task`, `cancel-task`).
pub fn task(t: &Task) -> Value {
    json!({
        "id": t.id, "context-id": t.context_id, "state": t.state, "text": t.text, "parts": parts(&t.parts),
        "artifacts": artifacts(&t.artifacts), "metadata": t.metadata.as_deref().map(embedded), "protocol": protocol(t.protocol),
        "attempts": t.attempts.iter().map(attempt).collect::<Vec<_>>(), "raw": embedded(&t.raw),
    })
}

/// A push-notification config.
pub fn push_config(c: &PushConfig) -> Value {
    json!({"id": c.id, "task-id": c.task_id, "url": c.url, "token": c.token, "raw": embedded(&c.raw)})
}

/// A page of `list-tasks`.
pub fn task_page(p: &TaskPage) -> Value {
    json!({
        "tasks": p.tasks.iter().map(task).collect::<Vec<_>>(), "next-page-token": p.next_page_token,
        "total-size": p.total_size, "attempts": p.attempts.iter().map(attempt).collect::<Vec<_>>(),
    })
}

/// An agent card.
pub fn card(c: &AgentCard) -> Value {
    let skills: Vec<Value> =
        c.skills.iter().map(|s| json!({"id": s.id, "name": s.name, "description": s.description})).collect();
    json!({
        "name": c.name, "description": c.description, "version": c.version,
        "protocol-versions": c.protocol_versions, "streaming": c.streaming, "skills": skills, "raw": embedded(&c.raw),
    })
}

/// One event of a stream: `{"<case>": {…}}`.
pub fn stream_event(e: &StreamEvent) -> Value {
    match e {
        StreamEvent::Task(t) => {
            json!({"task": {"id": t.id, "context-id": t.context_id, "state": t.state, "text": t.text,
            "parts": parts(&t.parts), "artifacts": artifacts(&t.artifacts)}})
        }
        StreamEvent::StatusUpdate(u) => json!({"status-update": {
            "task-id": u.task_id, "state": u.state, "text": u.text, "parts": parts(&u.parts), "is-final": u.is_final}}),
        StreamEvent::ArtifactUpdate(a) => json!({"artifact-update": {
            "task-id": a.task_id, "artifact-id": a.artifact_id, "name": a.name, "text": a.text, "parts": parts(&a.parts),
            "append": a.append, "last-chunk": a.last_chunk}}),
        StreamEvent::Message(m) => json!({"message": {"text": m.text, "parts": parts(&m.parts),
            "metadata": m.metadata.as_deref().map(embedded)}}),
    }
}

/// A JSON-RPC error's reason as the WIT spells it.
pub fn rpc_reason(r: RpcReason) -> String {
    kebab(&format!("{r:?}").replace("RpcReason::", ""))
}

/// Cache counters.
pub fn stats(s: &CacheStats) -> Value {
    json!({
        "entries": s.entries, "hits": s.hits, "negative-hits": s.negative_hits, "misses": s.misses,
        "evictions": s.evictions, "in-flight": s.in_flight, "names": s.names, "routes": s.routes,
    })
}

/// The WIT case name of a `wasi:http` error code, and its payload if any.
pub fn error_code(code: &ErrorCode) -> Value {
    let name = format!("{code:?}");
    let case = name.trim_start_matches("ErrorCode::");
    let (case, payload) = match case.split_once('(') {
        Some((case, rest)) => (case, Some(rest.trim_end_matches(')'))),
        None => (case, None),
    };
    json!({"case": kebab(case), "detail": payload})
}

/// `HttpRequestUriInvalid` → `HTTP-request-URI-invalid`, as the WIT spells it.
fn kebab(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    for (from, to) in [("http-", "HTTP-"), ("tls-", "TLS-"), ("-uri-", "-URI-")] {
        if out.starts_with(from) || from.starts_with('-') {
            out = out.replacen(from, to, 1);
        }
    }
    out
}

/// The WIT name of an error kind's case.
pub fn kind_name(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidId(_) => "invalid-id",
        ErrorKind::InvalidConfig(_) => "invalid-config",
        ErrorKind::InvalidMessage(_) => "invalid-message",
        ErrorKind::Unsupported(_) => "unsupported",
        ErrorKind::HostFailure(_) => "host-failure",
        ErrorKind::Transport(_) => "transport",
        ErrorKind::TimedOut(_) => "timed-out",
        ErrorKind::HttpStatus(_) => "http-status",
        ErrorKind::BadJson(_) => "bad-json",
        ErrorKind::UnexpectedShape(_) => "unexpected-shape",
        ErrorKind::BodyTooLarge(_) => "body-too-large",
        ErrorKind::RequestTooLarge(_) => "request-too-large",
        ErrorKind::Removed(_) => "removed",
        ErrorKind::RpcError(_) => "rpc-error",
        ErrorKind::AgentError(_) => "agent-error",
        ErrorKind::PlatformError(_) => "platform-error",
        ErrorKind::StreamCut(_) => "stream-cut",
    }
}

/// An error: `{"kind": <case>, "message": …, <case fields>}`.
pub fn error(e: &Error) -> Value {
    let fields = match &e.kind {
        ErrorKind::InvalidId(i) => json!({"param": i.param, "value": i.value}),
        ErrorKind::InvalidConfig(m) => json!({"detail": m}),
        ErrorKind::InvalidMessage(m) => json!({"detail": m}),
        ErrorKind::Unsupported(m) => json!({"detail": m}),
        ErrorKind::HostFailure(m) => json!({"detail": m}),
        ErrorKind::Transport(t) => {
            json!({"url": t.url, "code": error_code(&t.code), "attempt": t.attempt})
        }
        ErrorKind::TimedOut(t) => json!({"url": t.url, "after-ms": t.after_ms}),
        ErrorKind::HttpStatus(h) => {
            json!({"url": h.url, "status": h.status, "body-excerpt": h.body_excerpt})
        }
        ErrorKind::BadJson(b) => bad_body(b),
        ErrorKind::UnexpectedShape(b) => bad_body(b),
        ErrorKind::BodyTooLarge(t) => json!({"url": t.url, "limit": t.limit}),
        ErrorKind::RequestTooLarge(t) => json!({"url": t.url, "size": t.size, "limit": t.limit}),
        ErrorKind::Removed(r) => json!({"id": r.id, "removed-at": r.removed_at, "hint": r.hint}),
        ErrorKind::RpcError(r) => {
            json!({"url": r.url, "reason": rpc_reason(r.reason), "code": r.code, "rpc-message": r.message,
                   "data": r.data.as_deref().map(embedded)})
        }
        ErrorKind::AgentError(a) => json!({"url": a.url, "text": a.text}),
        ErrorKind::PlatformError(p) => {
            json!({"url": p.url, "status": p.status, "platform-message": p.message})
        }
        ErrorKind::StreamCut(c) => {
            json!({"url": c.url, "task-id": c.task_id, "events": c.events, "resumes": c.resumes, "cause": c.cause})
        }
    };
    let kind = kind_name(&e.kind);
    let mut out = json!({"kind": kind, "message": e.message});
    if !e.attempts.is_empty() {
        out["attempts"] = Value::Array(e.attempts.iter().map(attempt).collect());
    }
    if let (Value::Object(out), Value::Object(fields)) = (&mut out, fields) {
        out.extend(fields);
    }
    out
}

fn bad_body(b: &crate::bindings::BadBody) -> Value {
    json!({"url": b.url, "status": b.status, "detail": b.detail, "body-excerpt": b.body_excerpt})
}

/// The inverse of [`parts`] and of a message's other fields: a batch
/// `send`'s `message` (`{"parts": […], "task-id"?, "context-id"?,
/// "reference-task-ids"?, "metadata"?: {…}}`). Only the JSON's shape is
/// checked here; the component checks the message itself.
pub fn outgoing_message(message: &Value) -> Result<crate::bindings::OutgoingMessage, String> {
    use crate::bindings::{FilePart, OutgoingMessage};
    use base64::Engine;
    let list = message.get("parts").and_then(Value::as_array).ok_or("\"parts\" (a list) is required")?;
    let mut parts = Vec::with_capacity(list.len());
    for (i, part) in list.iter().enumerate() {
        let text = |v: &Value| v.as_str().map(str::to_owned);
        parts.push(if let Some(t) = part.get("text") {
            Part::Text(text(t).ok_or(format!("parts[{i}].text is not a string"))?)
        } else if let Some(data) = part.get("data") {
            Part::Data(data.to_string())
        } else if let Some(file) = part.get("file") {
            let content = match (file.get("bytes").and_then(Value::as_str), file.get("uri").and_then(Value::as_str)) {
                (Some(b64), _) => FileContent::Bytes(
                    base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .map_err(|e| format!("parts[{i}].file.bytes is not base64: {e}"))?,
                ),
                (None, Some(uri)) => FileContent::Uri(uri.to_owned()),
                (None, None) => return Err(format!("parts[{i}].file needs \"bytes\" (base64) or \"uri\"")),
            };
            let name = file.get("name").and_then(text);
            Part::File(FilePart { name, media_type: file.get("media-type").and_then(text), content })
        } else {
            return Err(format!("parts[{i}] needs \"text\", \"data\" or \"file\""));
        });
    }
    let string = |key: &str| message.get(key).and_then(Value::as_str).map(str::to_owned);
    let references = message.get("reference-task-ids").and_then(Value::as_array);
    Ok(OutgoingMessage {
        parts,
        task_id: string("task-id"),
        context_id: string("context-id"),
        reference_task_ids: references.into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect(),
        metadata: message.get("metadata").filter(|m| !m.is_null()).map(Value::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_use_wit_case_names() {
        assert_eq!(error_code(&ErrorCode::ConnectionRefused), json!({"case": "connection-refused", "detail": null}));
        assert_eq!(error_code(&ErrorCode::HttpProtocolError)["case"], "HTTP-protocol-error");
        assert_eq!(error_code(&ErrorCode::HttpRequestUriTooLong)["case"], "HTTP-request-URI-too-long");
        assert_eq!(
            error_code(&ErrorCode::TlsAlertReceived(
                wasmtime_wasi_http::p2::bindings::http::types::TlsAlertReceivedPayload {
                    alert_id: None,
                    alert_message: None
                }
            ))["case"],
            "TLS-alert-received"
        );
        assert_eq!(error_code(&ErrorCode::InternalError(Some("x".into())))["case"], "internal-error");
    }
}
