//! What a caller has seen of a task's stream, and the events that bring it
//! up to a later snapshot of the task. A stream cut mid-task is resumed by
//! subscribing to the task again; the new stream starts with the whole task
//! as it stands, and the caller should see only what changed since the cut:
//! artifacts it has not seen (or the chunks appended to one it has), and the
//! status when it moved. Parts are remembered as running hashes, not copies,
//! so following a stream costs a few words per artifact.

use std::cell::RefCell;
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::a2a::{settled, Artifact, Ask, Call, StreamEvent, Task};
use crate::client::Client;
use crate::error::{Error, ErrorKind};
use crate::message::{text_of, Part};
use crate::messaging::SendEnv;
use crate::retry::{backoff, is_transient_code, is_transient_status};
use crate::streaming::{EventStream, Step};
use crate::transport::{BodyStream, Transport, TransportError};
use wasi::http::types::ErrorCode;

/// A streamed reply (a send's or a subscription's) that resumes itself: its
/// events, and when its connection is cut before the final event, those of
/// a new subscription to its task, caught up with what was handed out.
pub(crate) struct ResumingStream<S> {
    current: EventStream<S>,
    /// Streams replaced by a resubscription, kept until this one is
    /// dropped: a pollable a host took is a child of their bodies.
    replaced: Vec<EventStream<S>>,
    seen: Seen,
    /// Events that bring the caller up to date after a resubscription.
    caught_up: VecDeque<StreamEvent>,
    /// Whether the current stream is a resubscription whose first event
    /// has not been read yet (the task as it stands, from a conforming peer).
    awaiting_snapshot: bool,
    /// Where a resubscription goes: the peer, as which source.
    peer: String,
    source: String,
    request_id: String,
    resumes: u32,
    delivered: u32,
    ended: bool,
    /// The step that waits on the network, while it waits: a call cancelled
    /// midway leaves it here and the next call takes it up again.
    unfinished: Option<Unfinished>,
}

/// A step of following a stream that waits on the network (see
/// [`ResumingStream::next`]).
enum Unfinished {
    /// Resubscribing after a cut: `last` says why the stream was cut (or the
    /// last resubscription failed); the backoff ends at `until` (monotonic
    /// nanoseconds; none: a new backoff is due).
    Resume { last: Error, until: Option<u64> },
    /// Reading the task after a refused subscription.
    Settle(Error),
    /// Reading the task for a snapshot, before handing out this live event.
    Snapshot(StreamEvent),
}

impl<S> crate::error::Redact for ResumingStream<S> {}

impl<S: BodyStream> ResumingStream<S> {
    /// A stream of `peer`'s (as `source`), resumable through subscriptions
    /// whose JSON-RPC ids derive from `request_id`.
    pub(crate) fn new(stream: EventStream<S>, (peer, source): (String, String), request_id: String) -> Self {
        ResumingStream {
            current: stream,
            replaced: Vec::new(),
            seen: Seen::default(),
            caught_up: VecDeque::new(),
            awaiting_snapshot: false,
            peer,
            source,
            request_id,
            resumes: 0,
            delivered: 0,
            ended: false,
            unfinished: None,
        }
    }

    /// The stream being read.
    pub(crate) fn current(&self) -> &EventStream<S> {
        &self.current
    }

    /// Whether the next event is known without reading. (After a cut the
    /// next `next_event` resubscribes, which waits on the network.)
    pub(crate) fn has_buffered(&self) -> bool {
        self.ended || !self.caught_up.is_empty() || self.current.has_buffered()
    }

    /// Resubscriptions made.
    pub(crate) fn resumes(&self) -> u32 {
        self.resumes
    }

    fn hand_out(&mut self, event: StreamEvent) -> StreamEvent {
        self.seen.record(&event);
        self.delivered += 1;
        self.ended |= event.ends_stream();
        event
    }

    /// Whether `event`, read after a resubscription, only repeats what the
    /// caller has (the peer's snapshot and its live events may overlap).
    fn repeats(&self, event: &StreamEvent) -> bool {
        self.resumes > 0 && self.seen.repeats(event)
    }

    /// Queues the events that bring the caller up to the task as a
    /// snapshot shows it.
    fn catch_up_to(&mut self, state: &str, parts: &[Part], artifacts: &[Artifact]) {
        let events = self.seen.catch_up(state, parts, artifacts);
        self.caught_up.extend(events);
    }

    /// The call options of a call that continues this stream's.
    fn continuing(&self) -> Ask {
        Ask { continuing: Some(self.current.spoken().clone()), ..Default::default() }
    }

    /// The error that ends a stream that could not be resumed.
    fn cut(&mut self, cause: String) -> Error {
        self.ended = true;
        self.caught_up.clear();
        self.unfinished = None;
        let kind = ErrorKind::StreamCut {
            url: self.current.url().to_owned(),
            task_id: self.seen.task_id.clone(),
            events: self.delivered,
            resumes: self.resumes,
            cause,
        };
        Error::a2a(kind)
    }
}

/// Whether a failed resubscription is worth another.
fn transient(e: &Error) -> bool {
    match &e.kind {
        ErrorKind::Transport { code, .. } => is_transient_code(code),
        // As a send's: a status worth retrying, with the platform's error body or without.
        ErrorKind::HttpStatus { status, .. } | ErrorKind::PlatformError { status, .. } => is_transient_status(*status),
        ErrorKind::TimedOut { .. } | ErrorKind::StreamCut { .. } => true,
        _ => false,
    }
}

/// What following a stream waits on, and the client it follows it with:
/// the one seam between the resuming logic (written once, async) and the
/// build running it. The WASI 0.2 build blocks in each wait (its futures are
/// ready when first polled, see [`Client::next_stream_event`]); the WASI 0.3
/// build awaits them, borrowing the shared client only inside
/// [`Self::client`].
pub(crate) trait StreamIo<T: Transport> {
    /// Runs `f` on the client (borrowed for `f` only, never across a wait).
    fn client<R>(&self, f: impl FnOnce(&mut Client<T>) -> R) -> R;
    /// The monotonic clock, in nanoseconds.
    fn mono_now(&self) -> u64;
    /// A uniform draw in `[0, 1)` (the backoff's jitter).
    fn random(&self) -> f64;
    /// Waits `delay` (a backoff).
    async fn pause(&self, delay: Duration);
    /// The next chunk of `body` (see [`BodyStream::next_chunk`]). Must be
    /// cancel-safe: a call given up on loses no bytes (the WASI 0.3 body
    /// reads ahead into a slot).
    async fn next_chunk(&self, body: &mut T::Stream, within: Duration) -> Result<Option<Vec<u8>>, TransportError>;
    /// A new subscription to a task (`target`: peer and task), as `source`.
    async fn subscribe(
        &self,
        target: (&str, &str),
        source: &str,
        ask: &Ask,
        request_id: &str,
    ) -> Result<EventStream<T::Stream>, Error>;
    /// A task as the peer has it now (`get-task`, retried like a send).
    async fn read_task(&self, target: (&str, &str), source: &str, ask: &Ask, request_id: &str) -> Result<Task, Error>;
}

impl<S: BodyStream> ResumingStream<S> {
    /// The next event, once it arrives; none once the stream has ended.
    /// Cancel-safe: a call dropped at any wait loses nothing (the step it
    /// waited on is taken up by the next call; a body read is the
    /// transport's to keep). A cut before the final event is met by subscribing to the task again —
    /// after the retry policy's backoff, at most `max-attempts - 1` times,
    /// while the stream's total budget and the client's retry budget allow —
    /// and the new stream's first event (the task as it stands) is handed
    /// out as what changed since the cut. A subscription the peer refuses (a
    /// task that ended meanwhile) is settled by reading the task. A cut that
    /// cannot be resumed ends the stream with `stream-cut`.
    pub(crate) async fn next<T: Transport<Stream = S>>(
        &mut self,
        io: &impl StreamIo<T>,
    ) -> Result<Option<StreamEvent>, Error> {
        loop {
            if let Some(event) = self.caught_up.pop_front() {
                if self.repeats(&event) {
                    continue;
                }
                return Ok(Some(self.hand_out(event)));
            }
            if self.ended {
                return Ok(None);
            }
            if let Some(step) = self.unfinished.take() {
                match step {
                    Unfinished::Resume { last, until } => self.resume(io, last, until).await?,
                    Unfinished::Settle(refused) => self.settle(io, refused).await?,
                    Unfinished::Snapshot(event) => self.snapshot_before(io, event).await,
                }
                continue;
            }
            let outcome = match self.current.step(io.mono_now()) {
                Step::Ready(outcome) => outcome,
                Step::Read(within) => {
                    let chunk = match self.current.body_mut() {
                        Some(body) => io.next_chunk(body, within).await,
                        None => Ok(None),
                    };
                    self.current.feed(chunk, within);
                    continue;
                }
            };
            match outcome {
                Ok(Some(StreamEvent::Task { state, parts, artifacts, .. })) if self.awaiting_snapshot => {
                    self.awaiting_snapshot = false;
                    self.catch_up_to(&state, &parts, &artifacts);
                }
                Ok(Some(event)) if self.awaiting_snapshot => {
                    self.awaiting_snapshot = false;
                    self.snapshot_before(io, event).await;
                }
                Ok(Some(event)) if self.repeats(&event) => {}
                Ok(Some(event)) => return Ok(Some(self.hand_out(event))),
                Ok(None) => return Ok(None),
                Err(e) if matches!(e.kind, ErrorKind::StreamCut { .. }) => self.resume(io, e, None).await?,
                // A subscription refused in its first event: the task may have ended.
                Err(e) if self.awaiting_snapshot => self.settle(io, e).await?,
                Err(e) => {
                    self.ended = true;
                    return Err(e);
                }
            }
        }
    }

    /// A resubscription's first event that is not the task: reads the task
    /// for a snapshot, catches up to it, then queues `event` (handed out
    /// unless it only repeats).
    async fn snapshot_before<T: Transport<Stream = S>>(&mut self, io: &impl StreamIo<T>, event: StreamEvent) {
        self.unfinished = Some(Unfinished::Snapshot(event));
        let read = self.read_task(io).await;
        let Some(Unfinished::Snapshot(event)) = self.unfinished.take() else { return };
        if let Ok(task) = read {
            self.catch_up_to(&task.state, &task.parts, &task.artifacts);
        }
        self.caught_up.push_back(event);
    }

    /// Replaces a cut stream by a new subscription to its task, after the
    /// backoff (which ends at `until` when a cancelled call began it).
    async fn resume<T: Transport<Stream = S>>(
        &mut self,
        io: &impl StreamIo<T>,
        mut last: Error,
        mut until: Option<u64>,
    ) -> Result<(), Error> {
        let Some(task_id) = self.seen.task_id.clone() else {
            let cause = format!("{}; no event named its task, so it cannot be resumed", cause_of(&last));
            return Err(self.cut_handed_out(io, cause));
        };
        let policy = io.client(|c| c.retry_policy().clone());
        let started = self.current.started();
        loop {
            let now = io.mono_now();
            // A backoff a cancelled call began is waited out, not begun again.
            let delay = match until.take() {
                Some(mark) => Duration::from_nanos(mark.saturating_sub(now)),
                None => backoff(&policy, self.resumes, io.random()),
            };
            let spent = Duration::from_nanos(now.saturating_sub(started));
            let stop = if self.resumes + 1 >= policy.max_attempts {
                Some(format!("the retry policy's {} attempts", policy.max_attempts))
            } else if !io.client(|c| c.retry_budget().allows_retry()) {
                Some("the client's retry budget is spent".to_owned())
            } else if spent + delay >= policy.total_budget {
                Some(format!("the {} ms total budget", policy.total_budget.as_millis()))
            } else {
                None
            };
            if let Some(limit) = stop {
                let cause = format!("{} (resubscribing stopped: {limit})", cause_of(&last));
                return Err(self.cut_handed_out(io, cause));
            }
            let mark = now.saturating_add(delay.as_nanos().min(u64::MAX as u128) as u64);
            self.unfinished = Some(Unfinished::Resume { last: last.clone(), until: Some(mark) });
            io.pause(delay).await;
            // Cancelled from here on, the attempt counts: its request may be out.
            self.unfinished = Some(Unfinished::Resume { last: last.clone(), until: None });
            self.resumes += 1;
            let request_id = format!("{}.{}", self.request_id, self.resumes);
            let ask = self.continuing();
            match io.subscribe((&self.peer, &task_id), &self.source, &ask, &request_id).await {
                Ok(next) => {
                    self.unfinished = None;
                    io.client(|c| c.retry_budget().on_success());
                    let replaced = std::mem::replace(&mut self.current, next.since(started));
                    if S::KEPT_AFTER_END {
                        self.replaced.push(replaced);
                    }
                    self.awaiting_snapshot = true;
                    return Ok(());
                }
                Err(e) if transient(&e) => {
                    io.client(|c| c.retry_budget().on_failure());
                    last = e;
                }
                Err(refused) => {
                    self.unfinished = None;
                    return self.settle(io, refused).await;
                }
            }
        }
    }

    /// Meets a refused subscription by reading the task: one that ended or
    /// paused is caught up to and ends the stream; otherwise the stream
    /// ends with `stream-cut`, saying why.
    async fn settle<T: Transport<Stream = S>>(&mut self, io: &impl StreamIo<T>, refused: Error) -> Result<(), Error> {
        self.awaiting_snapshot = false;
        self.unfinished = Some(Unfinished::Settle(refused.clone()));
        let read = self.read_task(io).await;
        self.unfinished = None;
        let why = match read {
            Ok(task) if settled(&task.state) => {
                self.catch_up_to(&task.state, &task.parts, &task.artifacts);
                // Nothing more comes from the refused subscription.
                self.ended = self.caught_up.is_empty();
                return Ok(());
            }
            Ok(task) => format!("the task is still {}", task.state),
            Err(e) => format!("reading the task failed too: {}", cause_of(&e)),
        };
        let cause = format!("resubscribing was refused: {}; {why}", cause_of(&refused));
        Err(self.cut_handed_out(io, cause))
    }

    /// The stream's task as the peer has it now (`get-task`, spoken as the
    /// stream was; a task read by one who has not seen its id is refused as
    /// an invalid task id, with no request).
    async fn read_task<T: Transport<Stream = S>>(&self, io: &impl StreamIo<T>) -> Result<Task, Error> {
        let task_id = self.seen.task_id.as_deref().unwrap_or_default();
        let request_id = format!("{}.get", self.request_id);
        io.read_task((&self.peer, task_id), &self.source, &self.continuing(), &request_id).await
    }

    /// [`Self::cut`], scrubbed of the client's tokens.
    fn cut_handed_out<T: Transport<Stream = S>>(&mut self, io: &impl StreamIo<T>, cause: String) -> Error {
        let cut = self.cut(cause);
        io.client(|c| c.handed_out(cut))
    }
}

/// The WASI 0.2 build's [`StreamIo`]: every wait blocks.
struct Blocking<'a, T: Transport, E> {
    client: RefCell<&'a mut Client<T>>,
    env: RefCell<&'a mut E>,
}

impl<T: Transport, E: SendEnv> StreamIo<T> for Blocking<'_, T, E> {
    fn client<R>(&self, f: impl FnOnce(&mut Client<T>) -> R) -> R {
        f(&mut self.client.borrow_mut())
    }

    fn mono_now(&self) -> u64 {
        self.env.borrow_mut().mono_now()
    }

    fn random(&self) -> f64 {
        self.env.borrow_mut().random()
    }

    async fn pause(&self, delay: Duration) {
        self.client.borrow_mut().pause(delay);
    }

    async fn next_chunk(&self, body: &mut T::Stream, within: Duration) -> Result<Option<Vec<u8>>, TransportError> {
        body.next_chunk(within)
    }

    async fn subscribe(
        &self,
        target: (&str, &str),
        source: &str,
        ask: &Ask,
        request_id: &str,
    ) -> Result<EventStream<T::Stream>, Error> {
        let env = &mut **self.env.borrow_mut();
        self.client.borrow_mut().subscription(target, Some(source), ask, env, request_id)
    }

    async fn read_task(&self, target: (&str, &str), source: &str, ask: &Ask, request_id: &str) -> Result<Task, Error> {
        let env = &mut **self.env.borrow_mut();
        let report = self.client.borrow_mut().task_call(Call::GetTask, target, Some(source), ask, env, request_id)?;
        Ok(report.task)
    }
}

impl<T: Transport> Client<T> {
    /// The next event of `stream`, blocking until it arrives (see
    /// [`ResumingStream::next`]).
    pub(crate) fn next_stream_event(
        &mut self,
        stream: &mut ResumingStream<T::Stream>,
        env: &mut impl SendEnv,
    ) -> Result<Option<StreamEvent>, Error> {
        let url = stream.current.url().to_owned();
        let io = Blocking { client: RefCell::new(self), env: RefCell::new(env) };
        let mut next = std::pin::pin!(stream.next(&io));
        // Every wait of `Blocking` is over when its future is first polled,
        // so one poll finishes the step.
        match next.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(outcome) => outcome,
            Poll::Pending => {
                let why = "a blocking stream read did not finish".to_owned();
                Err(Error::a2a(ErrorKind::Transport { url, code: ErrorCode::InternalError(Some(why)), attempt: 1 }))
            }
        }
    }
}

/// What ended a stream, in a few words: an error's text without the
/// prefix and the target the stream's own error names again.
fn cause_of(e: &Error) -> String {
    let text = match &e.kind {
        ErrorKind::StreamCut { cause, .. } => cause.as_str(),
        _ => e.message.strip_prefix("[A2A_ERROR] ").unwrap_or(&e.message),
    };
    match (text.find(" [target="), text.rfind(']')) {
        (Some(start), Some(end)) if end > start => format!("{}{}", &text[..start], &text[end + 1..]),
        _ => text.to_owned(),
    }
}

/// Most artifacts remembered; one past it is handed out whole again on a
/// resume (a repeat, never a gap).
const MAX_ARTIFACTS: usize = 4096;

/// The parts of one artifact handed out so far.
#[derive(Clone)]
struct PartsSeen {
    count: usize,
    hash: DefaultHasher,
}

impl PartsSeen {
    fn of(parts: &[Part]) -> Self {
        let mut seen = PartsSeen { count: 0, hash: DefaultHasher::new() };
        seen.extend(parts);
        seen
    }

    fn extend(&mut self, parts: &[Part]) {
        for part in parts {
            part.hash(&mut self.hash);
        }
        self.count += parts.len();
    }

    /// The parts of `parts` past those seen, when `parts` starts with them.
    fn rest_of<'p>(&self, parts: &'p [Part]) -> Option<&'p [Part]> {
        if parts.len() < self.count {
            return None;
        }
        let prefix = PartsSeen::of(&parts[..self.count]);
        (prefix.hash.finish() == self.hash.finish()).then(|| &parts[self.count..])
    }
}

/// What a stream has handed out about its task.
#[derive(Default)]
pub(crate) struct Seen {
    /// The task the stream follows, once an event named it.
    pub task_id: Option<String>,
    /// The last status: its state and a hash of its message's parts.
    status: Option<(String, u64)>,
    /// Artifacts by id.
    artifacts: HashMap<String, PartsSeen>,
}

fn parts_hash(parts: &[Part]) -> u64 {
    PartsSeen::of(parts).hash.finish()
}

impl Seen {
    /// Notes an event handed out.
    pub(crate) fn record(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::Task { id, state, parts, artifacts, .. } => {
                self.name_task(id.as_deref());
                self.status = Some((state.clone(), parts_hash(parts)));
                self.artifacts.clear();
                for artifact in artifacts {
                    if let Some(id) = &artifact.id {
                        self.remember(id, PartsSeen::of(&artifact.parts));
                    }
                }
            }
            StreamEvent::StatusUpdate { task_id, state, parts, .. } => {
                self.name_task(task_id.as_deref());
                self.status = Some((state.clone(), parts_hash(parts)));
            }
            StreamEvent::ArtifactUpdate { task_id, artifact_id, parts, append, .. } => {
                self.name_task(task_id.as_deref());
                let Some(id) = artifact_id else { return };
                match self.artifacts.get_mut(id) {
                    Some(seen) if *append => seen.extend(parts),
                    _ => self.remember(id, PartsSeen::of(parts)),
                }
            }
            StreamEvent::Message { .. } => {}
        }
    }

    /// Whether handing `event` out would tell the caller nothing new: the
    /// status it has, or a whole artifact it has. An event that ends the
    /// stream is never a repeat (the caller must see the end).
    pub(crate) fn repeats(&self, event: &StreamEvent) -> bool {
        match event {
            _ if event.ends_stream() => false,
            StreamEvent::StatusUpdate { state, parts, .. } => {
                self.status.as_ref() == Some(&(state.clone(), parts_hash(parts)))
            }
            StreamEvent::ArtifactUpdate { artifact_id: Some(id), parts, append: false, .. } => {
                self.artifacts.get(id).is_some_and(|seen| seen.count == parts.len() && seen.rest_of(parts) == Some(&[]))
            }
            _ => false,
        }
    }

    fn name_task(&mut self, id: Option<&str>) {
        if self.task_id.is_none() {
            self.task_id = id.map(str::to_owned);
        }
    }

    fn remember(&mut self, id: &str, seen: PartsSeen) {
        if self.artifacts.len() < MAX_ARTIFACTS || self.artifacts.contains_key(id) {
            self.artifacts.insert(id.to_owned(), seen);
        }
    }

    /// The events that bring a caller who saw what `self` saw up to the task
    /// as `snapshot` shows it (`state`, its status message's `parts`, its
    /// `artifacts`): each artifact not seen (whole), the chunks appended to
    /// one seen, one that changed otherwise (whole, replacing it), then the
    /// status if it moved — marked final when the state ends or pauses the
    /// task. Nothing when nothing changed.
    pub(crate) fn catch_up(&self, state: &str, parts: &[Part], artifacts: &[Artifact]) -> Vec<StreamEvent> {
        let settled = settled(state);
        let mut events = Vec::new();
        for artifact in artifacts {
            let seen = artifact.id.as_ref().and_then(|id| self.artifacts.get(id));
            let (new_parts, append) = match seen.and_then(|s| s.rest_of(&artifact.parts)) {
                Some([]) => continue,
                Some(rest) => (rest, true),
                None => (&artifact.parts[..], false),
            };
            events.push(StreamEvent::ArtifactUpdate {
                task_id: self.task_id.clone(),
                artifact_id: artifact.id.clone(),
                name: artifact.name.clone(),
                text: text_of(new_parts),
                parts: new_parts.to_vec(),
                append,
                last_chunk: settled,
            });
        }
        if self.status.as_ref() != Some(&(state.to_owned(), parts_hash(parts))) {
            events.push(StreamEvent::StatusUpdate {
                task_id: self.task_id.clone(),
                state: state.to_owned(),
                text: text_of(parts),
                parts: parts.to_vec(),
                is_final: settled,
            });
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::a2a::ProtocolChoice;
    use crate::config::{RawConfig, RawRetryPolicy};
    use crate::message::Message;
    use crate::testing::{Chunk, FakeTransport, FixedEnv};
    use crate::transport::TransportError;
    use wasi::http::types::ErrorCode;

    const ME: &str = "11111111-2222-4333-8444-555555555555";
    const PEER: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

    fn client(t: FakeTransport) -> Client<FakeTransport> {
        client_with(t, RawRetryPolicy { max_attempts: Some(3), base_delay_ms: Some(10), ..Default::default() })
    }

    /// A client of ME over `t`, resuming by `retry`.
    fn client_with(t: FakeTransport, retry: RawRetryPolicy) -> Client<FakeTransport> {
        let raw = RawConfig {
            workspace_id: ME.into(),
            platform_url: Some("http://p".into()),
            credentials: vec![(ME.into(), "tok-me".into())],
            retry: Some(retry),
            ..Default::default()
        };
        Client::new(raw, t).unwrap()
    }

    fn sse(events: &[String]) -> Vec<Chunk> {
        events.iter().map(|e| Chunk::Data(format!("data: {{\"result\":{e}}}\n\n").into_bytes())).collect()
    }

    fn task(state: &str, artifacts: &str) -> String {
        format!(
            r#"{{"kind":"task","id":"t","contextId":"c","status":{{"state":"{state}"}},"artifacts":[{artifacts}]}}"#
        )
    }

    fn working() -> String {
        r#"{"kind":"status-update","taskId":"t","final":false,"status":{"state":"working"}}"#.into()
    }

    fn completed() -> String {
        r#"{"kind":"status-update","taskId":"t","final":true,"status":{"state":"completed","message":{"kind":"message","role":"agent","messageId":"m","parts":[{"kind":"text","text":"done"}]}}}"#.into()
    }

    fn artifact_json(id: &str, texts: &[&str]) -> String {
        let parts: Vec<String> = texts.iter().map(|t| format!(r#"{{"kind":"text","text":"{t}"}}"#)).collect();
        format!(r#"{{"artifactId":"{id}","name":"{id}","parts":[{}]}}"#, parts.join(","))
    }

    fn chunk_event(id: &str, text: &str, append: bool) -> String {
        let artifact = artifact_json(id, &[text]);
        format!(r#"{{"kind":"artifact-update","taskId":"t","artifact":{artifact},"append":{append}}}"#)
    }

    fn ids() -> crate::a2a::SendIds {
        crate::a2a::SendIds { request_id: "req".into(), message_id: "msg".into() }
    }

    /// Every event of a stream sent to PEER in v0.3, and how it ended.
    fn drain(c: &mut Client<FakeTransport>) -> (Vec<String>, Option<Error>) {
        let v03 = Ask::from(ProtocolChoice::V0_3);
        let mut stream = c.send_message_stream(PEER, &Message::text("go"), None, &v03, &mut FixedEnv, ids()).unwrap();
        let mut seen = Vec::new();
        loop {
            match c.next_stream_event(&mut stream, &mut FixedEnv) {
                Ok(Some(e)) => seen.push(short(std::slice::from_ref(&e)).remove(0)),
                Ok(None) => return (seen, None),
                Err(e) => {
                    assert!(matches!(c.next_stream_event(&mut stream, &mut FixedEnv), Ok(None)));
                    return (seen, Some(e));
                }
            }
        }
    }

    fn bodies(c: &mut Client<FakeTransport>) -> Vec<String> {
        c.transport_mut()
            .sent
            .iter()
            .map(|r| String::from_utf8_lossy(r.body.as_deref().unwrap_or(&[])).into_owned())
            .collect()
    }

    #[test]
    fn a_cut_stream_is_resumed_and_caught_up_without_repeats() {
        let mut t = FakeTransport::default();
        let first = [task("submitted", ""), working(), chunk_event("a", "one", false)];
        t.then_stream(200, "text/event-stream", sse(&first));
        // The first resubscription is reset before its first event: tried again.
        t.then_stream(
            200,
            "text/event-stream",
            vec![Chunk::Fail(TransportError::Code(ErrorCode::ConnectionTerminated))],
        );
        let snapshot =
            task("working", &[artifact_json("a", &["one", "two"]), artifact_json("b", &["whole"])].join(","));
        t.then_stream(200, "text/event-stream", sse(&[snapshot, completed()]));
        let mut c = client(t);
        let (events, end) = drain(&mut c);
        assert!(end.is_none(), "{end:?}");
        assert!(events[0].starts_with("Task {"), "{events:?}");
        assert_eq!(events[1..], ["status working ", "a one", "a +two", "b whole", "status completed done final"]);
        let sent = bodies(&mut c);
        assert_eq!(sent.len(), 3);
        for (i, body) in sent[1..].iter().enumerate() {
            assert!(body.contains(r#""method":"tasks/resubscribe""#) && body.contains(r#""id":"t""#), "{body}");
            assert!(body.contains(&format!(r#""id":"req.{}""#, i + 1)), "{body}");
        }
        // Each resubscription waited the policy's backoff first.
        assert_eq!(c.transport_mut().slept.len(), 2);
    }

    /// A [`StreamIo`] whose `stall_at`-th wait never ends (its caller gives
    /// up on it), each other wait as [`Blocking`]'s.
    struct GivingUp<'a> {
        inner: Blocking<'a, FakeTransport, FixedEnv>,
        waits: std::cell::Cell<usize>,
        stall_at: usize,
    }

    impl GivingUp<'_> {
        async fn wait(&self) {
            let n = self.waits.get();
            self.waits.set(n + 1);
            if n == self.stall_at {
                std::future::pending::<()>().await;
            }
        }
    }

    impl StreamIo<FakeTransport> for GivingUp<'_> {
        fn client<R>(&self, f: impl FnOnce(&mut Client<FakeTransport>) -> R) -> R {
            self.inner.client(f)
        }
        fn mono_now(&self) -> u64 {
            self.inner.mono_now()
        }
        fn random(&self) -> f64 {
            self.inner.random()
        }
        async fn pause(&self, delay: Duration) {
            self.wait().await;
            self.inner.pause(delay).await
        }
        async fn next_chunk(
            &self,
            body: &mut crate::testing::FakeStream,
            within: Duration,
        ) -> Result<Option<Vec<u8>>, TransportError> {
            self.wait().await;
            self.inner.next_chunk(body, within).await
        }
        async fn subscribe(
            &self,
            target: (&str, &str),
            source: &str,
            ask: &Ask,
            request_id: &str,
        ) -> Result<EventStream<crate::testing::FakeStream>, Error> {
            self.wait().await;
            self.inner.subscribe(target, source, ask, request_id).await
        }
        async fn read_task(
            &self,
            target: (&str, &str),
            source: &str,
            ask: &Ask,
            request_id: &str,
        ) -> Result<Task, Error> {
            self.wait().await;
            self.inner.read_task(target, source, ask, request_id).await
        }
    }

    /// Every event of a stream sent to PEER over `t`, read with calls of
    /// which the one reaching the `stall_at`-th wait is given up on; how it
    /// ended, and how many waits the reading made.
    fn drain_giving_up(t: FakeTransport, stall_at: usize) -> (Vec<String>, Option<String>, usize) {
        let retry = RawRetryPolicy { max_attempts: Some(6), base_delay_ms: Some(10), ..Default::default() };
        let mut c = client_with(t, retry);
        let v03 = Ask::from(ProtocolChoice::V0_3);
        let mut stream = c.send_message_stream(PEER, &Message::text("go"), None, &v03, &mut FixedEnv, ids()).unwrap();
        let mut env = FixedEnv;
        let io = GivingUp {
            inner: Blocking { client: RefCell::new(&mut c), env: RefCell::new(&mut env) },
            waits: std::cell::Cell::new(0),
            stall_at,
        };
        let mut seen = Vec::new();
        let end = loop {
            let mut next = std::pin::pin!(stream.next(&io));
            match next.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Pending => {} // given up on: dropped, and read again
                Poll::Ready(Ok(Some(event))) => seen.push(short(std::slice::from_ref(&event)).remove(0)),
                Poll::Ready(Ok(None)) => break None,
                Poll::Ready(Err(e)) => break Some(e.message),
            }
        };
        (seen, end, io.waits.get())
    }

    #[test]
    fn a_read_given_up_at_any_wait_loses_nothing() {
        // A cut resumed after a resubscription cut before its first event,
        // then one refused with an error status (retried) — a refused one
        // settled by reading the task — one that does not start with the
        // task — one refused in a whole JSON answer.
        let cut_and_resumed = || {
            let mut t = FakeTransport::default();
            t.then_stream(
                200,
                "text/event-stream",
                sse(&[task("submitted", ""), working(), chunk_event("a", "one", false)]),
            );
            let reset = Chunk::Fail(TransportError::Code(ErrorCode::ConnectionTerminated));
            t.then_stream(200, "text/event-stream", vec![reset]);
            t.then_stream(503, "application/json", vec![Chunk::Data(br#"{"error":"busy"}"#.to_vec())]);
            let snapshot = task("working", &artifact_json("a", &["one", "two"]));
            t.then_stream(200, "text/event-stream", sse(&[snapshot, completed()]));
            t
        };
        let refused = || {
            let mut t = FakeTransport::default();
            t.then_stream(200, "text/event-stream", sse(&[task("working", "")]));
            let no = "event: error\ndata: {\"error\":{\"code\":-32004,\"message\":\"ended\"}}\n\n";
            t.then_stream(200, "text/event-stream", vec![Chunk::Data(no.as_bytes().to_vec())]);
            let ended = task("completed", &artifact_json("a", &["all"]));
            t.then_answer(200, &format!(r#"{{"jsonrpc":"2.0","id":"req.get","result":{ended}}}"#));
            t
        };
        let no_snapshot = || {
            let mut t = FakeTransport::default();
            t.then_stream(200, "text/event-stream", sse(&[task("working", ""), chunk_event("a", "one", false)]));
            t.then_stream(200, "text/event-stream", sse(&[chunk_event("b", "two", false), completed()]));
            let read = task("working", &[artifact_json("a", &["one"]), artifact_json("b", &["two"])].join(","));
            t.then_answer(200, &format!(r#"{{"jsonrpc":"2.0","id":"req.get","result":{read}}}"#));
            t
        };
        let refused_whole = || {
            let mut t = FakeTransport::default();
            t.then_stream(200, "text/event-stream", sse(&[task("working", "")]));
            let no = r#"{"jsonrpc":"2.0","id":"req.1","error":{"code":-32004,"message":"ended"}}"#;
            t.then_stream(200, "application/json", vec![Chunk::Data(no.as_bytes().to_vec())]);
            let ended = task("completed", &artifact_json("a", &["all"]));
            t.then_answer(200, &format!(r#"{{"jsonrpc":"2.0","id":"req.get","result":{ended}}}"#));
            t
        };
        let scripts: [&dyn Fn() -> FakeTransport; 4] = [&cut_and_resumed, &refused, &no_snapshot, &refused_whole];
        for script in scripts {
            let (expected, end, waits) = drain_giving_up(script(), usize::MAX);
            assert!(end.is_none(), "{end:?}");
            assert!(waits > 4, "{waits}");
            for stall_at in 0..waits {
                let (seen, end) = {
                    let (seen, end, _) = drain_giving_up(script(), stall_at);
                    (seen, end)
                };
                assert_eq!((&seen, &end), (&expected, &None), "given up at wait {stall_at}");
            }
        }
    }

    #[test]
    fn a_task_that_ended_during_the_cut_is_read_and_its_end_handed_out() {
        let mut t = FakeTransport::default();
        t.then_stream(200, "text/event-stream", sse(&[task("working", "")]));
        let refused = r#"event: error
data: {"error":{"code":-32004,"message":"Task t is in a terminal state"}}

"#;
        t.then_stream(200, "text/event-stream", vec![Chunk::Data(refused.as_bytes().to_vec())]);
        let ended = task("completed", &artifact_json("a", &["all"]));
        t.then_answer(200, &format!(r#"{{"jsonrpc":"2.0","id":"req.get","result":{ended}}}"#));
        let mut c = client(t);
        let (events, end) = drain(&mut c);
        assert!(end.is_none(), "{end:?}");
        assert_eq!(events[1..], ["a all", "status completed  final"]);
        assert!(bodies(&mut c)[2].contains(r#""method":"tasks/get""#));
    }

    #[test]
    fn cuts_that_cannot_be_resumed_say_so() {
        // Cut before any event named the task.
        let mut t = FakeTransport::default();
        t.then_stream(200, "text/event-stream", vec![]);
        let (events, end) = drain(&mut client(t));
        let end = end.unwrap();
        assert!(events.is_empty());
        let ErrorKind::StreamCut { task_id: None, resumes: 0, cause, .. } = &end.kind else { panic!("{end:?}") };
        assert!(cause.contains("no event named its task"), "{cause}");

        // Every resubscription fails: the policy's attempts, then stream-cut.
        let mut t = FakeTransport::default();
        t.then_stream(200, "text/event-stream", sse(&[task("working", ""), working()]));
        t.then_stream_fail(TransportError::Code(ErrorCode::ConnectionRefused));
        t.then_stream_fail(TransportError::Code(ErrorCode::ConnectionRefused));
        let (events, end) = drain(&mut client(t));
        assert_eq!(events.len(), 2);
        let end = end.unwrap();
        let ErrorKind::StreamCut { task_id: Some(id), resumes: 2, events: 2, cause, .. } = &end.kind else {
            panic!("{end:?}")
        };
        assert_eq!(id, "t");
        assert!(cause.contains("connection refused") && cause.contains("3 attempts"), "{cause}");
        assert_eq!(end.message.matches("[target=").count(), 1, "{}", end.message);
        let lead =
            "[A2A_ERROR] the stream of task 't' was cut after 2 events and 2 resubscriptions: connection refused";
        assert!(end.message.starts_with(lead), "{}", end.message);

        // A refused subscription to a task still running: stream-cut with the
        // refusal and the state read.
        let mut t = FakeTransport::default();
        t.then_stream(200, "text/event-stream", sse(&[task("working", "")]));
        t.then_stream(404, "text/plain", vec![Chunk::Data(b"no such task here".to_vec())]);
        t.then_answer(200, &format!(r#"{{"jsonrpc":"2.0","id":"x","result":{}}}"#, task("working", "")));
        let mut c = client(t);
        let (_, end) = drain(&mut c);
        let end = end.unwrap();
        let ErrorKind::StreamCut { cause, .. } = &end.kind else { panic!("{end:?}") };
        assert!(cause.starts_with("resubscribing was refused: HTTP 404"), "{cause}");
        assert!(cause.ends_with("; the task is still working"), "{cause}");
        assert!(!cause.contains("[A2A_ERROR]") && !cause.contains("[target="), "{cause}");
        assert!(bodies(&mut c)[2].contains(r#""method":"tasks/get""#));
    }

    #[test]
    fn a_resumption_speaks_as_the_stream_did_tenant_and_extensions_included() {
        let mut t = FakeTransport::default();
        let v10_task = r#"{"task":{"id":"t","status":{"state":"TASK_STATE_WORKING"}}}"#;
        t.then_stream(200, "text/event-stream", sse(&[v10_task.to_owned()]));
        t.then_stream(
            200,
            "text/event-stream",
            sse(&[r#"{"task":{"id":"t","status":{"state":"TASK_STATE_COMPLETED"}}}"#.to_owned()]),
        );
        let mut c = client(t);
        let spoken = crate::a2a::Spoken {
            protocol: crate::a2a::Protocol::V1_0,
            tenant: Some("acme".into()),
            extensions: vec!["urn:x".into()],
        };
        let ask = Ask { continuing: Some(spoken), ..Default::default() };
        let mut stream = c.send_message_stream(PEER, &Message::text("go"), None, &ask, &mut FixedEnv, ids()).unwrap();
        while c.next_stream_event(&mut stream, &mut FixedEnv).unwrap().is_some() {}
        assert_eq!(stream.resumes(), 1);
        let sent = &c.transport_mut().sent;
        let resub = String::from_utf8_lossy(sent[1].body.as_deref().unwrap()).into_owned();
        assert!(resub.contains(r#""method":"SubscribeToTask""#) && resub.contains(r#""tenant":"acme""#), "{resub}");
        assert!(sent[1].headers.iter().any(|(k, v)| *k == "a2a-extensions" && v == "urn:x"), "{:?}", sent[1].headers);
    }

    #[test]
    fn a_resubscription_that_does_not_start_with_the_task_is_caught_up_by_reading_it() {
        let mut t = FakeTransport::default();
        t.then_stream(200, "text/event-stream", sse(&[task("working", ""), chunk_event("a", "one", false)]));
        // The peer's resubscription starts with live events: a chunk of b
        // already in the task, then the end.
        t.then_stream(200, "text/event-stream", sse(&[chunk_event("b", "two", false), completed()]));
        let read = task("working", &[artifact_json("a", &["one"]), artifact_json("b", &["two"])].join(","));
        t.then_answer(200, &format!(r#"{{"jsonrpc":"2.0","id":"req.get","result":{read}}}"#));
        let mut c = client(t);
        let (events, end) = drain(&mut c);
        assert!(end.is_none(), "{end:?}");
        assert_eq!(events[1..], ["a one", "b two", "status completed done final"], "b once");
        assert!(bodies(&mut c)[2].contains(r#""method":"tasks/get""#));
    }

    #[test]
    fn resubscribing_stops_at_the_streams_total_budget() {
        // The clock moves only when the client waits (its backoff).
        struct Clocked(std::rc::Rc<std::cell::Cell<std::time::Duration>>);
        impl SendEnv for Clocked {
            fn random(&mut self) -> f64 {
                0.5
            }
            fn unix_now(&mut self) -> u64 {
                1_700_000_000
            }
            fn mono_now(&mut self) -> u64 {
                self.0.get().as_nanos() as u64
            }
        }
        let mut t = FakeTransport::default();
        t.then_stream(200, "text/event-stream", sse(&[task("working", "")]));
        for _ in 0..8 {
            t.then_stream_fail(TransportError::Code(ErrorCode::ConnectionRefused));
        }
        let mut env = Clocked(t.now.clone());
        let retry = RawRetryPolicy {
            max_attempts: Some(20),
            base_delay_ms: Some(10),
            jitter_percent: Some(0),
            total_budget_ms: Some(50),
            budget_tokens: Some(0),
            ..Default::default()
        };
        let mut c = client_with(t, retry);
        let v03 = Ask::from(ProtocolChoice::V0_3);
        let mut stream = c.send_message_stream(PEER, &Message::text("go"), None, &v03, &mut env, ids()).unwrap();
        assert!(c.next_stream_event(&mut stream, &mut env).unwrap().is_some());
        let end = c.next_stream_event(&mut stream, &mut env).unwrap_err();
        // Waits of 10 and 20 ms fit in 50; the next, 40, would not.
        let ErrorKind::StreamCut { resumes: 2, cause, .. } = &end.kind else { panic!("{end:?}") };
        assert!(cause.ends_with("(resubscribing stopped: the 50 ms total budget)"), "{cause}");
    }

    fn text(s: &str) -> Part {
        Part::Text(s.into())
    }

    fn artifact(id: &str, parts: &[&str]) -> Artifact {
        Artifact { id: Some(id.into()), name: Some(id.into()), parts: parts.iter().map(|p| text(p)).collect() }
    }

    fn chunk(id: &str, parts: &[&str], append: bool) -> StreamEvent {
        StreamEvent::ArtifactUpdate {
            task_id: Some("t".into()),
            artifact_id: Some(id.into()),
            name: Some(id.into()),
            text: parts.join("\n"),
            parts: parts.iter().map(|p| text(p)).collect(),
            append,
            last_chunk: false,
        }
    }

    fn status(state: &str, message: &str) -> StreamEvent {
        StreamEvent::StatusUpdate {
            task_id: Some("t".into()),
            state: state.into(),
            text: message.into(),
            parts: vec![text(message)],
            is_final: false,
        }
    }

    fn short(events: &[StreamEvent]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                StreamEvent::ArtifactUpdate { artifact_id, text, append, .. } => {
                    format!("{} {}{}", artifact_id.as_deref().unwrap_or("-"), if *append { "+" } else { "" }, text)
                }
                StreamEvent::StatusUpdate { state, text, is_final, .. } => {
                    format!("status {state} {text}{}", if *is_final { " final" } else { "" })
                }
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn only_what_changed_since_the_cut_is_handed_out() {
        let mut seen = Seen::default();
        seen.record(&StreamEvent::Task {
            id: Some("t".into()),
            context_id: None,
            state: "submitted".into(),
            text: String::new(),
            parts: vec![],
            artifacts: vec![],
        });
        seen.record(&status("working", "on it"));
        seen.record(&chunk("a", &["one"], false));
        seen.record(&chunk("a", &["two"], true));
        seen.record(&chunk("b", &["whole"], false));
        assert_eq!(seen.task_id.as_deref(), Some("t"));

        // Nothing moved: nothing to hand out.
        let same = [artifact("a", &["one", "two"]), artifact("b", &["whole"])];
        assert!(seen.catch_up("working", &[text("on it")], &same).is_empty());

        // One chunk appended to a, b unchanged, c new, then completed.
        let later = [artifact("a", &["one", "two", "three"]), artifact("b", &["whole"]), artifact("c", &["new"])];
        let events = seen.catch_up("completed", &[text("done")], &later);
        assert_eq!(short(&events), ["a +three", "c new", "status completed done final"]);
        assert!(events.last().unwrap().ends_stream());
    }

    #[test]
    fn an_artifact_that_changed_otherwise_is_handed_out_whole() {
        let mut seen = Seen::default();
        seen.record(&chunk("a", &["one", "two"], false));
        seen.record(&status("working", ""));
        let events = seen.catch_up("working", &[text("")], &[artifact("a", &["ONE", "two", "three"])]);
        assert_eq!(short(&events), ["a ONE\ntwo\nthree"]);
        // Shorter than what was seen: replaced too.
        let events = seen.catch_up("working", &[text("")], &[artifact("a", &["one"])]);
        assert_eq!(short(&events), ["a one"]);
        // The same state with another message is a move of the status.
        let events = seen.catch_up("working", &[text("still")], &[artifact("a", &["one", "two"])]);
        assert_eq!(short(&events), ["status working still"]);
    }

    #[test]
    fn a_replaced_artifact_and_one_without_an_id() {
        let mut seen = Seen::default();
        seen.record(&chunk("a", &["old"], false));
        seen.record(&chunk("a", &["new"], false));
        seen.record(&status("working", ""));
        assert!(seen.catch_up("working", &[text("")], &[artifact("a", &["new"])]).is_empty());
        let anonymous = Artifact { id: None, name: None, parts: vec![text("x")] };
        assert_eq!(short(&seen.catch_up("working", &[text("")], &[anonymous])), ["- x"]);
    }
}
