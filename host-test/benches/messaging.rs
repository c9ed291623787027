//! Figures for `send-message` (printed, not asserted): one round trip
//! through the component against the embedded platform's A2A proxy, and in
//! the same run the identical request from a native Rust hyper client with
//! a new connection per request (as wasi:http makes one), and their ratio.
//!
//! Run: `cargo bench -p host-test --bench messaging`

use std::time::Instant;

use bytes::Bytes;
use host_test::bindings::{Config, Credential};
use host_test::figures::{quantile, summary};
use host_test::platform::{Platform, Workspace};
use host_test::{Harness, InstanceOptions};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

const ME: &str = "11111111-2222-4333-8444-555555555555";
const PEER: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const TOKEN: &str = "bench-token-0123456789";
const N: usize = 3_000;
const WARMUP: usize = 300;

/// The same request as the component's, from hyper on a fresh connection.
async fn native_send(addr: std::net::SocketAddr, i: usize) -> String {
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
    assert!(resp.status().is_success());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    v["result"]["parts"][0]["text"].as_str().unwrap().to_owned()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut me = Workspace::new(ME, "Planner", "planner");
    me.token = Some(TOKEN.into());
    me.peers = vec![PEER.into()];
    let platform = Platform::start(vec![me, Workspace::new(PEER, "Builder", "builder")]).await.unwrap();
    let addr: std::net::SocketAddr = platform.url().trim_start_matches("http://").parse().unwrap();

    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await.unwrap();
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
    let (mut component, mut native) = (Vec::with_capacity(N), Vec::with_capacity(N));
    for i in 0..N + WARMUP {
        let t = Instant::now();
        let reply = instance.send_message(client, PEER, "hello peer", None).await.unwrap().unwrap();
        let c = t.elapsed();
        assert_eq!(reply.text, "echo: hello peer");
        let t = Instant::now();
        let text = native_send(addr, i).await;
        let n = t.elapsed();
        assert_eq!(text, "echo: hello peer");
        if i >= WARMUP {
            component.push(c);
            native.push(n);
        }
        if i % 500 == 0 {
            platform.clear_log();
        }
    }
    let (cm, nm) = (quantile(&mut component, 0.5), quantile(&mut native, 0.5));
    println!("send-message through the component   {}", summary(component));
    println!("native hyper, new connection each    {}", summary(native));
    println!("ratio (medians)                      {:.2}×", cm.as_secs_f64() / nm.as_secs_f64());
}
