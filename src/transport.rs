//! The one seam between the client and the network.
//!
//! Calls build a [`Request`] and hand it to a [`Transport`]; the component
//! uses [`WasiHttp`] (all I/O through `wasi:http/outgoing-handler`), unit
//! tests use a scripted fake. A transport returns the whole body, read to
//! its end and capped, or a [`TransportError`].

use std::time::Duration;

use wasi::http::types::ErrorCode;

use crate::config::PlatformUrl;

/// HTTP methods the client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
}

/// One request to the platform.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// API path (with query), starting with `/`, without the platform prefix.
    pub path: String,
    /// Header names and values (already validated).
    pub headers: Vec<(&'static str, String)>,
    /// Body, for POST.
    pub body: Option<Vec<u8>>,
    /// Connect, first-byte and between-bytes timeout.
    pub timeout: Duration,
    /// Bound on the whole exchange.
    pub total: Duration,
    /// Largest body accepted.
    pub max_body_bytes: usize,
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// The whole body.
    pub body: Vec<u8>,
}

/// Why no complete response arrived.
#[derive(Debug, Clone)]
pub enum TransportError {
    /// The host reported a `wasi:http` error.
    Code(ErrorCode),
    /// The whole-exchange bound passed.
    TimedOut(Duration),
    /// The body exceeded the cap.
    TooLarge(usize),
}

/// Sends requests to the platform.
pub trait Transport {
    /// Sends `req` to `platform` and returns the complete response.
    fn send(&mut self, platform: &PlatformUrl, req: &Request) -> Result<Response, TransportError>;
}

#[cfg(target_arch = "wasm32")]
pub use wasi_http::WasiHttp;

#[cfg(target_arch = "wasm32")]
mod wasi_http {
    use super::*;
    use crate::config::Scheme;
    use wasi::clocks::monotonic_clock;
    use wasi::http::outgoing_handler;
    use wasi::http::types::{
        Fields, IncomingBody, IncomingResponse, Method as WasiMethod, OutgoingBody, OutgoingRequest, RequestOptions,
        Scheme as WasiScheme,
    };
    use wasi::io::poll;
    use wasi::io::streams::StreamError;

    /// Largest read asked of the body stream at once.
    const READ_CHUNK: u64 = 64 * 1024;

    /// The `wasi:http/outgoing-handler` transport.
    #[derive(Debug, Default)]
    pub struct WasiHttp;

    fn internal(msg: impl Into<String>) -> TransportError {
        TransportError::Code(ErrorCode::InternalError(Some(msg.into())))
    }

    impl Transport for WasiHttp {
        fn send(&mut self, platform: &PlatformUrl, req: &Request) -> Result<Response, TransportError> {
            let deadline = monotonic_clock::now().saturating_add(req.total.as_nanos() as u64);
            let entries: Vec<(String, Vec<u8>)> =
                req.headers.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())).collect();
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
            let set = request
                .set_method(&method)
                .and(request.set_scheme(Some(&scheme)))
                .and(request.set_authority(Some(&platform.authority)))
                .and(request.set_path_with_query(Some(&platform.path(&req.path))));
            set.map_err(|()| internal("the host rejected the request line"))?;

            let options = RequestOptions::new();
            let t = req.timeout.as_nanos() as u64;
            // Hosts may refuse some options (not supported); the total
            // deadline below still bounds the call.
            let _ = options.set_connect_timeout(Some(t));
            let _ = options.set_first_byte_timeout(Some(t));
            let _ = options.set_between_bytes_timeout(Some(t));

            let body = request.body().map_err(|()| internal("request body unavailable"))?;
            if let Some(bytes) = &req.body {
                write_body(&body, bytes)?;
            }
            OutgoingBody::finish(body, None).map_err(TransportError::Code)?;

            let future = outgoing_handler::handle(request, Some(options)).map_err(TransportError::Code)?;
            let response = {
                let ready = future.subscribe();
                let timer = monotonic_clock::subscribe_instant(deadline);
                loop {
                    if let Some(result) = future.get() {
                        break result
                            .map_err(|()| internal("response already taken"))?
                            .map_err(TransportError::Code)?;
                    }
                    if timer.ready() {
                        return Err(TransportError::TimedOut(req.total));
                    }
                    poll::poll(&[&ready, &timer]);
                }
            };
            read_response(response, deadline, req)
        }
    }

    fn write_body(body: &OutgoingBody, bytes: &[u8]) -> Result<(), TransportError> {
        let stream = body.write().map_err(|()| internal("request body stream unavailable"))?;
        for chunk in bytes.chunks(4096) {
            stream.blocking_write_and_flush(chunk).map_err(|e| match e {
                StreamError::LastOperationFailed(err) => wasi::http::types::http_error_code(&err)
                    .map(TransportError::Code)
                    .unwrap_or_else(|| internal(format!("writing the request body: {}", err.to_debug_string()))),
                StreamError::Closed => internal("request body stream closed"),
            })?;
        }
        Ok(())
    }

    /// Reads the body to its end (or the cap, or the deadline) and finishes
    /// it, so no host — wasmCloud's provider included — is left holding a
    /// half-read stream.
    fn read_response(response: IncomingResponse, deadline: u64, req: &Request) -> Result<Response, TransportError> {
        let status = response.status();
        let body = response.consume().map_err(|()| internal("response body already taken"))?;
        let bytes = read_stream(&body, deadline, req);
        // The stream (a child of `body`) was dropped inside read_stream; the
        // trailers are not used, only the body's completion matters.
        drop(IncomingBody::finish(body));
        drop(response);
        Ok(Response { status, body: bytes? })
    }

    fn read_stream(body: &IncomingBody, deadline: u64, req: &Request) -> Result<Vec<u8>, TransportError> {
        let stream = body.stream().map_err(|()| internal("response body stream unavailable"))?;
        let mut out = Vec::new();
        let ready = stream.subscribe();
        let timer = monotonic_clock::subscribe_instant(deadline);
        loop {
            match stream.read(READ_CHUNK) {
                Ok(chunk) if chunk.is_empty() => {
                    if timer.ready() {
                        return Err(TransportError::TimedOut(req.total));
                    }
                    poll::poll(&[&ready, &timer]);
                }
                Ok(chunk) => {
                    if out.len() + chunk.len() > req.max_body_bytes {
                        return Err(TransportError::TooLarge(req.max_body_bytes));
                    }
                    out.extend_from_slice(&chunk);
                }
                Err(StreamError::Closed) => return Ok(out),
                Err(StreamError::LastOperationFailed(err)) => {
                    return Err(wasi::http::types::http_error_code(&err)
                        .map(TransportError::Code)
                        .unwrap_or_else(|| internal(format!("reading the response body: {}", err.to_debug_string()))));
                }
            }
        }
    }
}
