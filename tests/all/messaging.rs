//! `send-message` through the real component against the embedded
//! platform's A2A proxy: reply shapes, retries as the server saw them,
//! budgets, and the retry budget across sends.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use host_test::bindings::{ErrorKind, ReplyKind, RetryPolicy, Timeouts};
use host_test::faults::TransportFault;
use host_test::platform::{Fault, Route};
use serde_json::{json, Value};

/// A fast policy: 5 attempts, 20 ms doubling, 5 s budget.
fn fast(c: &mut host_test::bindings::Config) {
    c.retry = Some(RetryPolicy {
        base_delay_ms: Some(20),
        max_delay_ms: Some(200),
        total_budget_ms: Some(5_000),
        ..Default::default()
    });
}

fn a2a_posts(s: &Setup) -> Vec<Value> {
    s.platform
        .log()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/a2a"))
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn a_message_reply_as_the_reference_sends_it() {
    let mut s = setup().await;
    let reply = s.instance.send_message(s.client, BUILDER, "hello peer", None).await.unwrap().unwrap();
    assert_eq!(reply.text, "echo: hello peer");
    assert!(matches!(reply.kind, ReplyKind::Message));
    assert_eq!(reply.attempts.len(), 1);
    assert_eq!(reply.attempts[0].outcome, "ok");
    let log = s.platform.log();
    assert_eq!(log[0].path, format!("/workspaces/{BUILDER}/a2a"));
    assert_eq!(log[0].header("x-workspace-id"), Some(ME));
    assert_eq!(log[0].header("authorization"), Some(format!("Bearer {ME_TOKEN}").as_str()));
    let body: Value = serde_json::from_str(&log[0].body).unwrap();
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["method"], "message/send");
    assert_eq!(body["id"], reply.request_id.as_str());
    assert_eq!(body["params"]["message"]["messageId"], reply.message_id.as_str());
    assert_eq!(body["params"]["message"]["parts"], json!([{"kind": "text", "text": "hello peer"}]));
    assert_ne!(reply.request_id, reply.message_id);
    assert_eq!(reply.request_id.len(), 36, "a UUID");
    // A second send has fresh ids.
    let again = s.instance.send_message(s.client, BUILDER, "again", None).await.unwrap().unwrap();
    assert_ne!(again.message_id, reply.message_id);
}

#[tokio::test]
async fn task_multi_part_and_failed_task_replies() {
    let mut s = setup().await;
    let r = s.instance.send_message(s.client, BUILDER, "task: build it", None).await.unwrap().unwrap();
    assert_eq!(r.text, "done: build it\nBUILD IT");
    match &r.kind {
        ReplyKind::Task(t) => {
            assert_eq!(
                (t.id.as_deref(), t.state.as_str(), t.context_id.as_deref()),
                (Some("task-1"), "completed", Some("ctx-1"))
            )
        }
        other => panic!("{other:?}"),
    }
    let r = s.instance.send_message(s.client, BUILDER, "parts: one|two|three", None).await.unwrap().unwrap();
    assert_eq!(r.text, "one\ntwo\nthree");
    let r = s.instance.send_message(s.client, BUILDER, "fail: out of disk", None).await.unwrap().unwrap();
    assert_eq!(r.text, "out of disk");
    assert!(matches!(&r.kind, ReplyKind::Task(t) if t.state == "failed"));
}

#[tokio::test]
async fn agent_errors_and_rpc_errors_are_typed_and_not_retried() {
    let mut s = setup_with(fast).await;
    let e = s.instance.send_message(s.client, BUILDER, "agent-error: tool crashed", None).await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "agent-error");
    // The reference's text exactly (the target is in the kind).
    assert_eq!(e.message, "[A2A_ERROR] Agent error: tool crashed");
    let e = s.instance.send_message(s.client, BUILDER, "rpc-error: model overloaded", None).await.unwrap().unwrap_err();
    match &e.kind {
        ErrorKind::RpcError(r) => assert_eq!((r.code, r.message.as_str()), (Some(-32603), "model overloaded")),
        other => panic!("{other:?}"),
    }
    assert!(e.message.starts_with("[A2A_ERROR] model overloaded (code=-32603) [target="), "{}", e.message);
    assert_eq!(e.attempts.len(), 1);
    assert_eq!(a2a_posts(&s).len(), 2);
}

#[tokio::test]
async fn transient_then_success_keeps_the_ids() {
    let mut s = setup_with(fast).await;
    s.faults.push(TransportFault::Refused);
    s.faults.push(TransportFault::Reset);
    s.platform.fault(Route::A2a, Fault::json(503, json!({"error": "workspace not available"})), Some(1));
    s.platform.fault(Route::A2a, Fault::Drop, Some(1));
    let r = s.instance.send_message(s.client, BUILDER, "hello", None).await.unwrap().unwrap();
    assert_eq!(r.text, "echo: hello");
    let outcomes: Vec<&str> = r.attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes.len(), 5, "{outcomes:?}");
    assert!(outcomes[0].starts_with("connection refused"));
    assert!(outcomes[1].starts_with("connection terminated"));
    assert!(outcomes[2].starts_with("HTTP 503 from the platform: workspace not available"));
    assert!(outcomes[3].starts_with("HTTP protocol error"));
    assert_eq!(outcomes[4], "ok");
    assert!(r.attempts[..4].iter().all(|a| a.delay_ms.is_some()));
    // The server saw three attempts (two never left the host), all with the same ids.
    let posts = a2a_posts(&s);
    assert_eq!(posts.len(), 3);
    for p in &posts {
        assert_eq!(p["id"], r.request_id.as_str());
        assert_eq!(p["params"]["message"]["messageId"], r.message_id.as_str());
    }
    assert_eq!(s.faults.sent().len(), 5);
}

#[tokio::test]
async fn a_host_that_answers_itself_is_read_like_the_network() {
    // The benchmark's "component's own share" run rests on this hook.
    let mut s = setup_with(fast).await;
    let body = json!({"jsonrpc": "2.0", "id": "x", "result": {"kind": "message", "parts": [
        {"kind": "text", "text": "from the host"}]}});
    s.faults.push(TransportFault::Respond { status: 200, body: body.to_string() });
    s.faults.push(TransportFault::Respond { status: 503, body: "{\"error\":\"busy\"}".into() });
    let r = s.instance.send_message(s.client, BUILDER, "hello", None).await.unwrap().unwrap();
    assert_eq!(r.text, "from the host");
    assert!(a2a_posts(&s).is_empty(), "no request reached the platform");
    let e = s.instance.send_message(s.client, BUILDER, "hello", None).await.unwrap().unwrap();
    assert_eq!(e.text, "echo: hello", "the 503 was retried, through to the platform");
    assert_eq!(e.attempts.len(), 2);
    assert!(e.attempts[0].outcome.starts_with("HTTP 503"), "{:?}", e.attempts[0]);
}

#[tokio::test]
async fn exhaustion_after_five_attempts() {
    let mut s = setup_with(fast).await;
    s.platform.fault(Route::A2a, Fault::raw(502, "text/html", "<h1>Bad Gateway</h1>"), None);
    let e = s.instance.send_message(s.client, BUILDER, "hello", None).await.unwrap().unwrap_err();
    assert_eq!(e.attempts.len(), 5);
    let delays: Vec<_> = e.attempts.iter().map(|a| a.delay_ms).collect();
    assert!(delays[..4].iter().all(|d| d.is_some()) && delays[4].is_none(), "{delays:?}");
    match &e.kind {
        ErrorKind::HttpStatus(h) => assert_eq!((h.status, h.body_excerpt.as_str()), (502, "<h1>Bad Gateway</h1>")),
        other => panic!("{other:?}"),
    }
    assert!(e.message.starts_with("[A2A_ERROR] HTTP 502: <h1>Bad Gateway</h1> [target="), "{}", e.message);
    assert!(e.message.ends_with("(after 5 attempts)"), "{}", e.message);
    assert_eq!(a2a_posts(&s).len(), 5);
}

#[tokio::test]
async fn a_500_html_body_is_not_retried_and_keeps_its_status() {
    let mut s = setup_with(fast).await;
    s.platform.fault(Route::A2a, Fault::raw(500, "text/html", "<html>Internal Server Error</html>"), None);
    let e = s.instance.send_message(s.client, BUILDER, "hello", None).await.unwrap().unwrap_err();
    assert_eq!(e.attempts.len(), 1);
    assert!(e.message.starts_with("[A2A_ERROR] HTTP 500: <html>Internal Server Error</html>"), "{}", e.message);
}

#[tokio::test]
async fn platform_error_bodies_keep_their_status() {
    let mut s = setup_with(fast).await;
    let e = s.instance.send_message(s.client, UNKNOWN, "hello", None).await.unwrap().unwrap_err();
    match &e.kind {
        ErrorKind::PlatformError(p) => assert_eq!((p.status, p.message.as_str()), (404, "workspace not found")),
        other => panic!("{other:?}"),
    }
    assert!(e.message.starts_with("[A2A_ERROR] HTTP 404 from the platform: workspace not found [target="));
    let e = s.instance.send_message(s.client, STRANGER, "hello", None).await.unwrap().unwrap_err();
    assert!(e.message.starts_with("[A2A_ERROR] HTTP 403 from the platform: not allowed to talk to that workspace"));
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let mut s = setup_with(fast).await;
    let slow_down = Fault::json(429, json!({"error": "slow down"}));
    let retry_after = Fault::WithHeaders(Box::new(slow_down), vec![("retry-after".into(), "1".into())]);
    s.platform.fault(Route::A2a, retry_after, Some(1));
    let started = Instant::now();
    let r = s.instance.send_message(s.client, BUILDER, "hello", None).await.unwrap().unwrap();
    assert_eq!(r.attempts[0].delay_ms, Some(200), "the server's 1 s, capped by the policy's 200 ms max delay");
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn a_503_with_a_retry_after_date_is_honoured() {
    let mut s = setup_with(|c| {
        fast(c);
        c.retry.as_mut().unwrap().max_delay_ms = Some(5_000);
    })
    .await;
    let at = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    let unavailable = Fault::json(503, json!({"error": "workspace not available"}));
    s.platform.fault(Route::A2a, Fault::WithHeaders(Box::new(unavailable), vec![("retry-after".into(), at)]), Some(1));
    let started = Instant::now();
    let r = s.instance.send_message(s.client, BUILDER, "hello", None).await.unwrap().unwrap();
    let delay = r.attempts[0].delay_ms.unwrap();
    assert!((1_000..=2_000).contains(&delay), "the date, not the 20 ms backoff: {delay} ms");
    assert!(started.elapsed() >= Duration::from_millis(u64::from(delay)));
    assert_eq!(r.attempts.len(), 2);
}

#[tokio::test]
async fn a_trickling_peer_cannot_run_past_the_budget() {
    let mut s = setup_with(|c| {
        fast(c);
        c.retry.as_mut().unwrap().total_budget_ms = Some(600);
        c.timeouts = Some(Timeouts { send_read_ms: Some(10_000), ..Default::default() });
    })
    .await;
    s.platform.fault(Route::A2a, Fault::Trickle { chunk: 4, every: Duration::from_millis(100) }, None);
    let started = Instant::now();
    let e = s.instance.send_message(s.client, BUILDER, "hello", None).await.unwrap().unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1_500), "bounded by the 600 ms budget: {took:?}");
    assert_eq!(kind_name(&e.kind), "timed-out", "{}", e.message);
    assert!(e.message.contains("total budget of 600 ms spent"), "{}", e.message);
}

#[tokio::test]
async fn the_retry_budget_stops_retries_when_most_sends_fail_and_recovers() {
    let mut s = setup_with(|c| {
        fast(c);
        let r = c.retry.as_mut().unwrap();
        r.budget_tokens = Some(4);
        r.budget_refill_percent = Some(100);
    })
    .await;
    s.faults.always(Some(TransportFault::Refused));
    let first = s.instance.send_message(s.client, BUILDER, "a", None).await.unwrap().unwrap_err();
    assert_eq!(first.attempts.len(), 2, "4 tokens: one retry, then half are gone");
    let second = s.instance.send_message(s.client, BUILDER, "b", None).await.unwrap().unwrap_err();
    assert_eq!(second.attempts.len(), 1, "fails fast");
    assert!(second.message.contains("not retried: the retry budget is exhausted"), "{}", second.message);
    s.faults.always(None);
    for _ in 0..3 {
        s.instance.send_message(s.client, BUILDER, "ok", None).await.unwrap().unwrap();
    }
    s.faults.push(TransportFault::Refused);
    let r = s.instance.send_message(s.client, BUILDER, "retried", None).await.unwrap().unwrap();
    assert_eq!(r.attempts.len(), 2, "retries are back");
}

#[tokio::test]
async fn invalid_ids_make_no_request_and_routing_applies() {
    let mut s = setup().await;
    let e = s.instance.send_message(s.client, "../../x", "hi", None).await.unwrap().unwrap_err();
    assert_eq!(e.message, "[A2A_ERROR] invalid peer_id (expected UUID): '../../x'");
    let e = s.instance.send_message(s.client, BUILDER, "hi", Some("bad source")).await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "invalid-id");
    assert!(s.faults.sent().is_empty());
    // After listing ALT's peers, a send to STRANGER goes as ALT.
    s.instance.peers(s.client, None, Some(ALT)).await.unwrap().unwrap();
    let r = s.instance.send_message(s.client, STRANGER, "hi", None).await.unwrap().unwrap();
    assert_eq!(r.text, "echo: hi");
    let post = s.platform.log().into_iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.header("x-workspace-id"), Some(ALT));
    assert_eq!(post.header("authorization"), Some(format!("Bearer {ALT_TOKEN}").as_str()));
}

#[tokio::test]
async fn hostile_replies_never_trap_the_guest() {
    let mut s = setup_with(fast).await;
    let deep = "[".repeat(100_000);
    let control = "\u{0}\u{1b}[31m".repeat(1000);
    // Each body and what it must give: the reply's text, or the error's
    // kind, its number of attempts and a part of its message.
    type Expected<'a> = Result<&'a str, (&'a str, usize, &'a str)>;
    let bodies: Vec<(u16, Vec<u8>, Expected)> = vec![
        (200, deep.clone().into_bytes(), Err(("bad-json", 1, "not JSON"))),
        (200, vec![0xff, 0xfe, 0x00], Err(("bad-json", 1, "not JSON"))),
        (
            200,
            br#"{"result": {"kind": "task", "status": {"state": 7, "message": {"parts": "x"}}, "artifacts": {"a": 1}}}"#.to_vec(),
            Err(("unexpected-shape", 1, "result.status.message.parts is not a list")),
        ),
        (
            200,
            br#"{"result": {"kind": "message", "parts": [{"kind": "text", "text": 1}, null, 3, {"text": "ok"}]}}"#.to_vec(),
            Err(("unexpected-shape", 1, "result.parts[0].text is not a string")),
        ),
        (200, br#"{"error": {"code": 1e400, "message": ["x"]}}"#.to_vec(), Err(("bad-json", 1, "not JSON"))),
        (200, br#"{"error": {"code": 1e300, "message": ["x"]}}"#.to_vec(), Err(("rpc-error", 1, "JSON-RPC error with no message"))),
        (200, br#"{"error": null}"#.to_vec(), Err(("rpc-error", 1, "null"))),
        (200, br#"{"result": null}"#.to_vec(), Err(("unexpected-shape", 1, "result is not an object: null"))),
        (
            200,
            format!("{{\"result\": {{\"kind\": \"message\", \"parts\": [{{\"kind\": \"text\", \"text\": \"{}\"}}]}}}}", "\\u0000\\u001b[31m".repeat(1000)).into_bytes(),
            Ok(control.as_str()),
        ),
        (404, deep.into_bytes(), Err(("http-status", 1, "HTTP 404"))),
        (503, b"{\"error\": {\"nested\": true}}".to_vec(), Err(("http-status", 5, "(after 5 attempts)"))),
    ];
    for (i, (status, body, want)) in bodies.into_iter().enumerate() {
        s.platform.fault(Route::A2a, Fault::Respond { status, content_type: "application/json", body }, Some(5));
        let result = s.instance.send_message(s.client, BUILDER, "hi", None).await.expect("no trap");
        match (result, want) {
            (Ok(reply), Ok(text)) => assert!(reply.text == text, "case {i}: text of {} bytes", reply.text.len()),
            (Err(e), Err((kind, attempts, part))) => {
                assert_eq!(kind_name(&e.kind), kind, "case {i}: {}", e.message);
                assert_eq!(e.attempts.len(), attempts, "case {i}: {}", e.message);
                assert!(e.message.contains(part), "case {i}: {:?} lacks {part:?}", e.message);
                assert!(e.message.starts_with("[A2A_ERROR] "), "{}", e.message);
                assert!(!e.message.contains('\n') && !e.message.contains('\u{1b}'), "{:?}", e.message);
            }
            (Ok(reply), Err(want)) => panic!("case {i}: a success ({:?}) where {want:?} was due", reply.kind),
            (Err(e), Ok(_)) => panic!("case {i}: {}", e.message),
        }
        s.platform.clear_faults();
    }
    assert_eq!(
        s.instance.send_message(s.client, BUILDER, "still here", None).await.unwrap().unwrap().text,
        "echo: still here"
    );
}
