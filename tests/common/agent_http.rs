//! The example agent driven over plain HTTP, whichever host serves it: the
//! checks every host must pass (tests/stock_wasmtime.rs, tests/wasmcloud.rs).

use std::net::SocketAddr;

use host_test::platform::{Fault, Platform, Route};
use host_test::stock::request;
use serde_json::json;

use super::*;

/// A delegation round trip (Message and Task replies), a peers listing, and
/// the error cases: a bad id (no request made), a peer that is not ours, a
/// platform failure, an unknown route. Every response body is read whole.
pub async fn serves_delegation_peers_and_errors(agent: SocketAddr, platform: &Platform) {
    // Delegation: agent → client → wasi:http → platform proxy → peer.
    let (status, body) =
        request(agent, "POST", "/delegate", Some(&json!({"peer": BUILDER, "text": "hello"}))).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["text"], "echo: hello");
    assert_eq!(body["kind"]["type"], "message");
    let (status, body) =
        request(agent, "POST", "/delegate", Some(&json!({"peer": BUILDER, "text": "task: ship"}))).await.unwrap();
    assert_eq!((status, &body["kind"]["state"]), (200, &json!("completed")), "{body}");
    let sent = platform.log().into_iter().filter(|r| r.path.ends_with("/a2a")).count();
    assert_eq!(sent, 2);

    // Peers.
    let (status, body) = request(agent, "GET", "/peers", None).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let mut ids: Vec<&str> = body.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, [BUILDER, REVIEWER, OFFLINE]);

    // Errors.
    let before = platform.log().len();
    let (status, body) =
        request(agent, "POST", "/delegate", Some(&json!({"peer": "../admin", "text": "x"}))).await.unwrap();
    assert_eq!((status, &body["error"]["kind"]), (400, &json!("invalid-id")), "{body}");
    assert_eq!(platform.log().len(), before, "an invalid id reached the platform");
    let (status, body) =
        request(agent, "POST", "/delegate", Some(&json!({"peer": STRANGER, "text": "x"}))).await.unwrap();
    assert_eq!(status, 502, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().starts_with("[A2A_ERROR] "), "{body}");
    platform.fault(Route::Peers, Fault::raw(500, "text/html", "<h1>down</h1>"), Some(1));
    let (status, body) = request(agent, "GET", "/peers", None).await.unwrap();
    assert_eq!((status, &body["error"]["kind"]), (502, &json!("http-status")), "{body}");
    let (status, _) = request(agent, "GET", "/nope", None).await.unwrap();
    assert_eq!(status, 404);
}

/// `POST /delegate` with texts of real sizes: each reaches the peer whole
/// and its echo comes back; a text past the client's 4 MiB request limit is
/// 413 `request-too-large`, and nothing reaches the platform.
pub async fn delegates_texts_of_every_size(agent: SocketAddr, platform: &Platform) {
    for len in [4_000, 4_097, 64 * 1024, 1024 * 1024] {
        let text = "d".repeat(len);
        let (status, body) =
            request(agent, "POST", "/delegate", Some(&json!({"peer": BUILDER, "text": text}))).await.unwrap();
        let excerpt: String = body.to_string().chars().take(300).collect();
        assert_eq!(status, 200, "{len}: {excerpt}");
        assert_eq!(body["text"].as_str().map(str::len), Some(len + "echo: ".len()), "{len}");
        let last = platform.log().into_iter().rev().find(|r| r.path.ends_with("/a2a")).unwrap();
        let sent: serde_json::Value = serde_json::from_str(&last.body).unwrap();
        assert_eq!(sent["params"]["message"]["parts"][0]["text"].as_str().map(str::len), Some(len));
    }
    let before = platform.log().len();
    let text = "d".repeat(4 * 1024 * 1024);
    let (status, body) =
        request(agent, "POST", "/delegate", Some(&json!({"peer": BUILDER, "text": text}))).await.unwrap();
    assert_eq!((status, &body["error"]["kind"]), (413, &json!("request-too-large")), "{body}");
    assert_eq!(platform.log().len(), before, "an oversized message reached the platform");
}
