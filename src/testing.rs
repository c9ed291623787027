//! A scripted transport for native unit tests.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use crate::config::PlatformUrl;
use crate::transport::{Pending, Request, Response, Transport, TransportError};

type Slot = Rc<RefCell<Option<Result<Response, TransportError>>>>;

/// Answers requests from a script, in order, and remembers every request.
#[derive(Default)]
pub struct FakeTransport {
    script: VecDeque<Slot>,
    /// Every request started.
    pub sent: Vec<Request>,
}

/// A request in flight on the fake: complete once its slot is filled.
pub struct FakePending(Slot);

impl Pending for FakePending {
    fn poll(&mut self) -> Option<Result<Response, TransportError>> {
        self.0.borrow_mut().take()
    }
}

/// Completes a held request.
pub struct Release(Slot);

impl Release {
    /// Gives the held request its outcome.
    pub fn answer(self, status: u16, body: &str) {
        *self.0.borrow_mut() = Some(Ok(Response { status, body: body.as_bytes().to_vec() }));
    }
    /// Fails the held request.
    pub fn fail(self, err: TransportError) {
        *self.0.borrow_mut() = Some(Err(err));
    }
}

impl FakeTransport {
    /// A transport whose first request gets this answer.
    pub fn answering(status: u16, body: &str) -> Self {
        let mut t = Self::default();
        t.then_answer(status, body);
        t
    }

    /// A transport whose first request fails.
    pub fn failing(err: TransportError) -> Self {
        let mut t = Self::default();
        t.then_fail(err);
        t
    }

    /// The next request gets this answer.
    pub fn then_answer(&mut self, status: u16, body: &str) -> &mut Self {
        self.script.push_back(Rc::new(RefCell::new(Some(Ok(Response { status, body: body.as_bytes().to_vec() })))));
        self
    }

    /// The next request fails.
    pub fn then_fail(&mut self, err: TransportError) -> &mut Self {
        self.script.push_back(Rc::new(RefCell::new(Some(Err(err)))));
        self
    }

    /// The next request stays in flight until the returned handle completes it.
    pub fn then_hold(&mut self) -> Release {
        let slot: Slot = Rc::new(RefCell::new(None));
        self.script.push_back(slot.clone());
        Release(slot)
    }

    /// The one request sent.
    pub fn only_request(&self) -> &Request {
        assert_eq!(self.sent.len(), 1, "{:?}", self.sent);
        &self.sent[0]
    }
}

impl Transport for FakeTransport {
    type Pending = FakePending;
    type Timer = ();

    fn start(&mut self, _: &PlatformUrl, req: &Request) -> Result<FakePending, TransportError> {
        self.sent.push(req.clone());
        let slot = self.script.pop_front().unwrap_or_else(|| panic!("unscripted request {req:?}"));
        Ok(FakePending(slot))
    }

    fn timer(&mut self, _: Duration) {}

    fn expired(&mut self, _: &()) -> bool {
        true
    }

    fn wait(&mut self, _: &[&FakePending], _: Option<&()>) {}

    fn ready_now(&mut self, pending: &[&FakePending]) -> Vec<usize> {
        (0..pending.len()).filter(|&i| pending[i].0.borrow().is_some()).collect()
    }
}
