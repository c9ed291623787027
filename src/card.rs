//! A peer's A2A agent card, read from its registry record: the record's
//! `agent_card` object when it has one, else the record itself (a registry
//! that serves the card as the record). Both A2A versions' fields are read:
//! v0.3's `protocolVersion`, v1.0's `supportedInterfaces[].protocolVersion`.

use serde_json::Value;

use crate::a2a::Protocol;

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

/// One `supportedInterfaces` entry: how to reach the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Interface {
    /// `protocolBinding` (`JSONRPC`, `GRPC`, `HTTP+JSON`); none when unsaid.
    pub binding: Option<String>,
    /// `protocolVersion`.
    pub version: Option<String>,
    /// `tenant`, sent with every v1.0 request through this interface.
    pub tenant: Option<String>,
}

impl Interface {
    /// The version of this interface the client speaks: a JSON-RPC one (or
    /// one that names no binding) in A2A 1.x or 0.3.x.
    fn spoken(&self) -> Option<Protocol> {
        if self.binding.as_deref().is_some_and(|b| !b.eq_ignore_ascii_case("JSONRPC")) {
            return None;
        }
        version_of(self.version.as_deref()?)
    }
}

fn version_of(v: &str) -> Option<Protocol> {
    if v == "1" || v.starts_with("1.") {
        Some(Protocol::V1_0)
    } else if v == "0.3" || v.starts_with("0.3.") {
        Some(Protocol::V0_3)
    } else {
        None
    }
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
    /// `supportedInterfaces`, in the agent's order of preference.
    pub interfaces: Vec<Interface>,
    /// The card as JSON text.
    pub raw: String,
}

impl AgentCard {
    /// The version to speak and the tenant to name when the caller leaves
    /// the choice to the card: the first interface in `supportedInterfaces`
    /// that is JSON-RPC in a version the client speaks (the agent lists
    /// them in its order of preference); a card without one is read by its
    /// v0.3 `protocolVersion`, and one that says nothing gets v0.3.
    pub(crate) fn preferred(&self) -> (Protocol, Option<String>) {
        if let Some((protocol, i)) = self.interfaces.iter().find_map(|i| Some((i.spoken()?, i))) {
            return (protocol, i.tenant.clone().filter(|_| protocol == Protocol::V1_0));
        }
        let top = self.protocol_versions.first().filter(|_| self.interfaces.is_empty());
        (top.and_then(|v| version_of(v)).unwrap_or(Protocol::V0_3), None)
    }

    /// The tenant of the first JSON-RPC interface in `protocol` (only v1.0
    /// requests carry one).
    pub(crate) fn tenant_for(&self, protocol: Protocol) -> Option<String> {
        let iface = self.interfaces.iter().find(|i| i.spoken() == Some(protocol))?;
        iface.tenant.clone().filter(|_| protocol == Protocol::V1_0)
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
    let listed = std::iter::once(card).chain(interfaces.clone()).filter_map(|v| v.get("protocolVersion")?.as_str());
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
    let interfaces = interfaces
        .filter(|i| i.is_object())
        .map(|i| Interface {
            binding: text(i, "protocolBinding"),
            version: text(i, "protocolVersion"),
            tenant: text(i, "tenant").filter(|t| !t.is_empty()),
        })
        .take(MAX_ITEMS)
        .collect();
    AgentCard {
        interfaces,
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
        assert!(read.streaming);
        assert_eq!(read.preferred(), (Protocol::V1_0, None));
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
        assert!(read.protocol_versions.is_empty() && !read.streaming);
        assert_eq!(read.preferred(), (Protocol::V0_3, None));
        let v03 = from_record(&json!({"agent_card": {"protocolVersion": "0.3.0"}}).to_string()).unwrap();
        assert_eq!(v03.preferred(), (Protocol::V0_3, None));
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

    #[test]
    fn the_first_json_rpc_interface_in_a_spoken_version_is_chosen_with_its_tenant() {
        let card = |interfaces: Value| read(&json!({"supportedInterfaces": interfaces, "protocolVersion": "1.0"}));
        let i = |binding: &str, version: &str, tenant: &str| json!({"url": "http://x/", "protocolBinding": binding, "protocolVersion": version, "tenant": tenant});
        // The agent's order of preference decides, not the newest version.
        let c = card(json!([i("GRPC", "1.0", "g"), i("JSONRPC", "0.3", "a"), i("JSONRPC", "1.0", "b")]));
        assert_eq!(c.preferred(), (Protocol::V0_3, None), "v0.3 requests carry no tenant");
        assert_eq!(c.tenant_for(Protocol::V1_0).as_deref(), Some("b"), "a caller that asks for v1.0");
        let c = card(json!([i("HTTP+JSON", "1.0", "r"), i("jsonrpc", "1.0", "acme"), i("JSONRPC", "0.3", "")]));
        assert_eq!(c.preferred(), (Protocol::V1_0, Some("acme".into())));
        // Versions the client does not speak are passed over; an empty tenant is none.
        let c = card(json!([i("JSONRPC", "2.0", "x"), i("JSONRPC", "1.1", "")]));
        assert_eq!(c.preferred(), (Protocol::V1_0, None));
        // Interfaces, none usable: v0.3 (the top-level version is not an interface's).
        let c = card(json!([i("GRPC", "1.0", "g")]));
        assert_eq!(c.preferred(), (Protocol::V0_3, None));
        assert_eq!(c.tenant_for(Protocol::V1_0), None);
    }
}
