//! Hostile servers, through the real component: each answer ends in the
//! right typed error within its time bound, the guest's memory stays
//! bounded, and no cache entry is lost. The platform sits behind
//! [`HostileProxy`], which sends exactly the bytes a test scripts.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use host_test::bindings::{Config, Timeouts};
use host_test::hostile::{HostileProxy, Script, Step};
use host_test::platform::Platform;
use host_test::{Client, Harness, Instance, InstanceOptions};

const MIB: usize = 1024 * 1024;

struct Hostile {
    _platform: Platform,
    proxy: HostileProxy,
    instance: Instance,
    client: Client,
    /// Cache entries after warm-up.
    entries: u32,
}

/// A platform behind the proxy; a client with short timeouts and a 1 MiB
/// body cap whose cache holds BUILDER and REVIEWER.
async fn hostile(change: impl FnOnce(&mut Config)) -> Hostile {
    let platform = Platform::start(workspaces()).await.unwrap();
    let proxy = HostileProxy::start(platform.addr()).await.unwrap();
    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await.unwrap();
    let mut cfg = config(&proxy.url());
    cfg.timeouts = Some(Timeouts { read_ms: Some(1_500), read_total_ms: Some(3_000), ..Default::default() });
    cfg.max_body_bytes = Some(MIB as u32);
    change(&mut cfg);
    let client = instance.client(&cfg).await.unwrap().expect("config accepted");
    for peer in [BUILDER, REVIEWER] {
        assert!(instance.enrich(client, peer, None).await.unwrap().is_some());
    }
    let entries = instance.stats(client).await.unwrap().entries;
    assert_eq!(entries, 2);
    Hostile { _platform: platform, proxy, instance, client, entries }
}

impl Hostile {
    /// The cache still answers for BUILDER without a request, the entry
    /// count is unchanged, and a normal call works.
    async fn assert_intact(&mut self) {
        let before = self.proxy.seen().len();
        let peer = self.instance.enrich(self.client, BUILDER, None).await.unwrap().expect("still cached");
        assert_eq!(peer.name.as_deref(), Some("Builder"));
        assert_eq!(self.proxy.seen().len(), before, "a cache hit made a request");
        assert_eq!(self.instance.stats(self.client).await.unwrap().entries, self.entries, "cache entries lost");
        let peers = self.instance.peers(self.client, None, None).await.unwrap().expect("a normal call works");
        assert_eq!(peers.len(), 3);
        assert_eq!(self.proxy.pending(), 0, "a script was not used");
    }
}

#[tokio::test]
async fn a_50_mb_body_stops_at_the_cap_with_bounded_memory() {
    let mut h = hostile(|_| {}).await;
    let chunk = vec![b' '; 64 * 1024];
    let chunked = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk.clone(), b"\r\n".to_vec()].concat();
    let mut growth = Vec::new();
    // Declared up front (refused unread), then unannounced (chunked) twice.
    for declared in [true, false, false] {
        let (head, body) = match declared {
            true => (Script::head(200, &[("content-length", "52428800")]), chunk.clone()),
            false => (Script::head(200, &[("transfer-encoding", "chunked")]), chunked.clone()),
        };
        h.proxy.push(Script::new(
            "/peers",
            vec![head, Step::Repeat { chunk: body, every: Duration::ZERO, times: Some(800) }],
        ));
        let before = h.instance.memory_bytes();
        let started = Instant::now();
        let e = h.instance.peers(h.client, None, None).await.unwrap().unwrap_err();
        assert_eq!(kind_name(&e.kind), "body-too-large", "{}", e.message);
        assert!(e.message.contains(&(MIB).to_string()), "names the limit: {}", e.message);
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        growth.push(h.instance.memory_bytes() - before);
    }
    eprintln!("guest memory growth per 50 MB body (declared, chunked, chunked): {growth:?}");
    // A declared length over the cap costs nothing; an unannounced one at
    // most the geometric growth of one buffer to the cap, once: the second
    // reuses what the first freed.
    assert!(growth[0] <= 128 * 1024, "{growth:?}");
    assert!(growth[1] <= 3 * MIB, "{growth:?}");
    assert_eq!(growth[2], 0, "{growth:?}");
    h.assert_intact().await;
}

#[tokio::test]
async fn an_endless_body_ends_at_the_cap_or_the_deadline() {
    let mut h = hostile(|_| {}).await;
    // Fast and endless: the cap.
    let head = Script::head(200, &[("content-type", "application/json")]);
    h.proxy.push(Script::new(
        "/peers",
        vec![head.clone(), Step::Repeat { chunk: b"[".repeat(4096), every: Duration::ZERO, times: None }],
    ));
    let e = h.instance.peers(h.client, None, None).await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "body-too-large", "{}", e.message);
    // Slow and endless (well under the cap): the 3 s whole-read deadline.
    let every = Duration::from_millis(50);
    h.proxy.push(Script::new("/peers", vec![head, Step::Repeat { chunk: b"[".to_vec(), every, times: None }]));
    let started = Instant::now();
    let e = h.instance.peers(h.client, None, None).await.unwrap().unwrap_err();
    let took = started.elapsed();
    assert_eq!(kind_name(&e.kind), "timed-out", "{}", e.message);
    assert!(took >= Duration::from_millis(2_900) && took < Duration::from_secs(5), "{took:?}");
    h.assert_intact().await;
}

#[tokio::test]
async fn a_trickle_of_one_byte_per_second_ends_at_the_deadline() {
    let mut h = hostile(|c| {
        c.timeouts = Some(Timeouts { read_ms: Some(2_000), read_total_ms: Some(4_000), ..Default::default() })
    })
    .await;
    let head = Script::head(200, &[("content-length", "1000")]);
    let trickle = Step::Repeat { chunk: b" ".to_vec(), every: Duration::from_secs(1), times: None };
    h.proxy.push(Script::new("/workspaces/", vec![head, trickle]));
    let started = Instant::now();
    let e = h.instance.workspace_info(h.client, None).await.unwrap().unwrap_err();
    let took = started.elapsed();
    assert_eq!(kind_name(&e.kind), "timed-out", "{}", e.message);
    assert!(e.message.contains("/workspaces/"), "names the URL: {}", e.message);
    assert!(took >= Duration::from_millis(3_900) && took < Duration::from_secs(6), "{took:?}");
    h.assert_intact().await;
}

#[tokio::test]
async fn a_connection_closed_mid_body_is_a_transport_error() {
    let mut h = hostile(|_| {}).await;
    // Each framing with the start of its body, then the connection closes.
    let cases = [
        (Script::head(200, &[("content-length", "1000")]), &b"[{\"id\": \"aaaa"[..]),
        (Script::head(200, &[("transfer-encoding", "chunked")]), &b"3e8\r\n[{\"id\": \"aaaa"[..]),
    ];
    for (head, part) in cases {
        h.proxy.push(Script::new("/peers", vec![head, Step::Write(part.to_vec())]));
        let started = Instant::now();
        let e = h.instance.peers(h.client, None, None).await.unwrap().unwrap_err();
        assert_eq!(kind_name(&e.kind), "transport", "{}", e.message);
        assert!(e.message.contains(&h.proxy.url()), "names the target: {}", e.message);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    h.assert_intact().await;
}

#[tokio::test]
async fn wrong_content_lengths_never_pass_as_a_whole_body() {
    let mut h = hostile(|_| {}).await;
    let record = format!(r#"{{"id":"{BUILDER}","name":"Impostor"}}"#);
    // Declares more than it sends, then closes: a transport error, not a short body.
    let head = Script::head(200, &[("content-length", &(record.len() + 100).to_string())]);
    h.proxy.push(Script::new("/registry/discover/", vec![head, Step::Write(record.clone().into_bytes())]));
    let e = h.instance.discover_peer(h.client, BUILDER, None).await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "transport", "{}", e.message);
    // Declares less than it sends: only the declared bytes are the body (a cut JSON).
    let head = Script::head(200, &[("content-length", &(record.len() - 5).to_string())]);
    h.proxy.push(Script::new("/registry/discover/", vec![head, Step::Write(record.clone().into_bytes())]));
    let e = h.instance.discover_peer(h.client, BUILDER, None).await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "bad-json", "{}", e.message);
    // A content-length that is not a number: the host refuses the response.
    let head = Script::head(200, &[("content-length", "12, 13")]);
    h.proxy.push(Script::new("/registry/discover/", vec![head, Step::Write(record.into_bytes())]));
    let e = h.instance.discover_peer(h.client, BUILDER, None).await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "transport", "{}", e.message);
    h.assert_intact().await;
}

#[tokio::test]
async fn invalid_utf8_deep_json_and_empty_bodies_are_typed_errors() {
    let mut h = hostile(|_| {}).await;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![b'"', 0xff, 0xfe, 0xc3, 0x28, b'"'], "bad-json"),
        ("[".repeat(100_000).into_bytes(), "bad-json"),
        ("{\"a\":".repeat(100_000).into_bytes(), "bad-json"),
        (Vec::new(), "bad-json"),
        (b"\"a string\"".to_vec(), "unexpected-shape"),
    ];
    for (body, kind) in cases {
        h.proxy.push(Script::answer("/peers", 200, &body));
        let e = h.instance.peers(h.client, None, None).await.expect("no trap").unwrap_err();
        assert_eq!(kind_name(&e.kind), kind, "{}", e.message);
        assert!(!e.message.contains('\n'), "{:?}", e.message);
        h.proxy.push(Script::answer("/workspaces/", 200, &body));
        let e = h.instance.workspace_info(h.client, None).await.expect("no trap").unwrap_err();
        assert_eq!(kind_name(&e.kind), kind, "{}", e.message);
    }
    // Sends too: a 200 with an empty or deep body is an error that keeps its status.
    for body in [Vec::new(), "[".repeat(100_000).into_bytes()] {
        h.proxy.push(Script::answer("/a2a", 200, &body));
        let e = h.instance.send_message(h.client, BUILDER, "hi", None).await.expect("no trap").unwrap_err();
        assert!(e.message.starts_with("[A2A_ERROR] "), "{}", e.message);
        assert_eq!(e.attempts.len(), 1, "a bad body is not retried");
    }
    h.assert_intact().await;
}

#[tokio::test]
async fn garbage_instead_of_http_is_a_transport_error() {
    let mut h = hostile(|_| {}).await;
    for garbage in [&b"SSH-2.0-OpenSSH_9.6\r\n"[..], b"HTTP/1.1 999999 X\r\n\r\n", b"\x00\x01\x02\x03\r\n\r\n"] {
        h.proxy.push(Script::new("/peers", vec![Step::Write(garbage.to_vec())]));
        let e = h.instance.peers(h.client, None, None).await.unwrap().unwrap_err();
        assert_eq!(kind_name(&e.kind), "transport", "{}", e.message);
    }
    // A server that accepts and never answers: the read timeout.
    h.proxy.push(Script::new("/peers", vec![Step::Hold]));
    let started = Instant::now();
    let e = h.instance.peers(h.client, None, None).await.unwrap().unwrap_err();
    assert!(matches!(kind_name(&e.kind), "timed-out" | "transport"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    h.assert_intact().await;
}

#[tokio::test]
async fn ten_thousand_peers_in_one_list_work_within_the_cap() {
    let mut h = hostile(|c| c.max_body_bytes = Some(4 * MIB as u32)).await;
    let list: Vec<serde_json::Value> = (0..10_000)
        .map(|i| {
            serde_json::json!({
                "id": format!("cccccccc-0000-4000-8000-{i:012}"),
                "name": format!("Peer {i}"),
                "role": "worker",
                "tier": 1,
                "status": "online",
                "url": format!("http://agents.test/{i}"),
            })
        })
        .collect();
    let body = serde_json::to_vec(&list).unwrap();
    assert!(body.len() > MIB && body.len() < 4 * MIB, "{}", body.len());
    h.proxy.push(Script::answer("/peers", 200, &body));
    let before = h.instance.memory_bytes();
    let started = Instant::now();
    let peers = h.instance.peers(h.client, None, None).await.unwrap().expect("10 000 peers");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(peers.len(), 10_000);
    assert_eq!(peers[9_999].name.as_deref(), Some("Peer 9999"));
    let stats = h.instance.stats(h.client).await.unwrap();
    assert!(stats.entries <= 1024, "the cache stays at its bound: {stats:?}");
    assert!(stats.names <= 1024 && stats.routes <= 1024, "every map stays bounded: {stats:?}");
    let grown = h.instance.memory_bytes() - before;
    assert!(grown <= 24 * MIB, "guest memory grew {grown} bytes");
    // The same instance keeps serving.
    let peers = h.instance.peers(h.client, None, None).await.unwrap().expect("normal listing");
    assert_eq!(peers.len(), 3);
}

#[tokio::test]
async fn a_reply_with_large_inline_files_costs_bounded_memory() {
    let mut h = hostile(|_| {}).await;
    // A file of 700 KiB inline (base64: ~0.91 MiB of the 1 MiB cap), then
    // the same reply twice more: the guest holds the body, its JSON and the
    // decoded bytes once, and reuses what it freed.
    let file = vec![0xa5u8; 700 * 1024];
    let coded = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&file)
    };
    let part = serde_json::json!({"kind": "file", "file": {"bytes": coded, "name": "blob.bin"}});
    let body = serde_json::json!({"jsonrpc": "2.0", "id": "x", "result": {"kind": "message", "parts": [part]}});
    let body = serde_json::to_vec(&body).unwrap();
    assert!(body.len() > MIB * 9 / 10 && body.len() < MIB, "{}", body.len());
    let mut growth = Vec::new();
    for _ in 0..3 {
        h.proxy.push(Script::answer("/a2a", 200, &body));
        let before = h.instance.memory_bytes();
        let reply = h.instance.send_message(h.client, BUILDER, "hi", None).await.expect("no trap").expect("a reply");
        growth.push(h.instance.memory_bytes() - before);
        let [host_test::bindings::Part::File(got)] = &reply.parts[..] else { panic!("{:?}", reply.kind) };
        assert!(matches!(&got.content, host_test::bindings::FileContent::Bytes(b) if *b == file));
    }
    eprintln!("guest memory growth per ~1 MiB reply with an inline file: {growth:?}");
    assert!(growth[0] <= 8 * MIB, "{growth:?}");
    assert_eq!(growth[1..], [0, 0], "{growth:?}");
    // Over the cap: refused at the cap, as any body.
    let big = [body.clone(), body].concat();
    h.proxy.push(Script::answer("/a2a", 200, &big));
    let e = h.instance.send_message(h.client, BUILDER, "hi", None).await.expect("no trap").unwrap_err();
    assert_eq!(kind_name(&e.kind), "body-too-large", "{}", e.message);
    h.assert_intact().await;
}
