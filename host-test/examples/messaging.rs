//! Figures for `send-message` (printed, not asserted): one round trip
//! through the component against the embedded platform's A2A proxy, and in
//! the same run the identical request from a native Rust hyper client with
//! a new connection per request (as wasi:http makes one), and their ratio —
//! then where each side's time goes: before the request leaves (the guest
//! building it, wasi:http handing it to the host's `send_request` / nothing
//! natively), the wait for the response head (connect, send, the platform's
//! work: the same for both), and after the head (body, parse, return);
//! last, the same send with the host answering it itself (no socket): the
//! component's own share.
//!
//! Run: `cargo perf messaging` (the `perf` profile: see the root Cargo.toml)
//!
//! For profilers: `A2A_BENCH_ONLY=component|native|answered` runs that side
//! alone, `A2A_BENCH_SENDS=<n>` sends n times (default 3000) — e.g.
//! `A2A_BENCH_ONLY=native A2A_BENCH_SENDS=20000 perf stat target/perf/examples/messaging`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use host_test::bindings::{Config, Credential};
use host_test::faults::{HookEvent, TransportFault, TransportFaults};
use host_test::figures::{quantile, summary};
use host_test::platform::{Platform, Workspace};
use host_test::{Harness, InstanceOptions};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

const ME: &str = "11111111-2222-4333-8444-555555555555";
const PEER: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const TOKEN: &str = "bench-token-0123456789";
const WARMUP: usize = 300;

/// Which sends a run makes.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    /// Component and native interleaved, then the host-answered run: the figures.
    All,
    /// Only sends through the component, against the platform.
    Component,
    /// Only native hyper sends.
    Native,
    /// Only sends the host answers itself.
    Answered,
}

impl Side {
    fn from_env() -> Side {
        match std::env::var("A2A_BENCH_ONLY").as_deref() {
            Err(_) | Ok("") => Side::All,
            Ok("component") => Side::Component,
            Ok("native") => Side::Native,
            Ok("answered") => Side::Answered,
            Ok(other) => panic!("A2A_BENCH_ONLY={other}: expected component, native or answered"),
        }
    }
}

/// When a send's phases ended: request handed over, response head in.
#[derive(Clone, Copy, Default)]
struct Marks {
    sent: Option<Instant>,
    head: Option<Instant>,
}

/// The same request as the component's, from hyper on a fresh connection.
async fn native_send(addr: std::net::SocketAddr, i: usize, marks: &mut Marks) -> String {
    marks.sent = Some(Instant::now());
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let body = json!({"jsonrpc": "2.0", "id": format!("00000000-0000-4000-8000-{i:012}"), "method": "message/send",
        "params": {"message": {"role": "user", "messageId": format!("10000000-0000-4000-8000-{i:012}"),
        "parts": [{"kind": "text", "text": "hello peer"}]}}});
    let req = http::Request::post(format!("/workspaces/{PEER}/a2a"))
        .header("host", addr.to_string())
        .header("x-workspace-id", ME)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    marks.head = Some(Instant::now());
    assert!(resp.status().is_success());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    v["result"]["parts"][0]["text"].as_str().unwrap().to_owned()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let side = Side::from_env();
    let sends: usize =
        std::env::var("A2A_BENCH_SENDS").map_or(3_000, |v| v.parse().expect("A2A_BENCH_SENDS: a number"));
    let mut me = Workspace::new(ME, "Planner", "planner");
    me.token = Some(TOKEN.into());
    me.peers = vec![PEER.into()];
    let platform = Platform::start(vec![me, Workspace::new(PEER, "Builder", "builder")]).await.unwrap();
    let addr: std::net::SocketAddr = platform.url().trim_start_matches("http://").parse().unwrap();

    // The hooks pass every request through (as a plain host does) and mark
    // when one reaches the host and when its head is back.
    let marks = Arc::new(Mutex::new(Marks::default()));
    let hooks = TransportFaults::quiet();
    let seen = marks.clone();
    hooks.observe(move |event| {
        let mut m = seen.lock().unwrap();
        match event {
            HookEvent::Started { .. } => m.sent = Some(Instant::now()),
            HookEvent::Finished { .. } => m.head = Some(Instant::now()),
        }
    });
    let options = InstanceOptions { faults: hooks, ..InstanceOptions::default() };
    let mut instance = Harness::shared().instantiate(options).await.unwrap();
    let config = Config {
        workspace_id: ME.into(),
        platform_url: Some(platform.url()),
        credentials: vec![Credential { workspace_id: ME.into(), token: TOKEN.into() }],
        timeouts: None,
        max_body_bytes: None,
        protocol: None,
        cache: None,
        retry: None,
    };
    let client = instance.client(&config).await.unwrap().unwrap();

    // Interleave the two so both see the same machine state.
    let (mut component, mut native) = (Vec::with_capacity(sends), Vec::with_capacity(sends));
    let (mut component_phases, mut native_phases) = (Phases::default(), Phases::default());
    let rounds = match side {
        Side::All | Side::Component | Side::Native => sends + WARMUP,
        Side::Answered => 0,
    };
    for i in 0..rounds {
        if i % 500 == 0 {
            platform.clear_log();
        }
        if side == Side::Native {
            native_send(addr, i, &mut Marks::default()).await;
            continue;
        }
        *marks.lock().unwrap() = Marks::default();
        let t = Instant::now();
        let reply = instance.send_message(client, PEER, "hello peer", None).await.unwrap().unwrap();
        let c = t.elapsed();
        let done = Instant::now();
        assert_eq!(reply.text, "echo: hello peer");
        if side == Side::Component {
            continue;
        }
        let cm = *marks.lock().unwrap();
        let mut nmarks = Marks::default();
        let t2 = Instant::now();
        let text = native_send(addr, i, &mut nmarks).await;
        let n = t2.elapsed();
        let done2 = Instant::now();
        assert_eq!(text, "echo: hello peer");
        if i >= WARMUP {
            component.push(c);
            native.push(n);
            component_phases.push(t, cm, done);
            native_phases.push(t2, nmarks, done2);
        }
    }
    match side {
        Side::Component | Side::Native => return,
        Side::Answered => {}
        Side::All => {
            let (cm, nm) = (quantile(&mut component, 0.5), quantile(&mut native, 0.5));
            println!("send-message through the component   {}", summary(component));
            println!("native hyper, new connection each    {}", summary(native));
            println!("ratio (medians)                      {:.2}×", cm.as_secs_f64() / nm.as_secs_f64());
            println!(
                "where the time goes (medians, µs)    before the request leaves | waiting for the head | after the head"
            );
            println!("  component                          {}", component_phases.medians());
            println!("  native                             {}", native_phases.medians());
        }
    }

    // The component's own share: the same send with the host answering it
    // itself (no socket, no platform) — guest, canonical ABI and wasi:http.
    let hooks = TransportFaults::quiet();
    let reply = json!({"jsonrpc": "2.0", "id": "r", "result": {"kind": "message", "role": "agent", "messageId": "m",
        "parts": [{"kind": "text", "text": "echo: hello peer"}]}});
    hooks.always(Some(TransportFault::Respond { status: 200, body: reply.to_string() }));
    let options = InstanceOptions { faults: hooks, ..InstanceOptions::default() };
    let mut instance = Harness::shared().instantiate(options).await.unwrap();
    let client = instance.client(&config).await.unwrap().unwrap();
    let mut in_process = Vec::with_capacity(sends);
    for i in 0..sends + WARMUP {
        let t = Instant::now();
        let reply = instance.send_message(client, PEER, "hello peer", None).await.unwrap().unwrap();
        if i >= WARMUP {
            in_process.push(t.elapsed());
        }
        assert_eq!(reply.text, "echo: hello peer");
    }
    println!("send-message, the host answering it   {}", summary(in_process));
}

/// Each send's three phases.
#[derive(Default)]
struct Phases {
    before: Vec<Duration>,
    head: Vec<Duration>,
    after: Vec<Duration>,
}

impl Phases {
    fn push(&mut self, start: Instant, marks: Marks, done: Instant) {
        let (Some(sent), Some(head)) = (marks.sent, marks.head) else { return };
        self.before.push(sent - start);
        self.head.push(head - sent);
        self.after.push(done - head);
    }

    fn medians(&mut self) -> String {
        let m = |v: &mut Vec<Duration>| quantile(v, 0.5).as_secs_f64() * 1e6;
        format!("{:>8.1} | {:>8.1} | {:>8.1}", m(&mut self.before), m(&mut self.head), m(&mut self.after))
    }
}
