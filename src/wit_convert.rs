// Conversions between the plain-Rust types and the WIT bindings, shared by
// the WASI 0.2 glue (`lib.rs`) and the WASI 0.3 glue (`p3/mod.rs`): each
// includes this file where `wit` names its world's `api` bindings (the types
// are the same in both worlds) and `transport_code` converts an error code.
mod convert {
    use super::wit;
    use crate::a2a::{Artifact, Ask, Protocol, ProtocolChoice, ReplyKind, RpcReason, SendIds, StreamEvent, Task, TaskQuery};
    use crate::card::AgentCard;
    use crate::client::{TaskPage, TaskReport};
    use crate::config::{RawCachePolicy, RawConfig, RawRetryPolicy};
    use crate::directory::Stats;
    use crate::error::{Attempt, Error, ErrorKind};
    use crate::message::{FileContent, FilePart, Message, Part};
    use crate::platform;
    use crate::push::PushConfig;

    /// A fresh JSON-RPC id and messageId (UUID v4 from wasi:random).
    pub(super) fn new_ids() -> Result<SendIds, Error> {
        let uuid = || {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).map(|()| uuid::Builder::from_random_bytes(bytes).into_uuid().to_string())
        };
        match (uuid(), uuid()) {
            (Ok(request_id), Ok(message_id)) => Ok(SendIds { request_id, message_id }),
            _ => Err(Error::new(
                ErrorKind::HostFailure("the host gave no randomness (wasi:random)".into()),
                "[A2A_ERROR] the host gave no randomness (wasi:random) for the message ids".into(),
            )),
        }
    }

    pub(super) fn from_wit_message(m: wit::OutgoingMessage) -> Message {
        let parts = m
            .parts
            .into_iter()
            .map(|p| match p {
                wit::Part::Text(text) => Part::Text(text),
                wit::Part::Data(json) => Part::Data(json),
                wit::Part::File(f) => Part::File(FilePart {
                    name: f.name,
                    media_type: f.media_type,
                    content: match f.content {
                        wit::FileContent::Bytes(bytes) => FileContent::Bytes(bytes),
                        wit::FileContent::Uri(uri) => FileContent::Uri(uri),
                    },
                }),
            })
            .collect();
        Message {
            parts,
            task_id: m.task_id,
            context_id: m.context_id,
            reference_task_ids: m.reference_task_ids,
            metadata: m.metadata,
        }
    }

    pub(super) fn to_wit_parts(parts: Vec<Part>) -> Vec<wit::Part> {
        parts
            .into_iter()
            .map(|p| match p {
                Part::Text(text) => wit::Part::Text(text),
                Part::Data(json) => wit::Part::Data(json),
                Part::File(f) => wit::Part::File(wit::FilePart {
                    name: f.name,
                    media_type: f.media_type,
                    content: match f.content {
                        FileContent::Bytes(bytes) => wit::FileContent::Bytes(bytes),
                        FileContent::Uri(uri) => wit::FileContent::Uri(uri),
                    },
                }),
            })
            .collect()
    }

    pub(super) fn to_wit_artifacts(artifacts: Vec<Artifact>) -> Vec<wit::Artifact> {
        let artifact = |a: Artifact| wit::Artifact { id: a.id, name: a.name, parts: to_wit_parts(a.parts) };
        artifacts.into_iter().map(artifact).collect()
    }

    pub(super) fn to_wit_reply(sent: crate::messaging::Sent) -> wit::Reply {
        let kind = match sent.reply.kind {
            ReplyKind::Message => wit::ReplyKind::Message,
            ReplyKind::Task { id, context_id, state, artifacts } => {
                wit::ReplyKind::Task(wit::TaskInfo { id, context_id, state, artifacts: to_wit_artifacts(artifacts) })
            }
        };
        wit::Reply {
            protocol: to_wit_protocol(sent.protocol),
            text: sent.reply.text,
            parts: to_wit_parts(sent.reply.parts),
            metadata: sent.reply.metadata,
            kind,
            request_id: sent.ids.request_id,
            message_id: sent.ids.message_id,
            attempts: sent.attempts.into_iter().map(to_wit_attempt).collect(),
            raw: sent.reply.raw,
            activated_extensions: sent.reply.extensions,
        }
    }

    pub(super) fn ask_of(options: &wit::CallOptions) -> Ask {
        Ask {
            protocol: options.protocol.map(from_wit_protocol),
            extensions: options.extensions.clone(),
            continuing: None,
        }
    }

    pub(super) fn from_wit_protocol(p: wit::Protocol) -> ProtocolChoice {
        match p {
            wit::Protocol::V03 => ProtocolChoice::V0_3,
            wit::Protocol::V10 => ProtocolChoice::V1_0,
            wit::Protocol::Auto => ProtocolChoice::Auto,
        }
    }

    pub(super) fn to_wit_protocol(p: Protocol) -> wit::Protocol {
        match p {
            Protocol::V0_3 => wit::Protocol::V03,
            Protocol::V1_0 => wit::Protocol::V10,
        }
    }

    pub(super) fn to_wit_reason(r: RpcReason) -> wit::RpcReason {
        match r {
            RpcReason::TaskNotFound => wit::RpcReason::TaskNotFound,
            RpcReason::TaskNotCancelable => wit::RpcReason::TaskNotCancelable,
            RpcReason::PushNotificationNotSupported => wit::RpcReason::PushNotificationNotSupported,
            RpcReason::UnsupportedOperation => wit::RpcReason::UnsupportedOperation,
            RpcReason::ContentTypeNotSupported => wit::RpcReason::ContentTypeNotSupported,
            RpcReason::InvalidAgentResponse => wit::RpcReason::InvalidAgentResponse,
            RpcReason::ExtendedAgentCardNotConfigured => wit::RpcReason::ExtendedAgentCardNotConfigured,
            RpcReason::ExtensionSupportRequired => wit::RpcReason::ExtensionSupportRequired,
            RpcReason::VersionNotSupported => wit::RpcReason::VersionNotSupported,
            RpcReason::MethodNotFound => wit::RpcReason::MethodNotFound,
            RpcReason::InvalidParams => wit::RpcReason::InvalidParams,
            RpcReason::InvalidRequest => wit::RpcReason::InvalidRequest,
            RpcReason::ParseError => wit::RpcReason::ParseError,
            RpcReason::InternalError => wit::RpcReason::InternalError,
            RpcReason::Other => wit::RpcReason::Other,
        }
    }

    pub(super) fn to_wit_attempt(a: Attempt) -> wit::Attempt {
        wit::Attempt { number: a.number, outcome: a.outcome, delay_ms: a.delay_ms, took_ms: a.took_ms }
    }

    pub(super) fn raw_config(c: wit::Config) -> RawConfig {
        let timeouts = c.timeouts.unwrap_or(wit::Timeouts {
            read_ms: None,
            read_total_ms: None,
            enrich_ms: None,
            send_connect_ms: None,
            send_read_ms: None,
        });
        RawConfig {
            workspace_id: c.workspace_id,
            platform_url: c.platform_url,
            credentials: c.credentials.into_iter().map(|c| (c.workspace_id, c.token)).collect(),
            read_ms: timeouts.read_ms,
            read_total_ms: timeouts.read_total_ms,
            enrich_ms: timeouts.enrich_ms,
            send_connect_ms: timeouts.send_connect_ms,
            send_read_ms: timeouts.send_read_ms,
            max_body_bytes: c.max_body_bytes,
            cache: c.cache.map(|p| RawCachePolicy {
                max_entries: p.max_entries,
                ttl_ms: p.ttl_ms,
                negative_ttl_ms: p.negative_ttl_ms,
                transient_negative_ttl_ms: p.transient_negative_ttl_ms,
                max_in_flight: p.max_in_flight,
            }),
            retry: c.retry.map(|p| RawRetryPolicy {
                max_attempts: p.max_attempts,
                base_delay_ms: p.base_delay_ms,
                max_delay_ms: p.max_delay_ms,
                jitter_percent: p.jitter_percent,
                total_budget_ms: p.total_budget_ms,
                budget_tokens: p.budget_tokens,
                budget_refill_percent: p.budget_refill_percent,
            }),
            protocol: c.protocol.map(from_wit_protocol),
        }
    }

    pub(super) fn to_wit_peer(p: platform::Peer) -> wit::Peer {
        wit::Peer {
            id: p.id,
            name: p.name,
            role: p.role,
            tier: p.tier,
            status: p.status,
            url: p.url,
            parent_id: p.parent_id,
            active_tasks: p.active_tasks,
            agent_card: p.agent_card,
            raw: p.raw,
        }
    }

    pub(super) fn to_wit(e: Error) -> wit::Error {
        use wit::ErrorKind as K;
        let kind = match e.kind {
            ErrorKind::InvalidId { param, value } => K::InvalidId(wit::InvalidId { param, value }),
            ErrorKind::InvalidConfig(msg) => K::InvalidConfig(msg),
            ErrorKind::InvalidMessage(msg) => K::InvalidMessage(msg),
            ErrorKind::Unsupported(msg) => K::Unsupported(msg),
            ErrorKind::HostFailure(msg) => K::HostFailure(msg),
            ErrorKind::Transport { url, code, attempt } => K::Transport(wit::TransportFailure { url, code: super::transport_code(code), attempt }),
            ErrorKind::TimedOut { url, after_ms } => K::TimedOut(wit::TimedOut { url, after_ms }),
            ErrorKind::HttpStatus { url, status, excerpt } => {
                K::HttpStatus(wit::HttpStatus { url, status, body_excerpt: excerpt })
            }
            ErrorKind::BadJson { url, status, detail, excerpt } => {
                K::BadJson(wit::BadBody { url, status, detail, body_excerpt: excerpt })
            }
            ErrorKind::UnexpectedShape { url, status, detail, excerpt } => {
                K::UnexpectedShape(wit::BadBody { url, status, detail, body_excerpt: excerpt })
            }
            ErrorKind::BodyTooLarge { url, limit } => K::BodyTooLarge(wit::TooLarge { url, limit }),
            ErrorKind::RequestTooLarge { url, size, limit } => {
                K::RequestTooLarge(wit::RequestTooLarge { url, size, limit })
            }
            ErrorKind::Removed { id, removed_at, hint } => K::Removed(wit::RemovedWorkspace { id, removed_at, hint }),
            ErrorKind::RpcError { url, code, message, data } => {
                K::RpcError(wit::RpcError { url, reason: to_wit_reason(RpcReason::of(code)), code, message, data })
            }
            ErrorKind::AgentError { url, text } => K::AgentError(wit::AgentError { url, text }),
            ErrorKind::PlatformError { url, status, message } => {
                K::PlatformError(wit::PlatformError { url, status, message })
            }
            ErrorKind::StreamCut { url, task_id, events, resumes, cause } => {
                K::StreamCut(wit::StreamCut { url, task_id, events, resumes, cause })
            }
        };
        wit::Error { kind, message: e.message, attempts: e.attempts.into_iter().map(to_wit_attempt).collect() }
    }

    pub(super) fn to_wit_card(c: AgentCard) -> wit::AgentCard {
        wit::AgentCard {
            name: c.name,
            description: c.description,
            version: c.version,
            protocol_versions: c.protocol_versions,
            streaming: c.streaming,
            skills: c
                .skills
                .into_iter()
                .map(|s| wit::AgentSkill { id: s.id, name: s.name, description: s.description })
                .collect(),
            raw: c.raw,
        }
    }

    pub(super) fn to_wit_task(report: TaskReport) -> wit::Task {
        let attempts = report.attempts.into_iter().map(to_wit_attempt).collect();
        to_wit_task_of(report.task, report.protocol, attempts)
    }

    pub(super) fn to_wit_task_of(t: Task, protocol: Protocol, attempts: Vec<wit::Attempt>) -> wit::Task {
        wit::Task {
            id: t.id,
            context_id: t.context_id,
            state: t.state,
            text: t.text,
            parts: to_wit_parts(t.parts),
            artifacts: to_wit_artifacts(t.artifacts),
            metadata: t.metadata,
            protocol: to_wit_protocol(protocol),
            attempts,
            raw: t.raw,
        }
    }

    /// A page's tasks carry no attempts: the page's are the call's.
    pub(super) fn to_wit_page(page: TaskPage) -> wit::TaskPage {
        let task = |t: Task| to_wit_task_of(t, Protocol::V1_0, Vec::new());
        wit::TaskPage {
            tasks: page.tasks.into_iter().map(task).collect(),
            next_page_token: page.next_page_token,
            total_size: page.total_size,
            attempts: page.attempts.into_iter().map(to_wit_attempt).collect(),
        }
    }

    /// The one config a create or get answers with.
    pub(super) fn one_config(mut configs: Vec<wit::PushConfig>) -> Result<wit::PushConfig, wit::Error> {
        configs
            .pop()
            .ok_or_else(|| to_wit(Error::a2a(ErrorKind::InvalidConfig("the answer held no push config".into()))))
    }

    pub(super) fn to_wit_push_config(c: PushConfig) -> wit::PushConfig {
        wit::PushConfig { id: c.id, task_id: c.task_id, url: c.url, token: c.token, raw: c.raw }
    }

    pub(super) fn from_wit_query(query: wit::TaskQuery) -> TaskQuery {
        TaskQuery {
            include_artifacts: query.include_artifacts.then_some(true),
            context_id: query.context_id,
            page_size: query.page_size,
            page_token: query.page_token,
            status: query.state,
        }
    }

    pub(super) fn to_wit_stats(s: Stats) -> wit::CacheStats {
        wit::CacheStats {
            entries: s.entries,
            hits: s.hits,
            negative_hits: s.negative_hits,
            misses: s.misses,
            evictions: s.evictions,
            in_flight: s.in_flight,
            names: s.names,
            routes: s.routes,
        }
    }

    /// A stream event as the caller gets it.
    pub(super) fn to_wit_event(e: StreamEvent) -> wit::StreamEvent {
        match e {
            StreamEvent::Task { id, context_id, state, text, parts, artifacts } => {
                let (parts, artifacts) = (to_wit_parts(parts), to_wit_artifacts(artifacts));
                wit::StreamEvent::Task(wit::StreamTask { id, context_id, state, text, parts, artifacts })
            }
            StreamEvent::StatusUpdate { task_id, state, text, parts, is_final } => {
                let parts = to_wit_parts(parts);
                wit::StreamEvent::StatusUpdate(wit::StatusUpdate { task_id, state, text, parts, is_final })
            }
            StreamEvent::ArtifactUpdate { task_id, artifact_id, name, text, parts, append, last_chunk } => {
                wit::StreamEvent::ArtifactUpdate(wit::ArtifactUpdate {
                    task_id,
                    artifact_id,
                    name,
                    text,
                    parts: to_wit_parts(parts),
                    append,
                    last_chunk,
                })
            }
            StreamEvent::Message { text, parts, metadata } => {
                wit::StreamEvent::Message(wit::StreamMessage { text, parts: to_wit_parts(parts), metadata })
            }
        }
    }
}
