//! Transport-level fault injection through [`WasiHttpHooks::send_request`]:
//! refused, reset, timed-out or hanging requests without any server, answers
//! made by the host itself (no socket), and a log of every request the guest
//! handed to `wasi:http`.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// A failure to inject instead of sending a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportFault {
    /// `connection-refused`, at once.
    Refused,
    /// `connection-terminated`: the peer reset the connection.
    Reset,
    /// `connection-timeout`: connect timed out.
    ConnectTimeout,
    /// `dns-error`: the name did not resolve.
    Dns,
    /// The request never completes (only the guest's own deadline ends it).
    Hang,
    /// Not a failure: the host answers at once with `status` and `body`,
    /// without a socket — what the component costs apart from the network.
    Respond {
        /// HTTP status.
        status: u16,
        /// Response body (served with `content-type: application/json`).
        body: String,
    },
}

impl TransportFault {
    fn error(&self) -> Option<Error> {
        Some(match self {
            TransportFault::Refused => Error::ConnectionRefused,
            TransportFault::Reset => Error::ConnectionTerminated,
            TransportFault::ConnectTimeout => Error::ConnectionTimeout,
            TransportFault::Dns => Error::DnsError { rcode: Some("NXDOMAIN".into()), info_code: None },
            TransportFault::Hang | TransportFault::Respond { .. } => return None,
        })
    }

    /// The host's own answer, for [`TransportFault::Respond`].
    fn response(&self) -> Option<http::Response<WasiBody>> {
        let TransportFault::Respond { status, body } = self else { return None };
        let length = body.len();
        let body = http_body_util::Full::new(bytes::Bytes::from(body.clone())).map_err(|never| match never {});
        http::Response::builder()
            .status(*status)
            .header("content-type", "application/json")
            .header("content-length", length)
            .body(body.boxed_unsync())
            .ok()
    }
}

/// A request as the guest handed it to the host.
#[derive(Clone, Debug)]
pub struct SentRequest {
    /// Method.
    pub method: String,
    /// Full URI.
    pub uri: String,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Options the guest set (connect / first byte / between bytes).
    pub options: Option<RequestOptions>,
}

/// What the hooks saw, for a host that shows progress.
#[derive(Clone, Debug)]
pub enum HookEvent {
    /// A request left the guest.
    Started {
        /// Method.
        method: String,
        /// Full URI.
        uri: String,
    },
    /// Its response head arrived (`status`) or the request failed (`error`).
    Finished {
        /// Full URI.
        uri: String,
        /// The response status.
        status: Option<u16>,
        /// The failure, as the host reports it.
        error: Option<String>,
    },
}

type Observer = Arc<dyn Fn(&HookEvent) + Send + Sync>;

#[derive(Default)]
struct State {
    /// Keep no log of requests (benchmarks, long-running hosts).
    quiet: bool,
    queue: VecDeque<TransportFault>,
    always: Option<TransportFault>,
    sent: Vec<SentRequest>,
    observer: Option<Observer>,
}

/// The hooks of one instance. Clones share state, so a test keeps one and
/// gives the other to the instance.
#[derive(Clone, Default)]
pub struct TransportFaults {
    state: Arc<Mutex<State>>,
}

impl TransportFaults {
    /// Hooks that inject nothing and keep no request log: plain `wasi:http`.
    pub fn quiet() -> Self {
        let hooks = Self::default();
        hooks.state.lock().unwrap().quiet = true;
        hooks
    }

    /// Fails the next request (after those already queued) with `fault`.
    pub fn push(&self, fault: TransportFault) {
        self.state.lock().unwrap().queue.push_back(fault);
    }

    /// Fails every request with `fault` (queued faults go first); `None` stops.
    pub fn always(&self, fault: Option<TransportFault>) {
        self.state.lock().unwrap().always = fault;
    }

    /// Calls `observer` on every request start and finish.
    pub fn observe(&self, observer: impl Fn(&HookEvent) + Send + Sync + 'static) {
        self.state.lock().unwrap().observer = Some(Arc::new(observer));
    }

    /// Every request the guest sent so far, faulted or not.
    pub fn sent(&self) -> Vec<SentRequest> {
        self.state.lock().unwrap().sent.clone()
    }
}

type ResponseFuture = Box<
    dyn Future<Output = Result<(http::Response<WasiBody>, Box<dyn Future<Output = Result<(), Error>> + Send>), Error>>
        + Send,
>;

impl WasiHttpHooks for TransportFaults {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> ResponseFuture {
        drop(fut);
        let uri = request.uri().to_string();
        let (fault, observer) = {
            let mut state = self.state.lock().unwrap();
            if !state.quiet {
                state.sent.push(SentRequest {
                    method: request.method().to_string(),
                    uri: request.uri().to_string(),
                    headers: request
                        .headers()
                        .iter()
                        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                        .collect(),
                    options,
                });
            }
            (state.queue.pop_front().or_else(|| state.always.clone()), state.observer.clone())
        };
        if let Some(observe) = &observer {
            observe(&HookEvent::Started { method: request.method().to_string(), uri: uri.clone() });
        }
        Box::new(async move {
            let result = match fault {
                None => wasmtime_wasi_http::default_send_request(request, options).await.map(|(res, io)| {
                    (res.map(BodyExt::boxed_unsync), Box::new(io) as Box<dyn Future<Output = _> + Send>)
                }),
                Some(fault) => match (fault.error(), fault.response()) {
                    (Some(err), _) => Err(err),
                    (None, Some(res)) => Ok((res, Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>)),
                    (None, None) => std::future::pending().await,
                },
            };
            if let Some(observe) = &observer {
                let (status, error) = match &result {
                    Ok((res, _)) => (Some(res.status().as_u16()), None),
                    Err(e) => (None, Some(format!("{e:?}"))),
                };
                observe(&HookEvent::Finished { uri, status, error });
            }
            result
        })
    }
}
