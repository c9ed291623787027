//! A streamed reply (`message/stream`, `SendStreamingMessage`): the events
//! of a server-sent-events body, typed, one at a time. Bounded in memory
//! (one event at most `max-body-bytes`), in time (each read within the send
//! read timeout, the whole stream within the retry policy's total budget),
//! and scrubbed of tokens like every other error. It ends cleanly after the
//! final event; a connection that ends before it (closed between events or
//! mid-event, or reset) ends it with `stream-cut`, which the client meets by
//! resubscribing (`resume`); an `event: error`, a JSON-RPC error or an event
//! that is no A2A event ends it with an error. After the end, `step`
//! answers none.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::Value;

use crate::a2a::{self, Outcome, Protocol, Spoken, StreamEvent};
use crate::config::Config;
use crate::error::{self, excerpt, Error, ErrorKind};
use crate::platform;
use crate::retry::is_transient_code;
use crate::sse::{SseError, SseParser};
use crate::transport::{BodyStream, TransportError};

/// What a stream needs from its client's config.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// Longest wait for the next bytes.
    pub between: Duration,
    /// Bound on the whole stream, from its start.
    pub total: Duration,
}

impl Limits {
    /// The limits of `cfg`: `send-read-ms` between bytes,
    /// `retry.total-budget-ms` for the whole stream (`max-body-bytes` per
    /// event is the parser's).
    pub(crate) fn of(cfg: &Config) -> Self {
        Limits { between: cfg.send_read, total: cfg.retry.total_budget }
    }
}

/// What a stream has for its reader (see [`EventStream::step`]).
pub(crate) enum Step {
    /// An event, the end (none) or the error that ends the stream.
    Ready(Result<Option<StreamEvent>, Error>),
    /// Read the body, waiting at most this long.
    Read(Duration),
}

enum State<S> {
    Open { body: S, parser: SseParser },
    Ended,
}

/// The events of one streamed reply.
pub(crate) struct EventStream<S> {
    state: State<S>,
    queue: VecDeque<StreamEvent>,
    url: String,
    limits: Limits,
    /// Monotonic nanoseconds when the stream started.
    started: u64,
    secrets: Vec<String>,
    /// How the request spoke (version, tenant, extensions): a resumption
    /// speaks the same way.
    spoken: Spoken,
    /// A failure to report once the events read before it are handed out.
    failure: Option<ErrorKind>,
    /// Events handed out.
    pub delivered: u32,
    /// The extensions the peer activated (the response's `A2A-Extensions`).
    extensions: Vec<String>,
    /// The body of an ended stream, kept until the stream is dropped: a
    /// pollable a host took from `subscribe` is a child of it, and a body
    /// dropped under a live child would trap the instance.
    retired: Option<S>,
}

impl<S: BodyStream> EventStream<S> {
    /// Events from `body` (an open `text/event-stream` of `url`), started at `now`.
    pub(crate) fn new(body: S, url: String, cfg: &Config, spoken: Spoken, now: u64) -> Self {
        let parser = SseParser::new(cfg.max_body_bytes);
        Self::with(State::Open { body, parser }, VecDeque::new(), url, cfg, spoken, now)
    }

    /// A stream of the one event a peer answered without streaming.
    /// A task that has not ended yet leaves the stream cut after its event:
    /// the caller learns it must follow the task (the client resubscribes).
    pub(crate) fn single(event: StreamEvent, url: String, cfg: &Config, spoken: Spoken) -> Self {
        let unfinished = !event.ends_stream();
        let mut stream = Self::with(State::Ended, VecDeque::from([event]), url, cfg, spoken, 0);
        if unfinished {
            let cause = "the peer answered with one result, not a stream, before the task ended".to_owned();
            let kind = ErrorKind::StreamCut { url: stream.url.clone(), task_id: None, events: 1, resumes: 0, cause };
            stream.failure = Some(kind);
        }
        stream
    }

    fn with(
        state: State<S>,
        queue: VecDeque<StreamEvent>,
        url: String,
        cfg: &Config,
        spoken: Spoken,
        now: u64,
    ) -> Self {
        EventStream {
            state,
            queue,
            url,
            limits: Limits::of(cfg),
            started: now,
            secrets: cfg.tokens.values().cloned().collect(),
            spoken,
            failure: None,
            delivered: 0,
            extensions: Vec::new(),
            retired: None,
        }
    }

    /// This stream, its bounds counted from `started` (a resumed stream
    /// continues the time of the one it replaces).
    pub(crate) fn since(mut self, started: u64) -> Self {
        self.started = started;
        self
    }

    /// Monotonic nanoseconds when the stream (or the one it continues) started.
    pub(crate) fn started(&self) -> u64 {
        self.started
    }

    /// This stream, with the extensions its response activated.
    pub(crate) fn activated(mut self, extensions: Vec<String>) -> Self {
        self.extensions = extensions;
        self
    }

    /// The extensions the peer activated.
    pub(crate) fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The URL streamed from.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The version spoken.
    pub(crate) fn protocol(&self) -> Protocol {
        self.spoken.protocol
    }

    /// How the request spoke.
    pub(crate) fn spoken(&self) -> &Spoken {
        &self.spoken
    }

    /// Whether `step` would answer without a read: an event is
    /// waiting, or the stream has ended.
    pub(crate) fn has_buffered(&self) -> bool {
        !self.queue.is_empty() || self.failure.is_some() || matches!(self.state, State::Ended)
    }

    /// The body, while the stream is open (for a pollable on it).
    pub(crate) fn body(&self) -> Option<&S> {
        match &self.state {
            State::Open { body, .. } => Some(body),
            State::Ended => None,
        }
    }

    /// The next event, blocking until it arrives; none once the stream has
    /// ended. `now` is the monotonic clock, in nanoseconds.
    #[cfg(test)]
    pub(crate) fn next_event(&mut self, mut now: impl FnMut() -> u64) -> Result<Option<StreamEvent>, Error> {
        loop {
            match self.step(now()) {
                Step::Ready(outcome) => return outcome,
                Step::Read(within) => {
                    let read = match &mut self.state {
                        State::Open { body, .. } => body.next_chunk(within),
                        State::Ended => Ok(None),
                    };
                    self.feed(read, within);
                }
            }
        }
    }

    /// What the stream has for its reader now (`now` is the monotonic clock,
    /// in nanoseconds): an event, its end or its error — or that the body
    /// must be read first, within the duration given; the bytes read go to
    /// [`Self::feed`]. Split so that a blocking reader and an async one
    /// (which reads between the steps, borrowing nothing) share it.
    pub(crate) fn step(&mut self, now: u64) -> Step {
        if let Some(event) = self.queue.pop_front() {
            if event.ends_stream() {
                self.end();
            }
            self.delivered += 1;
            return Step::Ready(Ok(Some(event)));
        }
        if let Some(kind) = self.failure.take() {
            return Step::Ready(Err(self.fail(kind)));
        }
        if matches!(self.state, State::Ended) {
            return Step::Ready(Ok(None));
        }
        let spent = Duration::from_nanos(now.saturating_sub(self.started));
        let left = self.limits.total.saturating_sub(spent);
        if left.is_zero() {
            let after_ms = self.limits.total.as_millis().min(u32::MAX as u128) as u32;
            return Step::Ready(Err(self.fail(ErrorKind::TimedOut { url: self.url.clone(), after_ms })));
        }
        Step::Read(self.limits.between.min(left))
    }

    /// The body, for a read [`Self::step`] asked for.
    pub(crate) fn body_mut(&mut self) -> Option<&mut S> {
        match &mut self.state {
            State::Open { body, .. } => Some(body),
            State::Ended => None,
        }
    }

    /// Takes what a read of the body within `within` gave: its events are
    /// queued, a failure ends the stream (after the events read before it).
    pub(crate) fn feed(&mut self, read: Result<Option<Vec<u8>>, TransportError>, within: Duration) {
        let State::Open { parser, .. } = &mut self.state else { return };
        let mut events = Vec::new();
        let parsed = match read {
            Ok(Some(chunk)) => parser.push(&chunk, &mut events),
            Ok(None) if parser.mid_event() => return self.cut("the connection closed mid-event".into()),
            Ok(None) => return self.cut("the connection closed before a final event".into()),
            Err(TransportError::Code(code)) if is_transient_code(&code) => {
                return self.cut(error::describe_code(&code));
            }
            Err(TransportError::TimedOut(_)) => {
                // Name the bound that ran out: the whole stream's, or the wait for bytes.
                let bound = if within < self.limits.between { self.limits.total } else { within };
                let after_ms = bound.as_millis().min(u32::MAX as u128) as u32;
                return self.pending_failure(ErrorKind::TimedOut { url: self.url.clone(), after_ms });
            }
            Err(e) => return self.pending_failure(platform::transport_kind(e, &self.url)),
        };
        match parsed {
            Ok(()) => {}
            Err(SseError::TooLarge(limit)) => {
                return self.pending_failure(ErrorKind::BodyTooLarge { url: self.url.clone(), limit: limit as u32 });
            }
            Err(SseError::NotUtf8) => {
                let kind = ErrorKind::BadJson {
                    url: self.url.clone(),
                    status: 200,
                    detail: "a stream event is not UTF-8".into(),
                    excerpt: String::new(),
                };
                return self.pending_failure(kind);
            }
        }
        for sse in events {
            match self.read_event(sse.event.as_deref(), &sse.data) {
                Ok(event) => self.queue.push_back(event),
                Err(kind) => {
                    // Events read before the failure are still handed out first.
                    self.pending_failure(kind);
                    break;
                }
            }
        }
    }

    fn read_event(&self, event: Option<&str>, data: &str) -> Result<StreamEvent, ErrorKind> {
        let url = self.url.clone();
        let json: Result<Value, _> = serde_json::from_str(data);
        if event == Some("error") {
            return Err(match json.as_ref().map(a2a::read_reply) {
                Ok(Outcome::RpcError { code, message, data }) => ErrorKind::RpcError { url, code, message, data },
                _ => ErrorKind::AgentError { url, text: format!("stream error event: {}", excerpt(data.as_bytes())) },
            });
        }
        let json = json.map_err(|e| ErrorKind::BadJson {
            url: url.clone(),
            status: 200,
            detail: format!("a stream event is not JSON: {e}"),
            excerpt: excerpt(data.as_bytes()),
        })?;
        a2a::read_stream_event(&json).map_err(|outcome| match outcome {
            Outcome::RpcError { code, message, data } => ErrorKind::RpcError { url, code, message, data },
            Outcome::AgentError(text) => ErrorKind::AgentError { url, text },
            Outcome::Shape(detail) | Outcome::Reply(a2a::Reply { text: detail, .. }) => {
                ErrorKind::UnexpectedShape { url, status: 200, detail, excerpt: excerpt(data.as_bytes()) }
            }
        })
    }

    /// Ends the stream because its connection ended before the final event:
    /// the caller may resume by subscribing to the task again.
    fn cut(&mut self, cause: String) {
        let kind =
            ErrorKind::StreamCut { url: self.url.clone(), task_id: None, events: self.delivered, resumes: 0, cause };
        self.pending_failure(kind);
    }

    /// Ends the stream after the events already queued, with an error then.
    fn pending_failure(&mut self, kind: ErrorKind) {
        self.end();
        self.failure = Some(kind);
    }

    fn end(&mut self) {
        if let State::Open { body, .. } = std::mem::replace(&mut self.state, State::Ended) {
            if S::KEPT_AFTER_END {
                self.retired = Some(body);
            }
        }
    }

    fn fail(&mut self, kind: ErrorKind) -> Error {
        self.end();
        self.queue.clear();
        // A stream hands its errors out after the client has returned it, so
        // it scrubs them itself, with its copy of the tokens.
        error::redacted(Error::a2a(kind), self.secrets.iter().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::config::{RawConfig, RawRetryPolicy};
    use crate::testing::{Chunk, FakeStream, FakeTransport};
    use crate::transport::Transport;

    const ME: &str = "11111111-2222-4333-8444-555555555555";
    const TOKEN: &str = "tok-stream-secret";

    fn cfg() -> Config {
        Config::from_raw(RawConfig {
            workspace_id: ME.into(),
            credentials: vec![(ME.into(), TOKEN.into())],
            max_body_bytes: Some(2048),
            send_read_ms: Some(1000),
            retry: Some(RawRetryPolicy { total_budget_ms: Some(5000), ..Default::default() }),
            ..Default::default()
        })
        .unwrap()
    }

    fn stream(chunks: Vec<Chunk>) -> EventStream<FakeStream> {
        let mut t = FakeTransport::default();
        t.then_stream(200, "text/event-stream", chunks);
        let cfg = cfg();
        let opened = t.open(&cfg.platform, &crate::testing::any_request()).unwrap();
        EventStream::new(opened.body, "http://p/workspaces/x/a2a".into(), &cfg, Protocol::V0_3.into(), 0)
    }

    fn data(s: &str) -> Chunk {
        Chunk::Data(s.as_bytes().to_vec())
    }

    const WORKING: &str =
        r#"data: {"result":{"kind":"status-update","taskId":"t","final":false,"status":{"state":"working"}}}"#;
    const DONE: &str =
        r#"data: {"result":{"kind":"status-update","taskId":"t","final":true,"status":{"state":"completed"}}}"#;

    fn all(s: &mut EventStream<FakeStream>) -> (Vec<StreamEvent>, Option<Error>) {
        let mut events = Vec::new();
        loop {
            match s.next_event(|| 0) {
                Ok(Some(e)) => events.push(e),
                Ok(None) => return (events, None),
                Err(e) => {
                    assert!(matches!(s.next_event(|| 0), Ok(None)), "an ended stream answers none");
                    return (events, Some(e));
                }
            }
        }
    }

    #[test]
    fn events_arrive_in_order_and_the_final_one_ends_the_stream() {
        let split = format!("{WORKING}\n\n{DONE}\n\n");
        let (a, b) = split.split_at(37);
        // Anything after the final event is never read.
        let mut s = stream(vec![data(a), data(b), Chunk::Fail(TransportError::TooLarge(1))]);
        let (events, err) = all(&mut s);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(events.len(), 2);
        assert!(events[1].ends_stream());
        assert_eq!(s.delivered, 2);
    }

    #[test]
    fn a_connection_that_ends_before_the_final_event_is_a_cut() {
        let cut = |err: Option<Error>| match err.map(|e| e.kind) {
            Some(ErrorKind::StreamCut { events, cause, .. }) => (events, cause),
            other => panic!("{other:?}"),
        };
        // Closed between events, closed mid-event, reset: each a cut, after the events read.
        let (events, err) = all(&mut stream(vec![data(&format!("{WORKING}\n\n"))]));
        assert_eq!(events.len(), 1);
        assert_eq!(cut(err), (1, "the connection closed before a final event".to_owned()));
        let (events, err) = all(&mut stream(vec![data(&format!("{WORKING}\n\n")), data("data: {\"res")]));
        assert_eq!(events.len(), 1, "the complete event still comes first");
        assert_eq!(cut(err), (1, "the connection closed mid-event".to_owned()));
        let reset = Chunk::Fail(TransportError::Code(wasi::http::types::ErrorCode::ConnectionTerminated));
        let (events, err) = all(&mut stream(vec![reset]));
        assert!(events.is_empty());
        assert!(cut(err).1.contains("connection-terminated"));
        let (_, err) = all(&mut stream(vec![]));
        let err = err.unwrap();
        assert!(err.message.starts_with("[A2A_ERROR] the stream was cut after 0 events: "), "{}", err.message);
        // Not a cut: a refused body (not worth resuming).
        let (_, err) = all(&mut stream(vec![Chunk::Fail(TransportError::TooLarge(9))]));
        assert!(matches!(err.unwrap().kind, ErrorKind::BodyTooLarge { .. }));
    }

    #[test]
    fn oversized_events_error_events_and_junk_end_the_stream() {
        let big = format!("data: {}\n\n", "x".repeat(4096));
        let (_, err) = all(&mut stream(vec![data(&big)]));
        assert!(matches!(err.unwrap().kind, ErrorKind::BodyTooLarge { limit: 2048, .. }));

        let rpc = "event: error\ndata: {\"error\":{\"code\":-32001,\"message\":\"Task not found\"}}\n\n";
        let (_, err) = all(&mut stream(vec![data(rpc)]));
        assert!(matches!(err.unwrap().kind, ErrorKind::RpcError { code: Some(-32001), .. }));

        // An error event that echoes the token: redacted.
        let echo = format!("event: error\ndata: upstream said Bearer {TOKEN}\n\n");
        let (_, err) = all(&mut stream(vec![data(&echo)]));
        let err = err.unwrap();
        assert!(matches!(err.kind, ErrorKind::AgentError { .. }));
        assert!(!format!("{err:?}").contains(TOKEN), "{err:?}");

        let (events, err) = all(&mut stream(vec![data(&format!("{WORKING}\n\ndata: not json\n\n"))]));
        assert_eq!(events.len(), 1);
        assert!(matches!(err.unwrap().kind, ErrorKind::BadJson { .. }));
        let (_, err) = all(&mut stream(vec![data("data: {\"result\":{\"kind\":\"odd\"}}\n\n")]));
        assert!(matches!(err.unwrap().kind, ErrorKind::UnexpectedShape { .. }));
    }

    #[test]
    fn silence_and_the_total_budget_are_bounded() {
        let (_, err) = all(&mut stream(vec![Chunk::Stall]));
        assert!(matches!(err.unwrap().kind, ErrorKind::TimedOut { after_ms: 1000, .. }));

        // A stream that never ends: events keep coming, the budget stops it.
        let clock = Cell::new(0u64);
        let chunks = (0..100).map(|_| data(&format!("{WORKING}\n\n"))).collect();
        let mut s = stream(chunks);
        let mut got = 0;
        let err = loop {
            clock.set(clock.get() + 1_000_000_000); // each event a second later
            match s.next_event(|| clock.get()) {
                Ok(Some(_)) => got += 1,
                Ok(None) => panic!("ended"),
                Err(e) => break e,
            }
        };
        assert!(matches!(err.kind, ErrorKind::TimedOut { after_ms: 5000, .. }), "{err:?}");
        assert_eq!(got, 4);
    }
}
