//! The transport of the WASI 0.3 build: `wasi:http/client@0.3.0`.
//!
//! Each request runs as a task of its own (spawned), so it goes on while the
//! call that started it is suspended — or after that call has returned, as
//! a non-blocking enrichment's lookup does. Its outcome lands in a shared
//! slot: the client reads it without blocking (a harvest, a send's state
//! machine), and an async call waits for it with [`ready`].

use std::cell::RefCell;
use std::future::{poll_fn, Future, IntoFuture};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use wasi::http::types::ErrorCode;
use wasip3::clocks::monotonic_clock;
use wasip3::http::client;
use wasip3::http::types::{
    Fields, Method as P3Method, Request as P3Request, RequestOptions, Response as P3Response, Scheme as P3Scheme,
};
use wasip3::wit_bindgen::StreamResult;
use wasip3::{wit_future, wit_stream};

use super::codes::from_p3;
use crate::config::{PlatformUrl, Scheme};
use crate::transport::{
    answer_headers, content_length, push_capped, BodyStream, Method, Opened, Pending, Request, Response, Transport,
    TransportError,
};

/// Largest read asked of a body stream at once.
const READ_CHUNK: usize = 64 * 1024;

fn internal(msg: impl Into<String>) -> TransportError {
    TransportError::Code(ErrorCode::InternalError(Some(msg.into())))
}

/// The `wasi:http/client@0.3.0` transport.
#[derive(Debug, Default)]
pub(crate) struct WasiHttp3;

/// Where a request's outcome lands.
#[derive(Default)]
struct Slot {
    /// The outcome, until it is taken.
    outcome: Option<Result<Response, TransportError>>,
    /// Whether the request has finished (stays true once the outcome is taken).
    done: bool,
    /// The calls waiting for it.
    waiting: Vec<Waker>,
}

/// A request in flight: a handle on its slot. Clones share it, so a call can
/// wait for a lookup that the cache also tracks; only one of them takes the
/// outcome (the one that polls).
#[derive(Clone)]
pub(crate) struct InFlight(Rc<RefCell<Slot>>);

impl std::fmt::Debug for InFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight").field("done", &self.is_done()).finish()
    }
}

impl InFlight {
    fn is_done(&self) -> bool {
        self.0.borrow().done
    }

    fn finish(&self, outcome: Result<Response, TransportError>) {
        let waiting = {
            let mut slot = self.0.borrow_mut();
            slot.outcome = Some(outcome);
            slot.done = true;
            std::mem::take(&mut slot.waiting)
        };
        waiting.into_iter().for_each(Waker::wake);
    }
}

/// Finishes a request's slot when its task ends without an outcome: the
/// host drops a cancelled call's tasks, and a lookup that never finished
/// would leave every call waiting on it (and the cache counting it in
/// flight) for good.
///
/// It wakes no one: the waker registered may be the cancelled call's own,
/// torn down at that moment, and waking it then panics in wit-bindgen 0.62
/// (`TaskState::drop` cancels the task's wakeup read before it drops the
/// task's spawned futures; the wakeup's write asserts that read). The calls
/// of other tasks waiting on the request see it finished at their next
/// check ([`ready`] checks again every [`RECHECK`]).
struct Finisher(InFlight);

impl Drop for Finisher {
    fn drop(&mut self) {
        if !self.0.is_done() {
            let mut slot = self.0 .0.borrow_mut();
            slot.outcome = Some(Err(internal("the call that started this request was cancelled")));
            slot.done = true;
        }
    }
}

/// How often a wait checks what it waits for without being woken (see
/// [`Finisher`]).
const RECHECK: Duration = Duration::from_secs(1);

/// A timer of [`RECHECK`], from now.
fn recheck() -> Pin<Box<impl Future<Output = ()>>> {
    Box::pin(monotonic_clock::wait_for(nanos(RECHECK)))
}

impl Pending for InFlight {
    fn poll(&mut self) -> Option<Result<Response, TransportError>> {
        self.0.borrow_mut().outcome.take()
    }
}

/// Waits until one of `pending` has finished or the monotonic clock reaches
/// `until`; at once when there is nothing to wait for.
pub(crate) async fn ready(pending: &[InFlight], until: Option<u64>) {
    let mut timer = until.map(|mark| Box::pin(monotonic_clock::wait_until(mark)));
    if pending.is_empty() && timer.is_none() {
        return;
    }
    let mut tick = (!pending.is_empty()).then(recheck);
    poll_fn(|cx| {
        if pending.iter().any(InFlight::is_done) {
            return Poll::Ready(());
        }
        if let Some(timer) = timer.as_mut() {
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
        }
        if let Some(tick) = tick.as_mut() {
            while tick.as_mut().poll(cx).is_ready() {
                *tick = recheck();
            }
        }
        for p in pending {
            let mut slot = p.0.borrow_mut();
            if !slot.waiting.iter().any(|w| w.will_wake(cx.waker())) {
                slot.waiting.push(cx.waker().clone());
            }
        }
        Poll::Pending
    })
    .await
}

/// The first of two futures to finish (the other is dropped, which cancels it).
async fn first<A: Future, B: Future>(a: A, b: B) -> Result<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Ok(out));
        }
        b.as_mut().poll(cx).map(Err)
    })
    .await
}

/// A response body read as it arrives (a stream's events): a task of its
/// own reads the body a chunk ahead into a shared slot, and [`Body::next`]
/// takes from the slot — so a `next` given up on (a timeout, a cancelled
/// call) loses nothing: the chunk it waited for is there for the next one.
pub(crate) struct Body(Rc<RefCell<BodySlot>>);

/// What a body's reader task has read and not yet handed out.
#[derive(Default)]
struct BodySlot {
    /// The chunk read ahead (at most one).
    chunk: Option<Vec<u8>>,
    /// How the body ended, once it has: whole, or the failure.
    end: Option<Result<(), TransportError>>,
    /// Whether the contents have ended and only the body's end (its
    /// trailers) is awaited.
    contents_ended: bool,
    /// Whether the `Body` is gone (the reader stops).
    closed: bool,
    /// The `Body::next` waiting for a chunk.
    taker: Option<Waker>,
    /// The reader task, waiting for room or for the body to go.
    reader: Option<Waker>,
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body").field("ended", &self.0.borrow().end.is_some()).finish()
    }
}

/// Stops the reader task, without waking it: a body may be dropped while
/// the call whose task the reader is part of is torn down (see
/// [`Finisher`]); the reader sees it at its next check, within [`RECHECK`].
impl Drop for Body {
    fn drop(&mut self) {
        self.0.borrow_mut().closed = true;
    }
}

impl Body {
    /// A body whose reader task reads `contents`, then awaits `trailers`.
    fn read_ahead(
        mut contents: wasip3::wit_bindgen::StreamReader<u8>,
        trailers: wasip3::wit_bindgen::FutureReader<Result<Option<Fields>, wasip3::http::types::ErrorCode>>,
    ) -> Body {
        let slot: Rc<RefCell<BodySlot>> = Rc::default();
        let shared = Rc::clone(&slot);
        let ended = BodyEnder(Rc::clone(&slot));
        wasip3::wit_bindgen::spawn_local(async move {
            let _ended = ended;
            loop {
                if !room(&shared).await {
                    return;
                }
                let read = contents.read(Vec::with_capacity(READ_CHUNK));
                let Ok((result, chunk)) = first(read, gone(&shared)).await else { return };
                match result {
                    StreamResult::Complete(_) if chunk.is_empty() => {}
                    StreamResult::Complete(_) => put(&shared, |slot| slot.chunk = Some(chunk)),
                    StreamResult::Dropped | StreamResult::Cancelled => break,
                }
            }
            drop(contents);
            put(&shared, |slot| slot.contents_ended = true);
            // The body's end says whether it arrived whole.
            let Ok(end) = first(trailers.into_future(), gone(&shared)).await else { return };
            put(&shared, |slot| slot.end = Some(end.map(drop).map_err(incomplete)));
        });
        Body(slot)
    }

    /// The next chunk of the body (never empty), its end (none), a failure
    /// (a connection cut before the end is `http-response-incomplete`, and
    /// so are contents whose end is not confirmed within `within`), or
    /// `TimedOut(within)` when nothing arrives within `within`. Cancel-safe:
    /// a chunk that arrives after the call was given up on waits in the slot.
    pub(crate) async fn next(&mut self, within: Duration) -> Result<Option<Vec<u8>>, TransportError> {
        let taken = poll_fn(|cx| {
            let mut slot = self.0.borrow_mut();
            if let Some(chunk) = slot.chunk.take() {
                let reader = slot.reader.take();
                drop(slot);
                reader.into_iter().for_each(Waker::wake);
                return Poll::Ready(Ok(Some(chunk)));
            }
            if let Some(end) = &slot.end {
                return Poll::Ready(end.clone().map(|()| None));
            }
            slot.taker = Some(cx.waker().clone());
            Poll::Pending
        });
        match first(taken, monotonic_clock::wait_for(nanos(within))).await {
            Ok(taken) => taken,
            // Contents that ended without the body's end are a cut connection.
            Err(()) if self.0.borrow().contents_ended => Err(TransportError::Code(ErrorCode::HttpResponseIncomplete)),
            Err(()) => Err(TransportError::TimedOut(within)),
        }
    }

    /// What is left of the body, each wait within `within`, capped:
    /// `TooLarge` past `cap` bytes.
    pub(crate) async fn rest(&mut self, within: Duration, cap: usize) -> Result<Vec<u8>, TransportError> {
        let mut buf = Vec::new();
        while let Some(chunk) = self.next(within).await? {
            push_capped(&mut buf, &chunk, cap);
            if buf.len() > cap {
                return Err(TransportError::TooLarge(cap));
            }
        }
        Ok(buf)
    }
}

/// Ends a body whose reader task ends without reading it to its end: the
/// task is part of the call that opened the body, and the host drops it
/// when that call is cancelled. The body is then a cut connection (the
/// stream resumes). No waker is woken here: the one registered is the
/// cancelled call's, being torn down.
struct BodyEnder(Rc<RefCell<BodySlot>>);

impl Drop for BodyEnder {
    fn drop(&mut self) {
        let mut slot = self.0.borrow_mut();
        if slot.end.is_none() && !slot.closed {
            slot.end = Some(Err(TransportError::Code(ErrorCode::HttpResponseIncomplete)));
        }
    }
}

/// Changes a body's slot and wakes its taker.
fn put(slot: &RefCell<BodySlot>, change: impl FnOnce(&mut BodySlot)) {
    let taker = {
        let mut slot = slot.borrow_mut();
        change(&mut slot);
        slot.taker.take()
    };
    taker.into_iter().for_each(Waker::wake);
}

/// Waits until the slot has room for a chunk (true) or the body is gone (false).
async fn room(slot: &RefCell<BodySlot>) -> bool {
    !watch(slot, true).await
}

/// Waits until the body is gone.
async fn gone(slot: &RefCell<BodySlot>) {
    watch(slot, false).await;
}

/// Waits until the body is gone (true) or, when `room` is asked for, the
/// slot has room (false). Checked when woken and every [`RECHECK`]: a
/// dropped `Body` wakes no one.
async fn watch(slot: &RefCell<BodySlot>, room: bool) -> bool {
    let mut tick = recheck();
    poll_fn(|cx| {
        let mut state = slot.borrow_mut();
        if state.closed {
            return Poll::Ready(true);
        }
        if room && state.chunk.is_none() {
            return Poll::Ready(false);
        }
        state.reader = Some(cx.waker().clone());
        drop(state);
        while tick.as_mut().poll(cx).is_ready() {
            tick = recheck();
        }
        Poll::Pending
    })
    .await
}

/// A body's read cannot block in this build: the stream reader awaits
/// [`Body::next`] instead (see `resume::StreamIo`).
impl BodyStream for Body {
    /// No pollables in WASI 0.3: an ended body is dropped, closing its connection.
    const KEPT_AFTER_END: bool = false;

    fn next_chunk(&mut self, _within: Duration) -> Result<Option<Vec<u8>>, TransportError> {
        Err(internal("a blocking body read in the WASI 0.3 build"))
    }
}

/// Sends `req` and waits (within `req.total`) for the response head only;
/// its body is read as it arrives.
pub(crate) async fn open(platform: &PlatformUrl, req: &Request) -> Result<Opened<Body>, TransportError> {
    let (request, upload) = build(platform, req)?;
    let response = match first(send(request, upload), monotonic_clock::wait_for(nanos(req.total))).await {
        Ok(response) => response?,
        Err(()) => return Err(TransportError::TimedOut(req.total)),
    };
    let status = response.get_status_code();
    let fields = response.get_headers();
    // Every header, as the WASI 0.2 transport's `open` keeps them (the
    // stream reader reads the content type and the A2A extensions).
    let headers = fields
        .copy_all()
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), String::from_utf8_lossy(&v).into_owned()))
        .collect();
    drop(fields);
    let (_, handled) = wit_future::new(|| Ok(()));
    let (contents, trailers) = P3Response::consume_body(response, handled);
    Ok(Opened { status, headers, body: Body::read_ahead(contents, trailers) })
}

/// A cut body's error: a host's internal error at the end of a body is a
/// connection that ended early.
fn incomplete(code: wasip3::http::types::ErrorCode) -> TransportError {
    TransportError::Code(match from_p3(code) {
        ErrorCode::InternalError(_) => ErrorCode::HttpResponseIncomplete,
        code => code,
    })
}

impl Transport for WasiHttp3 {
    type Pending = InFlight;
    /// A monotonic-clock mark.
    type Timer = u64;
    type Stream = Body;

    /// A blocking open cannot be made in this build: a stream is opened
    /// with [`open`], awaited.
    fn open(&mut self, _platform: &PlatformUrl, _req: &Request) -> Result<Opened<Body>, TransportError> {
        Err(internal("a blocking stream open in the WASI 0.3 build"))
    }

    fn start(&mut self, platform: &PlatformUrl, req: &Request) -> Result<InFlight, TransportError> {
        let (request, upload) = build(platform, req)?;
        let slot = InFlight(Rc::default());
        let (total, cap) = (req.total, req.max_body_bytes);
        let filled = Finisher(slot.clone());
        wasip3::wit_bindgen::spawn_local(async move {
            let outcome = match first(exchange(request, upload, cap), monotonic_clock::wait_for(nanos(total))).await {
                Ok(outcome) => outcome,
                Err(()) => Err(TransportError::TimedOut(total)),
            };
            filled.0.finish(outcome);
        });
        Ok(slot)
    }

    fn timer(&mut self, after: Duration) -> u64 {
        monotonic_clock::now().saturating_add(nanos(after))
    }

    fn expired(&mut self, timer: &u64) -> bool {
        monotonic_clock::now() >= *timer
    }

    /// Never blocks: a WASI 0.3 call awaits [`ready`] instead, between the
    /// steps of a state machine that polls.
    fn wait(&mut self, _pending: &[&InFlight], _until: Option<&u64>) {}

    fn ready_now(&mut self, pending: &[&InFlight]) -> Vec<usize> {
        pending.iter().enumerate().filter(|(_, p)| p.is_done()).map(|(i, _)| i).collect()
    }

    /// A blocking send cannot be made in this build; the calls it carries
    /// send with [`Transport::start`] and await [`ready`].
    fn send(&mut self, _platform: &PlatformUrl, _req: &Request) -> Result<Response, TransportError> {
        Err(internal("a blocking call in the WASI 0.3 build"))
    }
}

fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u64::MAX as u128) as u64
}

/// The request body and the ends the upload writes to.
struct Upload {
    bytes: Option<Rc<[u8]>>,
    contents: wasip3::wit_bindgen::StreamWriter<u8>,
    trailers: wasip3::wit_bindgen::FutureWriter<Result<Option<Fields>, wasip3::http::types::ErrorCode>>,
}

/// The `wasi:http` request for `req`, and its upload.
fn build(platform: &PlatformUrl, req: &Request) -> Result<(P3Request, Upload), TransportError> {
    let mut entries: Vec<(String, Vec<u8>)> =
        req.headers.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())).collect();
    // A body known in full goes out with its length, not chunked: servers
    // that read only `content-length` bodies see it whole.
    if let Some(bytes) = &req.body {
        entries.push(("content-length".into(), bytes.len().to_string().into_bytes()));
    }
    let headers =
        Fields::from_list(&entries).map_err(|e| internal(format!("request header rejected by the host: {e:?}")))?;
    let options = RequestOptions::new();
    let t = nanos(req.timeout);
    // A host may not support every option; the total bound still holds.
    let _ = options.set_connect_timeout(Some(nanos(req.connect_timeout)));
    let _ = options.set_first_byte_timeout(Some(t));
    let _ = options.set_between_bytes_timeout(Some(t));
    let (contents, contents_rx) = wit_stream::new();
    let (trailers, trailers_rx) = wit_future::new(|| Ok(None));
    let (request, _transmitted) = P3Request::new(headers, Some(contents_rx), trailers_rx, Some(options));
    let method = match req.method {
        Method::Get => P3Method::Get,
        Method::Post => P3Method::Post,
    };
    let scheme = match platform.scheme {
        Scheme::Http => P3Scheme::Http,
        Scheme::Https => P3Scheme::Https,
    };
    request
        .set_method(&method)
        .and(request.set_scheme(Some(&scheme)))
        .and(request.set_authority(Some(&platform.authority)))
        .and(request.set_path_with_query(Some(&platform.path(&req.path))))
        .map_err(|()| internal("the host rejected the request line"))?;
    Ok((request, Upload { bytes: req.body.clone(), contents, trailers }))
}

/// Sends the request, writing its body alongside (a server may answer
/// before it has read all of it), and reads the response to its end, capped.
async fn exchange(request: P3Request, upload: Upload, cap: usize) -> Result<Response, TransportError> {
    read_response(send(request, upload).await?, cap).await
}

/// Sends the request, writing its body alongside; the response head.
async fn send(request: P3Request, upload: Upload) -> Result<P3Response, TransportError> {
    let Upload { bytes, mut contents, trailers } = upload;
    wasip3::wit_bindgen::spawn_local(async move {
        if let Some(bytes) = bytes.filter(|b| !b.is_empty()) {
            if !contents.write_all(bytes.to_vec()).await.is_empty() {
                return; // the other end went away: the response says why
            }
        }
        drop(contents);
        let _ = trailers.write(Ok(None)).await;
    });
    client::send(request).await.map_err(|code| TransportError::Code(from_p3(code)))
}

/// The status, the headers the client reads, and the body, capped.
async fn read_response(response: P3Response, cap: usize) -> Result<Response, TransportError> {
    let status = response.get_status_code();
    let fields = response.get_headers();
    let declared = content_length(&fields.get("content-length"));
    let headers = answer_headers(status, |name| fields.get(name), || fields.copy_all());
    drop(fields);
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(TransportError::TooLarge(cap));
    }
    let (_, handled) = wit_future::new(|| Ok(()));
    let (mut body, trailers) = P3Response::consume_body(response, handled);
    let mut buf = Vec::with_capacity(declared.unwrap_or(0) as usize);
    loop {
        // Never ask for more than one byte past the cap.
        let want = READ_CHUNK.min(cap.saturating_add(1) - buf.len().min(cap));
        let (result, chunk) = body.read(Vec::with_capacity(want)).await;
        match result {
            StreamResult::Complete(_) => {
                push_capped(&mut buf, &chunk, cap);
                if buf.len() > cap {
                    return Err(TransportError::TooLarge(cap));
                }
            }
            StreamResult::Dropped | StreamResult::Cancelled => break,
        }
    }
    drop(body);
    // The body's end says whether it arrived whole (a cut connection is an error here).
    trailers.await.map_err(incomplete)?;
    if declared.is_some_and(|n| (buf.len() as u64) < n) {
        return Err(TransportError::Code(ErrorCode::HttpResponseIncomplete));
    }
    Ok(Response { status, headers, body: buf })
}
