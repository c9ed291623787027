//! `message/send` through the platform's A2A proxy, with retries that cannot
//! duplicate (one request id and message id for every attempt), storm (the
//! jittered backoff and the shared retry budget) or hang (one total budget
//! bounds the waits and every attempt, whose timeouts shrink to fit).

use std::time::Duration;

use crate::a2a::{self, Call, Outcome, Protocol, Reply, SendIds, Spoken};
use crate::config::Config;
use crate::error::{self, describe_code, excerpt, Attempt, Error, ErrorKind};
use crate::message::Checked;
use crate::platform::{self, parse_json, source_headers};
use crate::retry::{self, RetryBudget};
use crate::transport::{Method, Pending, Request, Response, Transport, TransportError};

/// A successful send: the reply and how it was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sent {
    /// The reply.
    pub reply: Reply,
    /// The ids used by every attempt.
    pub ids: SendIds,
    /// Every attempt, the last one successful.
    pub attempts: Vec<Attempt>,
    /// The version spoken.
    pub protocol: Protocol,
}

impl error::Redact for Sent {
    fn texts_mut(&mut self) -> Vec<&mut String> {
        self.attempts.iter_mut().map(|a| &mut a.outcome).collect()
    }
}

/// A successful JSON-RPC call: the reply and every attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answered {
    /// The reply.
    pub reply: Reply,
    /// Every attempt, the last one successful.
    pub attempts: Vec<Attempt>,
}

/// What the host supplies to a send: randomness for jitter, the wall clock
/// for `Retry-After` dates, and the monotonic clock for the budget.
pub(crate) trait SendEnv {
    /// A number in `[0, 1)`.
    fn random(&mut self) -> f64;
    /// Seconds since the Unix epoch.
    fn unix_now(&mut self) -> u64;
    /// Monotonic nanoseconds.
    fn mono_now(&mut self) -> u64;
}

/// Whether an attempt's failure is worth another attempt, and how long the
/// server asked us to wait.
struct Failure {
    kind: ErrorKind,
    outcome: String,
    transient: bool,
    retry_after: Option<Duration>,
}

fn ms(d: Duration) -> u32 {
    d.as_millis().min(u32::MAX as u128) as u32
}

/// Reads one attempt's response: the HTTP status first, then the body.
/// The wall clock is read only for a `Retry-After` date (a host call fewer
/// on every success).
fn read_response(url: &str, resp: &Response, expect: Expect, unix_now: impl FnOnce() -> u64) -> Result<Reply, Failure> {
    let fail = |kind: ErrorKind, transient: bool, retry_after: Option<Duration>| {
        let outcome = outcome_of(&kind);
        Failure { kind, outcome, transient, retry_after }
    };
    if !(200..300).contains(&resp.status) {
        let json = serde_json::from_slice::<serde_json::Value>(&resp.body).ok();
        let platform_message = json.as_ref().and_then(|v| v.get("error")).and_then(|e| e.as_str());
        let kind = match platform_message {
            Some(message) => ErrorKind::PlatformError { url: url.into(), status: resp.status, message: message.into() },
            None => platform::status_kind(url, resp),
        };
        let retry_after = resp.header("retry-after").and_then(|v| retry::parse_retry_after(v, unix_now()));
        return Err(fail(kind, retry::is_transient_status(resp.status), retry_after));
    }
    let body = parse_json(url, resp).map_err(|kind| fail(kind, false, None))?;
    let outcome = match expect {
        Expect::MessageOrTask => a2a::read_reply(&body),
        Expect::AnyResult => a2a::read_any_result(&body),
    };
    match outcome {
        Outcome::Reply(reply) => Ok(Reply { extensions: activated_extensions(&resp.headers), ..reply }),
        Outcome::AgentError(text) => Err(fail(ErrorKind::AgentError { url: url.into(), text }, false, None)),
        Outcome::RpcError { code, message, data } => {
            Err(fail(ErrorKind::RpcError { url: url.into(), code, message, data }, false, None))
        }
        Outcome::Shape(detail) => Err(fail(
            ErrorKind::UnexpectedShape { url: url.into(), status: resp.status, detail, excerpt: excerpt(&resp.body) },
            false,
            None,
        )),
    }
}

/// The headers of an A2A call through the proxy: the source's
/// `X-Workspace-ID` and token, the JSON body's type, the version header.
pub(crate) fn a2a_headers(cfg: &Config, source: &str, spoken: &Spoken) -> Vec<(&'static str, String)> {
    let mut headers = source_headers(cfg, source);
    headers.push(("content-type", "application/json".into()));
    headers.extend(spoken.protocol.version_header());
    if !spoken.extensions.is_empty() {
        let list = spoken.extensions.join(", ");
        // v0.3 peers know the header by its earlier name.
        if spoken.protocol == Protocol::V0_3 {
            headers.push(("x-a2a-extensions", list.clone()));
        }
        headers.push(("a2a-extensions", list));
    }
    headers
}

/// Most extensions read from one answer (a peer's header is untrusted).
const MAX_ACTIVATED: usize = 64;

/// The extensions a response says the peer activated: its `A2A-Extensions`
/// (or v0.3's `X-A2A-Extensions`) header, split at commas, each once.
pub(crate) fn activated_extensions(headers: &[(String, String)]) -> Vec<String> {
    let mut activated: Vec<String> = Vec::new();
    let values = headers.iter().filter(|(k, _)| k == "a2a-extensions" || k == "x-a2a-extensions");
    for uri in values.flat_map(|(_, v)| v.split(',')).map(str::trim).filter(|u| !u.is_empty()).take(MAX_ACTIVATED) {
        if !activated.iter().any(|seen| seen == uri) {
            activated.push(uri.to_owned());
        }
    }
    activated
}

/// The error of a response that is not a reply (a status that is not 2xx,
/// a body that is no JSON-RPC reply), as a send renders it.
pub(crate) fn response_error(url: &str, resp: &Response, unix_now: impl FnOnce() -> u64) -> Option<Error> {
    let failure = read_response(url, resp, Expect::MessageOrTask, unix_now).err()?;
    Some(Error::a2a(failure.kind))
}

/// Refuses a request body over `max-body-bytes` before anything is sent: a
/// peer behind the proxy would refuse it anyway, after the upload.
pub(crate) fn check_request_size(cfg: &Config, url: &str, body: &[u8]) -> Result<(), Error> {
    if body.len() <= cfg.max_body_bytes {
        return Ok(());
    }
    let kind = ErrorKind::RequestTooLarge {
        url: url.into(),
        size: body.len() as u64,
        limit: cfg.max_body_bytes.min(u32::MAX as usize) as u32,
    };
    Err(Error::a2a(kind))
}

fn transport_failure(url: &str, err: TransportError, attempt: u32) -> Failure {
    let transient = match &err {
        TransportError::Code(code) => retry::is_transient_code(code),
        TransportError::TimedOut(_) => true,
        TransportError::TooLarge(_) => false,
    };
    let mut kind = platform::transport_kind(err, url);
    if let ErrorKind::Transport { attempt: a, code, .. } = &mut kind {
        *a = attempt;
        let outcome = describe_code(code);
        return Failure { kind, outcome, transient, retry_after: None };
    }
    let outcome = outcome_of(&kind);
    Failure { kind, outcome, transient, retry_after: None }
}

/// An attempt's outcome for the trace: the error's detail without the
/// target, which is the same for every attempt.
fn outcome_of(kind: &ErrorKind) -> String {
    let detail = error::detail(kind);
    match detail.find(" [target=") {
        Some(at) => detail[..at].to_owned(),
        None => detail,
    }
}

/// One JSON-RPC call: `body`, in `protocol`, to `peer` as `source` (both
/// canonical) through the platform proxy.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// The peer.
    pub peer: String,
    /// The workspace the call acts as.
    pub source: String,
    /// The version spoken and the extensions asked for (headers of the request).
    pub spoken: Spoken,
    /// The JSON-RPC body, the same on every attempt.
    pub body: Vec<u8>,
    /// What its `result` must be.
    pub expect: Expect,
}

/// What a call's JSON-RPC `result` must be for the call to succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// A Message or a Task (sends, task reads): read into a [`Reply`].
    MessageOrTask,
    /// Any JSON (a page, a card, a list, `null`): kept whole in `raw` for
    /// the caller to read.
    AnyResult,
}

/// Where one call of [`Proxy::call_many`] stands.
enum CallState<P, Tm> {
    /// An attempt is due.
    Due,
    /// An attempt in flight, started at this monotonic time.
    InFlight(P, u64),
    /// Waiting before the next attempt, until this timer (due at this monotonic time).
    Backoff(Tm, u64),
    /// Finished (boxed: a reply is large, and a call is done once).
    Done(Box<Result<Answered, Error>>),
}

/// One call of [`Proxy::call_many`]: its request parts, its clock and its trace.
struct Run<P, Tm> {
    path: String,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: std::rc::Rc<[u8]>,
    expect: Expect,
    started: u64,
    /// The hard stop of the whole call, in real time whatever the guest's clock says.
    hard_stop: Tm,
    attempts: Vec<Attempt>,
    stage: CallState<P, Tm>,
}

/// What every A2A call of a client goes through: its transport, the config
/// the call runs under, and the retry budget all its sends share.
pub(crate) struct Proxy<'a, T> {
    pub transport: &'a mut T,
    pub config: &'a Config,
    pub budget: &'a mut RetryBudget,
}

impl<T: Transport> Proxy<'_, T> {
    /// Sends `message` to `peer` as `source` (both canonical) in
    /// `protocol`, retrying transient failures per the config's retry policy
    /// and the budget.
    pub(crate) fn send_message(
        &mut self,
        env: &mut impl SendEnv,
        peer: &str,
        source: &str,
        spoken: &Spoken,
        message: &Checked<'_>,
        ids: SendIds,
    ) -> Result<Sent, Error> {
        let protocol = spoken.protocol;
        let body = spoken.stamp(a2a::message_body(protocol, Call::Send, &ids, message));
        let (peer, source, spoken) = (peer.to_owned(), source.to_owned(), spoken.clone());
        let job = Job { peer, source, spoken, body, expect: Expect::MessageOrTask };
        let Answered { reply, attempts } = self.call(env, job)?;
        Ok(Sent { reply, ids, attempts, protocol })
    }

    /// One JSON-RPC call with the retries, budget and trace of a send.
    pub(crate) fn call(&mut self, env: &mut impl SendEnv, job: Job) -> Result<Answered, Error> {
        let mut outcomes = self.call_many(env, vec![job]);
        outcomes.pop().unwrap_or_else(|| {
            Err(Error::new(ErrorKind::InvalidConfig("no call".into()), "[A2A_ERROR] no call".into()))
        })
    }

    /// Several JSON-RPC calls at once (`send-many`): every attempt of every
    /// call is in flight together, multiplexed on one wait (`wasi:io/poll`), and
    /// each call keeps its own retry schedule, budget and trace — so the wall
    /// time is about that of the slowest call, not the sum. One outcome per
    /// job, in order. With one job, this is a plain call.
    pub(crate) fn call_many(&mut self, env: &mut impl SendEnv, jobs: Vec<Job>) -> Vec<Result<Answered, Error>> {
        let mut calls = Calls::new(self, env, jobs);
        while !calls.start_due(self, env) {
            let (pending, next) = calls.waiting_on();
            self.transport.wait(&pending, next);
            calls.progress(self, env);
        }
        calls.outcomes()
    }
}

/// The calls of one [`Proxy::call_many`], as a state machine a driver runs:
/// [`Calls::start_due`], then (until it says every call is done) a wait for
/// what [`Calls::waiting_on`] names, then [`Calls::progress`]. The blocking
/// driver is `call_many`; an async one awaits the same things between the
/// steps, so the retry schedule, budget and trace are the same code in both.
pub(crate) struct Calls<P, Tm> {
    runs: Vec<Run<P, Tm>>,
    /// A clock reading taken when the calls were made, used by the first
    /// attempt (each reading is a host call).
    unused_reading: Option<u64>,
}

impl<P: Pending, Tm> Calls<P, Tm> {
    /// The calls of `jobs`, none started; a job whose body is too large is
    /// done at once with that error.
    pub(crate) fn new<T: Transport<Pending = P, Timer = Tm>>(
        proxy: &mut Proxy<'_, T>,
        env: &mut impl SendEnv,
        jobs: Vec<Job>,
    ) -> Self {
        let (t, cfg) = (&mut *proxy.transport, proxy.config);
        // One clock reading starts every run and serves the first attempt too.
        let first = env.mono_now();
        let runs = jobs
            .into_iter()
            .map(|job| {
                let path = format!("/workspaces/{}/a2a", job.peer);
                let url = cfg.platform.url(&path);
                let stage = match check_request_size(cfg, &url, &job.body) {
                    Ok(()) => CallState::Due,
                    Err(e) => CallState::Done(Box::new(Err(e))),
                };
                Run {
                    headers: a2a_headers(cfg, &job.source, &job.spoken),
                    url,
                    path,
                    body: job.body.into(),
                    expect: job.expect,
                    started: first,
                    hard_stop: t.timer(cfg.retry.total_budget),
                    attempts: Vec::new(),
                    stage,
                }
            })
            .collect();
        Calls { runs, unused_reading: Some(first) }
    }

    /// Starts every attempt that is due; whether every call is done.
    pub(crate) fn start_due<T: Transport<Pending = P, Timer = Tm>>(
        &mut self,
        proxy: &mut Proxy<'_, T>,
        env: &mut impl SendEnv,
    ) -> bool {
        let (t, cfg) = (&mut *proxy.transport, proxy.config);
        let policy = &cfg.retry;
        for run in self.runs.iter_mut().filter(|r| matches!(r.stage, CallState::Due)) {
            let now = self.unused_reading.take().unwrap_or_else(|| env.mono_now());
            let remaining = policy.total_budget.saturating_sub(Duration::from_nanos(now.saturating_sub(run.started)));
            let req = Request {
                method: Method::Post,
                path: run.path.clone(),
                headers: run.headers.clone(),
                body: Some(run.body.clone()),
                connect_timeout: cfg.send_connect.min(remaining),
                timeout: cfg.send_read.min(remaining),
                total: remaining,
                max_body_bytes: cfg.max_body_bytes,
            };
            match t.start(&cfg.platform, &req) {
                Ok(pending) => run.stage = CallState::InFlight(pending, now),
                Err(e) => settle(t, cfg, proxy.budget, env, run, Err(e), now),
            }
        }
        self.runs.iter().all(|r| matches!(r.stage, CallState::Done(_)))
    }

    /// What the calls wait for: the attempts in flight, and the earliest end
    /// of a backoff.
    pub(crate) fn waiting_on(&self) -> (Vec<&P>, Option<&Tm>) {
        let pending =
            self.runs.iter().filter_map(|r| if let CallState::InFlight(p, _) = &r.stage { Some(p) } else { None });
        let next = self
            .runs
            .iter()
            .filter_map(|r| if let CallState::Backoff(timer, due) = &r.stage { Some((due, timer)) } else { None })
            .min_by_key(|(due, _)| **due)
            .map(|(_, timer)| timer);
        (pending.collect(), next)
    }

    /// Finished attempts settle (a reply, a final error, or a backoff), and
    /// ended backoffs make their call due again; never blocks.
    pub(crate) fn progress<T: Transport<Pending = P, Timer = Tm>>(
        &mut self,
        proxy: &mut Proxy<'_, T>,
        env: &mut impl SendEnv,
    ) {
        let (t, cfg) = (&mut *proxy.transport, proxy.config);
        for run in self.runs.iter_mut() {
            match &mut run.stage {
                CallState::InFlight(pending, started) => {
                    let started = *started;
                    if let Some(outcome) = pending.poll() {
                        settle(t, cfg, proxy.budget, env, run, outcome, started);
                    }
                }
                CallState::Backoff(timer, _) => {
                    if t.expired(timer) || t.expired(&run.hard_stop) {
                        run.stage = CallState::Due;
                    }
                }
                CallState::Due | CallState::Done(_) => {}
            }
        }
    }

    /// One outcome per job, in order, once [`Calls::start_due`] said every
    /// call is done.
    pub(crate) fn outcomes(self) -> Vec<Result<Answered, Error>> {
        self.runs
            .into_iter()
            .map(|r| match r.stage {
                CallState::Done(outcome) => *outcome,
                _ => Err(Error::new(
                    ErrorKind::InvalidConfig("a call was read before it finished".into()),
                    "[A2A_ERROR] a call was read before it finished".into(),
                )),
            })
            .collect()
    }
}

/// Reads one attempt's outcome and decides: done (a reply, or an error that
/// is final) or another attempt after a backoff.
fn settle<T: Transport>(
    t: &mut T,
    cfg: &Config,
    budget: &mut RetryBudget,
    env: &mut impl SendEnv,
    run: &mut Run<T::Pending, T::Timer>,
    outcome: Result<Response, TransportError>,
    attempt_start: u64,
) {
    let policy = &cfg.retry;
    let number = run.attempts.len() as u32 + 1;
    let took_ms = ms(Duration::from_nanos(env.mono_now().saturating_sub(attempt_start)));
    let failure = match outcome {
        Ok(resp) => match read_response(&run.url, &resp, run.expect, || env.unix_now()) {
            Ok(reply) => {
                budget.on_success();
                run.attempts.push(Attempt { number, outcome: "ok".into(), delay_ms: None, took_ms });
                let attempts = std::mem::take(&mut run.attempts);
                run.stage = CallState::Done(Box::new(Ok(Answered { reply, attempts })));
                return;
            }
            Err(f) => f,
        },
        Err(e) => transport_failure(&run.url, e, number),
    };
    if failure.transient {
        budget.on_failure();
    }
    let outcome = failure.outcome;
    let now = env.mono_now();
    let remaining = policy.total_budget.saturating_sub(Duration::from_nanos(now.saturating_sub(run.started)));
    // The wait before the next attempt (clamped to what is left).
    let delay = if failure.transient {
        retry::next_delay(policy, number - 1, env.random(), failure.retry_after, remaining)
    } else {
        Default::default()
    };
    let stop = if !failure.transient {
        None
    } else if number >= policy.max_attempts {
        Some(format!("after {number} attempts"))
    } else if remaining.is_zero() || t.expired(&run.hard_stop) {
        Some(format!("total budget of {} ms spent after {number} attempts", ms(policy.total_budget)))
    } else if delay >= remaining {
        // Waiting would use what is left: no time for another attempt.
        Some(format!("total budget of {} ms runs out before attempt {}", ms(policy.total_budget), number + 1))
    } else if !budget.allows_retry() {
        Some(format!(
            "not retried: the retry budget is exhausted ({:.1} of {} tokens) because most recent sends failed",
            budget.tokens(),
            budget.max_tokens()
        ))
    } else {
        None
    };
    if !failure.transient || stop.is_some() {
        run.attempts.push(Attempt { number, outcome, delay_ms: None, took_ms });
        let mut message = error::send_failure_text(&failure.kind);
        if let Some(why) = stop {
            message.push_str(&format!(" ({why})"));
        }
        let mut err = Error::new(failure.kind, message);
        err.attempts = std::mem::take(&mut run.attempts);
        run.stage = CallState::Done(Box::new(Err(err)));
        return;
    }
    run.attempts.push(Attempt { number, outcome, delay_ms: Some(ms(delay)), took_ms });
    run.stage = if delay.is_zero() {
        CallState::Due
    } else {
        CallState::Backoff(t.timer(delay), now.saturating_add(delay.as_nanos() as u64))
    };
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};
    use wasi::http::types::ErrorCode;

    use super::*;
    use crate::config::{RawConfig, RawRetryPolicy};
    use crate::message::Message;
    use crate::testing::FakeTransport;

    const ME: &str = "11111111-2222-4333-8444-555555555555";
    const PEER: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

    struct Env {
        mono: u64,
    }
    impl SendEnv for Env {
        fn random(&mut self) -> f64 {
            0.5
        }
        fn unix_now(&mut self) -> u64 {
            784_111_777
        }
        fn mono_now(&mut self) -> u64 {
            self.mono
        }
    }

    #[test]
    fn extensions_go_in_the_headers_of_each_version_and_come_back_deduplicated() {
        let c = cfg(RawRetryPolicy::default());
        let ask =
            |protocol| Spoken { protocol, extensions: vec!["urn:a".into(), "urn:b".into()], ..Default::default() };
        let names = |h: &[(&str, String)]| h.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>();
        let v10 = names(&a2a_headers(&c, ME, &ask(Protocol::V1_0)));
        assert!(v10.contains(&"a2a-extensions: urn:a, urn:b".to_owned()), "{v10:?}");
        assert!(!v10.iter().any(|h| h.starts_with("x-a2a")), "{v10:?}");
        let v03 = names(&a2a_headers(&c, ME, &ask(Protocol::V0_3)));
        assert!(v03.contains(&"x-a2a-extensions: urn:a, urn:b".to_owned()), "{v03:?}");
        let none = names(&a2a_headers(&c, ME, &Protocol::V0_3.into()));
        assert!(!none.iter().any(|h| h.contains("extensions")), "{none:?}");

        let answer =
            |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        let headers =
            answer(&[("a2a-extensions", " urn:a ,urn:b,, "), ("x-a2a-extensions", "urn:a"), ("other", "urn:c")]);
        assert_eq!(activated_extensions(&headers), ["urn:a", "urn:b"]);
        assert!(activated_extensions(&answer(&[("content-type", "application/json")])).is_empty());
    }

    fn cfg(retry: RawRetryPolicy) -> Config {
        Config::from_raw(RawConfig {
            workspace_id: ME.into(),
            platform_url: Some("http://p".into()),
            credentials: vec![(ME.into(), "secret-token-1".into())],
            retry: Some(retry),
            ..Default::default()
        })
        .unwrap()
    }

    fn ids() -> SendIds {
        SendIds { request_id: "rid".into(), message_id: "mid".into() }
    }

    /// A checked one-text message (leaked: a test's whole life).
    fn text(text: &str) -> Checked<'static> {
        crate::message::check(Box::leak(Box::new(Message::text(text)))).unwrap()
    }

    fn ok_body(text: &str) -> String {
        json!({"jsonrpc": "2.0", "id": "rid", "result": {"kind": "message", "parts": [{"kind": "text", "text": text}]}})
            .to_string()
    }

    fn send(t: &mut FakeTransport, cfg: &Config, budget: &mut RetryBudget) -> Result<Sent, Error> {
        Proxy { transport: t, config: cfg, budget }.send_message(
            &mut Env { mono: 0 },
            PEER,
            ME,
            &Protocol::V0_3.into(),
            &text("hello"),
            ids(),
        )
    }

    #[test]
    fn the_request_is_the_python_clients() {
        let mut t = FakeTransport::answering(200, &ok_body("hi"));
        let c = cfg(Default::default());
        let sent = send(&mut t, &c, &mut RetryBudget::new(10, 10)).unwrap();
        assert_eq!(sent.reply.text, "hi");
        assert_eq!(sent.attempts.len(), 1);
        let req = t.only_request();
        assert_eq!((req.method, req.path.as_str()), (Method::Post, format!("/workspaces/{PEER}/a2a").as_str()));
        let headers: Vec<_> = req.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            headers,
            [("x-workspace-id", ME), ("authorization", "Bearer secret-token-1"), ("content-type", "application/json")]
        );
        let body: Value = serde_json::from_slice(req.body.as_ref().unwrap()).unwrap();
        assert_eq!(body["method"], "message/send");
        assert_eq!(body["id"], "rid");
        assert_eq!(body["params"]["message"]["messageId"], "mid");
        assert_eq!((req.connect_timeout, req.timeout), (Duration::from_secs(30), Duration::from_secs(300)));
    }

    #[test]
    fn v1_sends_send_message_with_the_version_header_and_read_wrapped_results() {
        let v1 = json!({"jsonrpc": "2.0", "id": "rid", "result": {"task": {"id": "t-1",
            "status": {"state": "TASK_STATE_COMPLETED", "message": {"role": "ROLE_AGENT", "parts": [{"text": "done"}]}}}}});
        let mut t = FakeTransport::answering(200, &v1.to_string());
        let c = cfg(Default::default());
        let sent = Proxy { transport: &mut t, config: &c, budget: &mut RetryBudget::new(10, 10) }
            .send_message(&mut Env { mono: 0 }, PEER, ME, &Protocol::V1_0.into(), &text("hi"), ids())
            .unwrap();
        assert_eq!((sent.reply.text.as_str(), sent.protocol), ("done", Protocol::V1_0));
        assert!(matches!(sent.reply.kind, a2a::ReplyKind::Task { ref state, .. } if state == "completed"));
        let req = t.only_request();
        assert!(req.headers.iter().any(|(k, v)| *k == "a2a-version" && v == "1.0"));
        let body: Value = serde_json::from_slice(req.body.as_ref().unwrap()).unwrap();
        assert_eq!((&body["method"], &body["params"]["message"]["role"]), (&json!("SendMessage"), &json!("ROLE_USER")));
    }

    #[test]
    fn transient_failures_are_retried_with_the_same_ids() {
        let mut t = FakeTransport::failing(TransportError::Code(ErrorCode::ConnectionRefused));
        t.then_answer_with(503, &[("retry-after", "2")], r#"{"error":"workspace not available"}"#);
        t.then_answer(200, &ok_body("finally"));
        let c = cfg(RawRetryPolicy { base_delay_ms: Some(10), ..Default::default() });
        let sent = send(&mut t, &c, &mut RetryBudget::new(10, 10)).unwrap();
        assert_eq!(sent.reply.text, "finally");
        assert_eq!(t.sent.len(), 3);
        assert!(t.sent.windows(2).all(|w| w[0].body == w[1].body), "same request id and messageId");
        let delays: Vec<_> = sent.attempts.iter().map(|a| a.delay_ms).collect();
        assert_eq!(delays, [Some(10), Some(2_000), None], "backoff, then the server's Retry-After");
        assert!(sent.attempts[0].outcome.starts_with("connection refused"));
        assert_eq!(sent.attempts[2].outcome, "ok");
    }

    #[test]
    fn exhaustion_after_max_attempts() {
        let mut t = FakeTransport::default();
        for _ in 0..5 {
            t.then_fail(TransportError::Code(ErrorCode::ConnectionTerminated));
        }
        let c = cfg(RawRetryPolicy { base_delay_ms: Some(1), ..Default::default() });
        let e = send(&mut t, &c, &mut RetryBudget::new(0, 10)).unwrap_err();
        assert_eq!(e.attempts.len(), 5);
        assert_eq!(
            e.attempts.iter().map(|a| a.delay_ms).collect::<Vec<_>>(),
            [Some(1), Some(2), Some(4), Some(8), None]
        );
        assert!(e.message.starts_with("[A2A_ERROR] connection terminated"), "{}", e.message);
        assert!(e.message.ends_with("(after 5 attempts)"), "{}", e.message);
        assert!(
            e.message.contains(&format!("[target=http://p/workspaces/{PEER}/a2a] (after 5 attempts)")),
            "{}",
            e.message
        );
    }

    #[test]
    fn deterministic_failures_are_not_retried() {
        let cases: Vec<(u16, &str, &str)> = vec![
            (
                500,
                "<html>Internal Server Error</html>",
                "[A2A_ERROR] HTTP 500: <html>Internal Server Error</html> [target=",
            ),
            (
                404,
                r#"{"error":"workspace not found"}"#,
                "[A2A_ERROR] HTTP 404 from the platform: workspace not found [target=",
            ),
            (
                200,
                r#"{"jsonrpc":"2.0","id":"rid","error":{"code":-32601,"message":"Method not found"}}"#,
                "[A2A_ERROR] Method not found (code=-32601) [target=",
            ),
            (
                200,
                r#"{"jsonrpc":"2.0","id":"rid","result":{"kind":"message","parts":[{"kind":"text","text":"Agent error: boom"}]}}"#,
                "[A2A_ERROR] Agent error: boom",
            ),
            (200, "not json", "[A2A_ERROR] HTTP 200 body was not JSON"),
            (200, r#"{"jsonrpc":"2.0"}"#, "[A2A_ERROR] unexpected response shape (no result, no error)"),
            (400, "", "[A2A_ERROR] HTTP 400 [target="),
        ];
        for (status, body, text) in cases {
            let mut t = FakeTransport::answering(status, body);
            let e = send(&mut t, &cfg(Default::default()), &mut RetryBudget::new(10, 10)).unwrap_err();
            assert_eq!(t.sent.len(), 1, "{body}");
            assert!(e.message.starts_with(text), "{}\n  expected: {text}", e.message);
            assert_eq!(e.attempts.len(), 1);
        }
    }

    #[test]
    fn a_2xx_is_trusted_only_after_the_status_and_a_503_result_is_not_success() {
        let mut t = FakeTransport::answering(503, &ok_body("stale"));
        t.then_answer(200, &ok_body("fresh"));
        let c = cfg(RawRetryPolicy { base_delay_ms: Some(1), ..Default::default() });
        let sent = send(&mut t, &c, &mut RetryBudget::new(10, 10)).unwrap();
        assert_eq!(sent.reply.text, "fresh");
    }

    #[test]
    fn the_budget_bounds_every_attempt() {
        // A clock that moves 100 ms at every reading.
        struct Moving(u64);
        impl SendEnv for Moving {
            fn random(&mut self) -> f64 {
                0.5
            }
            fn unix_now(&mut self) -> u64 {
                0
            }
            fn mono_now(&mut self) -> u64 {
                self.0 += 100_000_000;
                self.0
            }
        }
        let mut t = FakeTransport::failing(TransportError::TimedOut(Duration::from_secs(1)));
        t.then_answer(200, &ok_body("x"));
        let c = cfg(RawRetryPolicy { total_budget_ms: Some(1_000), base_delay_ms: Some(10), ..Default::default() });
        let sent = Proxy { transport: &mut t, config: &c, budget: &mut RetryBudget::new(10, 10) }
            .send_message(&mut Moving(0), PEER, ME, &Protocol::V0_3.into(), &text("x"), ids())
            .unwrap();
        assert_eq!(sent.attempts.len(), 2);
        // Each attempt gets only what is left of the budget, for all its timeouts
        // (the first attempt starts on the reading that started the call).
        assert_eq!(t.sent[0].total, Duration::from_millis(1_000));
        assert_eq!(t.sent[1].total, Duration::from_millis(700));
        assert_eq!(
            (t.sent[1].timeout, t.sent[1].connect_timeout),
            (Duration::from_millis(700), Duration::from_millis(700))
        );
        assert_eq!(t.slept, [Duration::from_millis(10)]);
    }

    /// Reads the fake transport's virtual clock.
    struct Virtual(std::rc::Rc<std::cell::Cell<Duration>>);
    impl SendEnv for Virtual {
        fn random(&mut self) -> f64 {
            0.5
        }
        fn unix_now(&mut self) -> u64 {
            0
        }
        fn mono_now(&mut self) -> u64 {
            self.0.get().as_nanos() as u64
        }
    }

    #[test]
    fn a_spent_budget_stops_the_retries() {
        let mut t = FakeTransport::default();
        for _ in 0..5 {
            t.then_fail(TransportError::Code(ErrorCode::ConnectionRefused));
        }
        // Backoff 400 then 800 ms against a 1 s budget: after the second
        // attempt, waiting would use the rest, so the send stops there.
        let c = cfg(RawRetryPolicy {
            total_budget_ms: Some(1_000),
            base_delay_ms: Some(400),
            jitter_percent: Some(0),
            ..Default::default()
        });
        let mut env = Virtual(t.now.clone());
        let mut proxy = Proxy { transport: &mut t, config: &c, budget: &mut RetryBudget::new(0, 10) };
        let e = proxy.send_message(&mut env, PEER, ME, &Protocol::V0_3.into(), &text("x"), ids()).unwrap_err();
        assert_eq!(t.slept, [Duration::from_millis(400)]);
        assert_eq!(e.attempts.len(), 2);
        assert_eq!((t.sent[0].total, t.sent[1].total), (Duration::from_millis(1_000), Duration::from_millis(600)));
        assert!(e.message.ends_with("(total budget of 1000 ms runs out before attempt 3)"), "{}", e.message);
    }

    #[test]
    fn an_exhausted_retry_budget_fails_fast_until_successes_refill_it() {
        let c = cfg(RawRetryPolicy { base_delay_ms: Some(1), ..Default::default() });
        let mut budget = RetryBudget::new(4, 100);
        let refused = || TransportError::Code(ErrorCode::ConnectionRefused);
        // 4 tokens: the first failure leaves 3 (a retry is allowed), the second 2 (half: no more).
        let mut t = FakeTransport::failing(refused());
        t.then_fail(refused());
        let e = send(&mut t, &c, &mut budget).unwrap_err();
        assert_eq!(e.attempts.len(), 2);
        assert!(e.message.contains("(not retried: the retry budget is exhausted (2.0 of 4 tokens)"), "{}", e.message);
        // The next send fails fast: one attempt.
        let mut t = FakeTransport::failing(refused());
        assert_eq!(send(&mut t, &c, &mut budget).unwrap_err().attempts.len(), 1);
        // Successes refill it (one token each here), and retries come back.
        for _ in 0..3 {
            send(&mut FakeTransport::answering(200, &ok_body("ok")), &c, &mut budget).unwrap();
        }
        let mut t = FakeTransport::failing(refused());
        t.then_answer(200, &ok_body("retried"));
        assert_eq!(send(&mut t, &c, &mut budget).unwrap().reply.text, "retried");
    }
}
