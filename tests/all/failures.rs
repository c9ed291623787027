//! Failure modes of the read paths through the real component: transport
//! faults without a server, hostile platform answers, invalid input and bad
//! configs. Each asserts the typed outcome, that the text is useful, and
//! that the instance keeps working (a trap would poison it).

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use host_test::bindings::{ErrorKind, Timeouts};
use host_test::faults::TransportFault;
use host_test::platform::{Fault, Route};
use host_test::{Harness, InstanceOptions};
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;

fn transport_code(kind: &ErrorKind) -> &ErrorCode {
    match kind {
        ErrorKind::Transport(t) => &t.code,
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[tokio::test]
async fn injected_transport_faults_are_typed_and_never_empty() {
    let mut s = setup().await;
    let cases = [
        (TransportFault::Refused, "connection refused (wasi:http error-code connection-refused)"),
        (
            TransportFault::Reset,
            "connection terminated before the response was complete (wasi:http error-code connection-terminated)",
        ),
        (TransportFault::ConnectTimeout, "connect timed out (wasi:http error-code connection-timeout)"),
        (TransportFault::Dns, "DNS lookup failed: 'NXDOMAIN' (wasi:http error-code dns-error)"),
    ];
    for (fault, text) in cases {
        s.faults.push(fault.clone());
        let e = s.instance.peers(s.client, None, None).await.unwrap().unwrap_err();
        assert_eq!(kind_name(&e.kind), "transport", "{fault:?}");
        if let ErrorKind::Transport(t) = &e.kind {
            assert_eq!(t.attempt, 1);
            assert_eq!(t.url, format!("{}/registry/{ME}/peers", s.platform.url()));
        }
        assert_eq!(
            e.message,
            format!(
                "Cannot reach platform at {}: {text} [target={}/registry/{ME}/peers]",
                s.platform.url(),
                s.platform.url()
            )
        );
        s.faults.push(fault.clone());
        let e = s.instance.discover_peer(s.client, BUILDER, None).await.unwrap().unwrap_err();
        assert!(e.message.starts_with(&format!("Discovery failed for {BUILDER}: {text}")), "{}", e.message);
        s.faults.push(fault);
        let e = s.instance.workspace_info(s.client, None).await.unwrap().unwrap_err();
        assert!(e.message.starts_with(&format!("workspace info for {ME} failed: {text}")), "{}", e.message);
    }
    assert!(s.platform.log().is_empty(), "faulted requests never reach the platform");
    // The instance is intact.
    assert_eq!(s.instance.peers(s.client, None, None).await.unwrap().unwrap().len(), 3);
}

#[tokio::test]
async fn a_request_that_never_completes_ends_at_the_total_deadline() {
    let mut s = setup_with(|c| {
        c.timeouts = Some(Timeouts { read_ms: Some(10_000), read_total_ms: Some(300), ..Default::default() })
    })
    .await;
    s.faults.push(TransportFault::Hang);
    let started = Instant::now();
    let e = s.instance.peers(s.client, None, None).await.unwrap().unwrap_err();
    let took = started.elapsed();
    match &e.kind {
        ErrorKind::TimedOut(t) => assert_eq!(t.after_ms, 300),
        other => panic!("{other:?}"),
    }
    assert!(e
        .message
        .starts_with(&format!("Cannot reach platform at {}: no complete response within 300 ms", s.platform.url())));
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[tokio::test]
async fn refused_by_a_closed_port() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await.unwrap();
    let client = instance.client(&config(&format!("http://127.0.0.1:{port}"))).await.unwrap().unwrap();
    let e = instance.peers(client, None, None).await.unwrap().unwrap_err();
    assert!(matches!(transport_code(&e.kind), ErrorCode::ConnectionRefused));
    assert!(e.message.starts_with(&format!("Cannot reach platform at http://127.0.0.1:{port}: connection refused")));
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error() {
    let mut s = setup().await;
    s.platform.fault(Route::Discover, Fault::Drop, Some(1));
    let e = s.instance.discover_peer(s.client, BUILDER, None).await.unwrap().unwrap_err();
    // wasmtime-wasi-http reports a connection closed before any response as a protocol error.
    assert!(matches!(transport_code(&e.kind), ErrorCode::HttpProtocolError), "{:?}", e.kind);
    assert!(
        e.message.contains(
            "HTTP protocol error (malformed response or connection reset) (wasi:http error-code HTTP-protocol-error)"
        ),
        "{}",
        e.message
    );
    assert_eq!(s.platform.log().len(), 1);
}

#[tokio::test]
async fn a_slow_first_byte_hits_the_read_timeout() {
    let mut s = setup_with(|c| {
        c.timeouts = Some(Timeouts { read_ms: Some(200), read_total_ms: Some(10_000), ..Default::default() })
    })
    .await;
    s.platform.fault(Route::Peers, Fault::Delay(Duration::from_secs(2)), Some(1));
    let started = Instant::now();
    let e = s.instance.peers(s.client, None, None).await.unwrap().unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(1_500), "{:?}", started.elapsed());
    // wasmtime-wasi-http reports the first-byte timeout as connection-read-timeout.
    assert!(matches!(transport_code(&e.kind), ErrorCode::ConnectionReadTimeout), "{:?}", e.kind);
    assert!(
        e.message.starts_with(&format!(
            "Cannot reach platform at {}: read timed out (no bytes within the timeout) (wasi:http error-code connection-read-timeout)",
            s.platform.url()
        )),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_trickling_body_is_cut_at_the_total_deadline() {
    let mut s = setup_with(|c| {
        c.timeouts = Some(Timeouts { read_ms: Some(1_000), read_total_ms: Some(400), ..Default::default() })
    })
    .await;
    s.platform.fault(Route::Peers, Fault::Trickle { chunk: 8, every: Duration::from_millis(100) }, Some(1));
    let started = Instant::now();
    let e = s.instance.peers(s.client, None, None).await.unwrap().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(kind_name(&e.kind), "timed-out", "{}", e.message);
}

#[tokio::test]
async fn an_oversized_body_is_refused_not_read_whole() {
    let mut s = setup_with(|c| c.max_body_bytes = Some(64 * 1024)).await;
    s.platform.fault(Route::Peers, Fault::Huge(50 * 1024 * 1024), Some(1));
    let e = s.instance.peers(s.client, None, None).await.unwrap().unwrap_err();
    match &e.kind {
        ErrorKind::BodyTooLarge(t) => assert_eq!(t.limit, 64 * 1024),
        other => panic!("{other:?}"),
    }
    assert!(e.message.starts_with("Platform response was larger than the 65536-byte limit."), "{}", e.message);
    // The default cap (4 MiB) accepts a 1 MiB body of whitespace... which is not a list.
    let mut s = setup().await;
    s.platform.fault(Route::Peers, Fault::Huge(1024 * 1024), Some(1));
    let e = s.instance.peers(s.client, None, None).await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "bad-json", "{}", e.message);
    // And the instance goes on.
    assert!(s.instance.peers(s.client, None, None).await.unwrap().is_ok());
}

#[tokio::test]
async fn invalid_ids_never_reach_the_network() {
    let mut s = setup().await;
    let hostile = [
        "../../admin",
        "..%2f..%2fadmin",
        "aaaaaaaa-0000-4000-8000-00000000000/",
        "aaaaaaaa-0000-4000-8000-000000000001\r\nX-Injected: 1",
        "aaaaaaaa-0000-4000-8000-000000000001\0",
        "",
        "\u{202e}aaaaaaaa-0000-4000-8000-000000000001",
    ];
    for bad in hostile {
        let e = s.instance.discover_peer(s.client, bad, None).await.unwrap().unwrap_err();
        match &e.kind {
            ErrorKind::InvalidId(i) => assert_eq!(i.param, "peer-id"),
            other => panic!("{bad:?}: {other:?}"),
        }
        assert!(!e.message.contains('\n') && !e.message.contains('\r'), "{:?}", e.message);
        if bad.trim().is_empty() {
            continue; // a blank source means "this workspace"
        }
        for result in [
            s.instance.discover_peer(s.client, BUILDER, Some(bad)).await.unwrap().map(|_| ()),
            s.instance.peers(s.client, None, Some(bad)).await.unwrap().map(|_| ()),
            s.instance.workspace_info(s.client, Some(bad)).await.unwrap().map(|_| ()),
        ] {
            match result.unwrap_err().kind {
                ErrorKind::InvalidId(i) => assert_eq!(i.param, "source"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert!(s.instance.agent_card_url(s.client, bad).await.unwrap().is_err());
    }
    assert!(s.faults.sent().is_empty(), "{:?}", s.faults.sent());
    assert!(s.platform.log().is_empty());
    assert_eq!(s.instance.validate_peer_id("../../admin").await.unwrap(), None);
    assert_eq!(
        s.instance.validate_peer_id(&format!(" {} ", BUILDER.to_uppercase())).await.unwrap().as_deref(),
        Some(BUILDER)
    );
}

#[tokio::test]
async fn bad_configs_are_constructor_errors_not_traps() {
    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await.unwrap();
    let base = config("http://127.0.0.1:9");
    let mut cases = Vec::new();
    let mut c = base.clone();
    c.workspace_id = "me".into();
    cases.push((c, "invalid-id", "invalid workspace-id (expected a UUID): 'me'"));
    let mut c = base.clone();
    c.platform_url = Some("ftp://x".into());
    cases.push((c, "invalid-config", "invalid config: platform-url 'ftp://x' must start with http:// or https://"));
    let mut c = base.clone();
    c.platform_url = Some("http://user:secret@host".into());
    cases.push((c, "invalid-config", "invalid config: platform-url must not contain user-info (user:password@)"));
    let mut c = base.clone();
    c.credentials[0].token = "has space".into();
    cases.push((c, "invalid-config", "has a byte not allowed in an HTTP header at position 3"));
    let mut c = base.clone();
    c.timeouts = Some(Timeouts { read_ms: Some(0), ..Default::default() });
    cases.push((c, "invalid-config", "invalid config: timeouts.read-ms must be greater than 0"));
    let mut c = base.clone();
    c.max_body_bytes = Some(1);
    cases.push((c, "invalid-config", "invalid config: max-body-bytes must be at least 1024, got 1"));
    for (cfg, kind, text) in cases {
        let e = instance.client(&cfg).await.unwrap().unwrap_err();
        assert_eq!(kind_name(&e.kind), kind);
        assert!(e.message.contains(text), "{}\n  expected: {text}", e.message);
        assert!(!e.message.contains("secret") && !e.message.contains("has space"));
    }
    // Still usable: a good config works on the same instance.
    assert!(instance.client(&base).await.unwrap().is_ok());
}

#[tokio::test]
async fn hostile_platform_bodies_never_trap_the_guest() {
    let mut s = setup().await;
    let deep = "[".repeat(100_000);
    // Each body and the outcome of [discover-peer, peers, workspace-info].
    let bad_json = ["bad-json"; 3];
    let bodies: Vec<(u16, Vec<u8>, [&str; 3])> = vec![
        (200, deep.clone().into_bytes(), bad_json),
        (200, vec![0xff, 0xfe, 0x00, 0x80], bad_json),
        (200, b"{\"id\": 1e999999}".to_vec(), bad_json),
        (
            200,
            b"[{\"id\": \"x\", \"tier\": 99999999999999999999999, \"active_tasks\": -1.5}]".to_vec(),
            ["unexpected-shape", "ok", "unexpected-shape"],
        ),
        (200, b"{\"id\": {\"nested\": true}, \"name\": [1,2]}".to_vec(), ["ok", "unexpected-shape", "ok"]),
        (200, "\"\u{0}\u{1b}[31m\"".as_bytes().to_vec(), bad_json),
        (410, b"{\"hint\": 42, \"removed_at\": {}}".to_vec(), ["http-status", "http-status", "removed"]),
        (410, deep.into_bytes(), ["http-status", "http-status", "removed"]),
        (299, Vec::new(), ["http-status"; 3]),
        (599, vec![b'x'; 3000], ["http-status"; 3]),
    ];
    fn outcome<T>(r: &Result<T, host_test::bindings::Error>) -> &'static str {
        r.as_ref().map_or_else(|e| kind_name(&e.kind), |_| "ok")
    }
    for (i, (status, body, want)) in bodies.into_iter().enumerate() {
        for route in [Route::Discover, Route::Peers, Route::Workspace] {
            s.platform.fault(
                route,
                Fault::Respond { status, content_type: "application/json", body: body.clone() },
                Some(1),
            );
        }
        let a = s.instance.discover_peer(s.client, BUILDER, None).await.expect("no trap");
        let b = s.instance.peers(s.client, None, None).await.expect("no trap");
        let c = s.instance.workspace_info(s.client, None).await.expect("no trap");
        assert_eq!([outcome(&a), outcome(&b), outcome(&c)], want, "case {i} (HTTP {status})");
        if let Ok(peers) = &b {
            let p = &peers[0];
            assert_eq!((peers.len(), p.id.as_str(), p.tier, p.active_tasks), (1, "x", None, None), "case {i}");
        }
        if let (Ok(peer), Ok(ws)) = (&a, &c) {
            assert_eq!((peer.id.as_str(), peer.name.as_deref()), (BUILDER, None), "case {i}");
            assert_eq!((ws.id.as_str(), ws.name.as_deref()), (ME, None), "case {i}");
        }
        for message in
            [a.err().map(|e| e.message), b.err().map(|e| e.message), c.err().map(|e| e.message)].into_iter().flatten()
        {
            assert!(!message.is_empty());
            assert!(message.chars().count() < 600, "{message}");
            assert!(!message.contains('\n') && !message.contains('\u{1b}'), "{message:?}");
        }
    }
    assert_eq!(s.instance.peers(s.client, None, None).await.unwrap().unwrap().len(), 3);
}
