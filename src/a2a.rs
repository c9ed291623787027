//! A2A JSON-RPC shapes in both protocol versions the client speaks: v0.3
//! (`message/send`, results tagged by `kind`, lower-case states — what the
//! platform proxy speaks today) and v1.0 (`SendMessage` with an
//! `A2A-Version: 1.0` header, results wrapped by type, upper-case enums).
//! Requests for send, get and cancel; replies read into one typed shape — a
//! Message (every text part) or a Task (state, status message, artifacts) —
//! or a JSON-RPC error.

use serde::Serialize;
use serde_json::Value;

use crate::message::{read_parts, text_of, Checked, Part, WireMessage};

/// An A2A protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Protocol {
    /// A2A v0.3 (`message/send`, `kind` tags).
    #[default]
    V0_3,
    /// A2A v1.0 (`SendMessage`, wrapped results, `A2A-Version: 1.0`).
    V1_0,
}

impl Protocol {
    /// The header a request in this version carries, if any (a v1.0 server
    /// given none reads the request as v0.3).
    pub(crate) fn version_header(self) -> Option<(&'static str, String)> {
        match self {
            Protocol::V0_3 => None,
            Protocol::V1_0 => Some(("a2a-version", "1.0".into())),
        }
    }

    /// The JSON-RPC method of a call in this version.
    pub(crate) fn method(self, call: Call) -> &'static str {
        match (self, call) {
            (Protocol::V0_3, Call::Send) => "message/send",
            (Protocol::V0_3, Call::Stream) => "message/stream",
            (Protocol::V0_3, Call::GetTask) => "tasks/get",
            (Protocol::V0_3, Call::CancelTask) => "tasks/cancel",
            (Protocol::V0_3, Call::Subscribe) => "tasks/resubscribe",
            (Protocol::V1_0, Call::Send) => "SendMessage",
            (Protocol::V1_0, Call::Stream) => "SendStreamingMessage",
            (Protocol::V1_0, Call::GetTask) => "GetTask",
            (Protocol::V1_0, Call::CancelTask) => "CancelTask",
            (Protocol::V1_0, Call::Subscribe) => "SubscribeToTask",
        }
    }
}

/// The version a client or a call asks for: one, or whichever the peer's
/// agent card lists (v1.0 when it lists 1.0, else v0.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ProtocolChoice {
    /// Always A2A v0.3 (what the platform proxy speaks today).
    #[default]
    V0_3,
    /// Always A2A v1.0.
    V1_0,
    /// Decided by the peer's agent card.
    Auto,
}

/// The A2A calls the client makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    /// Send a message, answer when done.
    Send,
    /// Send a message, answer with a stream of events.
    Stream,
    /// Read a task.
    GetTask,
    /// Cancel a task.
    CancelTask,
    /// Follow a task's events from now on (a stream).
    Subscribe,
}

/// The ids of one send, made once and reused by every attempt so that a
/// receiver can de-duplicate a message whose first attempt did arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SendIds {
    /// The JSON-RPC request id.
    pub request_id: String,
    /// The A2A `messageId`.
    pub message_id: String,
}

/// What a call asks of its peer besides its arguments: a version (none:
/// the config's) and the A2A extensions to activate, by URI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Ask {
    /// The version asked for.
    pub protocol: Option<ProtocolChoice>,
    /// Extension URIs (the `A2A-Extensions` header).
    pub extensions: Vec<String>,
    /// Set by the client when a call continues another (the resubscription
    /// of a cut stream, the task read after one): it speaks exactly as the
    /// first did — version, tenant, extensions — whatever the cache says now.
    pub continuing: Option<Spoken>,
}

impl From<ProtocolChoice> for Ask {
    fn from(protocol: ProtocolChoice) -> Self {
        Ask { protocol: Some(protocol), ..Default::default() }
    }
}

/// The version a call speaks, the tenant its requests name (the one of the
/// agent's chosen interface; only v1.0 requests carry one) and the
/// extensions it requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Spoken {
    /// The version.
    pub protocol: Protocol,
    /// `params.tenant` of every request.
    pub tenant: Option<String>,
    /// Extension URIs requested.
    pub extensions: Vec<String>,
}

impl From<Protocol> for Spoken {
    fn from(protocol: Protocol) -> Self {
        Spoken { protocol, ..Default::default() }
    }
}

impl Spoken {
    /// `body` (a JSON-RPC request) with `params.tenant` set, when there is
    /// a tenant to name; as it is otherwise (the common case costs nothing).
    pub(crate) fn stamp(&self, body: Vec<u8>) -> Vec<u8> {
        let Some(tenant) = &self.tenant else { return body };
        let Ok(mut request) = serde_json::from_slice::<Value>(&body) else { return body };
        if let Some(Value::Object(params)) = request.get_mut("params") {
            params.insert("tenant".into(), Value::String(tenant.clone()));
        }
        crate::platform::json_text(&request).into_bytes()
    }
}

/// The JSON-RPC body of a send (or streaming send) of a checked message.
pub(crate) fn message_body(protocol: Protocol, call: Call, ids: &SendIds, message: &Checked<'_>) -> Vec<u8> {
    let body = WireRequest {
        id: &ids.request_id,
        jsonrpc: "2.0",
        method: protocol.method(call),
        params: MessageParams { message: message.wire(protocol, &ids.message_id) },
    };
    to_json(&body)
}

// The request bodies, serialised straight from borrowed fields (no JSON
// tree, no formatter): the send path's own cost. Keys in sorted order.

#[derive(Serialize)]
struct WireRequest<'a, P> {
    id: &'a str,
    jsonrpc: &'static str,
    method: &'static str,
    params: P,
}

#[derive(Serialize)]
struct MessageParams<'a> {
    message: WireMessage<'a>,
}

#[derive(Serialize)]
struct TaskParams<'a> {
    id: &'a str,
}

/// Which tasks `ListTasks` returns, and which page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskQuery {
    /// Each task with its artifacts (the peer leaves them out otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_artifacts: Option<bool>,
    /// Only this context's tasks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
    /// At most this many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// A previous page's `nextPageToken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
    /// Only tasks in this state (v1.0's `TASK_STATE_…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// The JSON-RPC body of a peer's extended (authenticated) agent card:
/// `agent/getAuthenticatedExtendedCard` (v0.3), `GetExtendedAgentCard` (v1.0).
pub(crate) fn extended_card_body(protocol: Protocol, request_id: &str) -> Vec<u8> {
    let method = match protocol {
        Protocol::V0_3 => "agent/getAuthenticatedExtendedCard",
        Protocol::V1_0 => "GetExtendedAgentCard",
    };
    to_json(&WireRequest { id: request_id, jsonrpc: "2.0", method, params: serde_json::Map::new() })
}

/// The JSON-RPC body of `ListTasks` (A2A v1.0 only: v0.3 has no such method).
pub(crate) fn list_tasks_body(request_id: &str, query: &TaskQuery) -> Vec<u8> {
    to_json(&WireRequest { id: request_id, jsonrpc: "2.0", method: "ListTasks", params: query })
}

/// A state as v1.0 writes it: `input-required` → `TASK_STATE_INPUT_REQUIRED`
/// (one already in v1.0 spelling is kept).
pub(crate) fn v1_state(state: &str) -> String {
    if state.starts_with("TASK_STATE_") {
        return state.to_owned();
    }
    format!("TASK_STATE_{}", state.to_ascii_uppercase().replace('-', "_"))
}

/// A task as a peer reported it (`get-task`, `cancel-task`, each task of a
/// `ListTasks` page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Task {
    /// Task id.
    pub id: String,
    /// Context id.
    pub context_id: Option<String>,
    /// State, v0.3 spelling.
    pub state: String,
    /// Status message and artifact texts.
    pub text: String,
    /// The status message's parts.
    pub parts: Vec<Part>,
    /// Its artifacts.
    pub artifacts: Vec<Artifact>,
    /// Its `metadata` object as JSON text.
    pub metadata: Option<String>,
    /// The task as JSON text.
    pub raw: String,
}

/// A `ListTasks` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedPage {
    /// The tasks.
    pub tasks: Vec<Task>,
    /// The next page's token: none on the last page (which v1.0 marks with
    /// an empty token).
    pub next_page_token: Option<String>,
    /// How many tasks match in all, when the peer says.
    pub total_size: Option<u32>,
}

/// Reads a `ListTasks` result; a malformed one is an error naming where.
pub(crate) fn read_task_page(result: &Value) -> Result<ListedPage, String> {
    let tasks = match result.get("tasks") {
        Some(Value::Array(list)) => list,
        None | Some(Value::Null) => &Vec::new(),
        Some(other) => return Err(format!("result.tasks is not a list: {}", short(other))),
    };
    let mut out = Vec::with_capacity(tasks.len());
    for (i, task) in tasks.iter().enumerate() {
        let at = |e: String| format!("result.tasks[{i}]{e}");
        let Some(id) = task.get("id").and_then(Value::as_str) else {
            return Err(at(format!(" has no id: {}", short(task))));
        };
        let read = read_task(task).map_err(at)?;
        out.push(Task {
            id: id.to_owned(),
            context_id: task.get("contextId").and_then(Value::as_str).map(str::to_owned),
            text: read.text(),
            state: read.state,
            parts: read.status_parts,
            artifacts: read.artifacts,
            metadata: task.get("metadata").filter(|m| m.is_object()).map(crate::platform::json_text),
            raw: crate::platform::json_text(task),
        });
    }
    let next_page_token =
        result.get("nextPageToken").and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_owned);
    let total_size = result.get("totalSize").and_then(Value::as_u64).map(|n| n.min(u32::MAX as u64) as u32);
    Ok(ListedPage { tasks: out, next_page_token, total_size })
}

/// JSON bytes of `value`, through the one serialiser of JSON text
/// ([`crate::platform::json_text`]).
fn to_json(value: &impl Serialize) -> Vec<u8> {
    crate::platform::json_text(value).into_bytes()
}

/// The JSON-RPC body of `message/send` (v0.3) with one text part.
#[cfg(test)]
fn message_send_body(ids: &SendIds, text: &str) -> Vec<u8> {
    let message = crate::message::Message::text(text);
    message_body(Protocol::V0_3, Call::Send, ids, &crate::message::check(&message).unwrap())
}

/// The JSON-RPC body of a get, cancel or subscription of `task_id`.
pub(crate) fn task_body(protocol: Protocol, call: Call, request_id: &str, task_id: &str) -> Vec<u8> {
    to_json(&WireRequest {
        id: request_id,
        jsonrpc: "2.0",
        method: protocol.method(call),
        params: TaskParams { id: task_id },
    })
}

/// What a reply came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReplyKind {
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
        /// Its artifacts.
        artifacts: Vec<Artifact>,
    },
}

/// An artifact of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Artifact {
    /// Artifact id.
    pub id: Option<String>,
    /// Artifact name.
    pub name: Option<String>,
    /// Its parts.
    pub parts: Vec<Part>,
}

/// The text an agent should read, and what it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// Every text part, in order, joined by newlines (of a Task: its status
    /// message's, then its artifacts').
    pub text: String,
    /// A Message's parts; a Task's status message's parts.
    pub parts: Vec<Part>,
    /// The Message's or Task's `metadata` object as JSON text.
    pub metadata: Option<String>,
    /// Message or Task.
    pub kind: ReplyKind,
    /// The JSON-RPC `result` as JSON text.
    pub raw: String,
    /// The extensions the peer activated (its `A2A-Extensions` header).
    pub extensions: Vec<String>,
}

/// How a JSON-RPC reply body reads.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// A result with text for the agent.
    Reply(Reply),
    /// A result whose text starts with `Agent error:`: the agent reporting a
    /// failure in-band (the Python client tagged these as errors too).
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

/// A task (or a status update) as read: state in v0.3 spelling, status
/// message parts, artifacts.
struct TaskRead {
    state: String,
    status_parts: Vec<Part>,
    artifacts: Vec<Artifact>,
}

impl TaskRead {
    /// Every text part: the status message's, then each artifact's.
    fn text(&self) -> String {
        text_of(self.status_parts.iter().chain(self.artifacts.iter().flat_map(|a| &a.parts)))
    }
}

/// Reads a task's (or a status update's) state, status message and
/// artifacts. A malformed message or artifact is an error naming where,
/// relative to the task.
fn read_task(task: &Value) -> Result<TaskRead, String> {
    let status = task.get("status");
    let state = normalize_state(status.and_then(|s| s.get("state")).and_then(Value::as_str).unwrap_or("unknown"));
    let status_parts = match status.and_then(|s| s.get("message")) {
        None | Some(Value::Null) => Vec::new(),
        Some(message @ Value::Object(_)) => {
            read_parts(message.get("parts")).map_err(|e| format!(".status.message.parts{e}"))?
        }
        Some(other) => return Err(format!(".status.message is not an object: {}", short(other))),
    };
    let mut artifacts = Vec::new();
    match task.get("artifacts") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for (i, artifact) in list.iter().enumerate() {
                if !artifact.is_object() {
                    return Err(format!(".artifacts[{i}] is not an object: {}", short(artifact)));
                }
                let parts = read_parts(artifact.get("parts")).map_err(|e| format!(".artifacts[{i}].parts{e}"))?;
                let str_of = |k: &str| artifact.get(k).and_then(Value::as_str).map(str::to_owned);
                artifacts.push(Artifact { id: str_of("artifactId"), name: str_of("name"), parts });
            }
        }
        Some(other) => return Err(format!(".artifacts is not a list: {}", short(other))),
    }
    Ok(TaskRead { state, status_parts, artifacts })
}

/// Reads a JSON-RPC reply (already parsed JSON).
pub(crate) fn read_reply(body: &Value) -> Outcome {
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
                data: e.get("data").filter(|d| !d.is_null()).map(crate::platform::json_text),
            },
            // A bare string (the platform's own `{"error": "…"}`) is still an error.
            Value::String(s) => Outcome::RpcError { code: None, message: s.trim().to_owned(), data: None },
            other => Outcome::RpcError { code: None, message: short(other), data: None },
        };
    }
    Outcome::Shape(format!("unexpected response shape (no result, no error): {}", short(body)))
}

/// Reads a JSON-RPC reply whose `result` may be any JSON (a page, a card, a
/// list, `null`): kept whole in `raw`; errors read as [`read_reply`] reads
/// them. A reply with neither is a `null` result: a serialiser that drops
/// null members (the `a2a-sdk` server's v0.3 answer to a delete) writes one.
pub(crate) fn read_any_result(body: &Value) -> Outcome {
    let result = match (body.get("result"), body.get("error")) {
        (Some(result), _) => Some(result),
        (None, None) => Some(&Value::Null),
        (None, Some(_)) => None,
    };
    match result {
        Some(result) if body.is_object() => Outcome::Reply(Reply {
            text: String::new(),
            parts: Vec::new(),
            metadata: None,
            kind: ReplyKind::Message,
            raw: crate::platform::json_text(result),
            extensions: Vec::new(),
        }),
        _ => read_reply(body),
    }
}

/// A task state in v0.3 spelling: v1.0's `TASK_STATE_INPUT_REQUIRED` reads
/// `input-required`, `TASK_STATE_CANCELLED` reads `canceled`.
pub(crate) fn normalize_state(state: &str) -> String {
    match state.strip_prefix("TASK_STATE_") {
        Some("CANCELLED") => "canceled".to_owned(),
        Some(rest) => rest.to_ascii_lowercase().replace('_', "-"),
        None => state.to_owned(),
    }
}

/// v1.0 wraps a send's result by type (`{"task": {…}}`, `{"message": {…}}`);
/// v0.3 tags it (`{"kind": "task", …}`). The object to read either way.
fn unwrap_result(result: &Value) -> (&Value, &'static str) {
    let Some(obj) = result.as_object() else { return (result, "result") };
    if obj.contains_key("kind") || obj.contains_key("parts") || obj.contains_key("status") {
        return (result, "result");
    }
    match (obj.get("task"), obj.get("message")) {
        (Some(task @ Value::Object(_)), None) => (task, "result.task"),
        (None, Some(message @ Value::Object(_))) => (message, "result.message"),
        _ => (result, "result"),
    }
}

fn read_result(result: &Value) -> Outcome {
    let (result, at) = unwrap_result(result);
    let kind = result.get("kind").and_then(Value::as_str);
    let is_task = kind == Some("task") || (kind.is_none() && result.get("status").is_some());
    let read = if is_task {
        read_task(result).map(|task| {
            let str_of = |k: &str| result.get(k).and_then(Value::as_str).map(str::to_owned);
            let text = task.text();
            let kind = ReplyKind::Task {
                id: str_of("id"),
                context_id: str_of("contextId"),
                state: task.state,
                artifacts: task.artifacts,
            };
            (text, task.status_parts, kind)
        })
    } else if result.is_object() {
        read_parts(result.get("parts"))
            .map(|parts| (text_of(&parts), parts, ReplyKind::Message))
            .map_err(|e| format!(".parts{e}"))
    } else {
        return Outcome::Shape(format!("result is not an object: {}", short(result)));
    };
    // A well-formed reply without text parts has empty text (its kind, parts
    // and `raw` say the rest).
    let (text, parts, reply_kind) = match read {
        Ok(read) => read,
        Err(where_) => return Outcome::Shape(format!("{at}{where_}")),
    };
    if text.starts_with("Agent error:") {
        return Outcome::AgentError(text);
    }
    let metadata = result.get("metadata").filter(|m| m.is_object()).map(crate::platform::json_text);
    let raw = crate::platform::json_text(result);
    Outcome::Reply(Reply { text, parts, metadata, kind: reply_kind, raw, extensions: Vec::new() })
}

/// One event of a streamed reply (`message/stream`, `SendStreamingMessage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StreamEvent {
    /// The task as it stands.
    Task {
        /// Task id.
        id: Option<String>,
        /// Context id.
        context_id: Option<String>,
        /// State, v0.3 spelling.
        state: String,
        /// Status message and artifact texts.
        text: String,
        /// The status message's parts.
        parts: Vec<Part>,
        /// Its artifacts.
        artifacts: Vec<Artifact>,
    },
    /// A change of the task's status.
    StatusUpdate {
        /// Task id.
        task_id: Option<String>,
        /// State, v0.3 spelling.
        state: String,
        /// The status message's text.
        text: String,
        /// The status message's parts.
        parts: Vec<Part>,
        /// The last event of the stream.
        is_final: bool,
    },
    /// An artifact, or a chunk of one.
    ArtifactUpdate {
        /// Task id.
        task_id: Option<String>,
        /// Artifact id.
        artifact_id: Option<String>,
        /// Artifact name.
        name: Option<String>,
        /// Its text parts.
        text: String,
        /// Its parts.
        parts: Vec<Part>,
        /// Appends to an artifact sent before.
        append: bool,
        /// The artifact's last chunk.
        last_chunk: bool,
    },
    /// A Message: the whole answer.
    Message {
        /// Every text part.
        text: String,
        /// Its parts.
        parts: Vec<Part>,
        /// Its `metadata` object as JSON text.
        metadata: Option<String>,
    },
}

/// A state that ends (completed, canceled, failed, rejected) or pauses
/// (input-required, auth-required) a task: nothing more streams after it.
pub(crate) fn settled(state: &str) -> bool {
    matches!(state, "completed" | "canceled" | "failed" | "rejected" | "input-required" | "auth-required")
}

impl StreamEvent {
    /// Whether nothing follows this event: a Message, a status update marked
    /// final (v0.3) or — v1.0 has no flag — in a state that ends or pauses
    /// the task, or a task in such a state.
    pub(crate) fn ends_stream(&self) -> bool {
        match self {
            StreamEvent::Message { .. } => true,
            StreamEvent::StatusUpdate { is_final, .. } => *is_final,
            StreamEvent::Task { state, .. } => settled(state),
            StreamEvent::ArtifactUpdate { .. } => false,
        }
    }
}

/// Reads one streamed JSON-RPC reply into an event, in either version; a
/// JSON-RPC error or a shape that is no event comes back as the [`Outcome`].
pub(crate) fn read_stream_event(reply: &Value) -> Result<StreamEvent, Outcome> {
    let result = read_reply_parts(reply)?;
    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    // v0.3 tags the event (`kind`); v1.0 wraps it in a key naming its type.
    let (kind, event, at) = match result.get("kind").and_then(Value::as_str) {
        Some(kind) => (kind, result, "result"),
        None => match result.as_object().and_then(|o| if o.len() == 1 { o.iter().next() } else { None }) {
            Some((key, inner)) if inner.is_object() => match key.as_str() {
                "task" => ("task", inner, "result.task"),
                "message" => ("message", inner, "result.message"),
                "statusUpdate" => ("status-update", inner, "result.statusUpdate"),
                "artifactUpdate" => ("artifact-update", inner, "result.artifactUpdate"),
                _ => return Err(Outcome::Shape(format!("unknown stream event {}", short(result)))),
            },
            _ => return Err(Outcome::Shape(format!("unknown stream event {}", short(result)))),
        },
    };
    let shape = |where_: String| Outcome::Shape(format!("{at}{where_}"));
    Ok(match kind {
        "message" => {
            let parts = read_parts(event.get("parts")).map_err(|e| shape(format!(".parts{e}")))?;
            let metadata = event.get("metadata").filter(|m| m.is_object()).map(crate::platform::json_text);
            StreamEvent::Message { text: text_of(&parts), parts, metadata }
        }
        "task" => {
            let task = read_task(event).map_err(shape)?;
            StreamEvent::Task {
                id: str_of(event, "id"),
                context_id: str_of(event, "contextId"),
                text: task.text(),
                state: task.state,
                parts: task.status_parts,
                artifacts: task.artifacts,
            }
        }
        "status-update" => {
            let task = read_task(event).map_err(shape)?;
            let (text, state, parts) = (task.text(), task.state, task.status_parts);
            let is_final = event.get("final").and_then(Value::as_bool).unwrap_or_else(|| settled(&state));
            StreamEvent::StatusUpdate { task_id: str_of(event, "taskId"), state, text, parts, is_final }
        }
        "artifact-update" => {
            let artifact = event.get("artifact");
            let flag = |k: &str| event.get(k).and_then(Value::as_bool).unwrap_or(false);
            let parts =
                read_parts(artifact.and_then(|a| a.get("parts"))).map_err(|e| shape(format!(".artifact.parts{e}")))?;
            StreamEvent::ArtifactUpdate {
                task_id: str_of(event, "taskId"),
                artifact_id: artifact.and_then(|a| str_of(a, "artifactId")),
                name: artifact.and_then(|a| str_of(a, "name")),
                text: text_of(&parts),
                parts,
                append: flag("append"),
                last_chunk: flag("lastChunk"),
            }
        }
        other => return Err(Outcome::Shape(format!("unknown stream event kind {other:?}"))),
    })
}

/// The `result` of a JSON-RPC reply, or what it is instead.
fn read_reply_parts(body: &Value) -> Result<&Value, Outcome> {
    match body.get("result") {
        Some(result) if result.is_object() => Ok(result),
        Some(other) => Err(Outcome::Shape(format!("result is not an object: {}", short(other)))),
        None => Err(read_reply(body)),
    }
}

/// What the A2A specification calls a JSON-RPC error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RpcReason {
    /// -32001.
    TaskNotFound,
    /// -32002.
    TaskNotCancelable,
    /// -32003.
    PushNotificationNotSupported,
    /// -32004.
    UnsupportedOperation,
    /// -32005.
    ContentTypeNotSupported,
    /// -32006.
    InvalidAgentResponse,
    /// -32007.
    ExtendedAgentCardNotConfigured,
    /// -32008.
    ExtensionSupportRequired,
    /// -32009.
    VersionNotSupported,
    /// -32601.
    MethodNotFound,
    /// -32602.
    InvalidParams,
    /// -32600.
    InvalidRequest,
    /// -32700.
    ParseError,
    /// -32603.
    InternalError,
    /// Any other code, or none.
    Other,
}

impl RpcReason {
    /// The reason of a JSON-RPC error code.
    pub(crate) fn of(code: Option<i64>) -> RpcReason {
        match code {
            Some(-32001) => RpcReason::TaskNotFound,
            Some(-32002) => RpcReason::TaskNotCancelable,
            Some(-32003) => RpcReason::PushNotificationNotSupported,
            Some(-32004) => RpcReason::UnsupportedOperation,
            Some(-32005) => RpcReason::ContentTypeNotSupported,
            Some(-32006) => RpcReason::InvalidAgentResponse,
            Some(-32007) => RpcReason::ExtendedAgentCardNotConfigured,
            Some(-32008) => RpcReason::ExtensionSupportRequired,
            Some(-32009) => RpcReason::VersionNotSupported,
            Some(-32601) => RpcReason::MethodNotFound,
            Some(-32602) => RpcReason::InvalidParams,
            Some(-32600) => RpcReason::InvalidRequest,
            Some(-32700) => RpcReason::ParseError,
            Some(-32603) => RpcReason::InternalError,
            _ => RpcReason::Other,
        }
    }
}

/// The Python client's detail text of a JSON-RPC error.
pub(crate) fn rpc_error_detail(code: Option<i64>, message: &str) -> String {
    match (message.is_empty(), code) {
        (false, Some(code)) => format!("{message} (code={code})"),
        (false, None) => message.to_owned(),
        (true, Some(code)) => format!("JSON-RPC error with no message (code={code})"),
        (true, None) => "JSON-RPC error with no message".to_owned(),
    }
}

/// JSON cut to 200 characters, like the Python client's `str(data)[:200]`.
pub(crate) fn short(value: &Value) -> String {
    crate::error::excerpt(crate::platform::json_text(value).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text_body(protocol: Protocol, call: Call, ids: &SendIds, text: &str) -> Vec<u8> {
        let message = crate::message::Message::text(text);
        message_body(protocol, call, ids, &crate::message::check(&message).unwrap())
    }

    #[test]
    fn a_tenant_is_named_in_the_params_of_any_request_only_when_there_is_one() {
        let body = task_body(Protocol::V1_0, Call::GetTask, "r1", "t1");
        assert_eq!(Spoken::from(Protocol::V1_0).stamp(body.clone()), body, "untouched without a tenant");
        let spoken = Spoken { protocol: Protocol::V1_0, tenant: Some("acme".into()), ..Default::default() };
        let stamped: Value = serde_json::from_slice(&spoken.stamp(body)).unwrap();
        assert_eq!(stamped["params"], serde_json::json!({"id": "t1", "tenant": "acme"}));
        assert_eq!(stamped["method"], "GetTask");
        let card: Value = serde_json::from_slice(&spoken.stamp(extended_card_body(Protocol::V1_0, "r2"))).unwrap();
        assert_eq!(card["params"], serde_json::json!({"tenant": "acme"}));
    }

    #[test]
    fn request_bodies_are_the_json_they_always_were() {
        let ids = SendIds { request_id: "r-1".into(), message_id: "m-1".into() };
        let text = "say \"hi\"\n\u{1F600}";
        for (protocol, role, part) in [
            (Protocol::V0_3, "user", json!({"kind": "text", "text": text})),
            (Protocol::V1_0, "ROLE_USER", json!({"text": text})),
        ] {
            for call in [Call::Send, Call::Stream] {
                let want = json!({"jsonrpc": "2.0", "id": "r-1", "method": protocol.method(call),
                    "params": {"message": {"role": role, "messageId": "m-1", "parts": [part.clone()]}}});
                assert_eq!(String::from_utf8(text_body(protocol, call, &ids, text)).unwrap(), want.to_string());
            }
            for call in [Call::GetTask, Call::CancelTask] {
                let want =
                    json!({"jsonrpc": "2.0", "id": "r-2", "method": protocol.method(call), "params": {"id": "t/1"}});
                assert_eq!(String::from_utf8(task_body(protocol, call, "r-2", "t/1")).unwrap(), want.to_string());
            }
        }
    }

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
        // Well-formed, no text: a success with empty text.
        for result in [
            json!({"kind": "message", "parts": []}),
            json!({"kind": "message"}),
            json!({"kind": "message", "parts": [{"kind": "file", "file": {"uri": "x"}}]}),
            json!({"message": {"parts": [{"data": {"a": 1}}]}}),
            json!({"message": {"parts": [{"text": null, "url": "https://x/f.pdf", "mediaType": "application/pdf"}]}}),
            json!({"message": {"parts": [{"kind": null, "data": {"a": 1}}]}}),
        ] {
            let r = reply(json!({"result": result}));
            assert!(matches!(r, Outcome::Reply(Reply { ref text, .. }) if text.is_empty()), "{result}: {r:?}");
        }
    }

    #[test]
    fn malformed_parts_are_a_shape_error_naming_the_part() {
        let cases = [
            (json!({"kind": "message", "parts": ["just a string"]}), "result.parts[0] is not an object"),
            (
                json!({"kind": "message", "parts": [{"kind": "text", "text": null}]}),
                "result.parts[0].text is not a string",
            ),
            (json!({"kind": "message", "parts": [{"kind": "text"}]}), "result.parts[0].text is not a string: nothing"),
            (
                json!({"kind": "message", "parts": [{"kind": "text", "text": "ok"}, {"kind": 7}]}),
                "result.parts[1].kind is not a string",
            ),
            (json!({"kind": "message", "parts": {"0": "x"}}), "result.parts is not a list"),
            (json!({"message": {"parts": [7]}}), "result.message.parts[0] is not an object"),
            (
                json!({"kind": "task", "status": {"state": "completed", "message": {"parts": "x"}}}),
                "result.status.message.parts is not a list",
            ),
            (
                json!({"kind": "task", "status": {"state": "completed", "message": "done"}}),
                "result.status.message is not an object",
            ),
            (
                json!({"task": {"status": {"state": "TASK_STATE_COMPLETED"}, "artifacts": [{"parts": [{"text": 1}]}]}}),
                "result.task.artifacts[0].parts[0].text is not a string",
            ),
            (json!({"kind": "task", "status": {}, "artifacts": {"a": 1}}), "result.artifacts is not a list"),
        ];
        for (result, want) in cases {
            match reply(json!({"result": result})) {
                Outcome::Shape(detail) => assert!(detail.starts_with(want), "{detail:?} should start with {want:?}"),
                other => panic!("{result}: {other:?}"),
            }
        }
        // Stream events are read by the same rules.
        let event = json!({"result": {"kind": "status-update", "taskId": "t", "status": {"state": "working", "message": {"parts": [null]}}}});
        assert!(
            matches!(read_stream_event(&event), Err(Outcome::Shape(d)) if d.starts_with("result.status.message.parts[0] is not an object"))
        );
        let event = json!({"result": {"artifactUpdate": {"taskId": "t", "artifact": {"parts": [{"text": false}]}}}});
        assert!(
            matches!(read_stream_event(&event), Err(Outcome::Shape(d)) if d.starts_with("result.artifactUpdate.artifact.parts[0].text is not a string"))
        );
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
                        state: "completed".into(),
                        artifacts: vec![Artifact {
                            id: Some("a".into()),
                            name: Some("echo-result".into()),
                            parts: vec![Part::Text("BUILD IT".into())]
                        }],
                    }
                );
                assert_eq!(r.parts, vec![Part::Text("done: build it".into())]);
                assert!(r.raw.contains("\"history\""));
            }
            other => panic!("{other:?}"),
        }
        let r = reply(json!({"result": {"kind": "task", "id": "t", "status": {"state": "working"}}}));
        assert!(matches!(r, Outcome::Reply(Reply { ref text, .. }) if text.is_empty()));
    }

    #[test]
    fn request_bodies_in_both_versions() {
        let ids = SendIds { request_id: "r-1".into(), message_id: "m-1".into() };
        let body: Value = serde_json::from_slice(&text_body(Protocol::V1_0, Call::Send, &ids, "hi")).unwrap();
        assert_eq!(
            body,
            json!({"jsonrpc": "2.0", "id": "r-1", "method": "SendMessage", "params": {"message": {
                "role": "ROLE_USER", "messageId": "m-1", "parts": [{"text": "hi"}]}}})
        );
        let body: Value = serde_json::from_slice(&text_body(Protocol::V0_3, Call::Stream, &ids, "hi")).unwrap();
        assert_eq!(body["method"], "message/stream");
        let body: Value = serde_json::from_slice(&text_body(Protocol::V1_0, Call::Stream, &ids, "hi")).unwrap();
        assert_eq!(body["method"], "SendStreamingMessage");
        for (protocol, call, method) in [
            (Protocol::V0_3, Call::GetTask, "tasks/get"),
            (Protocol::V0_3, Call::CancelTask, "tasks/cancel"),
            (Protocol::V1_0, Call::GetTask, "GetTask"),
            (Protocol::V1_0, Call::CancelTask, "CancelTask"),
            (Protocol::V0_3, Call::Subscribe, "tasks/resubscribe"),
            (Protocol::V1_0, Call::Subscribe, "SubscribeToTask"),
        ] {
            let body: Value = serde_json::from_slice(&task_body(protocol, call, "r-2", "t-9")).unwrap();
            assert_eq!(body, json!({"jsonrpc": "2.0", "id": "r-2", "method": method, "params": {"id": "t-9"}}));
        }
        assert_eq!(Protocol::V0_3.version_header(), None);
        assert_eq!(Protocol::V1_0.version_header(), Some(("a2a-version", "1.0".into())));
    }

    #[test]
    fn v1_results_read_like_v0_3_ones() {
        let r = reply(
            json!({"jsonrpc": "2.0", "id": "req-3", "result": {"message": {"messageId": "m", "role": "ROLE_AGENT",
            "parts": [{"text": "echo: hello peer"}, {"data": {"x": 1}}, {"text": "two"}]}}}),
        );
        assert!(
            matches!(r, Outcome::Reply(Reply { ref text, kind: ReplyKind::Message, .. }) if text == "echo: hello peer\ntwo"),
            "{r:?}"
        );
        let r = reply(json!({"jsonrpc": "2.0", "id": "req-4", "result": {"task": {"id": "t-1", "contextId": "c-1",
            "status": {"state": "TASK_STATE_COMPLETED", "message": {"role": "ROLE_AGENT", "parts": [{"text": "done"}]}},
            "artifacts": [{"artifactId": "a", "parts": [{"text": "BUILD IT"}]}]}}}));
        match r {
            Outcome::Reply(r) => {
                assert_eq!(r.text, "done\nBUILD IT");
                assert_eq!(
                    r.kind,
                    ReplyKind::Task {
                        id: Some("t-1".into()),
                        context_id: Some("c-1".into()),
                        state: "completed".into(),
                        artifacts: vec![Artifact {
                            id: Some("a".into()),
                            name: None,
                            parts: vec![Part::Text("BUILD IT".into())]
                        }],
                    }
                );
            }
            other => panic!("{other:?}"),
        }
        // GetTask / CancelTask answer with the bare Task.
        let r = reply(json!({"result": {"id": "t-2", "status": {"state": "TASK_STATE_INPUT_REQUIRED"}}}));
        assert!(
            matches!(r, Outcome::Reply(Reply { kind: ReplyKind::Task { ref state, .. }, .. }) if state == "input-required"),
            "{r:?}"
        );
        for (v1, v03) in [
            ("TASK_STATE_SUBMITTED", "submitted"),
            ("TASK_STATE_WORKING", "working"),
            ("TASK_STATE_CANCELLED", "canceled"),
            ("TASK_STATE_CANCELED", "canceled"),
            ("TASK_STATE_AUTH_REQUIRED", "auth-required"),
            ("TASK_STATE_UNSPECIFIED", "unspecified"),
            ("failed", "failed"),
        ] {
            assert_eq!(normalize_state(v1), v03);
        }
        // A result that wraps both, or neither, is read as it is.
        assert!(matches!(
            reply(json!({"result": {"task": {}, "message": {}}})),
            Outcome::Reply(Reply { kind: ReplyKind::Message, .. })
        ));
    }

    #[test]
    fn stream_events_of_both_versions() {
        let ev = |v: Value| read_stream_event(&v);
        // v0.3, as the a2a-sdk 1.3.0 server streams them.
        let e = ev(json!({"id": "8", "jsonrpc": "2.0", "result": {"kind": "task", "id": "t", "contextId": "c", "status": {"state": "submitted"}}})).unwrap();
        assert_eq!(
            e,
            StreamEvent::Task {
                id: Some("t".into()),
                context_id: Some("c".into()),
                state: "submitted".into(),
                text: String::new(),
                parts: vec![],
                artifacts: vec![],
            }
        );
        assert!(!e.ends_stream());
        let e = ev(
            json!({"result": {"kind": "status-update", "taskId": "t", "final": false, "status": {"state": "working"}}}),
        )
        .unwrap();
        assert!(matches!(&e, StreamEvent::StatusUpdate { state, is_final: false, .. } if state == "working"));
        let e = ev(json!({"result": {"kind": "artifact-update", "taskId": "t", "append": false, "lastChunk": true,
            "artifact": {"artifactId": "a", "name": "chunk-0", "parts": [{"kind": "text", "text": "chunk 0"}]}}}))
        .unwrap();
        assert_eq!(
            e,
            StreamEvent::ArtifactUpdate {
                task_id: Some("t".into()),
                artifact_id: Some("a".into()),
                name: Some("chunk-0".into()),
                text: "chunk 0".into(),
                parts: vec![Part::Text("chunk 0".into())],
                append: false,
                last_chunk: true
            }
        );
        let e = ev(
            json!({"result": {"kind": "status-update", "taskId": "t", "final": true, "status": {"state": "completed",
            "message": {"kind": "message", "parts": [{"kind": "text", "text": "streamed 1"}]}}}}),
        )
        .unwrap();
        assert!(e.ends_stream() && matches!(&e, StreamEvent::StatusUpdate { text, .. } if text == "streamed 1"));
        // v1.0: wrapped, upper-case, no `final` flag (a settled state ends the stream).
        let e = ev(json!({"result": {"statusUpdate": {"taskId": "t", "status": {"state": "TASK_STATE_WORKING"}}}}))
            .unwrap();
        assert!(!e.ends_stream());
        let e = ev(json!({"result": {"statusUpdate": {"taskId": "t", "status": {"state": "TASK_STATE_COMPLETED"}}}}))
            .unwrap();
        assert!(e.ends_stream());
        let e =
            ev(json!({"result": {"artifactUpdate": {"taskId": "t", "artifact": {"parts": [{"text": "x"}]}}}})).unwrap();
        assert!(matches!(&e, StreamEvent::ArtifactUpdate { text, .. } if text == "x"));
        let e = ev(json!({"result": {"message": {"role": "ROLE_AGENT", "parts": [{"text": "hi"}]}}})).unwrap();
        assert_eq!(e, StreamEvent::Message { text: "hi".into(), parts: vec![Part::Text("hi".into())], metadata: None });
        assert!(e.ends_stream());
        // Errors and odd shapes.
        assert!(matches!(
            ev(json!({"error": {"code": -32001, "message": "Task not found"}})),
            Err(Outcome::RpcError { code: Some(-32001), .. })
        ));
        assert!(matches!(ev(json!({"result": {"kind": "weird"}})), Err(Outcome::Shape(_))));
        assert!(matches!(ev(json!({"result": {"a": {}, "b": {}}})), Err(Outcome::Shape(_))));
        assert!(matches!(ev(json!({"result": 7})), Err(Outcome::Shape(_))));
        assert!(matches!(ev(json!([])), Err(Outcome::Shape(_))));
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
        assert_eq!(RpcReason::of(Some(-32001)), RpcReason::TaskNotFound);
        assert_eq!(RpcReason::of(Some(-32002)), RpcReason::TaskNotCancelable);
        assert_eq!(RpcReason::of(Some(-32601)), RpcReason::MethodNotFound);
        assert_eq!(RpcReason::of(Some(-32000)), RpcReason::Other);
        assert_eq!(RpcReason::of(None), RpcReason::Other);
        assert_eq!(rpc_error_detail(None, "x"), "x");
        assert_eq!(rpc_error_detail(Some(7), ""), "JSON-RPC error with no message (code=7)");
        assert_eq!(rpc_error_detail(None, ""), "JSON-RPC error with no message");
        // The platform's own error body has a string `error`, not a JSON-RPC
        // error object: it must still read as an error with that message.
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
