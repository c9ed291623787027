//! The example agent driven over plain HTTP, whichever host serves it: the
//! checks every host must pass (`stock_wasmtime`, `wasmcloud`).

use std::net::SocketAddr;

use host_test::platform::{Fault, Platform, Route, Workspace};
use host_test::stock::{request, request_with_headers};
use serde_json::json;

use super::*;

/// A delegation round trip (Message and Task replies), a peers listing
/// (ME's peers are `listed`, any order), and the error cases: a bad id (no
/// request made), a peer that is not ours, a platform failure, an unknown
/// route. Every response body is read whole.
pub async fn serves_delegation_peers_and_errors(agent: SocketAddr, platform: &Platform, listed: &[String]) {
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
    let mut expected: Vec<&str> = listed.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(ids, expected);

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

/// The ten peers inbound pushes come from: `(id, name, role)`.
pub fn push_peers() -> Vec<(String, String, String)> {
    (1..=10).map(|i| (format!("cccccccc-0000-4000-8000-{i:012}"), format!("Pusher {i}"), format!("role {i}"))).collect()
}

/// ME's peers in [`workspaces`].
pub fn my_peers() -> Vec<String> {
    vec![BUILDER.to_owned(), REVIEWER.to_owned(), OFFLINE.to_owned()]
}

/// ME's peers in [`workspaces_with_pushers`].
pub fn pushers_listing() -> Vec<String> {
    let mut listed = my_peers();
    listed.extend(push_peers().into_iter().map(|(id, _, _)| id));
    listed
}

/// [`workspaces`] with the [`push_peers`] registered as ME's peers.
pub fn workspaces_with_pushers() -> Vec<Workspace> {
    let mut all = workspaces();
    let pushers = push_peers();
    all[0].peers.extend(pushers.iter().map(|(id, _, _)| id.clone()));
    all.extend(pushers.into_iter().map(|(id, name, role)| Workspace::new(&id, &name, &role)));
    all
}

/// Registry lookups the platform has served so far.
pub fn lookups(platform: &Platform) -> usize {
    platform.log().iter().filter(|r| r.path.starts_with("/registry/discover/")).count()
}

/// `GET /stats`: the agent's cache counters.
pub async fn stats(agent: SocketAddr) -> serde_json::Value {
    let (status, body) = request(agent, "GET", "/stats", None).await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// Waits (up to 10 s) until the agent has no lookup in flight.
pub async fn settled(agent: SocketAddr) -> serde_json::Value {
    let started = std::time::Instant::now();
    loop {
        let stats = stats(agent).await;
        if stats["in-flight"] == 0 || started.elapsed() > std::time::Duration::from_secs(10) {
            return stats;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// One push from `from`: the label the agent gave it (null or an object,
/// checked to be the right one when it is not null) and the instance that
/// answered (`x-agent-instance`).
pub async fn push_on(agent: SocketAddr, from: &(String, String, String)) -> (serde_json::Value, String) {
    let text = format!("status from {}", from.1);
    let push = json!({"from": from.0, "text": text});
    let (status, headers, body) = request_with_headers(agent, "POST", "/inbound", Some(&push)).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["text"], text.as_str());
    let label = body["from"].clone();
    if !label.is_null() {
        assert_eq!(label, json!({"id": from.0, "name": from.1, "role": from.2}), "wrong label");
    }
    // A host's HTTP front may drop the header: then all count as one.
    let instance = headers.get("x-agent-instance").and_then(|v| v.to_str().ok()).unwrap_or("unnamed");
    (label, instance.to_owned())
}

/// [`push_on`]'s label alone.
pub async fn push(agent: SocketAddr, from: &(String, String, String)) -> serde_json::Value {
    push_on(agent, from).await.0
}

/// What [`pushes_are_labelled`] saw.
#[derive(Debug)]
pub struct Pushes {
    /// Pushes after each peer's first that came back labelled.
    pub labelled_after_first: usize,
    /// Registry lookups the platform served for them.
    pub lookups: usize,
    /// Instances that answered (`x-agent-instance`).
    pub instances: usize,
    /// (instance, peer) pairs: the first push from a peer on an instance
    /// finds that instance's cache cold.
    pub cold_pairs: usize,
    /// Pushes unlabelled although their instance had seen that peer before.
    pub unlabelled_warm: usize,
}

/// `count` inbound pushes, round-robin from the [`push_peers`]: a first push
/// from each (which starts its lookup), a wait until no lookup is in flight,
/// then the rest. Every label given is the right one; the bad-id and
/// bad-body answers are checked on the way.
pub async fn pushes_are_labelled(agent: SocketAddr, platform: &Platform, count: usize) -> Pushes {
    let before = lookups(platform);
    let (status, body) =
        request(agent, "POST", "/inbound", Some(&json!({"from": "../admin", "text": "x"}))).await.unwrap();
    assert_eq!((status, &body["error"]["kind"]), (400, &json!("invalid-id")), "{body}");
    let (status, _) = request(agent, "POST", "/inbound", Some(&json!({"text": "no sender"}))).await.unwrap();
    assert_eq!(status, 400);
    assert_eq!(lookups(platform), before, "a bad push reached the registry");

    let peers = push_peers();
    let mut seen = std::collections::HashSet::new();
    let mut instances = std::collections::HashSet::new();
    let (mut labelled_after_first, mut unlabelled_warm) = (0, 0);
    for n in 0..count {
        if n == peers.len() {
            settled(agent).await;
        }
        let peer = &peers[n % peers.len()];
        let (label, instance) = push_on(agent, peer).await;
        let warm = !seen.insert((instance.clone(), peer.0.clone()));
        instances.insert(instance);
        if n >= peers.len() && !label.is_null() {
            labelled_after_first += 1;
        }
        if warm && label.is_null() {
            unlabelled_warm += 1;
        }
    }
    Pushes {
        labelled_after_first,
        lookups: lookups(platform) - before,
        instances: instances.len(),
        cold_pairs: seen.len(),
        unlabelled_warm,
    }
}
