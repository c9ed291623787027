//! The testing kit (feature `testing`, never in the component): a scripted
//! transport for native unit tests, and the property checks ([`checks`]) the
//! fuzz targets and property tests run over it.

pub mod checks;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use crate::config::PlatformUrl;
use crate::messaging::SendEnv;
use crate::transport::{BodyStream, Opened, Pending, Request, Response, Transport, TransportError};

type Slot = Rc<RefCell<Option<Result<Response, TransportError>>>>;

/// Fixed randomness and clocks for a send: the monotonic clock stands still.
pub(crate) struct FixedEnv;

impl SendEnv for FixedEnv {
    fn random(&mut self) -> f64 {
        0.5
    }
    fn unix_now(&mut self) -> u64 {
        1_700_000_000
    }
    fn mono_now(&mut self) -> u64 {
        0
    }
}

/// Answers requests from a script, in order, and remembers every request.
/// Its timers run on a virtual clock that only waiting moves.
#[derive(Default)]
pub(crate) struct FakeTransport {
    script: VecDeque<Slot>,
    streams: VecDeque<Result<Opened<FakeStream>, TransportError>>,
    /// Every request started.
    pub(crate) sent: Vec<Request>,
    /// Virtual time, moved by `wait` (shared, so a test's clock can read it).
    pub(crate) now: Rc<std::cell::Cell<Duration>>,
    /// Every wait, and how far it moved the virtual clock.
    pub(crate) slept: Vec<Duration>,
}

/// A request in flight on the fake: complete once its slot is filled.
#[derive(Clone)]
pub(crate) struct FakePending(Slot, bool);

impl Pending for FakePending {
    /// Panics when polled after it completed: the contract of [`Pending`],
    /// which the wasi:http transport answers with an error.
    fn poll(&mut self) -> Option<Result<Response, TransportError>> {
        assert!(!self.1, "a completed request was polled again");
        let outcome = self.0.borrow_mut().take();
        self.1 = outcome.is_some();
        outcome
    }
}

/// One step of a scripted body stream.
#[derive(Debug, Clone)]
pub(crate) enum Chunk {
    /// These bytes arrive.
    Data(Vec<u8>),
    /// The read fails.
    Fail(TransportError),
    /// Nothing arrives within the time asked (the read times out).
    Stall,
}

/// A scripted body stream: its chunks, then its end.
#[derive(Debug, Default)]
pub(crate) struct FakeStream(VecDeque<Chunk>);

impl BodyStream for FakeStream {
    fn next_chunk(&mut self, within: Duration) -> Result<Option<Vec<u8>>, TransportError> {
        match self.0.pop_front() {
            None => Ok(None),
            Some(Chunk::Data(bytes)) => Ok(Some(bytes)),
            Some(Chunk::Fail(e)) => Err(e),
            Some(Chunk::Stall) => Err(TransportError::TimedOut(within)),
        }
    }
}

/// Completes a held request.
pub(crate) struct Release(Slot);

impl Release {
    /// Gives the held request its outcome.
    pub(crate) fn answer(self, status: u16, body: &str) {
        *self.0.borrow_mut() = Some(Ok(Response { status, headers: Vec::new(), body: body.as_bytes().to_vec() }));
    }
    /// Fails the held request.
    pub(crate) fn fail(self, err: TransportError) {
        *self.0.borrow_mut() = Some(Err(err));
    }
}

impl FakeTransport {
    /// A transport whose first request gets this answer.
    pub(crate) fn answering(status: u16, body: &str) -> Self {
        let mut t = Self::default();
        t.then_answer(status, body);
        t
    }

    /// A transport whose first request fails.
    pub(crate) fn failing(err: TransportError) -> Self {
        let mut t = Self::default();
        t.then_fail(err);
        t
    }

    /// The next request gets this answer.
    pub(crate) fn then_answer(&mut self, status: u16, body: &str) -> &mut Self {
        self.then_answer_with(status, &[], body)
    }

    /// The next request gets this answer, with these headers.
    pub(crate) fn then_answer_with(&mut self, status: u16, headers: &[(&str, &str)], body: &str) -> &mut Self {
        let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.then_response(Response { status, headers, body: body.as_bytes().to_vec() })
    }

    /// The next request gets this response.
    pub(crate) fn then_response(&mut self, response: Response) -> &mut Self {
        self.script.push_back(Rc::new(RefCell::new(Some(Ok(response)))));
        self
    }

    /// The next request fails.
    pub(crate) fn then_fail(&mut self, err: TransportError) -> &mut Self {
        self.script.push_back(Rc::new(RefCell::new(Some(Err(err)))));
        self
    }

    /// The next request stays in flight until the returned handle completes it.
    pub(crate) fn then_hold(&mut self) -> Release {
        let slot: Slot = Rc::new(RefCell::new(None));
        self.script.push_back(slot.clone());
        Release(slot)
    }

    /// The next opened stream: this head, then these chunks.
    pub(crate) fn then_stream(&mut self, status: u16, content_type: &str, chunks: Vec<Chunk>) -> &mut Self {
        let headers = vec![("content-type".to_owned(), content_type.to_owned())];
        self.streams.push_back(Ok(Opened { status, headers, body: FakeStream(chunks.into()) }));
        self
    }

    /// The next stream fails to open.
    pub(crate) fn then_stream_fail(&mut self, err: TransportError) -> &mut Self {
        self.streams.push_back(Err(err));
        self
    }

    /// The one request sent.
    pub(crate) fn only_request(&self) -> &Request {
        assert_eq!(self.sent.len(), 1, "{:?}", self.sent);
        &self.sent[0]
    }
}

/// A request for tests that do not look at it.
pub(crate) fn any_request() -> Request {
    Request {
        method: crate::transport::Method::Post,
        path: "/".into(),
        headers: Vec::new(),
        body: None,
        connect_timeout: Duration::from_secs(1),
        timeout: Duration::from_secs(1),
        total: Duration::from_secs(1),
        max_body_bytes: 1024,
    }
}

impl Transport for FakeTransport {
    type Pending = FakePending;
    type Timer = Duration;
    type Stream = FakeStream;

    fn open(&mut self, _: &PlatformUrl, req: &Request) -> Result<Opened<FakeStream>, TransportError> {
        self.sent.push(req.clone());
        self.streams.pop_front().unwrap_or_else(|| panic!("unscripted stream {req:?}"))
    }

    fn start(&mut self, _: &PlatformUrl, req: &Request) -> Result<FakePending, TransportError> {
        self.sent.push(req.clone());
        let slot = self.script.pop_front().unwrap_or_else(|| panic!("unscripted request {req:?}"));
        Ok(FakePending(slot, false))
    }

    fn timer(&mut self, after: Duration) -> Duration {
        self.now.get() + after
    }

    fn expired(&mut self, deadline: &Duration) -> bool {
        self.now.get() >= *deadline
    }

    /// Sleeps (virtually) until `until`; with nothing to wait for, returns.
    fn wait(&mut self, _: &[&FakePending], until: Option<&Duration>) {
        if let Some(until) = until {
            let now = self.now.get();
            self.slept.push(until.saturating_sub(now));
            self.now.set(now.max(*until));
        }
    }

    fn ready_now(&mut self, pending: &[&FakePending]) -> Vec<usize> {
        (0..pending.len()).filter(|&i| pending[i].0.borrow().is_some() || pending[i].1).collect()
    }
}
