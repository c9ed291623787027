//! The peers' agent behind the embedded platform's A2A proxy: a small A2A
//! v0.3 JSON-RPC agent whose reply depends on the text it is sent, so tests
//! and the demo can reach every reply shape.
//!
//! | text sent | reply |
//! |---|---|
//! | `task: X` | Task, `completed`, status message `done: X`, artifact `X` upper-cased |
//! | `fail: X` | Task, `failed`, status message `X` |
//! | `agent-error: X` | Message `Agent error: X` |
//! | `rpc-error: X` | JSON-RPC error -32603 `X` |
//! | `parts: a\|b\|c` | Message with one text part each |
//! | anything else | Message `echo: <text>` |

use serde_json::{json, Value};

/// The JSON-RPC reply to a request body.
pub fn answer(body: &[u8]) -> Value {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}});
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    if request.get("method").and_then(Value::as_str) != Some("message/send") {
        return json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "Method not found"}});
    }
    let message = &request["params"]["message"];
    let text = message["parts"][0]["text"].as_str().unwrap_or("");
    let context = "ctx-1";
    let reply_message = |parts: Vec<Value>| {
        json!({"kind": "message", "role": "agent", "messageId": format!("reply-to-{}", message["messageId"].as_str().unwrap_or("")),
               "contextId": context, "parts": parts})
    };
    let text_part = |t: &str| json!({"kind": "text", "text": t});
    let result = if let Some(rest) = text.strip_prefix("task: ") {
        json!({"kind": "task", "id": "task-1", "contextId": context,
               "status": {"state": "completed", "message": reply_message(vec![text_part(&format!("done: {rest}"))])},
               "artifacts": [{"artifactId": "art-1", "name": "echo-result", "parts": [text_part(&rest.to_uppercase())]}],
               "history": [message]})
    } else if let Some(rest) = text.strip_prefix("fail: ") {
        json!({"kind": "task", "id": "task-2", "contextId": context,
               "status": {"state": "failed", "message": reply_message(vec![text_part(rest)])}})
    } else if let Some(rest) = text.strip_prefix("agent-error: ") {
        reply_message(vec![text_part(&format!("Agent error: {rest}"))])
    } else if let Some(rest) = text.strip_prefix("rpc-error: ") {
        return json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32603, "message": rest}});
    } else if let Some(rest) = text.strip_prefix("parts: ") {
        reply_message(rest.split('|').map(text_part).collect())
    } else {
        reply_message(vec![text_part(&format!("echo: {text}"))])
    };
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}
