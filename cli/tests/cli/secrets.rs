//! Secret hygiene and trust boundaries, end to end: a full run with known
//! tokens — every method, succeeding and failing, a platform and a peer
//! that echo the `Authorization` header back, the CLI in text, JSON and
//! batch mode — collects every output and asserts no token is in any of it;
//! the client contacts only the configured origin; a token travels only
//! with the workspace it belongs to; no control byte reaches a request.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use host_test::bindings::{Config, Credential, Timeouts};
use host_test::platform::{Fault, Platform, Route, Workspace};
use host_test::{Harness, InstanceOptions};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::process::Command;

const ME: &str = "11111111-2222-4333-8444-555555555555";
const ALT: &str = "22222222-2222-4333-8444-555555555555";
/// Registered with the platform, but the client holds no token for it.
const BARE: &str = "33333333-2222-4333-8444-555555555555";
const PEER: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const GHOST: &str = "bbbbbbbb-0000-4000-8000-000000000009";
const ME_TOKEN: &str = "tok-ME-9f8e7d6c5b4a39281706";
const ALT_TOKEN: &str = "tok-ALT-0a1b2c3d4e5f60718293";

async fn platform() -> Platform {
    let mut me = Workspace::new(ME, "Planner", "planner");
    me.token = Some(ME_TOKEN.into());
    me.peers = vec![PEER.into()];
    let mut alt = Workspace::new(ALT, "Ops", "ops");
    alt.token = Some(ALT_TOKEN.into());
    alt.peers = vec![PEER.into()];
    let mut bare = Workspace::new(BARE, "Bare", "bare");
    bare.peers = vec![PEER.into()];
    Platform::start(vec![me, alt, bare, Workspace::new(PEER, "Builder", "builder")]).await.unwrap()
}

fn config(url: &str) -> Config {
    Config {
        workspace_id: ME.into(),
        platform_url: Some(url.into()),
        credentials: vec![
            Credential { workspace_id: ME.into(), token: ME_TOKEN.into() },
            Credential { workspace_id: ALT.into(), token: ALT_TOKEN.into() },
        ],
        timeouts: Some(Timeouts { read_ms: Some(2_000), read_total_ms: Some(4_000), ..Default::default() }),
        max_body_bytes: None,
        protocol: None,
        cache: None,
        retry: Some(host_test::bindings::RetryPolicy {
            max_attempts: Some(3),
            base_delay_ms: Some(1),
            max_delay_ms: Some(5),
            total_budget_ms: Some(5_000),
            ..Default::default()
        }),
    }
}

/// A listener that only counts the connections it gets.
async fn decoy() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let count = hits.clone();
    tokio::spawn(async move {
        while let Ok((_conn, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    (addr, hits)
}

/// Bodies that echo what the caller sent, as careless servers do.
fn echo_faults(p: &Platform) {
    let echo = format!("Authorization: Bearer {ME_TOKEN} / {ALT_TOKEN}");
    p.fault(Route::Discover, Fault::json(401, json!({"error": echo.clone()})), Some(1));
    p.fault(Route::Peers, Fault::raw(500, "text/html", &format!("<pre>{echo}</pre>")), Some(1));
    p.fault(Route::Workspace, Fault::json(410, json!({"hint": echo.clone(), "removed_at": echo.clone()})), Some(1));
    p.fault(Route::A2a, Fault::json(502, json!({"error": echo.clone()})), Some(1));
    let rpc = json!({"jsonrpc": "2.0", "id": "x", "error": {"code": -32000, "message": echo.clone(), "data": {"auth": echo.clone()}}});
    p.fault(Route::A2a, Fault::json(200, rpc), Some(1));
    let agent = json!({"jsonrpc": "2.0", "id": "x", "result": {"kind": "message", "parts": [{"kind": "text", "text": format!("Agent error: {echo}")}]}});
    p.fault(Route::A2a, Fault::json(200, agent), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_token_in_any_output_of_a_full_run() {
    let p = platform().await;
    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await.unwrap();
    let c = instance.client(&config(&p.url())).await.unwrap().unwrap();
    let mut outputs: Vec<String> = Vec::new();
    // Twice: first against echoing faults, then against the normal platform.
    for round in 0..2 {
        if round == 0 {
            echo_faults(&p);
        }
        for source in [None, Some(ALT), Some(BARE)] {
            outputs.push(format!("{:?}", instance.discover_peer(c, PEER, source).await.unwrap()));
            outputs.push(format!("{:?}", instance.discover_peer(c, GHOST, source).await.unwrap()));
            outputs.push(format!("{:?}", instance.peers(c, Some("build"), source).await.unwrap()));
            outputs.push(format!("{:?}", instance.workspace_info(c, source).await.unwrap()));
            outputs.push(format!("{:?}", instance.enrich(c, PEER, source).await.unwrap()));
            outputs.push(format!("{:?}", instance.enrich_nonblocking(c, GHOST, source).await.unwrap()));
            outputs.push(format!("{:?}", instance.peer_name(c, PEER, source).await.unwrap()));
        }
        for text in ["hello", "task: build", "fail: no", "agent-error: x", "rpc-error: y"] {
            outputs.push(format!("{:?}", instance.send_message(c, PEER, text, None).await.unwrap()));
        }
        outputs.push(format!("{:?}", instance.send_message(c, GHOST, "hi", None).await.unwrap()));
        outputs.push(format!("{:?}", instance.await_enrichment(c, 2_000).await.unwrap()));
        outputs.push(format!("{:?}", instance.stats(c).await.unwrap()));
        outputs.push(format!("{:?}", instance.agent_card_url(c, PEER).await.unwrap()));
        outputs.push(format!("{:?}", instance.routed_source(c, PEER).await.unwrap()));
    }
    // Refused configurations and token changes.
    let mut bad = config(&p.url());
    bad.credentials.push(Credential { workspace_id: "not-a-uuid".into(), token: ME_TOKEN.into() });
    outputs.push(format!("{:?}", instance.client(&bad).await.unwrap().map(|_| ())));
    let mut bad = config(&p.url());
    bad.credentials[0].token = format!("{ME_TOKEN}\r\nX-Evil: 1");
    outputs.push(format!("{:?}", instance.client(&bad).await.unwrap().map(|_| ())));
    outputs.push(format!("{:?}", instance.set_token(c, "../x", Some(ME_TOKEN)).await.unwrap()));
    outputs.push(format!("{:?}", instance.set_token(c, ALT, Some(&format!("{ALT_TOKEN}\n"))).await.unwrap()));

    let all = outputs.join("\n");
    assert!(p.log().len() > 40, "the run made its requests");
    assert!(all.contains("[redacted]"), "the echoes were seen and redacted");
    for token in [ME_TOKEN, ALT_TOKEN] {
        assert!(!all.contains(token), "token {token} in an output:\n{all}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_token_in_any_cli_output() {
    let p = platform().await;
    let run = |args: Vec<String>, stdin: Option<String>| {
        let url = p.url();
        async move {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_a2a"));
            cmd.env("WORKSPACE_ID", ME).env("PLATFORM_URL", url).env("WORKSPACE_TOKEN", ME_TOKEN);
            cmd.args(&args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            let mut input = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                input.write_all(text.as_bytes()).await.unwrap();
            }
            drop(input);
            let out = child.wait_with_output().await.unwrap();
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
        }
    };
    let alt = format!("{ALT}={ALT_TOKEN}");
    let mut outputs = Vec::new();
    echo_faults(&p);
    let commands: Vec<Vec<&str>> = vec![
        vec!["discover", PEER],
        vec!["peers", "--json"],
        vec!["info"],
        vec!["send", PEER, "hello", "--base-delay-ms", "1"],
        vec!["send", PEER, "hello", "--json"],
        vec!["send", PEER, "hello"],
        vec!["discover", GHOST, "--json"],
        vec!["peers", "--source", ALT],
        vec!["enrich", PEER, "--nonblocking"],
        vec!["--help"],
        vec!["send", "--help"],
    ];
    // Every run holds both tokens (ME's from the environment, ALT's as a flag),
    // so both are secrets it must keep out of its output.
    for args in commands {
        let args = args.iter().map(|s| s.to_string()).chain(["--credential".into(), alt.clone()]).collect();
        outputs.push(run(args, None).await);
    }
    let batch = [
        json!({"call": "peers"}),
        json!({"call": "send-message", "args": {"peer-id": PEER, "text": "rpc-error: x"}}),
        json!({"call": "stats"}),
        json!({"call": "discover-peer", "args": {"peer-id": "../etc"}}),
    ]
    .map(|l| l.to_string())
    .join("\n");
    outputs.push(run(vec!["batch".into(), "--credential".into(), alt.clone()], Some(batch)).await);
    let all = outputs.join("\n");
    assert!(all.contains("[redacted]"), "the echoes were seen: {all}");
    assert!(all.contains("echo: hello"), "the sends worked: {all}");
    for token in [ME_TOKEN, ALT_TOKEN] {
        assert!(!all.contains(token), "token {token} in CLI output:\n{all}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_platform_origin_is_contacted_and_tokens_stay_with_their_workspace() {
    let p = platform().await;
    let (decoy_addr, decoy_hits) = decoy().await;
    let decoy_url = format!("http://{decoy_addr}/agents/{PEER}");
    // Records whose every URL points elsewhere: data, never followed.
    let record =
        json!({"id": PEER, "name": "Builder", "url": decoy_url, "agent_card": {"url": decoy_url, "name": "x"}});
    p.fault(Route::Discover, Fault::json(200, record.clone()), None);
    p.fault(Route::Peers, Fault::json(200, json!([record])), None);
    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await.unwrap();
    let c = instance.client(&config(&p.url())).await.unwrap().unwrap();
    for source in [None, Some(ALT), Some(BARE)] {
        let peers = instance.peers(c, Some("b\r\nX-Evil: 1\u{0}"), source).await.unwrap().unwrap();
        assert_eq!(peers[0].url.as_deref(), Some(decoy_url.as_str()));
        instance.discover_peer(c, PEER, source).await.unwrap().unwrap();
        instance.enrich(c, PEER, source).await.unwrap().unwrap();
        instance.enrich_nonblocking(c, GHOST, source).await.unwrap();
        instance.workspace_info(c, source).await.unwrap().ok();
        instance.send_message(c, PEER, "hello\r\nX-Evil: 1", source).await.unwrap().ok();
    }
    instance.await_enrichment(c, 2_000).await.unwrap();
    let card = instance.agent_card_url(c, PEER).await.unwrap().unwrap();
    assert!(card.starts_with(&p.url()), "{card}");
    assert_eq!(decoy_hits.load(Ordering::SeqCst), 0, "a URL from a record was followed");

    let log = p.log();
    assert_eq!(log.len(), 15, "5 requests per source (enrich hits the cache discover filled)");
    for req in &log {
        // Every request acted as a workspace and carried its token, or none
        // (workspace-info names the workspace in its path, as the reference).
        let own_record = req.path.strip_prefix("/workspaces/").filter(|_| req.method == "GET");
        let ws = req.header("x-workspace-id").or(own_record);
        let expected = match ws {
            Some(ME) | None => Some(format!("Bearer {ME_TOKEN}")),
            Some(ALT) => Some(format!("Bearer {ALT_TOKEN}")),
            Some(BARE) => None,
            Some(other) => panic!("acted as {other}"),
        };
        assert_eq!(req.header("authorization").map(str::to_owned), expected, "{} {}", req.method, req.path);
        // No control byte in the request line; no injected header.
        assert!(!req.path.bytes().any(|b| b.is_ascii_control() || b == b' '), "{:?}", req.path);
        assert!(req.header("x-evil").is_none(), "{:?}", req.headers);
        for (name, value) in &req.headers {
            assert!(!value.bytes().any(|b| b.is_ascii_control()), "{name}: {value:?}");
        }
    }
    // Non-UUID ids never reach the network, as peer or as source.
    let before = p.log().len();
    for bad in ["../../admin", "aaaaaaaa-0000-4000-8000-00000000000\n", "x\r\nHost: evil", ""] {
        assert!(instance.discover_peer(c, bad, None).await.unwrap().is_err());
        assert!(instance.send_message(c, bad, "x", None).await.unwrap().is_err());
        assert!(instance.enrich(c, bad, None).await.unwrap().is_none());
    }
    for bad in ["../../admin", "x\r\nHost: evil"] {
        assert!(instance.discover_peer(c, PEER, Some(bad)).await.unwrap().is_err());
        assert!(instance.send_message(c, PEER, "x", Some(bad)).await.unwrap().is_err());
        assert!(instance.peers(c, None, Some(bad)).await.unwrap().is_err());
    }
    assert_eq!(p.log().len(), before, "an invalid id reached the network");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_token_in_the_outputs_of_tasks_cards_streams_and_fan_out() {
    let p = platform().await;
    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await.unwrap();
    let c = instance.client(&config(&p.url())).await.unwrap().unwrap();
    let echo = format!("Authorization: Bearer {ME_TOKEN} / {ALT_TOKEN}");
    let rpc = json!({"jsonrpc": "2.0", "id": "x", "error": {"code": -32001, "message": echo.clone(), "data": {"auth": echo.clone()}}});
    let options =
        host_test::bindings::CallOptions { protocol: Some(host_test::bindings::Protocol::V10), ..Default::default() };
    let mut outputs: Vec<String> = Vec::new();

    p.fault(Route::A2a, Fault::json(200, rpc.clone()), Some(1));
    outputs.push(format!("{:?}", instance.get_task(c, PEER, "t-1", &options).await.unwrap()));
    p.fault(Route::A2a, Fault::json(502, json!({"error": echo.clone()})), Some(5));
    outputs.push(format!("{:?}", instance.cancel_task(c, PEER, "t-1", &options).await.unwrap()));
    p.clear_faults();
    p.fault(Route::Discover, Fault::json(401, json!({"error": echo.clone()})), Some(1));
    outputs.push(format!("{:?}", instance.agent_card(c, PEER, None).await.unwrap()));
    p.fault(Route::A2a, Fault::json(200, rpc.clone()), Some(2));
    let targets = vec![
        host_test::bindings::SendTarget {
            peer_id: PEER.into(),
            message: host_test::bindings::OutgoingMessage::text("a"),
        };
        2
    ];
    outputs.push(format!("{:?}", instance.send_many(c, &targets, &options).await.unwrap()));
    // Streams: an echoing error event, an echoing error status, an echoing JSON answer.
    let event = format!("event: error\ndata: {echo}\n\n");
    p.fault(
        Route::A2a,
        Fault::Events { chunks: vec![event], every: std::time::Duration::ZERO, forever: false },
        Some(1),
    );
    let stream = instance.send_message_stream(c, PEER, "s", &options).await.unwrap().unwrap();
    outputs.push(format!("{:?}", instance.drain_stream(stream).await.unwrap()));
    p.fault(Route::A2a, Fault::json(503, json!({"error": echo.clone()})), Some(1));
    outputs.push(format!("{:?}", instance.send_message_stream(c, PEER, "s", &options).await.unwrap().map(|_| ())));
    p.fault(Route::A2a, Fault::json(200, rpc), Some(1));
    outputs.push(format!("{:?}", instance.send_message_stream(c, PEER, "s", &options).await.unwrap().map(|_| ())));

    let all = outputs.join("\n");
    assert!(all.contains("[redacted]"), "the echoes were seen and redacted:\n{all}");
    for token in [ME_TOKEN, ALT_TOKEN] {
        assert!(!all.contains(token), "token {token} in an output:\n{all}");
    }
}
