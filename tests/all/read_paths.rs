//! Every read path of the reference through the real component, against the
//! embedded platform over loopback HTTP: the exact outcome and the exact
//! requests the platform saw.

use crate::common;

use common::*;
use host_test::bindings::ErrorKind;
use host_test::platform::{Fault, Route};
use serde_json::{json, Value};

#[tokio::test]
async fn discover_peer_sends_source_headers_and_returns_the_record() {
    let mut s = setup().await;
    let peer = s.instance.discover_peer(s.client, &BUILDER.to_uppercase(), None).await.unwrap().unwrap();
    assert_eq!(peer.id, BUILDER);
    assert_eq!(peer.name.as_deref(), Some("Builder"));
    assert_eq!(peer.status.as_deref(), Some("online"));
    assert_eq!(peer.url, Some(format!("{}/agents/{BUILDER}", s.platform.url())));
    let raw: Value = serde_json::from_str(&peer.raw).unwrap();
    assert_eq!(raw["name"], "Builder");

    let log = s.platform.log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, format!("/registry/discover/{BUILDER}"));
    assert_eq!(log[0].header("x-workspace-id"), Some(ME));
    assert_eq!(log[0].header("authorization"), Some(format!("Bearer {ME_TOKEN}").as_str()));
    // The reference's 10 s became the configured 2 s, on every phase.
    let sent = &s.faults.sent()[0];
    let opts = sent.options.unwrap();
    assert_eq!(opts.connect_timeout, Some(std::time::Duration::from_secs(2)));
    assert_eq!(opts.first_byte_timeout, Some(std::time::Duration::from_secs(2)));
    assert_eq!(opts.between_bytes_timeout, Some(std::time::Duration::from_secs(2)));
}

#[tokio::test]
async fn discover_peer_registry_refusals_are_typed() {
    let mut s = setup().await;
    let cases = [
        (UNKNOWN, 404, "not found in the registry (HTTP 404)"),
        (STRANGER, 403, "not allowed (HTTP 403)"),
        (OFFLINE, 503, "HTTP 503: {\"error\":\"workspace not available\",\"status\":\"offline\"}"),
    ];
    for (peer, status, text) in cases {
        let e = s.instance.discover_peer(s.client, peer, None).await.unwrap().unwrap_err();
        match &e.kind {
            ErrorKind::HttpStatus(h) => {
                assert_eq!(h.status, status);
                assert_eq!(h.url, format!("{}/registry/discover/{peer}", s.platform.url()));
            }
            other => panic!("{peer}: {other:?}"),
        }
        assert!(e.message.starts_with(&format!("Discovery failed for {peer}: ")), "{}", e.message);
        assert!(e.message.contains(text), "{}", e.message);
    }
    assert_eq!(s.platform.log().len(), 3);
}

#[tokio::test]
async fn discover_peer_as_another_registered_workspace() {
    let mut s = setup().await;
    let peer = s.instance.discover_peer(s.client, STRANGER, Some(ALT)).await.unwrap().unwrap();
    assert_eq!(peer.name.as_deref(), Some("Stranger"));
    let log = s.platform.log();
    assert_eq!(log[0].header("x-workspace-id"), Some(ALT));
    assert_eq!(log[0].header("authorization"), Some(format!("Bearer {ALT_TOKEN}").as_str()));
}

#[tokio::test]
async fn discover_peer_rejects_bodies_that_are_not_objects() {
    let mut s = setup().await;
    for (body, kind, text) in [
        (json!([{"id": BUILDER}]), "unexpected-shape", "expected an object, got list"),
        (json!("just a string"), "unexpected-shape", "expected an object, got str"),
        (json!(42), "unexpected-shape", "expected an object, got int"),
    ] {
        s.platform.fault(Route::Discover, Fault::json(200, body), Some(1));
        let e = s.instance.discover_peer(s.client, BUILDER, None).await.unwrap().unwrap_err();
        assert_eq!(kind_name(&e.kind), kind);
        assert!(e.message.contains(text), "{}", e.message);
    }
    s.platform.fault(Route::Discover, Fault::raw(200, "text/html", "<html>oops</html>"), Some(1));
    let e = s.instance.discover_peer(s.client, BUILDER, None).await.unwrap().unwrap_err();
    match e.kind {
        ErrorKind::BadJson(b) => {
            assert_eq!(b.status, 200);
            assert_eq!(b.body_excerpt, "<html>oops</html>");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn peers_lists_the_registry_with_every_field() {
    let mut s = setup().await;
    let peers = s.instance.peers(s.client, None, None).await.unwrap().unwrap();
    let names: Vec<_> = peers.iter().map(|p| p.name.clone().unwrap()).collect();
    assert_eq!(names, ["Builder", "Reviewer", "Sleeper"]);
    let b = &peers[0];
    assert_eq!(
        (b.id.as_str(), b.role.as_deref(), b.tier, b.active_tasks),
        (BUILDER, Some("builder"), Some(2), Some(0))
    );
    assert_eq!(b.parent_id, None);
    let card: Value = serde_json::from_str(b.agent_card.as_deref().unwrap()).unwrap();
    assert_eq!(card["name"], "Builder");
    let log = s.platform.log();
    assert_eq!(log[0].path, format!("/registry/{ME}/peers"));
    assert_eq!(log[0].header("x-workspace-id"), Some(ME));
    assert_eq!(log[0].header("authorization"), Some(format!("Bearer {ME_TOKEN}").as_str()));
}

#[tokio::test]
async fn peers_query_and_other_source() {
    let mut s = setup().await;
    let _ = s.instance.peers(s.client, Some("data reviewer"), None).await.unwrap().unwrap();
    let peers = s.instance.peers(s.client, None, Some(ALT)).await.unwrap().unwrap();
    assert_eq!(peers.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [STRANGER]);
    let log = s.platform.log();
    assert_eq!(log[0].path, format!("/registry/{ME}/peers?q=data%20reviewer"));
    assert_eq!(log[1].path, format!("/registry/{ALT}/peers"));
    assert_eq!(log[1].header("authorization"), Some(format!("Bearer {ALT_TOKEN}").as_str()));
}

#[tokio::test]
async fn peers_diagnostics_match_the_reference() {
    let mut s = setup().await;
    let url = format!("{}/registry/{ME}/peers", s.platform.url());
    let cases: Vec<(Fault, &str, String)> = vec![
        (Fault::json(401, json!({"error": "invalid token"})), "http-status",
         "Authentication to platform failed (HTTP 401). The workspace bearer token may be invalid — restarting the workspace usually re-mints it.".into()),
        (Fault::json(403, json!({})), "http-status", "Authentication to platform failed (HTTP 403).".into()),
        (Fault::json(404, json!({"error": "workspace not found"})), "http-status",
         format!("Workspace ID {ME} is not registered with the platform (HTTP 404). Re-registration via the platform's /registry/register endpoint is needed.")),
        (Fault::json(500, json!({"error": "lookup failed"})), "http-status", "Platform error: HTTP 500.".into()),
        (Fault::raw(418, "text/plain", "teapot"), "http-status", "Unexpected platform response: HTTP 418.".into()),
        (Fault::raw(200, "text/plain", "not json"), "bad-json", "Platform returned 200 but body was not JSON: expected ident at line 1 column 2".into()),
        (Fault::json(200, json!({"peers": []})), "unexpected-shape", "Platform returned 200 but body was not a list: dict".into()),
    ];
    for (fault, kind, text) in cases {
        s.platform.fault(Route::Peers, fault, Some(1));
        let e = s.instance.peers(s.client, None, None).await.unwrap().unwrap_err();
        assert_eq!(kind_name(&e.kind), kind, "{}", e.message);
        assert!(e.message.starts_with(&text), "{}\n  expected start: {text}", e.message);
        // A fixed text of the reference is the whole message; a text with a
        // variable detail ends with the target.
        if kind == "bad-json" {
            assert!(e.message.ends_with(&format!("[target={url}]")), "{}", e.message);
        } else if text.ends_with('.') || kind == "unexpected-shape" {
            assert!(!e.message.contains("[target="), "{}", e.message);
        }
    }
}

#[tokio::test]
async fn peers_404_names_the_source_actually_queried() {
    let mut s = setup().await;
    s.platform.fault(Route::Peers, Fault::json(404, json!({"error": "workspace not found"})), Some(1));
    let e = s.instance.peers(s.client, None, Some(ALT)).await.unwrap().unwrap_err();
    assert!(e.message.starts_with(&format!("Workspace ID {ALT} is not registered")), "{}", e.message);
}

#[tokio::test]
async fn workspace_info_returns_the_record_with_only_the_bearer() {
    let mut s = setup().await;
    let w = s.instance.workspace_info(s.client, None).await.unwrap().unwrap();
    assert_eq!((w.id.as_str(), w.name.as_deref(), w.role.as_deref()), (ME, Some("Planner"), Some("planner")));
    let log = s.platform.log();
    assert_eq!(log[0].path, format!("/workspaces/{ME}"));
    assert_eq!(log[0].header("authorization"), Some(format!("Bearer {ME_TOKEN}").as_str()));
    assert_eq!(log[0].header("x-workspace-id"), None, "the reference sends only auth headers here");
}

#[tokio::test]
async fn workspace_info_removed_carries_the_hint() {
    let mut s = setup().await;
    s.platform.update(ME, |w| w.removed_at = Some("2026-04-30T12:00:00Z".into()));
    let e = s.instance.workspace_info(s.client, Some(&format!("  {ME}  "))).await.unwrap().unwrap_err();
    match &e.kind {
        ErrorKind::Removed(r) => {
            assert_eq!(r.id, ME);
            assert_eq!(r.removed_at.as_deref(), Some("2026-04-30T12:00:00Z"));
            assert_eq!(r.hint, "Workspace was removed. Re-onboard it from the canvas.");
        }
        other => panic!("{other:?}"),
    }
    // The reference's text exactly; the rest is in the kind.
    assert_eq!(e.message, "removed");
    // A 410 whose body is not an object still says "removed" (defect 10).
    s.platform.fault(Route::Workspace, Fault::raw(410, "text/html", "<h1>Gone</h1>"), Some(1));
    let e = s.instance.workspace_info(s.client, None).await.unwrap().unwrap_err();
    match e.kind {
        ErrorKind::Removed(r) => assert!(r.hint.starts_with("Workspace was deleted on the platform.")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn workspace_info_tells_auth_and_server_errors_from_not_found() {
    let mut s = setup().await;
    let e = s.instance.workspace_info(s.client, Some(UNKNOWN)).await.unwrap().unwrap_err();
    assert_eq!(e.message, "not found");
    assert!(matches!(&e.kind, ErrorKind::HttpStatus(h) if h.status == 404), "{:?}", e.kind);
    s.instance.set_token(s.client, ME, Some("wrong-token")).await.unwrap().unwrap();
    let e = s.instance.workspace_info(s.client, None).await.unwrap().unwrap_err();
    assert!(e.message.starts_with("authentication failed (HTTP 401)"), "{}", e.message);
    assert!(!e.message.contains("wrong-token"));
    s.platform.fault(Route::Workspace, Fault::json(502, json!({"error": "bad gateway"})), Some(1));
    let e = s.instance.workspace_info(s.client, None).await.unwrap().unwrap_err();
    assert!(e.message.starts_with("platform error (HTTP 502)"), "{}", e.message);
}

#[tokio::test]
async fn token_rotation_takes_effect_on_the_next_call() {
    let mut s = setup().await;
    s.platform.update(ME, |w| w.token = Some("rotated-token".into()));
    let e = s.instance.peers(s.client, None, None).await.unwrap().unwrap_err();
    assert!(e.message.starts_with("Authentication to platform failed (HTTP 401)"));
    s.instance.set_token(s.client, ME, Some("rotated-token")).await.unwrap().unwrap();
    assert_eq!(s.instance.peers(s.client, None, None).await.unwrap().unwrap().len(), 3);
    let log = s.platform.log();
    assert_eq!(log[1].header("authorization"), Some("Bearer rotated-token"));
    // Removing the token sends no Authorization header at all.
    s.instance.set_token(s.client, ME, None).await.unwrap().unwrap();
    let _ = s.instance.peers(s.client, None, None).await.unwrap();
    assert_eq!(s.platform.log()[2].header("authorization"), None);
    // A token that would break the header is refused, and not echoed.
    let e = s.instance.set_token(s.client, ME, Some("x\r\nEvil: 1")).await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "invalid-config");
    assert!(!e.message.contains("Evil"));
}

#[tokio::test]
async fn agent_card_url_is_built_without_a_request() {
    let mut s = setup().await;
    let url = s.instance.agent_card_url(s.client, &format!(" {} ", BUILDER.to_uppercase())).await.unwrap().unwrap();
    assert_eq!(url, format!("{}/registry/discover/{BUILDER}", s.platform.url()));
    let e = s.instance.agent_card_url(s.client, "../../secrets").await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "invalid-id");
    assert!(s.platform.log().is_empty());
}
