//! A peer's A2A agent card, read from its registry record: the record's
//! `agent_card` object when it has one, else the record itself (a registry
//! that serves the card as the record). Both A2A versions' fields are read:
//! v0.3's `protocolVersion`, v1.0's `supportedInterfaces[].protocolVersion`.

use serde_json::Value;

/// Most skills and protocol versions read from one card (the card is
/// bounded by the body cap already; this bounds the typed copy).
const MAX_ITEMS: usize = 256;

/// One skill a card lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skill {
    /// Skill id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// What it does.
    pub description: Option<String>,
}

/// The fields of an agent card a client acts on, and the card itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AgentCard {
    /// The agent's name.
    pub name: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// The agent's own version.
    pub version: Option<String>,
    /// A2A versions listed, in order, without repeats.
    pub protocol_versions: Vec<String>,
    /// `capabilities.streaming`.
    pub streaming: bool,
    /// Skills (those with an id).
    pub skills: Vec<Skill>,
    /// The card as JSON text.
    pub raw: String,
}

impl AgentCard {
    /// Whether the card lists A2A 1.x.
    pub(crate) fn speaks_v1(&self) -> bool {
        self.protocol_versions.iter().any(|v| v == "1" || v.starts_with("1."))
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Reads the card of a registry record (the record as JSON text).
pub(crate) fn from_record(record: &str) -> Option<AgentCard> {
    let record: Value = serde_json::from_str(record).ok()?;
    let card = match record.get("agent_card") {
        Some(card @ Value::Object(_)) => card,
        _ => &record,
    };
    Some(read(card))
}

/// Reads a card object.
pub(crate) fn read(card: &Value) -> AgentCard {
    let mut versions: Vec<String> = Vec::new();
    let interfaces = card.get("supportedInterfaces").and_then(Value::as_array).into_iter().flatten();
    let listed = std::iter::once(card).chain(interfaces).filter_map(|v| v.get("protocolVersion")?.as_str());
    for v in listed.take(MAX_ITEMS) {
        if !versions.iter().any(|seen| seen == v) {
            versions.push(v.to_owned());
        }
    }
    let skills = card
        .get("skills")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| Some(Skill { id: text(s, "id")?, name: text(s, "name"), description: text(s, "description") }))
        .take(MAX_ITEMS)
        .collect();
    AgentCard {
        name: text(card, "name"),
        description: text(card, "description"),
        version: text(card, "version"),
        protocol_versions: versions,
        streaming: card.pointer("/capabilities/streaming").and_then(Value::as_bool).unwrap_or(false),
        skills,
        raw: crate::platform::json_text(card),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_what_the_sdk_serves() {
        // As the a2a-sdk 1.3.0 server serves it (v1.0 fields and v0.3 compat).
        let card = json!({"name": "SDK Echo", "description": "Echoes", "version": "1.3.0-test",
            "supportedInterfaces": [{"url": "http://x/", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
                                    {"url": "http://x/", "protocolBinding": "JSONRPC", "protocolVersion": "0.3"}],
            "capabilities": {"streaming": true},
            "skills": [{"id": "echo", "name": "Echo", "description": "Says it back"}, {"name": "no id"}],
            "protocolVersion": "0.3", "url": "http://x/"});
        let record = json!({"id": "p", "name": "SDK Echo", "agent_card": card}).to_string();
        let read = from_record(&record).unwrap();
        assert_eq!(read.name.as_deref(), Some("SDK Echo"));
        assert_eq!(read.version.as_deref(), Some("1.3.0-test"));
        assert_eq!(read.protocol_versions, ["0.3", "1.0"]);
        assert!(read.streaming && read.speaks_v1());
        assert_eq!(
            read.skills,
            [Skill { id: "echo".into(), name: Some("Echo".into()), description: Some("Says it back".into()) }]
        );
        assert_eq!(serde_json::from_str::<Value>(&read.raw).unwrap(), card);
    }

    #[test]
    fn a_record_without_a_card_reads_as_one_that_lists_nothing() {
        let read = from_record(&json!({"id": "p", "url": "http://peer", "name": "Builder"}).to_string()).unwrap();
        assert_eq!(read.name.as_deref(), Some("Builder"));
        assert!(read.protocol_versions.is_empty() && !read.streaming && !read.speaks_v1());
        let v03 = from_record(&json!({"agent_card": {"protocolVersion": "0.3.0"}}).to_string()).unwrap();
        assert!(!v03.speaks_v1());
        // Wrong types are skipped, not errors.
        let odd = from_record(
            &json!({"agent_card": {"name": 7, "skills": "x", "capabilities": {"streaming": "yes"},
            "supportedInterfaces": [{"protocolVersion": 1}]}})
            .to_string(),
        )
        .unwrap();
        assert_eq!((odd.name, odd.skills.len(), odd.streaming, odd.protocol_versions.len()), (None, 0, false, 0));
        assert!(from_record("not json").is_none());
    }
}
