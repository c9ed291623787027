//! Requests on the wire, read by servers we did not write: a raw HTTP/1.1
//! listener that understands only `content-length` bodies (as Python's
//! `http.server` and several WSGI stacks do), and Python's `http.server`
//! itself. Sizes a delegated prompt really has, up to the configured limit;
//! a reply cut mid-body; a platform that never reads the upload.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use host_test::bindings::{CallOptions, Config, ErrorKind, RetryPolicy};
use host_test::{Harness, InstanceOptions};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the raw listener read it.
#[derive(Debug, Clone)]
struct Seen {
    /// The request line and headers, as sent.
    head: String,
    /// Exactly `content-length` bytes (none without one).
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

/// What the listener does with the n-th connection, once its request is read.
#[derive(Clone, Copy, Debug)]
enum Answer {
    /// A whole JSON-RPC reply naming the length of the text it received.
    Reply,
    /// Headers declaring 500 bytes, 20 of them, then a reset.
    CutWithReset,
    /// Headers declaring 500 bytes, 20 of them, then a clean close.
    CutWithClose,
}

/// A raw HTTP/1.1 listener on 127.0.0.1: per connection it reads one request
/// head and then exactly `content-length` bytes — a chunked body is not
/// understood, as by many real servers — records it, and answers as
/// `plan(n)` says. It stops with the test's runtime.
async fn raw_platform(plan: fn(usize) -> Answer) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((conn, _)) = listener.accept().await {
            let answer = plan(n);
            n += 1;
            let log = log.clone();
            tokio::spawn(async move { serve_one(conn, answer, log).await });
        }
    });
    (url, seen)
}

async fn serve_one(mut conn: TcpStream, answer: Answer, log: Arc<Mutex<Vec<Seen>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut seen = Seen { head, body: Vec::new() };
    let length: usize = seen.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(k) => body.extend_from_slice(&chunk[..k]),
        }
    }
    body.truncate(length);
    seen.body = body;
    let text_len = serde_json::from_slice::<Value>(&seen.body)
        .ok()
        .and_then(|v| v["params"]["message"]["parts"][0]["text"].as_str().map(str::len));
    log.lock().unwrap().push(seen);
    let head = |len: usize| {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
        )
    };
    match answer {
        Answer::Reply => {
            let reply = json!({"jsonrpc": "2.0", "id": "x", "result": {"kind": "message", "role": "agent",
                "messageId": "m", "parts": [{"kind": "text", "text": format!("received {text_len:?}")}]}});
            let body = reply.to_string();
            let _ = conn.write_all(format!("{}{body}", head(body.len())).as_bytes()).await;
            let _ = conn.shutdown().await;
        }
        Answer::CutWithReset | Answer::CutWithClose => {
            let _ = conn.write_all(format!("{}{}", head(500), "{\"jsonrpc\": \"2.0\", ").as_bytes()).await;
            let _ = conn.flush().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            if matches!(answer, Answer::CutWithReset) {
                // A zero linger makes the close a reset (and never blocks).
                #[allow(deprecated)]
                let _ = conn.set_linger(Some(Duration::ZERO));
            }
            drop(conn);
        }
    }
}

fn config_for(url: &str, change: impl FnOnce(&mut Config)) -> Config {
    let mut cfg = config(url);
    cfg.retry = Some(RetryPolicy {
        base_delay_ms: Some(20),
        max_delay_ms: Some(100),
        total_budget_ms: Some(20_000),
        ..Default::default()
    });
    change(&mut cfg);
    cfg
}

/// The JSON-RPC envelope's size around a text (the ids are UUIDs, so it is
/// the same for every send).
fn envelope_bytes(seen: &Seen, text_len: usize) -> usize {
    seen.body.len() - text_len
}

#[tokio::test]
async fn bodies_of_every_size_go_out_whole_with_content_length_up_to_the_limit() {
    let (url, seen) = raw_platform(|_| Answer::Reply).await;
    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await.unwrap();
    let client = instance.client(&config_for(&url, |_| {})).await.unwrap().unwrap();

    let probe = instance.send_message(client, BUILDER, "x", None).await.unwrap().unwrap();
    assert_eq!(probe.text, "received Some(1)");
    let envelope = envelope_bytes(&seen.lock().unwrap()[0], 1);

    let limit = 4 * 1024 * 1024; // the default max-body-bytes
    for body_len in [4095, 4096, 4097, 64 * 1024, 1024 * 1024, limit] {
        let text = "m".repeat(body_len - envelope);
        let started = Instant::now();
        let reply = instance.send_message(client, BUILDER, &text, None).await.unwrap();
        let reply = reply.unwrap_or_else(|e| panic!("{body_len}-byte body: {}", e.message));
        assert_eq!(reply.text, format!("received Some({})", text.len()), "{body_len}-byte body");
        assert_eq!(reply.attempts.len(), 1);
        let last = seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(last.body.len(), body_len);
        assert_eq!(last.header("content-length"), Some(body_len.to_string()), "{}", last.head);
        assert_eq!(last.header("transfer-encoding"), None, "{}", last.head);
        let sent: Value = serde_json::from_slice(&last.body).unwrap();
        assert_eq!(sent["params"]["message"]["parts"][0]["text"].as_str(), Some(text.as_str()));
        assert_eq!(sent["params"]["message"]["messageId"].as_str(), Some(reply.message_id.as_str()));
        eprintln!("{body_len:>8}-byte body: {:?}", started.elapsed());
    }

    // One byte past the limit: refused before anything is sent.
    let before = seen.lock().unwrap().len();
    let text = "m".repeat(limit + 1 - envelope);
    let e = instance.send_message(client, BUILDER, &text, None).await.unwrap().unwrap_err();
    match &e.kind {
        ErrorKind::RequestTooLarge(t) => {
            assert_eq!((t.size, t.limit), ((limit + 1) as u64, limit as u32));
            assert!(t.url.ends_with(&format!("/workspaces/{BUILDER}/a2a")), "{}", t.url);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.message.starts_with("[A2A_ERROR] request body of 4194305 bytes exceeds"), "{}", e.message);
    assert!(e.attempts.is_empty());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(seen.lock().unwrap().len(), before, "nothing reached the platform");

    // A larger configured limit lets a larger body through.
    let roomy = instance.client(&config_for(&url, |c| c.max_body_bytes = Some(8 << 20))).await.unwrap().unwrap();
    let reply = instance.send_message(roomy, BUILDER, &text, None).await.unwrap().unwrap();
    assert_eq!(reply.text, format!("received Some({})", text.len()));
}

#[tokio::test]
async fn every_request_kind_carries_its_framing() {
    let (url, seen) = raw_platform(|_| Answer::Reply).await;
    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await.unwrap();
    let client = instance.client(&config_for(&url, |_| {})).await.unwrap().unwrap();
    // A streamed send and a task call: each a POST with a body.
    let text = "s".repeat(10_000);
    let options = CallOptions { ..Default::default() };
    let _ = instance.send_message_stream(client, BUILDER, &text, &options).await.unwrap();
    let _ = instance.get_task(client, BUILDER, "task-1", &options).await.unwrap();
    // GETs carry no body and no chunked framing.
    let _ = instance.discover_peer(client, BUILDER, None).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    for s in &seen {
        assert_eq!(s.header("transfer-encoding"), None, "{}", s.head);
        if s.head.starts_with("POST") {
            assert_eq!(s.header("content-length"), Some(s.body.len().to_string()), "{}", s.head);
            let body: Value = serde_json::from_slice(&s.body).unwrap_or_else(|e| panic!("{e}: {}", s.head));
            assert_eq!(body["jsonrpc"], "2.0");
        } else {
            assert!(s.head.starts_with("GET"), "{}", s.head);
            assert!(s.body.is_empty());
        }
    }
    let stream_body: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(stream_body["params"]["message"]["parts"][0]["text"].as_str().map(str::len), Some(10_000));
}

#[tokio::test]
async fn a_reply_cut_mid_body_is_retried_with_the_same_ids() {
    let (url, seen) = raw_platform(|n| match n {
        0 => Answer::CutWithReset,
        1 => Answer::CutWithClose,
        _ => Answer::Reply,
    })
    .await;
    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await.unwrap();
    let client = instance.client(&config_for(&url, |_| {})).await.unwrap().unwrap();
    let reply = instance.send_message(client, BUILDER, "cut me", None).await.unwrap();
    let reply = reply.unwrap_or_else(|e| panic!("{} {:?}", e.message, e.attempts));
    assert_eq!(reply.text, "received Some(6)");
    let outcomes: Vec<&str> = reply.attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    for cut in &outcomes[..2] {
        assert!(cut.starts_with("response incomplete"), "{outcomes:?}");
        assert!(cut.contains("HTTP-response-incomplete"), "{outcomes:?}");
    }
    let bodies: Vec<Value> = seen.lock().unwrap().iter().map(|s| serde_json::from_slice(&s.body).unwrap()).collect();
    assert_eq!(bodies.len(), 3);
    assert!(bodies.iter().all(|b| b["id"] == bodies[0]["id"]));
    assert!(bodies.iter().all(|b| b["params"]["message"]["messageId"] == reply.message_id.as_str()));

    // Cut on every attempt: the error says what happened.
    let (url, _) = raw_platform(|_| Answer::CutWithReset).await;
    let client = instance
        .client(&config_for(&url, |c| c.retry.as_mut().unwrap().max_attempts = Some(2)))
        .await
        .unwrap()
        .unwrap();
    let e = instance.send_message(client, BUILDER, "cut me", None).await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "transport", "{}", e.message);
    assert!(e.message.contains("response incomplete"), "{}", e.message);
    assert!(e.message.ends_with("(after 2 attempts)"), "{}", e.message);
}

#[tokio::test]
async fn a_platform_that_never_reads_the_body_cannot_outlast_the_budget() {
    // Accepts, then neither reads nor answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await.unwrap();
    let cfg = config_for(&url, |c| {
        c.max_body_bytes = Some(16 << 20);
        c.retry.as_mut().unwrap().total_budget_ms = Some(1_500);
    });
    let client = instance.client(&cfg).await.unwrap().unwrap();
    // Larger than loopback's socket buffers, so the upload itself stalls.
    let text = "w".repeat(15 << 20);
    let started = Instant::now();
    let e = instance.send_message(client, BUILDER, &text, None).await.unwrap().unwrap_err();
    let took = started.elapsed();
    assert_eq!(kind_name(&e.kind), "timed-out", "{}", e.message);
    assert!(took < Duration::from_secs(10), "{took:?}: {}", e.message);
    eprintln!("a stalled 15 MiB upload ended after {took:?}: {}", e.message);
}

/// Python's standard `http.server`: it reads only `content-length` bodies.
const PYTHON_PLATFORM: &str = r#"
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        peer = self.path.rsplit("/", 1)[-1]
        if self.path.startswith("/registry/discover/"):
            self.reply(200, {"id": peer, "url": "http://peer", "name": "Py"})
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length)
        try:
            req = json.loads(raw)
        except ValueError:
            self.reply(200, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
            return
        text = req["params"]["message"]["parts"][0]["text"]
        if req["method"] == "message/stream":
            # Events as they are written; the body ends when the connection closes (HTTP/1.0).
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for final, state, note in [(False, "working", []), (True, "completed", ["py streamed %d" % len(text)])]:
                parts = [{"kind": "text", "text": t} for t in note]
                status = {"state": state, "message": {"kind": "message", "role": "agent", "messageId": "s", "parts": parts}}
                event = {"kind": "status-update", "taskId": "t", "contextId": "c", "final": final, "status": status}
                self.wfile.write(b"data: " + json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": event}).encode() + b"\n\n")
                self.wfile.flush()
            return
        self.reply(200, {"jsonrpc": "2.0", "id": req["id"], "result": {"kind": "message", "role": "agent",
            "messageId": "m", "parts": [{"kind": "text", "text": "py got %d" % len(text)}]}})

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.timeout = 60
while True:
    server.handle_request()
"#;

/// Python's `http.server` serving [`PYTHON_PLATFORM`], and its URL.
async fn python_platform() -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new("python3")
        .args(["-c", PYTHON_PLATFORM])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let port = lines.next_line().await.unwrap().unwrap();
    (child, format!("http://127.0.0.1:{port}"))
}

/// The sizes of text sent to it.
const PYTHON_SIZES: [usize; 5] = [0, 5, 4097, 200_000, 1 << 20];

#[tokio::test]
async fn pythons_http_server_reads_every_request() {
    let (_server, url) = python_platform().await;
    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await.unwrap();
    let client = instance.client(&config_for(&url, |_| {})).await.unwrap().unwrap();
    for len in PYTHON_SIZES {
        let text = "p".repeat(len);
        let reply = instance.send_message(client, BUILDER, &text, None).await.unwrap();
        let reply = reply.unwrap_or_else(|e| panic!("{len}: {}", e.message));
        assert_eq!(reply.text, format!("py got {len}"));
        assert_eq!(reply.attempts.len(), 1);
    }
    let peer = instance.discover_peer(client, BUILDER, None).await.unwrap().unwrap();
    assert_eq!(peer.name.as_deref(), Some("Py"));
    // A stream whose body ends with the connection (no length, no chunks).
    let text = "s".repeat(70_000);
    let stream = instance.send_message_stream(client, BUILDER, &text, &CallOptions::default()).await.unwrap().unwrap();
    let (events, end) = instance.drain_stream(stream).await.unwrap();
    assert!(end.is_none(), "{end:?}");
    assert_eq!(events.len(), 2);
    let host_test::bindings::StreamEvent::StatusUpdate(last) = &events[1] else { panic!("{events:?}") };
    assert_eq!((last.is_final, last.text.as_str()), (true, "py streamed 70000"));
}

/// The same through the WASI 0.3 client's transport (`wasi:http/client@0.3.0`).
#[tokio::test(flavor = "multi_thread")]
async fn pythons_http_server_reads_every_request_of_the_wasi_0_3_client() {
    use host_test::p3::{api, AsyncInstance};
    let (_server, url) = python_platform().await;
    let faults = host_test::faults::TransportFaults::quiet();
    let mut instance = AsyncInstance::load(&host_test::harness::client_async_path(), faults).await.unwrap();
    instance
        .run(async |acc, api| {
            let calls = api.client();
            let cfg = api::Config {
                workspace_id: ME.into(),
                platform_url: Some(url.clone()),
                credentials: vec![api::Credential { workspace_id: ME.into(), token: ME_TOKEN.into() }],
                timeouts: None,
                max_body_bytes: None,
                cache: None,
                retry: None,
                protocol: None,
            };
            let c = calls.call_constructor(acc, cfg).await.unwrap().unwrap();
            let options = || api::CallOptions { source: None, protocol: None, extensions: Vec::new() };
            for len in PYTHON_SIZES {
                let reply = calls.call_send_message(acc, c, BUILDER.into(), "p".repeat(len), options()).await.unwrap();
                let reply = reply.unwrap_or_else(|e| panic!("{len}: {}", e.message));
                assert_eq!((reply.text, reply.attempts.len()), (format!("py got {len}"), 1));
            }
            let peer = calls.call_discover_peer(acc, c, BUILDER.into(), options()).await.unwrap().unwrap();
            assert_eq!(peer.name.as_deref(), Some("Py"));
            let stream = calls.call_send_message_stream(acc, c, BUILDER.into(), "s".repeat(70_000), options());
            let stream = stream.await.unwrap().unwrap();
            let mut events = Vec::new();
            while let Some(event) = api.event_stream().call_next_event(acc, stream).await.unwrap().unwrap() {
                events.push(event);
            }
            assert_eq!(events.len(), 2);
            let api::StreamEvent::StatusUpdate(last) = &events[1] else { panic!("{events:?}") };
            assert_eq!((last.is_final, last.text.as_str()), (true, "py streamed 70000"));
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn an_early_answer_to_a_large_upload_is_read_not_cut() {
    // Like a proxy's body-size limit: 413 as soon as the head is read, then
    // the rest of the upload read and discarded before the connection closes.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => head.extend_from_slice(&buf[..k]),
                    }
                }
                let body = r#"{"error": "request entity too large"}"#;
                let answer = format!(
                    "HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(answer.as_bytes()).await;
                let drain = async { while matches!(conn.read(&mut buf).await, Ok(k) if k > 0) {} };
                let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
            });
        }
    });
    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await.unwrap();
    let client = instance.client(&config_for(&url, |_| {})).await.unwrap().unwrap();
    let text = "u".repeat(3 << 20);
    let e = instance.send_message(client, BUILDER, &text, None).await.unwrap().unwrap_err();
    match &e.kind {
        ErrorKind::PlatformError(p) => assert_eq!((p.status, p.message.as_str()), (413, "request entity too large")),
        other => panic!("{other:?}: {}", e.message),
    }
    assert_eq!(e.attempts.len(), 1, "{}", e.message);
}
