//! Typed errors and the human text each call renders for them.
//!
//! Every error carries what happened ([`ErrorKind`], mirrored by the WIT
//! `error-kind`) and the message the Python client printed in that
//! situation, extended with where it happened. Messages are never empty and
//! never contain a token (the client hands every result out through
//! [`redacted`]).

use serde_json::Value;
use wasi::http::types::ErrorCode;

use crate::ids::quote_input;

/// How much of a response body an error quotes.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// What went wrong. One case per WIT `error-kind` case.
#[derive(Debug, Clone)]
pub(crate) enum ErrorKind {
    /// An id argument is not a UUID; no request was made.
    InvalidId {
        /// Which argument.
        param: String,
        /// The input, quoted and cut.
        value: String,
    },
    /// The configuration is unusable.
    InvalidConfig(String),
    /// A message that cannot be sent (no part, data that is no JSON object,
    /// …); the text says which part and why. No request was made.
    InvalidMessage(String),
    /// The operation does not exist in the protocol version the call
    /// speaks; nothing was sent.
    Unsupported(String),
    /// The host failed to provide what the component needs from it (e.g.
    /// no randomness for message ids); nothing was sent.
    HostFailure(String),
    /// The transport could not complete the request.
    Transport {
        /// Requested URL.
        url: String,
        /// The host's `wasi:http` error code.
        code: ErrorCode,
        /// Attempt number, from 1.
        attempt: u32,
    },
    /// The client's own deadline passed.
    TimedOut {
        /// Requested URL.
        url: String,
        /// The deadline, ms.
        after_ms: u32,
    },
    /// A status the call does not accept.
    HttpStatus {
        /// Requested URL.
        url: String,
        /// Status code.
        status: u16,
        /// Start of the body.
        excerpt: String,
    },
    /// A body that is not JSON.
    BadJson {
        /// Requested URL.
        url: String,
        /// Status code.
        status: u16,
        /// The parse error.
        detail: String,
        /// Start of the body.
        excerpt: String,
    },
    /// JSON of the wrong shape.
    UnexpectedShape {
        /// Requested URL.
        url: String,
        /// Status code.
        status: u16,
        /// Expected and found shapes.
        detail: String,
        /// Start of the body.
        excerpt: String,
    },
    /// A body over the size limit.
    BodyTooLarge {
        /// Requested URL.
        url: String,
        /// The limit, bytes.
        limit: u32,
    },
    /// A request body over the size limit; nothing was sent.
    RequestTooLarge {
        /// The URL that would have been requested.
        url: String,
        /// The body's size, bytes.
        size: u64,
        /// The limit, bytes.
        limit: u32,
    },
    /// The peer answered with a JSON-RPC error.
    RpcError {
        /// Requested URL.
        url: String,
        /// `error.code`.
        code: Option<i64>,
        /// `error.message`.
        message: String,
        /// `error.data` as JSON text.
        data: Option<String>,
    },
    /// The peer's agent reported an error (`Agent error: …`).
    AgentError {
        /// Requested URL.
        url: String,
        /// The agent's text.
        text: String,
    },
    /// The platform refused with its own error body (`{"error": "…"}`).
    PlatformError {
        /// Requested URL.
        url: String,
        /// Status code.
        status: u16,
        /// The platform's message.
        message: String,
    },
    /// A stream's connection ended before the stream's final event (closed,
    /// reset, or cut mid-event) and the stream could not be resumed.
    StreamCut {
        /// Requested URL.
        url: String,
        /// The task the stream followed, when an event named it.
        task_id: Option<String>,
        /// Events handed out before the cut.
        events: u32,
        /// Resubscriptions tried.
        resumes: u32,
        /// What cut it, and why resuming stopped.
        cause: String,
    },
    /// The workspace was removed (HTTP 410).
    Removed {
        /// Workspace id.
        id: String,
        /// When, as the platform wrote it.
        removed_at: Option<String>,
        /// What to do.
        hint: String,
    },
}

/// One attempt of a send: what happened and the wait chosen before the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attempt {
    /// Attempt number, from 1.
    pub number: u32,
    /// What happened (`HTTP 503`, `connection refused …`, `ok`).
    pub outcome: String,
    /// The wait chosen before the next attempt, ms (none after the last).
    pub delay_ms: Option<u32>,
    /// How long the attempt took, ms.
    pub took_ms: u32,
}

/// An error: what happened and the text to show for it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub(crate) struct Error {
    /// What happened.
    pub kind: ErrorKind,
    /// Human text; never empty, never a token.
    pub message: String,
    /// The attempts made (sends only; empty for other calls).
    pub attempts: Vec<Attempt>,
}

impl Error {
    /// An error with its rendered message.
    pub(crate) fn new(kind: ErrorKind, message: String) -> Self {
        Self { kind, message, attempts: Vec::new() }
    }

    /// An A2A call's error, worded as the Python client printed it
    /// (`[A2A_ERROR] … [target=…]`).
    pub(crate) fn a2a(kind: ErrorKind) -> Self {
        let message = send_failure_text(&kind);
        Self::new(kind, message)
    }
}

/// A generic rendering of `kind` (calls without wording of their own).
impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        let message = detail(&kind);
        Self::new(kind, message)
    }
}

impl ErrorKind {
    /// An id argument that is not a UUID (`param` names it).
    pub(crate) fn invalid_id(param: &str, value: &str) -> Self {
        Self::InvalidId { param: param.into(), value: quote_input(value, 80) }
    }

    /// A task id that cannot be sent (empty, too long, control characters).
    pub(crate) fn invalid_task_id(value: &str) -> Self {
        Self::invalid_id("task-id", value)
    }
}

/// What holds text that may repeat a request's token: an error (a server
/// may echo the `Authorization` header into a body we quote) or a result
/// carrying an attempt trace. The client passes everything it hands out
/// through [`redacted`], the one place tokens are scrubbed.
pub(crate) trait Redact {
    /// Every text of ours this value carries that a server or host could
    /// have put a token into; none by default.
    fn texts_mut(&mut self) -> Vec<&mut String> {
        Vec::new()
    }
}

/// `value` with every occurrence of each secret in its texts replaced by
/// `[redacted]`.
pub(crate) fn redacted<'a, R: Redact>(mut value: R, secrets: impl IntoIterator<Item = &'a str>) -> R {
    let secrets: Vec<&str> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
    if !secrets.is_empty() {
        for text in value.texts_mut() {
            for secret in &secrets {
                scrub(text, secret);
            }
        }
    }
    value
}

impl<R: Redact> Redact for Result<R, Error> {
    fn texts_mut(&mut self) -> Vec<&mut String> {
        match self {
            Ok(value) => value.texts_mut(),
            Err(e) => e.texts_mut(),
        }
    }
}

impl<R: Redact> Redact for Vec<R> {
    fn texts_mut(&mut self) -> Vec<&mut String> {
        self.iter_mut().flat_map(R::texts_mut).collect()
    }
}

impl Redact for Error {
    /// The message, each string of the kind (a host's error-code detail
    /// included) and each attempt's outcome. No wildcard below: a new kind
    /// must say what text it holds.
    fn texts_mut(&mut self) -> Vec<&mut String> {
        let mut texts: Vec<&mut String> = vec![&mut self.message];
        texts.extend(self.attempts.iter_mut().map(|a| &mut a.outcome));
        match &mut self.kind {
            ErrorKind::InvalidId { param, value } => texts.extend([param, value]),
            ErrorKind::InvalidConfig(text)
            | ErrorKind::InvalidMessage(text)
            | ErrorKind::Unsupported(text)
            | ErrorKind::HostFailure(text) => texts.push(text),
            ErrorKind::Transport { url, code, attempt: _ } => {
                texts.push(url);
                texts.extend(code_texts(code));
            }
            ErrorKind::TimedOut { url, after_ms: _ }
            | ErrorKind::BodyTooLarge { url, limit: _ }
            | ErrorKind::RequestTooLarge { url, size: _, limit: _ } => texts.push(url),
            ErrorKind::HttpStatus { url, status: _, excerpt } => texts.extend([url, excerpt]),
            ErrorKind::BadJson { url, status: _, detail, excerpt }
            | ErrorKind::UnexpectedShape { url, status: _, detail, excerpt } => texts.extend([url, detail, excerpt]),
            ErrorKind::RpcError { url, code: _, message, data } => {
                texts.extend([url, message]);
                texts.extend(data.as_mut());
            }
            ErrorKind::AgentError { url, text } => texts.extend([url, text]),
            ErrorKind::PlatformError { url, status: _, message } => texts.extend([url, message]),
            ErrorKind::StreamCut { url, task_id, events: _, resumes: _, cause } => {
                texts.extend([url, cause]);
                texts.extend(task_id.as_mut());
            }
            ErrorKind::Removed { id, removed_at, hint } => {
                texts.extend([id, hint]);
                texts.extend(removed_at.as_mut());
            }
        }
        texts
    }
}

/// The free-text fields of a `wasi:http` error code (a host may put what it
/// likes there, a request header included).
fn code_texts(code: &mut ErrorCode) -> Vec<&mut String> {
    match code {
        ErrorCode::DnsError(p) => p.rcode.as_mut().into_iter().collect(),
        ErrorCode::TlsAlertReceived(p) => p.alert_message.as_mut().into_iter().collect(),
        ErrorCode::HttpRequestHeaderSize(Some(p))
        | ErrorCode::HttpResponseHeaderSize(p)
        | ErrorCode::HttpRequestTrailerSize(p)
        | ErrorCode::HttpResponseTrailerSize(p) => p.field_name.as_mut().into_iter().collect(),
        ErrorCode::HttpResponseTransferCoding(t)
        | ErrorCode::HttpResponseContentCoding(t)
        | ErrorCode::InternalError(t) => t.as_mut().into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Replaces every occurrence of `secret` in `text` with `[redacted]`.
pub(crate) fn scrub(text: &mut String, secret: &str) {
    if !secret.is_empty() && text.contains(secret) {
        *text = text.replace(secret, "[redacted]");
    }
}

/// The first [`EXCERPT_CHARS`] characters of a body, lossily decoded, with
/// control characters escaped so it stays on one line.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(EXCERPT_CHARS * 4)];
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == EXCERPT_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The Python type name of a JSON value, as the Python client's diagnostics
/// print it (`type(data).__name__`).
pub(crate) fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// A readable, never empty, description of a `wasi:http` error code: what it
/// means, then its WIT name.
pub(crate) fn describe_code(code: &ErrorCode) -> String {
    use ErrorCode as E;
    let opt = |v: &Option<String>| v.as_deref().map(|s| format!(": {}", quote_input(s, 80))).unwrap_or_default();
    let (text, name) = match code {
        E::DnsTimeout => ("DNS lookup timed out".into(), "dns-timeout"),
        E::DnsError(p) => (format!("DNS lookup failed{}", opt(&p.rcode)), "dns-error"),
        E::DestinationNotFound => ("destination not found".into(), "destination-not-found"),
        E::DestinationUnavailable => ("destination unavailable".into(), "destination-unavailable"),
        E::DestinationIpProhibited => ("destination IP prohibited".into(), "destination-ip-prohibited"),
        E::DestinationIpUnroutable => ("destination IP unroutable".into(), "destination-ip-unroutable"),
        E::ConnectionRefused => ("connection refused".into(), "connection-refused"),
        E::ConnectionTerminated => {
            ("connection terminated before the response was complete".into(), "connection-terminated")
        }
        E::ConnectionTimeout => ("connect timed out".into(), "connection-timeout"),
        E::ConnectionReadTimeout => ("read timed out (no bytes within the timeout)".into(), "connection-read-timeout"),
        E::ConnectionWriteTimeout => ("write timed out".into(), "connection-write-timeout"),
        E::ConnectionLimitReached => ("connection limit reached".into(), "connection-limit-reached"),
        E::TlsProtocolError => ("TLS protocol error".into(), "TLS-protocol-error"),
        E::TlsCertificateError => ("TLS certificate error".into(), "TLS-certificate-error"),
        E::TlsAlertReceived(p) => (format!("TLS alert received{}", opt(&p.alert_message)), "TLS-alert-received"),
        E::HttpRequestDenied => ("request denied by the host".into(), "HTTP-request-denied"),
        E::HttpRequestLengthRequired => ("request length required".into(), "HTTP-request-length-required"),
        E::HttpRequestBodySize(_) => ("request body size mismatch".into(), "HTTP-request-body-size"),
        E::HttpRequestMethodInvalid => ("request method invalid".into(), "HTTP-request-method-invalid"),
        E::HttpRequestUriInvalid => ("request URI invalid".into(), "HTTP-request-URI-invalid"),
        E::HttpRequestUriTooLong => ("request URI too long".into(), "HTTP-request-URI-too-long"),
        E::HttpRequestHeaderSectionSize(_) => ("request headers too large".into(), "HTTP-request-header-section-size"),
        E::HttpRequestHeaderSize(_) => ("a request header is too large".into(), "HTTP-request-header-size"),
        E::HttpRequestTrailerSectionSize(_) => {
            ("request trailers too large".into(), "HTTP-request-trailer-section-size")
        }
        E::HttpRequestTrailerSize(_) => ("a request trailer is too large".into(), "HTTP-request-trailer-size"),
        E::HttpResponseIncomplete => {
            ("response incomplete (connection closed early)".into(), "HTTP-response-incomplete")
        }
        E::HttpResponseHeaderSectionSize(_) => {
            ("response headers too large".into(), "HTTP-response-header-section-size")
        }
        E::HttpResponseHeaderSize(_) => ("a response header is too large".into(), "HTTP-response-header-size"),
        E::HttpResponseBodySize(_) => ("response body size mismatch".into(), "HTTP-response-body-size"),
        E::HttpResponseTrailerSectionSize(_) => {
            ("response trailers too large".into(), "HTTP-response-trailer-section-size")
        }
        E::HttpResponseTrailerSize(_) => ("a response trailer is too large".into(), "HTTP-response-trailer-size"),
        E::HttpResponseTransferCoding(v) => {
            (format!("bad response transfer coding{}", opt(v)), "HTTP-response-transfer-coding")
        }
        E::HttpResponseContentCoding(v) => {
            (format!("bad response content coding{}", opt(v)), "HTTP-response-content-coding")
        }
        E::HttpResponseTimeout => ("no response within the first-byte timeout".into(), "HTTP-response-timeout"),
        E::HttpUpgradeFailed => ("HTTP upgrade failed".into(), "HTTP-upgrade-failed"),
        E::HttpProtocolError => {
            ("HTTP protocol error (malformed response or connection reset)".into(), "HTTP-protocol-error")
        }
        E::LoopDetected => ("loop detected".into(), "loop-detected"),
        E::ConfigurationError => ("host configuration error".into(), "configuration-error"),
        E::InternalError(v) => (format!("internal error{}", opt(v)), "internal-error"),
    };
    format!("{text} (wasi:http error-code {name})")
}

/// The generic detail of a kind, for messages of calls that have no
/// Python-client wording of their own.
pub(crate) fn detail(kind: &ErrorKind) -> String {
    match kind {
        // Task and context ids are the peer's to choose: any usable text.
        ErrorKind::InvalidId { param, value }
            if matches!(
                param.as_str(),
                "task-id" | "context-id" | "reference-task-ids" | "state" | "page-token" | "config-id"
            ) =>
        {
            format!(
                "invalid {param} (expected 1 to {} bytes without control characters): {value}",
                crate::ids::MAX_TASK_ID
            )
        }
        ErrorKind::InvalidId { param, value } if param == "extensions" => format!(
            "invalid extensions (expected at most 32 URIs of 1 to 2048 bytes without spaces, commas or control characters): {value}"
        ),
        ErrorKind::InvalidId { param, value } => format!("invalid {param} (expected a UUID): {value}"),
        ErrorKind::InvalidConfig(msg) => format!("invalid config: {msg}"),
        ErrorKind::InvalidMessage(msg) => format!("invalid message: {msg}"),
        ErrorKind::Unsupported(msg) => format!("unsupported: {msg}"),
        ErrorKind::HostFailure(msg) => format!("host failure: {msg}"),
        ErrorKind::Transport { url, code, attempt: _ } => {
            format!("{} [target={url}]", describe_code(code))
        }
        ErrorKind::TimedOut { url, after_ms } => {
            format!("no complete response within {after_ms} ms [target={url}]")
        }
        ErrorKind::HttpStatus { url, status, excerpt } => {
            format!("HTTP {status}{} [target={url}]", quoted_excerpt(excerpt))
        }
        ErrorKind::BadJson { url, status, detail, excerpt } => {
            format!("HTTP {status} body was not JSON: {detail}{} [target={url}]", quoted_excerpt(excerpt))
        }
        ErrorKind::UnexpectedShape { url, status, detail, .. } => {
            format!("HTTP {status} body has the wrong shape: {detail} [target={url}]")
        }
        ErrorKind::BodyTooLarge { url, limit } => {
            format!("response body exceeds the {limit}-byte limit [target={url}]")
        }
        ErrorKind::RequestTooLarge { url, size, limit } => {
            format!("request body of {size} bytes exceeds the {limit}-byte limit (max-body-bytes); nothing was sent [target={url}]")
        }
        ErrorKind::RpcError { url, code, message, .. } => {
            format!("{} [target={url}]", crate::a2a::rpc_error_detail(*code, message))
        }
        ErrorKind::AgentError { url, text } => format!("{text} [target={url}]"),
        ErrorKind::PlatformError { url, status, message } => {
            // Untrusted text: one line, cut to the excerpt length.
            format!("HTTP {status} from the platform: {} [target={url}]", excerpt(message.as_bytes()))
        }
        ErrorKind::StreamCut { url, task_id, events, resumes, cause } => {
            let task = task_id.as_ref().map(|t| format!(" of task {}", quote_input(t, 80))).unwrap_or_default();
            let plural = |n: u32, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
            let resumed = match resumes {
                0 => String::new(),
                n => format!(" and {}", plural(*n, "resubscription")),
            };
            let events = plural(*events, "event");
            format!("the stream{task} was cut after {events}{resumed}: {cause} [target={url}]")
        }
        ErrorKind::Removed { id, hint, .. } => format!("workspace {id} was removed: {hint}"),
    }
}

/// The Python client's `[A2A_ERROR] … [target=…]` text of an A2A call's error.
pub(crate) fn send_failure_text(kind: &ErrorKind) -> String {
    match kind {
        // The Python client's own words for a bad peer id (no target: nothing was sent).
        ErrorKind::InvalidId { param, value } if param == "peer-id" => {
            format!("[A2A_ERROR] invalid peer_id (expected UUID): {value}")
        }
        // The agent's own text, exactly: callers compare it.
        ErrorKind::AgentError { text, .. } => format!("[A2A_ERROR] {text}"),
        // The shape detail first, as the Python client words it.
        ErrorKind::UnexpectedShape { url, detail, .. } => format!("[A2A_ERROR] {detail} [target={url}]"),
        other => format!("[A2A_ERROR] {}", detail(other)),
    }
}

fn quoted_excerpt(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(": {excerpt}")
    }
}

/// The Python client's `get_peers_with_diagnostic` text for a failed `peers`
/// call, followed by the target. A 404 names the workspace actually queried,
/// not this client's own, and a time-out still gets a description: the text
/// is never empty.
pub(crate) fn peers_diagnostic(kind: &ErrorKind, platform: &str, source: &str) -> String {
    let target = |url: &str| format!(" [target={url}]");
    match kind {
        ErrorKind::Transport { url, code, .. } => {
            format!("Cannot reach platform at {platform}: {}{}", describe_code(code), target(url))
        }
        ErrorKind::TimedOut { url, after_ms } => format!(
            "Cannot reach platform at {platform}: no complete response within {after_ms} ms{}",
            target(url)
        ),
        ErrorKind::BadJson { url, status, detail, .. } => {
            format!("Platform returned {status} but body was not JSON: {detail}{}", target(url))
        }
        // A list with an item that is no peer: not the Python client's "not a list".
        ErrorKind::UnexpectedShape { url, status, detail, .. } if detail.starts_with("list item") => {
            format!("Platform returned {status} but {detail}{}", target(url))
        }
        // The Python client's fixed texts, exactly (the target is in the error's kind).
        ErrorKind::UnexpectedShape { status, detail, .. } => {
            format!("Platform returned {status} but body was not a list: {detail}")
        }
        ErrorKind::HttpStatus { status: status @ (401 | 403), .. } => format!(
            "Authentication to platform failed (HTTP {status}). The workspace bearer token may be invalid — restarting the workspace usually re-mints it."
        ),
        ErrorKind::HttpStatus { status: 404, .. } => format!(
            "Workspace ID {source} is not registered with the platform (HTTP 404). Re-registration via the platform's /registry/register endpoint is needed."
        ),
        ErrorKind::HttpStatus { status: status @ 500..=599, .. } => format!("Platform error: HTTP {status}."),
        ErrorKind::HttpStatus { status, .. } => format!("Unexpected platform response: HTTP {status}."),
        ErrorKind::BodyTooLarge { url, limit } => format!(
            "Platform response was larger than the {limit}-byte limit.{}",
            target(url)
        ),
        other => detail(other),
    }
}

/// Text of a failed `workspace-info`: the Python client's words (`not found`,
/// `removed`: exactly, the status, hint and target are in the kind), except
/// that 401/403 and 5xx get their own texts instead of passing for "not found".
pub(crate) fn workspace_info_message(kind: &ErrorKind, source: &str) -> String {
    match kind {
        ErrorKind::HttpStatus { url, status: status @ (401 | 403), .. } => format!(
            "authentication failed (HTTP {status}) reading workspace {source}: the bearer token may be invalid — restarting the workspace usually re-mints it [target={url}]"
        ),
        ErrorKind::HttpStatus { url, status: status @ 500..=599, .. } => {
            format!("platform error (HTTP {status}) reading workspace {source} [target={url}]")
        }
        // Every other status (404, 400, 302, …), as the Python client answers it.
        ErrorKind::HttpStatus { .. } => "not found".to_owned(),
        ErrorKind::Removed { .. } => "removed".to_owned(),
        other => format!("workspace info for {source} failed: {}", detail(other)),
    }
}

/// Text of a failed `discover-peer`, in the words of the Python client's log line.
pub(crate) fn discover_message(kind: &ErrorKind, peer: &str) -> String {
    match kind {
        ErrorKind::HttpStatus { url, status: 404, .. } => {
            format!("Discovery failed for {peer}: not found in the registry (HTTP 404) [target={url}]")
        }
        ErrorKind::HttpStatus { url, status: status @ (401 | 403), excerpt } => format!(
            "Discovery failed for {peer}: not allowed (HTTP {status}): the token is invalid or this workspace may not talk to that peer{} [target={url}]",
            quoted_excerpt(excerpt)
        ),
        other => format!("Discovery failed for {peer}: {}", detail(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://p/registry/s/peers";

    fn status(status: u16) -> ErrorKind {
        ErrorKind::HttpStatus { url: URL.into(), status, excerpt: String::new() }
    }

    #[test]
    fn peers_diagnostics_cover_every_branch() {
        let d = |k: &ErrorKind| peers_diagnostic(k, "http://p", "src-id");
        assert_eq!(
            d(&status(401)),
            "Authentication to platform failed (HTTP 401). The workspace bearer token may be invalid — restarting the workspace usually re-mints it."
        );
        assert!(d(&status(403)).starts_with("Authentication to platform failed (HTTP 403)."));
        assert_eq!(
            d(&status(404)),
            "Workspace ID src-id is not registered with the platform (HTTP 404). Re-registration via the platform's /registry/register endpoint is needed."
        );
        assert_eq!(d(&status(500)), "Platform error: HTTP 500.");
        assert_eq!(d(&status(503)), "Platform error: HTTP 503.");
        assert_eq!(d(&status(418)), "Unexpected platform response: HTTP 418.");
        assert_eq!(d(&status(302)), "Unexpected platform response: HTTP 302.");
        let refused = ErrorKind::Transport { url: URL.into(), code: ErrorCode::ConnectionRefused, attempt: 1 };
        assert_eq!(
            d(&refused),
            "Cannot reach platform at http://p: connection refused (wasi:http error-code connection-refused) [target=http://p/registry/s/peers]"
        );
        let timeout = ErrorKind::TimedOut { url: URL.into(), after_ms: 30 };
        assert_eq!(
            d(&timeout),
            "Cannot reach platform at http://p: no complete response within 30 ms [target=http://p/registry/s/peers]"
        );
        let bad = ErrorKind::BadJson {
            url: URL.into(),
            status: 200,
            detail: "expected value at line 1 column 1".into(),
            excerpt: "<html>".into(),
        };
        assert_eq!(
            d(&bad),
            "Platform returned 200 but body was not JSON: expected value at line 1 column 1 [target=http://p/registry/s/peers]"
        );
        let shape =
            ErrorKind::UnexpectedShape { url: URL.into(), status: 200, detail: "dict".into(), excerpt: "{}".into() };
        assert_eq!(d(&shape), "Platform returned 200 but body was not a list: dict");
        let item = ErrorKind::UnexpectedShape {
            url: URL.into(),
            status: 200,
            detail: "list item 1 is a str, not a dict".into(),
            excerpt: "[]".into(),
        };
        assert_eq!(
            d(&item),
            "Platform returned 200 but list item 1 is a str, not a dict [target=http://p/registry/s/peers]"
        );
        let big = ErrorKind::BodyTooLarge { url: URL.into(), limit: 1024 };
        assert!(d(&big).contains("1024-byte limit"));
    }

    #[test]
    fn every_code_is_described() {
        // A read timeout can stringify to nothing (the Python client then printed
        // "Cannot reach platform at <url>: "); no code may render empty.
        for code in [
            ErrorCode::ConnectionReadTimeout,
            ErrorCode::HttpResponseTimeout,
            ErrorCode::HttpProtocolError,
            ErrorCode::InternalError(None),
            ErrorCode::InternalError(Some("boom\n".into())),
        ] {
            let text = describe_code(&code);
            assert!(text.len() > 20, "{text}");
            assert!(!text.contains('\n'));
        }
    }

    #[test]
    fn workspace_info_messages() {
        let m = |k: &ErrorKind| workspace_info_message(k, "ws");
        assert_eq!(m(&status(404)), "not found");
        assert_eq!(m(&status(400)), "not found");
        assert_eq!(m(&status(302)), "not found");
        assert!(m(&status(401)).starts_with("authentication failed (HTTP 401)"));
        assert!(m(&status(500)).starts_with("platform error (HTTP 500)"));
        let removed =
            ErrorKind::Removed { id: "ws".into(), removed_at: Some("2026-04-30".into()), hint: "Regenerate.".into() };
        assert_eq!(m(&removed), "removed");
    }

    #[test]
    fn excerpts_are_short_and_single_line() {
        let long = "x".repeat(1000);
        let e = excerpt(long.as_bytes());
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert_eq!(excerpt(b"a\nb\r\0"), "a\\nb\\r\\u{0}");
        assert_eq!(excerpt(&[0xff, b'a']), "\u{fffd}a");
    }

    #[test]
    fn redaction_scrubs_message_and_excerpt() {
        let kind = ErrorKind::HttpStatus { url: URL.into(), status: 400, excerpt: "echo: Bearer tok-123".into() };
        let e = redacted(Error::new(kind, "HTTP 400: echo: Bearer tok-123".into()), ["tok-123", ""]);
        assert_eq!(e.message, "HTTP 400: echo: Bearer [redacted]");
        match e.kind {
            ErrorKind::HttpStatus { excerpt, .. } => assert_eq!(excerpt, "echo: Bearer [redacted]"),
            _ => unreachable!(),
        }
    }

    #[test]
    fn python_type_names() {
        use serde_json::json;
        assert_eq!(json_type_name(&json!({})), "dict");
        assert_eq!(json_type_name(&json!("s")), "str");
        assert_eq!(json_type_name(&json!(1)), "int");
        assert_eq!(json_type_name(&json!(1.5)), "float");
        assert_eq!(json_type_name(&json!(null)), "NoneType");
        assert_eq!(json_type_name(&json!([])), "list");
    }
}
