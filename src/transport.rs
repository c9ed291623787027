//! The one seam between the client and the network.
//!
//! Calls build a [`Request`] and hand it to a [`Transport`]; the component
//! uses [`WasiHttp`] (all I/O through `wasi:http/outgoing-handler`), unit
//! tests use a scripted fake. A transport returns the whole body, read to
//! its end and capped, or a [`TransportError`].

use std::rc::Rc;
use std::time::Duration;

use wasi::http::types::ErrorCode;

use crate::config::PlatformUrl;

/// HTTP methods the client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
}

/// One request to the platform.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// Method.
    pub method: Method,
    /// API path (with query), starting with `/`, without the platform prefix.
    pub path: String,
    /// Header names and values (already validated).
    pub headers: Vec<(&'static str, String)>,
    /// Body, for POST: shared, so the attempts of a send and the upload in
    /// flight hold one copy however large it is.
    pub body: Option<Rc<[u8]>>,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// First-byte and between-bytes timeout.
    pub timeout: Duration,
    /// Bound on the whole exchange.
    pub total: Duration,
    /// Largest body accepted.
    pub max_body_bytes: usize,
}

/// A complete response.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    /// Status code.
    pub status: u16,
    /// Header names (lower-case) and values — of responses that are not
    /// 2xx only (where `Retry-After` matters); a success skips the copy.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header (name in lower case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Why no complete response arrived.
#[derive(Debug, Clone)]
pub(crate) enum TransportError {
    /// The host reported a `wasi:http` error.
    Code(ErrorCode),
    /// The whole-exchange bound passed.
    TimedOut(Duration),
    /// The body exceeded the cap.
    TooLarge(usize),
}

/// A response head whose body is still to be read (streams).
#[derive(Debug)]
pub(crate) struct Opened<S> {
    /// Status code.
    pub status: u16,
    /// Header names (lower-case) and values.
    pub headers: Vec<(String, String)>,
    /// The body, read as it arrives.
    pub body: S,
}

impl<S> Opened<S> {
    /// The first value of a header (name in lower case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A response body read as it arrives.
pub(crate) trait BodyStream {
    /// Whether an ended body is kept until its stream is dropped (a WASI
    /// 0.2 pollable a host took from the stream is a child of it, and a
    /// parent dropped under a live child traps); else it is dropped at the
    /// end, which closes its connection.
    const KEPT_AFTER_END: bool = true;

    /// Blocks until the next chunk of the body (`Some`, never empty), its
    /// end (`None`), a failure, or until `within` has passed
    /// (`Err(TimedOut(within))`).
    fn next_chunk(&mut self, within: Duration) -> Result<Option<Vec<u8>>, TransportError>;
}

/// Reads what is left of a body, capped: `Err(TooLarge)` past `cap` bytes.
pub(crate) fn read_rest<S: BodyStream>(body: &mut S, within: Duration, cap: usize) -> Result<Vec<u8>, TransportError> {
    let mut buf = Vec::new();
    while let Some(chunk) = body.next_chunk(within)? {
        push_capped(&mut buf, &chunk, cap);
        if buf.len() > cap {
            return Err(TransportError::TooLarge(cap));
        }
    }
    Ok(buf)
}

/// A request in flight.
pub(crate) trait Pending {
    /// Makes whatever progress is possible without blocking; the outcome once
    /// complete (after which the pending request must not be polled again).
    fn poll(&mut self) -> Option<Result<Response, TransportError>>;
}

/// Sends requests to the platform.
pub(crate) trait Transport {
    /// A request in flight on this transport.
    type Pending: Pending;
    /// A point in time to wait for.
    type Timer;
    /// A response body read as it arrives.
    type Stream: BodyStream;

    /// Sends `req` and waits (within `req.total`) for the response head
    /// only; the body is read later, as it arrives.
    fn open(&mut self, platform: &PlatformUrl, req: &Request) -> Result<Opened<Self::Stream>, TransportError>;

    /// Starts `req` without waiting for any of its response.
    fn start(&mut self, platform: &PlatformUrl, req: &Request) -> Result<Self::Pending, TransportError>;

    /// A timer that expires `after` from now.
    fn timer(&mut self, after: Duration) -> Self::Timer;

    /// Whether `timer` has expired (never blocks).
    fn expired(&mut self, timer: &Self::Timer) -> bool;

    /// Blocks until one of `pending` can make progress or reaches its
    /// deadline, or `until` expires. Returns at once when there is nothing
    /// to wait for.
    fn wait(&mut self, pending: &[&Self::Pending], until: Option<&Self::Timer>);

    /// The indices of `pending` that can make progress (or are past their
    /// deadline) now; never blocks. One check for the whole set, so the cost
    /// of looking at many requests in flight stays low.
    fn ready_now(&mut self, pending: &[&Self::Pending]) -> Vec<usize>;

    /// Sends `req` and returns the complete response.
    fn send(&mut self, platform: &PlatformUrl, req: &Request) -> Result<Response, TransportError> {
        let mut pending = self.start(platform, req)?;
        loop {
            // Nothing can have arrived yet right after the start: wait first.
            self.wait(&[&pending], None);
            if let Some(outcome) = pending.poll() {
                return outcome;
            }
        }
    }
}

/// Appends a chunk of a body to `buf`, growing it at most to `cap + 1`
/// bytes (one past the cap is enough to know a body is too large): a body
/// near the cap never makes the guest hold twice the cap.
pub(crate) fn push_capped(buf: &mut Vec<u8>, chunk: &[u8], cap: usize) {
    let need = buf.len() + chunk.len();
    if buf.capacity() < need {
        let want = (buf.capacity() * 2).min(cap.saturating_add(1)).max(need);
        buf.reserve_exact(want - buf.len());
    }
    buf.extend_from_slice(chunk);
}

/// The headers of a successful answer the client reads.
const A2A_ANSWER_HEADERS: [&str; 2] = ["a2a-extensions", "x-a2a-extensions"];

/// The headers the client keeps of a response head, names in lower case:
/// of a 2xx answer only its A2A extensions (`get` reads one header's
/// values), of any other every header (`all`), where `Retry-After` matters.
pub(crate) fn answer_headers(
    status: u16,
    get: impl Fn(&str) -> Vec<Vec<u8>>,
    all: impl FnOnce() -> Vec<(String, Vec<u8>)>,
) -> Vec<(String, String)> {
    let text = |v: Vec<u8>| String::from_utf8_lossy(&v).into_owned();
    if (200..300).contains(&status) {
        A2A_ANSWER_HEADERS
            .iter()
            .flat_map(|&name| get(name).into_iter().map(move |v| (name.to_owned(), text(v))))
            .collect()
    } else {
        all().into_iter().map(|(k, v)| (k.to_ascii_lowercase(), text(v))).collect()
    }
}

/// A `content-length` value, when it is one number.
pub(crate) fn content_length(values: &[Vec<u8>]) -> Option<u64> {
    match values {
        [one] => std::str::from_utf8(one).ok()?.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(all(target_arch = "wasm32", not(feature = "p3")))]
pub(crate) use wasi_http::{WasiHttp, WasiStream};

/// The `wasi:http@0.2` transport (the WASI 0.3 one is in `p3/transport.rs`).
#[cfg(all(target_arch = "wasm32", not(feature = "p3")))]
mod wasi_http {
    use super::*;
    use crate::config::Scheme;
    use wasi::clocks::monotonic_clock;
    use wasi::http::outgoing_handler;
    use wasi::http::types::{
        Fields, FutureIncomingResponse, IncomingBody, IncomingResponse, Method as WasiMethod, OutgoingBody,
        OutgoingRequest, RequestOptions, Scheme as WasiScheme,
    };
    use wasi::io::poll::{self, Pollable};
    use wasi::io::streams::{InputStream, OutputStream, StreamError};

    /// Largest read asked of a body stream at once.
    const READ_CHUNK: u64 = 64 * 1024;

    /// The `wasi:http/outgoing-handler` transport.
    #[derive(Debug, Default)]
    pub(crate) struct WasiHttp;

    fn internal(msg: impl Into<String>) -> TransportError {
        TransportError::Code(ErrorCode::InternalError(Some(msg.into())))
    }

    /// A failed read of a response body whose head has arrived: the
    /// connection was cut mid-body. The host's own code when it gives one
    /// (a read time-out stays a time-out); otherwise — wasmtime reports a
    /// hyper error with no code — `HTTP-response-incomplete`, which is what
    /// happened and is retried like a failure before the head.
    fn body_cut(e: StreamError) -> TransportError {
        match e {
            StreamError::LastOperationFailed(err) => match wasi::http::types::http_error_code(&err) {
                Some(ErrorCode::InternalError(_)) | None => TransportError::Code(ErrorCode::HttpResponseIncomplete),
                Some(code) => TransportError::Code(code),
            },
            StreamError::Closed => TransportError::Code(ErrorCode::HttpResponseIncomplete),
        }
    }

    /// A response body being read. Drops its resources children first — the
    /// pollable, the stream, then the body (finished, so no host is left
    /// holding a half-read body), then the response.
    struct BodyReader {
        status: u16,
        headers: Vec<(String, String)>,
        ready: Option<Pollable>,
        stream: Option<InputStream>,
        body: Option<IncomingBody>,
        response: Option<IncomingResponse>,
        buf: Vec<u8>,
        /// The declared `content-length`: once that much is read the body is
        /// whole, without a further read to see its end.
        expected: Option<u64>,
        /// The request's upload (see [`HeadWaiter`]), dropped last.
        upload: Option<BodyWriter>,
    }

    impl Drop for BodyReader {
        fn drop(&mut self) {
            drop(self.ready.take());
            drop(self.stream.take());
            if let Some(body) = self.body.take() {
                drop(IncomingBody::finish(body));
            }
            drop(self.response.take());
            drop(self.upload.take());
        }
    }

    /// Waiting for the response head. Field order is drop order: the
    /// pollable (a child of the future) goes first.
    struct HeadWaiter {
        ready: Pollable,
        future: FutureIncomingResponse,
        /// The upload, kept until the response is read: a server may answer
        /// before it has read the whole body (a 413 from a proxy's size
        /// limit, a 401), and dropping an unfinished body would abort the
        /// exchange and cut that answer.
        upload: Option<BodyWriter>,
    }

    /// The request body on its way out. The host holds only a couple of
    /// writes of an outgoing body until the request is handed over, so the
    /// request is handed over first and the body follows, each write no
    /// larger than the host says it takes now (`check-write`): a write never
    /// blocks, and the deadline bounds the upload like every other phase.
    /// Field order is drop order: the pollable and the stream (children)
    /// before the body. A body dropped unfinished aborts the request.
    struct BodyWriter {
        ready: Option<Pollable>,
        stream: Option<OutputStream>,
        body: Option<OutgoingBody>,
        bytes: Rc<[u8]>,
        written: usize,
    }

    impl BodyWriter {
        /// Writes what the host takes now and finishes the body once it is
        /// all out; true while the host takes no more for now. A write the
        /// stream refuses means the connection is gone: the upload stops
        /// (false) with the body unfinished, and the response future says
        /// why (refused, reset, …).
        fn advance(&mut self) -> Result<bool, TransportError> {
            let Some(stream) = &self.stream else { return Ok(false) };
            while self.written < self.bytes.len() {
                let room = match stream.check_write() {
                    Ok(0) => return Ok(true),
                    Ok(n) => n.min(usize::MAX as u64) as usize,
                    Err(_) => return Ok(false),
                };
                let end = self.written + room.min(self.bytes.len() - self.written);
                if stream.write(&self.bytes[self.written..end]).is_err() {
                    return Ok(false);
                }
                self.written = end;
            }
            drop(self.ready.take());
            drop(self.stream.take());
            if let Some(body) = self.body.take() {
                OutgoingBody::finish(body, None).map_err(TransportError::Code)?;
            }
            Ok(false)
        }
    }

    enum RequestPhase {
        Writing(BodyWriter, HeadWaiter),
        Waiting(HeadWaiter),
        Reading(BodyReader),
        Done,
    }

    /// A `wasi:http` request in flight, bounded by its own deadline. Its
    /// pollables are made once and kept, so checking it costs one host call.
    pub(crate) struct WasiPending {
        stage: RequestPhase,
        deadline: Pollable,
        total: Duration,
        max_body_bytes: usize,
    }

    impl WasiPending {
        fn fail(&mut self, err: TransportError) -> Option<Result<Response, TransportError>> {
            self.stage = RequestPhase::Done;
            Some(Err(err))
        }

        /// `None` while the deadline has not passed, else the time-out.
        fn unless_late(&mut self) -> Option<Result<Response, TransportError>> {
            if self.deadline.ready() {
                self.fail(TransportError::TimedOut(self.total))
            } else {
                None
            }
        }

        /// The response, its body read to the end.
        fn complete(&mut self) -> Option<Result<Response, TransportError>> {
            let RequestPhase::Reading(mut reader) = std::mem::replace(&mut self.stage, RequestPhase::Done) else {
                return Some(Err(internal("completed outside the reading stage")));
            };
            let body = std::mem::take(&mut reader.buf);
            let headers = std::mem::take(&mut reader.headers);
            Some(Ok(Response { status: reader.status, headers, body }))
        }

        /// Moves the upload on as far as the host takes it now; true while it
        /// waits for room. Once the body is all out, the connection is gone,
        /// or the head has arrived (a server may answer, or the connection
        /// fail, before the whole body is read), the request waits for its
        /// head, keeping the upload.
        fn upload_step(&mut self) -> Result<bool, TransportError> {
            let RequestPhase::Writing(writer, head) = &mut self.stage else { return Ok(false) };
            if writer.advance()? && !head.ready.ready() {
                return Ok(true);
            }
            self.stage = match std::mem::replace(&mut self.stage, RequestPhase::Done) {
                RequestPhase::Writing(writer, mut head) => {
                    head.upload = Some(writer);
                    RequestPhase::Waiting(head)
                }
                other => other,
            };
            Ok(false)
        }

        /// What to wait on for progress: room for the body (or an early
        /// answer) while uploading, then the head, then the body's bytes.
        fn progress(&self) -> [Option<&Pollable>; 2] {
            match &self.stage {
                RequestPhase::Writing(writer, head) => [writer.ready.as_ref(), Some(&head.ready)],
                RequestPhase::Waiting(head) => [Some(&head.ready), None],
                RequestPhase::Reading(reader) => [reader.ready.as_ref(), None],
                RequestPhase::Done => [None, None],
            }
        }
    }

    impl Pending for WasiPending {
        fn poll(&mut self) -> Option<Result<Response, TransportError>> {
            loop {
                match &mut self.stage {
                    RequestPhase::Done => return Some(Err(internal("request polled after it completed"))),
                    RequestPhase::Writing(..) => match self.upload_step() {
                        Err(e) => return self.fail(e),
                        Ok(true) => return self.unless_late(),
                        Ok(false) => {}
                    },
                    RequestPhase::Waiting(head) => {
                        // `get` answers none until the pollable has been checked
                        // (a `wait` checked it; a bare `poll` checks it here).
                        let mut got = head.future.get();
                        if got.is_none() && head.ready.ready() {
                            got = head.future.get();
                        }
                        let response = match got {
                            None => return self.unless_late(),
                            Some(Err(())) => return self.fail(internal("response already taken")),
                            Some(Ok(Err(code))) => return self.fail(TransportError::Code(code)),
                            Some(Ok(Ok(response))) => response,
                        };
                        let upload = head.upload.take();
                        let status = response.status();
                        // One headers handle for both reads: the declared length
                        // (a length over the cap fails now, unread; one within it
                        // sizes the buffer once) and, off 2xx, every header; a 2xx
                        // answer is read for its A2A extensions only.
                        let fields = response.headers();
                        let declared = content_length(&fields.get("content-length"));
                        let headers = answer_headers(status, |name| fields.get(name), || fields.entries());
                        drop(fields);
                        if declared.is_some_and(|n| n > self.max_body_bytes as u64) {
                            drop(response);
                            return self.fail(TransportError::TooLarge(self.max_body_bytes));
                        }
                        let Ok(body) = response.consume() else {
                            return self.fail(internal("response body already taken"));
                        };
                        let Ok(stream) = body.stream() else {
                            return self.fail(internal("response body stream unavailable"));
                        };
                        self.stage = RequestPhase::Reading(BodyReader {
                            status,
                            headers,
                            ready: Some(stream.subscribe()),
                            stream: Some(stream),
                            body: Some(body),
                            response: Some(response),
                            buf: Vec::with_capacity(declared.unwrap_or(0) as usize),
                            expected: declared,
                            upload,
                        });
                    }
                    RequestPhase::Reading(reader) => {
                        let (Some(stream), Some(ready)) = (&reader.stream, &reader.ready) else {
                            return self.fail(internal("no body stream"));
                        };
                        // Never ask for more than one byte past the cap.
                        let cap = self.max_body_bytes;
                        let want = READ_CHUNK.min((cap.saturating_add(1) - reader.buf.len().min(cap)) as u64);
                        match stream.read(want) {
                            Ok(chunk) if chunk.is_empty() => {
                                if !ready.ready() {
                                    return self.unless_late();
                                }
                                // Ready: the next read returns data or the end.
                                match stream.read(want) {
                                    Ok(chunk) if chunk.is_empty() => return self.unless_late(),
                                    Ok(chunk) => push_capped(&mut reader.buf, &chunk, cap),
                                    Err(StreamError::Closed) => {}
                                    Err(e) => return self.fail(body_cut(e)),
                                }
                            }
                            Ok(chunk) => push_capped(&mut reader.buf, &chunk, cap),
                            Err(StreamError::Closed) => {
                                // A body that ends short of its declared length was
                                // cut (some hosts report a cut as a plain end).
                                if reader.expected.is_some_and(|n| (reader.buf.len() as u64) < n) {
                                    return self.fail(TransportError::Code(ErrorCode::HttpResponseIncomplete));
                                }
                                return self.complete();
                            }
                            Err(e) => return self.fail(body_cut(e)),
                        }
                        if let RequestPhase::Reading(reader) = &self.stage {
                            if reader.buf.len() > self.max_body_bytes {
                                return self.fail(TransportError::TooLarge(self.max_body_bytes));
                            }
                            if reader.expected == Some(reader.buf.len() as u64) {
                                return self.complete();
                            }
                        }
                    }
                }
            }
        }
    }

    /// A response body read as it arrives. Field order is drop order (see
    /// [`BodyReader`]).
    pub(crate) struct WasiStream {
        reader: BodyReader,
    }

    impl WasiStream {
        /// Ready when the body has bytes (or its end) to read. A child of the
        /// body stream: drop it before the stream.
        pub(crate) fn subscribe(&self) -> Option<Pollable> {
            self.reader.stream.as_ref().map(InputStream::subscribe)
        }
    }

    impl BodyStream for WasiStream {
        fn next_chunk(&mut self, within: Duration) -> Result<Option<Vec<u8>>, TransportError> {
            let (Some(stream), Some(ready)) = (&self.reader.stream, &self.reader.ready) else {
                return Ok(None);
            };
            let timer = monotonic_clock::subscribe_duration(within.as_nanos() as u64);
            loop {
                match stream.read(READ_CHUNK) {
                    Ok(chunk) if !chunk.is_empty() => return Ok(Some(chunk)),
                    Ok(_) => {}
                    Err(StreamError::Closed) => return Ok(None),
                    Err(e) => return Err(body_cut(e)),
                }
                if timer.ready() {
                    return Err(TransportError::TimedOut(within));
                }
                poll::poll(&[ready, &timer]);
            }
        }
    }

    impl Transport for WasiHttp {
        type Pending = WasiPending;
        type Timer = Pollable;
        type Stream = WasiStream;

        fn open(&mut self, platform: &PlatformUrl, req: &Request) -> Result<Opened<WasiStream>, TransportError> {
            let mut pending = self.start(platform, req)?;
            // The body goes out first, within the same deadline.
            while pending.upload_step()? {
                if pending.deadline.ready() {
                    return Err(TransportError::TimedOut(pending.total));
                }
                let ready: Vec<&Pollable> =
                    pending.progress().into_iter().flatten().chain([&pending.deadline]).collect();
                poll::poll(&ready);
            }
            let WasiPending { stage, deadline, total, .. } = pending;
            let RequestPhase::Waiting(mut head) = stage else { return Err(internal("a new request is past its head")) };
            let upload = head.upload.take();
            let response = loop {
                match head.future.get() {
                    Some(Ok(Ok(response))) => break response,
                    Some(Ok(Err(code))) => return Err(TransportError::Code(code)),
                    Some(Err(())) => return Err(internal("response already taken")),
                    None if deadline.ready() => return Err(TransportError::TimedOut(total)),
                    None => {
                        poll::poll(&[&head.ready, &deadline]);
                    }
                }
            };
            drop(head);
            let status = response.status();
            let fields = response.headers();
            let headers = fields
                .entries()
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), String::from_utf8_lossy(&v).into_owned()))
                .collect();
            drop(fields);
            let Ok(body) = response.consume() else { return Err(internal("response body already taken")) };
            let Ok(stream) = body.stream() else { return Err(internal("response body stream unavailable")) };
            let reader = BodyReader {
                status,
                headers: Vec::new(),
                ready: Some(stream.subscribe()),
                stream: Some(stream),
                body: Some(body),
                response: Some(response),
                buf: Vec::new(),
                expected: None,
                upload,
            };
            Ok(Opened { status, headers, body: WasiStream { reader } })
        }

        fn timer(&mut self, after: Duration) -> Pollable {
            monotonic_clock::subscribe_duration(after.as_nanos() as u64)
        }

        fn expired(&mut self, timer: &Pollable) -> bool {
            timer.ready()
        }

        fn start(&mut self, platform: &PlatformUrl, req: &Request) -> Result<WasiPending, TransportError> {
            let deadline = monotonic_clock::subscribe_duration(req.total.as_nanos() as u64);
            let mut entries: Vec<(String, Vec<u8>)> =
                req.headers.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())).collect();
            // A body known in full goes out with its length, not chunked:
            // servers that read only `content-length` bodies see it whole.
            if let Some(bytes) = &req.body {
                entries.push(("content-length".into(), bytes.len().to_string().into_bytes()));
            }
            let headers = Fields::from_list(&entries)
                .map_err(|e| internal(format!("request header rejected by the host: {e:?}")))?;
            let request = OutgoingRequest::new(headers);
            let method = match req.method {
                Method::Get => WasiMethod::Get,
                Method::Post => WasiMethod::Post,
            };
            let scheme = match platform.scheme {
                Scheme::Http => WasiScheme::Http,
                Scheme::Https => WasiScheme::Https,
            };
            request
                .set_method(&method)
                .and(request.set_scheme(Some(&scheme)))
                .and(request.set_authority(Some(&platform.authority)))
                .and(request.set_path_with_query(Some(&platform.path(&req.path))))
                .map_err(|()| internal("the host rejected the request line"))?;

            let options = RequestOptions::new();
            let t = req.timeout.as_nanos() as u64;
            // A host may not support every option; the deadline still bounds the call.
            let _ = options.set_connect_timeout(Some(req.connect_timeout.as_nanos() as u64));
            let _ = options.set_first_byte_timeout(Some(t));
            let _ = options.set_between_bytes_timeout(Some(t));

            let body = request.body().map_err(|()| internal("request body unavailable"))?;
            let writer = match req.body.as_ref().filter(|b| !b.is_empty()) {
                None => {
                    OutgoingBody::finish(body, None).map_err(TransportError::Code)?;
                    None
                }
                Some(bytes) => {
                    let stream = body.write().map_err(|()| internal("request body stream unavailable"))?;
                    let ready = Some(stream.subscribe());
                    Some(BodyWriter {
                        ready,
                        stream: Some(stream),
                        body: Some(body),
                        bytes: Rc::clone(bytes),
                        written: 0,
                    })
                }
            };
            // Handed over before the body is written: see `BodyWriter`.
            let future = outgoing_handler::handle(request, Some(options)).map_err(TransportError::Code)?;
            let head = HeadWaiter { ready: future.subscribe(), future, upload: None };
            let stage = match writer {
                Some(writer) => RequestPhase::Writing(writer, head),
                None => RequestPhase::Waiting(head),
            };
            let mut pending = WasiPending { stage, deadline, total: req.total, max_body_bytes: req.max_body_bytes };
            // Most bodies fit in what the host takes at once: write now.
            pending.upload_step()?;
            Ok(pending)
        }

        fn wait(&mut self, pending: &[&WasiPending], until: Option<&Pollable>) {
            let mut all: Vec<&Pollable> = pending.iter().flat_map(|p| p.progress()).flatten().collect();
            all.extend(pending.iter().map(|p| &p.deadline));
            all.extend(until);
            if !all.is_empty() {
                poll::poll(&all);
            }
        }

        fn ready_now(&mut self, pending: &[&WasiPending]) -> Vec<usize> {
            if pending.is_empty() {
                return Vec::new();
            }
            // An already-expired timer makes `poll` return at once with every
            // pollable that is ready, in one host call.
            let now = monotonic_clock::subscribe_duration(0);
            let mut all: Vec<&Pollable> = Vec::with_capacity(2 * pending.len() + 1);
            all.push(&now);
            let mut owner = Vec::with_capacity(2 * pending.len());
            for (i, p) in pending.iter().enumerate() {
                for progress in p.progress().into_iter().flatten() {
                    all.push(progress);
                    owner.push(i);
                }
                all.push(&p.deadline);
                owner.push(i);
            }
            // Index 0 is the timer; an index the host made up is ignored, not a trap.
            let mut ready: Vec<usize> =
                poll::poll(&all).into_iter().filter_map(|n| owner.get((n as usize).checked_sub(1)?).copied()).collect();
            ready.sort_unstable();
            ready.dedup();
            ready
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_buffers_never_grow_past_the_cap_plus_one() {
        let cap = 1000;
        let mut buf = Vec::new();
        while buf.len() <= cap {
            push_capped(&mut buf, &[b'x'; 64], cap);
            assert!(buf.capacity() <= (cap + 1).max(buf.len()), "{} for {}", buf.capacity(), buf.len());
        }
        assert_eq!(buf.len(), 1024);
        // Below the cap it still grows geometrically (few copies).
        let mut buf = Vec::new();
        let mut grew = 0;
        for _ in 0..1000 {
            let before = buf.capacity();
            push_capped(&mut buf, &[0; 10], usize::MAX);
            grew += usize::from(buf.capacity() != before);
        }
        assert!(grew < 16, "{grew} reallocations");
    }

    #[test]
    fn content_length_is_one_number_or_nothing() {
        assert_eq!(content_length(&[b"52428800".to_vec()]), Some(52_428_800));
        assert_eq!(content_length(&[b" 12 ".to_vec()]), Some(12));
        assert_eq!(content_length(&[b"12, 13".to_vec()]), None);
        assert_eq!(content_length(&[b"12".to_vec(), b"12".to_vec()]), None);
        assert_eq!(content_length(&[b"-1".to_vec()]), None);
        assert_eq!(content_length(&[vec![0xff]]), None);
        assert_eq!(content_length(&[]), None);
    }
}
