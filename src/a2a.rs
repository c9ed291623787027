//! A2A v0.3 JSON-RPC shapes: the `message/send` request and the reading of
//! its reply — a Message (every text part) or a Task (state, status message,
//! artifacts) — or of its JSON-RPC error.

use serde_json::{json, Value};

/// The ids of one send, made once and reused by every attempt so that a
/// receiver can de-duplicate a message whose first attempt did arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendIds {
    /// The JSON-RPC request id.
    pub request_id: String,
    /// The A2A `messageId`.
    pub message_id: String,
}

/// The JSON-RPC body of `message/send` with one text part.
pub fn message_send_body(ids: &SendIds, text: &str) -> Vec<u8> {
    json!({
        "jsonrpc": "2.0",
        "id": ids.request_id,
        "method": "message/send",
        "params": {"message": {
            "role": "user",
            "messageId": ids.message_id,
            "parts": [{"kind": "text", "text": text}],
        }},
    })
    .to_string()
    .into_bytes()
}

/// What a reply came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyKind {
    /// A Message result.
    Message,
    /// A Task result.
    Task {
        /// Task id.
        id: Option<String>,
        /// Context id.
        context_id: Option<String>,
        /// `status.state` (`completed`, `failed`, `input-required`, ...).
        state: String,
    },
}

/// The text an agent should read, and what it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Every text part, in order, joined by newlines.
    pub text: String,
    /// Message or Task.
    pub kind: ReplyKind,
    /// The JSON-RPC `result` as JSON text.
    pub raw: String,
}

/// How a JSON-RPC reply body reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A result with text for the agent.
    Reply(Reply),
    /// A result whose text starts with `Agent error:` (the reference tags these).
    AgentError(String),
    /// A JSON-RPC error object.
    RpcError {
        /// `error.code`, when an integer.
        code: Option<i64>,
        /// `error.message`, trimmed (may be empty).
        message: String,
        /// `error.data` as JSON text.
        data: Option<String>,
    },
    /// Neither `result` nor `error` (or not a JSON object): what was found.
    Shape(String),
}

fn texts(parts: Option<&Value>) -> Vec<String> {
    parts
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter(|p| matches!(p.get("kind").and_then(Value::as_str), None | Some("text")))
                .filter_map(|p| p.get("text").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads a JSON-RPC reply (already parsed JSON).
pub fn read_reply(body: &Value) -> Outcome {
    let Some(obj) = body.as_object() else {
        return Outcome::Shape(format!("a JSON-RPC reply must be an object, got {}", short(body)));
    };
    if let Some(result) = obj.get("result") {
        return read_result(result);
    }
    if let Some(err) = obj.get("error") {
        return match err {
            Value::Object(e) => Outcome::RpcError {
                code: e.get("code").and_then(Value::as_i64),
                message: e.get("message").and_then(Value::as_str).unwrap_or("").trim().to_owned(),
                data: e.get("data").filter(|d| !d.is_null()).map(Value::to_string),
            },
            // A bare string (the platform's own `{"error": "…"}`) is still an error.
            Value::String(s) => Outcome::RpcError { code: None, message: s.trim().to_owned(), data: None },
            other => Outcome::RpcError { code: None, message: short(other), data: None },
        };
    }
    Outcome::Shape(format!("unexpected response shape (no result, no error): {}", short(body)))
}

fn read_result(result: &Value) -> Outcome {
    let kind = result.get("kind").and_then(Value::as_str);
    let is_task = kind == Some("task") || (kind.is_none() && result.get("status").is_some());
    let (texts, reply_kind) = if is_task {
        let status = result.get("status");
        let state = status.and_then(|s| s.get("state")).and_then(Value::as_str).unwrap_or("unknown").to_owned();
        let mut all = texts(status.and_then(|s| s.get("message")).and_then(|m| m.get("parts")));
        for artifact in result.get("artifacts").and_then(Value::as_array).into_iter().flatten() {
            all.extend(texts(artifact.get("parts")));
        }
        let str_of = |k: &str| result.get(k).and_then(Value::as_str).map(str::to_owned);
        (all, ReplyKind::Task { id: str_of("id"), context_id: str_of("contextId"), state })
    } else if result.is_object() {
        (texts(result.get("parts")), ReplyKind::Message)
    } else {
        return Outcome::Shape(format!("result is not an object: {}", short(result)));
    };
    let text = if texts.is_empty() {
        match &reply_kind {
            ReplyKind::Message => "(no response)".to_owned(),
            ReplyKind::Task { state, .. } => format!("(task {state}, no text)"),
        }
    } else {
        texts.join("\n")
    };
    if text.starts_with("Agent error:") {
        return Outcome::AgentError(text);
    }
    Outcome::Reply(Reply { text, kind: reply_kind, raw: result.to_string() })
}

/// The reference's detail text of a JSON-RPC error.
pub fn rpc_error_detail(code: Option<i64>, message: &str) -> String {
    match (message.is_empty(), code) {
        (false, Some(code)) => format!("{message} (code={code})"),
        (false, None) => message.to_owned(),
        (true, Some(code)) => format!("JSON-RPC error with no message (code={code})"),
        (true, None) => "JSON-RPC error with no message".to_owned(),
    }
}

/// JSON cut to 200 characters, as the reference's `str(data)[:200]`.
fn short(value: &Value) -> String {
    crate::error::excerpt(value.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(v: Value) -> Outcome {
        read_reply(&v)
    }

    #[test]
    fn request_body_is_message_send_v0_3() {
        let ids = SendIds { request_id: "r-1".into(), message_id: "m-1".into() };
        let body: Value = serde_json::from_slice(&message_send_body(&ids, "hello \"peer\"")).unwrap();
        assert_eq!(
            body,
            json!({"jsonrpc": "2.0", "id": "r-1", "method": "message/send", "params": {"message": {
                "role": "user", "messageId": "m-1", "parts": [{"kind": "text", "text": "hello \"peer\""}]}}})
        );
    }

    #[test]
    fn message_results_join_every_text_part() {
        let r = reply(json!({"jsonrpc": "2.0", "id": "1", "result": {"kind": "message", "role": "agent",
            "parts": [{"kind": "text", "text": "one"}, {"kind": "file", "file": {"uri": "x"}}, {"kind": "text", "text": "two"}]}}));
        match r {
            Outcome::Reply(r) => {
                assert_eq!(r.text, "one\ntwo");
                assert_eq!(r.kind, ReplyKind::Message);
            }
            other => panic!("{other:?}"),
        }
        let r = reply(json!({"result": {"kind": "message", "parts": []}}));
        assert!(matches!(r, Outcome::Reply(Reply { ref text, .. }) if text == "(no response)"));
    }

    #[test]
    fn task_results_read_status_message_and_artifacts() {
        let r = reply(json!({"jsonrpc": "2.0", "id": "2", "result": {"kind": "task", "id": "t-1", "contextId": "c-1",
            "status": {"state": "completed", "message": {"kind": "message", "role": "agent", "parts": [{"kind": "text", "text": "done: build it"}]}},
            "artifacts": [{"artifactId": "a", "name": "echo-result", "parts": [{"kind": "text", "text": "BUILD IT"}]}],
            "history": [{"parts": [{"kind": "text", "text": "not this"}]}]}}));
        match r {
            Outcome::Reply(r) => {
                assert_eq!(r.text, "done: build it\nBUILD IT");
                assert_eq!(
                    r.kind,
                    ReplyKind::Task {
                        id: Some("t-1".into()),
                        context_id: Some("c-1".into()),
                        state: "completed".into()
                    }
                );
                assert!(r.raw.contains("\"history\""));
            }
            other => panic!("{other:?}"),
        }
        let r = reply(json!({"result": {"kind": "task", "id": "t", "status": {"state": "working"}}}));
        assert!(matches!(r, Outcome::Reply(Reply { ref text, .. }) if text == "(task working, no text)"));
    }

    #[test]
    fn agent_errors_are_tagged() {
        let r = reply(
            json!({"result": {"kind": "message", "parts": [{"kind": "text", "text": "Agent error: tool crashed"}]}}),
        );
        assert_eq!(r, Outcome::AgentError("Agent error: tool crashed".into()));
    }

    #[test]
    fn rpc_errors_keep_code_and_message() {
        let r = reply(
            json!({"jsonrpc": "2.0", "id": "1", "error": {"code": -32601, "message": " Method not found ", "data": {"m": 1}}}),
        );
        assert_eq!(
            r,
            Outcome::RpcError {
                code: Some(-32601),
                message: "Method not found".into(),
                data: Some("{\"m\":1}".into())
            }
        );
        assert_eq!(rpc_error_detail(Some(-32601), "Method not found"), "Method not found (code=-32601)");
        assert_eq!(rpc_error_detail(None, "x"), "x");
        assert_eq!(rpc_error_detail(Some(7), ""), "JSON-RPC error with no message (code=7)");
        assert_eq!(rpc_error_detail(None, ""), "JSON-RPC error with no message");
        // The platform's own error body: a string, not an object (defect 12).
        assert_eq!(
            reply(json!({"error": "workspace not found"})),
            Outcome::RpcError { code: None, message: "workspace not found".into(), data: None }
        );
    }

    #[test]
    fn other_shapes() {
        assert!(
            matches!(reply(json!({"jsonrpc": "2.0"})), Outcome::Shape(ref s) if s.starts_with("unexpected response shape (no result, no error): {"))
        );
        assert!(matches!(reply(json!([1])), Outcome::Shape(_)));
        assert!(matches!(reply(json!({"result": "text"})), Outcome::Shape(_)));
    }
}
