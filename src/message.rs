//! What a message holds: the parts of an outgoing message (text, structured
//! data, files), the task and context it continues and its metadata —
//! checked before anything is sent, then written in either protocol version
//! — and the parts of a reply, read typed.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::a2a::Protocol;
use crate::base64;
use crate::error::ErrorKind;
use crate::ids::validate_task_id;

/// One part of a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Part {
    /// Text.
    Text(String),
    /// Structured data as JSON text (an object, in a message we send).
    Data(String),
    /// A file, inline or by URI.
    File(FilePart),
}

/// A file part.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FilePart {
    /// File name.
    pub name: Option<String>,
    /// Media type (`application/pdf`).
    pub media_type: Option<String>,
    /// The bytes, or where to get them.
    pub content: FileContent,
}

/// A file's content.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum FileContent {
    /// Inline (base64 on the wire).
    Bytes(Vec<u8>),
    /// By reference.
    Uri(String),
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Message {
    /// Its parts, in order; at least one.
    pub parts: Vec<Part>,
    /// The task it continues (e.g. one that asked for input).
    pub task_id: Option<String>,
    /// The conversation it belongs to.
    pub context_id: Option<String>,
    /// Earlier tasks it refers to.
    pub reference_task_ids: Vec<String>,
    /// A JSON object as JSON text.
    pub metadata: Option<String>,
}

impl Message {
    /// A message of one text part (what `send-message` sends).
    pub(crate) fn text(text: &str) -> Self {
        Message { parts: vec![Part::Text(text.to_owned())], ..Default::default() }
    }
}

/// A message that passed [`check`], its JSON texts parsed.
pub(crate) struct Checked<'a> {
    message: &'a Message,
    /// The value of each data part, in order.
    data: Vec<Value>,
    metadata: Option<Value>,
}

/// Checks everything about `message` that can be checked before sending:
/// at least one part, data parts and metadata that are JSON objects, files
/// with usable names, media types and URIs, usable task and context ids.
pub(crate) fn check(message: &Message) -> Result<Checked<'_>, ErrorKind> {
    let invalid = ErrorKind::InvalidMessage;
    if message.parts.is_empty() {
        return Err(invalid("a message needs at least one part".into()));
    }
    let mut data = Vec::new();
    for (i, part) in message.parts.iter().enumerate() {
        match part {
            Part::Text(_) => {}
            Part::Data(text) => data.push(json_object(text).map_err(|why| invalid(format!("part {i}: data {why}")))?),
            Part::File(file) => check_file(file).map_err(|why| invalid(format!("part {i}: file {why}")))?,
        }
    }
    for (param, id) in [("task-id", &message.task_id), ("context-id", &message.context_id)] {
        if let Some(id) = id.as_deref().filter(|id| validate_task_id(id).is_none()) {
            return Err(ErrorKind::invalid_id(param, id));
        }
    }
    if let Some(id) = message.reference_task_ids.iter().find(|id| validate_task_id(id).is_none()) {
        return Err(ErrorKind::invalid_id("reference-task-ids", id));
    }
    let metadata =
        message.metadata.as_deref().map(json_object).transpose().map_err(|why| invalid(format!("metadata {why}")))?;
    Ok(Checked { message, data, metadata })
}

/// Parses `text` as a JSON object; otherwise says what it is.
fn json_object(text: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(other) => Err(format!("is not a JSON object: {}", crate::a2a::short(&other))),
        Err(e) => Err(format!("is not JSON: {e}")),
    }
}

fn check_file(file: &FilePart) -> Result<(), String> {
    let clean = |text: &str| !text.chars().any(char::is_control);
    if !file.name.as_deref().is_none_or(clean) {
        return Err("name has a control character".into());
    }
    if !file.media_type.as_deref().is_none_or(|t| clean(t) && !t.trim().is_empty()) {
        return Err("media type is empty or has a control character".into());
    }
    match &file.content {
        FileContent::Bytes(_) => Ok(()),
        FileContent::Uri(uri) if uri.is_empty() || uri.chars().any(|c| c.is_control() || c.is_whitespace()) => {
            Err(format!("uri is empty or has a space or control character: {}", crate::ids::quote_input(uri, 80)))
        }
        FileContent::Uri(_) => Ok(()),
    }
}

/// The `message` object of a request, keys in sorted order (a plain text
/// message gives the same bytes as ever: `messageId`, `parts`, `role`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireMessage<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    context_id: Option<&'a str>,
    message_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a Value>,
    parts: Vec<WirePart<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    reference_task_ids: &'a [String],
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    task_id: Option<&'a str>,
}

/// One part on the wire: v0.3 tags it (`kind`), v1.0 names it by the member
/// present.
#[derive(Serialize)]
#[serde(untagged)]
enum WirePart<'a> {
    Text {
        #[serde(skip_serializing_if = "Option::is_none")]
        kind: Option<&'static str>,
        text: &'a str,
    },
    Data {
        data: &'a Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        kind: Option<&'static str>,
    },
    File(Value),
}

impl Checked<'_> {
    /// The message as a request in `protocol` carries it.
    pub(crate) fn wire<'b>(&'b self, protocol: Protocol, message_id: &'b str) -> WireMessage<'b> {
        let v03 = protocol == Protocol::V0_3;
        let mut data = self.data.iter();
        let parts = self
            .message
            .parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => WirePart::Text { kind: v03.then_some("text"), text },
                Part::Data(_) => WirePart::Data {
                    data: data.next().expect("check parsed every data part"),
                    kind: v03.then_some("data"),
                },
                Part::File(file) => WirePart::File(wire_file(file, v03)),
            })
            .collect();
        let m = self.message;
        WireMessage {
            context_id: m.context_id.as_deref(),
            message_id,
            metadata: self.metadata.as_ref(),
            parts,
            reference_task_ids: &m.reference_task_ids,
            role: if v03 { "user" } else { "ROLE_USER" },
            task_id: m.task_id.as_deref(),
        }
    }
}

/// v0.3: `{"file": {"bytes" | "uri", "mimeType", "name"}, "kind": "file"}`;
/// v1.0: `{"filename", "mediaType", "raw" | "url"}`.
fn wire_file(file: &FilePart, v03: bool) -> Value {
    let mut fields = Map::new();
    let (name, media_type) = if v03 { ("name", "mimeType") } else { ("filename", "mediaType") };
    if let Some(n) = file.name.as_ref().filter(|n| !n.is_empty()) {
        fields.insert(name.into(), n.as_str().into());
    }
    if let Some(t) = &file.media_type {
        fields.insert(media_type.into(), t.as_str().into());
    }
    let (key, value) = match (&file.content, v03) {
        (FileContent::Bytes(bytes), true) => ("bytes", base64::encode(bytes)),
        (FileContent::Bytes(bytes), false) => ("raw", base64::encode(bytes)),
        (FileContent::Uri(uri), true) => ("uri", uri.clone()),
        (FileContent::Uri(uri), false) => ("url", uri.clone()),
    };
    fields.insert(key.into(), value.into());
    if v03 {
        json!({"file": fields, "kind": "file"})
    } else {
        Value::Object(fields)
    }
}

/// The parts of a `parts` list, typed and in order; no list reads as no
/// parts, and a part of a kind this client does not know is skipped. A
/// malformed list is an error naming where, relative to `parts` (a broken
/// reply must not pass for an empty one).
pub(crate) fn read_parts(parts: Option<&Value>) -> Result<Vec<Part>, String> {
    let Some(parts) = parts.filter(|p| !p.is_null()) else { return Ok(Vec::new()) };
    let Value::Array(parts) = parts else { return Err(format!(" is not a list: {}", crate::a2a::short(parts))) };
    let mut out = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let Value::Object(part) = part else {
            return Err(format!("[{i}] is not an object: {}", crate::a2a::short(part)));
        };
        if let Some(read) = read_part(part).map_err(|e| format!("[{i}]{e}"))? {
            out.push(read);
        }
    }
    Ok(out)
}

/// The text parts of `parts`, joined by newlines.
pub(crate) fn text_of<'p>(parts: impl IntoIterator<Item = &'p Part>) -> String {
    let mut texts = parts.into_iter().filter_map(|p| match p {
        Part::Text(text) => Some(text.as_str()),
        _ => None,
    });
    let mut out = texts.next().unwrap_or_default().to_owned();
    for text in texts {
        out.push('\n');
        out.push_str(text);
    }
    out
}

/// A member that is present (serialisers that write unset members as
/// `null` are read as absent).
fn member<'v>(part: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    part.get(key).filter(|v| !v.is_null())
}

fn read_part(part: &Map<String, Value>) -> Result<Option<Part>, String> {
    let kind = match member(part, "kind") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(other) => return Err(format!(".kind is not a string: {}", crate::a2a::short(other))),
        // v1.0: the member present names the type.
        None => ["text", "data", "raw", "url"].into_iter().find(|k| member(part, k).is_some()).unwrap_or(""),
    };
    let string = |at: &str, value: Option<&Value>| match value {
        Some(Value::String(s)) => Ok(s.clone()),
        other => Err(format!(".{at} is not a string: {}", other.map_or_else(|| "nothing".into(), crate::a2a::short))),
    };
    Ok(Some(match kind {
        "text" => Part::Text(string("text", part.get("text"))?),
        "data" => Part::Data(crate::platform::json_text(part.get("data").unwrap_or(&Value::Null))),
        // v0.3: the file in its own object.
        "file" => {
            let Some(Value::Object(file)) = member(part, "file") else {
                return Err(".file is not an object".into());
            };
            read_file(file, ("name", "mimeType"), ("bytes", "uri")).map_err(|e| format!(".file{e}"))?
        }
        "raw" | "url" => read_file(part, ("filename", "mediaType"), ("raw", "url"))?,
        _ => return Ok(None),
    }))
}

fn read_file(
    file: &Map<String, Value>,
    (name_key, media_key): (&str, &str),
    (bytes_key, uri_key): (&str, &str),
) -> Result<Part, String> {
    let optional = |key: &str| match member(file, key) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(".{key} is not a string: {}", crate::a2a::short(other))),
    };
    let content = match (member(file, bytes_key), member(file, uri_key)) {
        (Some(Value::String(coded)), _) => FileContent::Bytes(
            base64::decode(coded)
                .ok_or_else(|| format!(".{bytes_key} is not base64: {}", crate::ids::quote_input(coded, 40)))?,
        ),
        (None, Some(Value::String(uri))) => FileContent::Uri(uri.clone()),
        _ => return Err(format!(" has neither {bytes_key} nor {uri_key} as a string")),
    };
    Ok(Part::File(FilePart { name: optional(name_key)?, media_type: optional(media_key)?, content }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::json_text;

    fn data(text: &str) -> Part {
        Part::Data(text.into())
    }

    fn file(content: FileContent) -> Part {
        Part::File(FilePart { name: Some("a.txt".into()), media_type: Some("text/plain".into()), content })
    }

    fn wire(m: &Message, protocol: Protocol) -> String {
        json_text(&check(m).unwrap().wire(protocol, "mid"))
    }

    #[test]
    fn a_text_message_is_written_as_ever() {
        let m = Message::text("hi");
        assert_eq!(
            wire(&m, Protocol::V0_3),
            r#"{"messageId":"mid","parts":[{"kind":"text","text":"hi"}],"role":"user"}"#
        );
        assert_eq!(wire(&m, Protocol::V1_0), r#"{"messageId":"mid","parts":[{"text":"hi"}],"role":"ROLE_USER"}"#);
    }

    #[test]
    fn every_part_and_field_in_both_versions() {
        let m = Message {
            parts: vec![
                Part::Text("see".into()),
                data(r#"{"n": 1, "x": [true]}"#),
                file(FileContent::Bytes(b"hello".to_vec())),
                file(FileContent::Uri("https://x/a.txt".into())),
            ],
            task_id: Some("t-1".into()),
            context_id: Some("c-1".into()),
            reference_task_ids: vec!["t-0".into()],
            metadata: Some(r#"{"k":"v"}"#.into()),
        };
        assert_eq!(
            wire(&m, Protocol::V0_3),
            concat!(
                r#"{"contextId":"c-1","messageId":"mid","metadata":{"k":"v"},"parts":["#,
                r#"{"kind":"text","text":"see"},{"data":{"n":1,"x":[true]},"kind":"data"},"#,
                r#"{"file":{"bytes":"aGVsbG8=","mimeType":"text/plain","name":"a.txt"},"kind":"file"},"#,
                r#"{"file":{"mimeType":"text/plain","name":"a.txt","uri":"https://x/a.txt"},"kind":"file"}],"#,
                r#""referenceTaskIds":["t-0"],"role":"user","taskId":"t-1"}"#
            )
        );
        assert_eq!(
            wire(&m, Protocol::V1_0),
            concat!(
                r#"{"contextId":"c-1","messageId":"mid","metadata":{"k":"v"},"parts":["#,
                r#"{"text":"see"},{"data":{"n":1,"x":[true]}},"#,
                r#"{"filename":"a.txt","mediaType":"text/plain","raw":"aGVsbG8="},"#,
                r#"{"filename":"a.txt","mediaType":"text/plain","url":"https://x/a.txt"}],"#,
                r#""referenceTaskIds":["t-0"],"role":"ROLE_USER","taskId":"t-1"}"#
            )
        );
    }

    #[test]
    fn bad_messages_are_refused_saying_where() {
        let with = |parts: Vec<Part>| Message { parts, ..Default::default() };
        let cases: Vec<(Message, &str)> = vec![
            (with(vec![]), "a message needs at least one part"),
            (with(vec![Part::Text("a".into()), data("[1]")]), "part 1: data is not a JSON object: [1]"),
            (with(vec![data("{")]), "part 0: data is not JSON: EOF while parsing an object at line 1 column 1"),
            (
                with(vec![file(FileContent::Uri("".into()))]),
                "part 0: file uri is empty or has a space or control character: ''",
            ),
            (
                with(vec![Part::File(FilePart {
                    name: Some("a\nb".into()),
                    media_type: None,
                    content: FileContent::Bytes(vec![]),
                })]),
                "part 0: file name has a control character",
            ),
            (Message { metadata: Some("7".into()), ..Message::text("x") }, "metadata is not a JSON object: 7"),
        ];
        for (m, want) in cases {
            match check(&m) {
                Err(ErrorKind::InvalidMessage(why)) => assert_eq!(why, want),
                Err(other) => panic!("{want}: {other:?}"),
                Ok(_) => panic!("{want}: accepted"),
            }
        }
        for (m, param) in [
            (Message { task_id: Some("".into()), ..Message::text("x") }, "task-id"),
            (Message { context_id: Some("a\u{0}".into()), ..Message::text("x") }, "context-id"),
            (
                Message { reference_task_ids: vec!["ok".into(), "x".repeat(300)], ..Message::text("x") },
                "reference-task-ids",
            ),
        ] {
            assert!(matches!(check(&m), Err(ErrorKind::InvalidId { param: p, .. }) if p == param), "{param}");
        }
    }

    #[test]
    fn parts_are_read_typed_in_both_versions() {
        let v03 = serde_json::json!([
            {"kind": "text", "text": "a"},
            {"kind": "data", "data": {"n": 4326.0}},
            {"kind": "file", "file": {"bytes": "aGVsbG8=", "name": "h.txt", "mimeType": "text/plain"}},
            {"kind": "file", "file": {"uri": "https://x/y"}},
            {"kind": "future-kind", "x": 1},
        ]);
        let v10 = serde_json::json!([
            {"text": "a"},
            {"data": {"n": 4326.0}},
            {"raw": "aGVsbG8=", "filename": "h.txt", "mediaType": "text/plain"},
            {"url": "https://x/y", "filename": "", "mediaType": null},
            {"somethingNew": 1},
        ]);
        let want = vec![
            Part::Text("a".into()),
            Part::Data(r#"{"n":4326.0}"#.into()),
            Part::File(FilePart {
                name: Some("h.txt".into()),
                media_type: Some("text/plain".into()),
                content: FileContent::Bytes(b"hello".to_vec()),
            }),
            Part::File(FilePart { name: None, media_type: None, content: FileContent::Uri("https://x/y".into()) }),
        ];
        assert_eq!(read_parts(Some(&v03)).unwrap(), want);
        assert_eq!(read_parts(Some(&v10)).unwrap(), want);
        assert_eq!(text_of(&want), "a");
    }

    #[test]
    fn malformed_parts_are_errors_naming_the_part() {
        for (parts, want) in [
            (serde_json::json!([{"kind": "file", "file": {"bytes": "!!"}}]), "[0].file.bytes is not base64: '!!'"),
            (serde_json::json!([{"text": "a"}, {"kind": "file"}]), "[1].file is not an object"),
            (serde_json::json!([{"raw": 7}]), "[0] has neither raw nor url as a string"),
            (serde_json::json!([{"kind": "text", "text": 7}]), "[0].text is not a string: 7"),
        ] {
            assert_eq!(read_parts(Some(&parts)).unwrap_err(), want);
        }
    }
}
