//! Streamed replies through the component against the embedded platform's
//! scripted streams: a stream cut mid-event (resumed, refused), an oversized event, an endless
//! stream stopped by the budget, a silent one stopped by the read timeout,
//! error events, an error status at the start, and a stream dropped midway.
//! (Streams from a real agent: tests/a2a_sdk.rs.)

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use host_test::bindings::{CallOptions, ErrorKind, RetryPolicy, StreamEvent, Timeouts};
use host_test::platform::{Fault, Route};

const WORKING: &str = "data: {\"result\":{\"kind\":\"status-update\",\"taskId\":\"t\",\"final\":false,\"status\":{\"state\":\"working\"}}}\n\n";
const DONE: &str = "data: {\"result\":{\"kind\":\"status-update\",\"taskId\":\"t\",\"final\":true,\"status\":{\"state\":\"completed\"}}}\n\n";

fn script(chunks: &[&str], every_ms: u64, forever: bool) -> Fault {
    Fault::Events {
        chunks: chunks.iter().map(|c| c.to_string()).collect(),
        every: Duration::from_millis(every_ms),
        forever,
    }
}

fn options() -> CallOptions {
    CallOptions::default()
}

/// A client whose streams read within 300 ms and last at most 1.5 s, events up to 1 KiB.
async fn stream_setup() -> Setup {
    setup_with(|c| {
        c.max_body_bytes = Some(1024);
        let t = c.timeouts.get_or_insert(Timeouts { ..Default::default() });
        t.send_read_ms = Some(300);
        c.retry = Some(RetryPolicy { total_budget_ms: Some(1500), ..Default::default() });
    })
    .await
}

async fn run(s: &mut Setup, fault: Fault) -> (Vec<StreamEvent>, Option<host_test::bindings::Error>, Duration) {
    s.platform.fault(Route::A2a, fault, Some(1));
    let started = Instant::now();
    let stream = s.instance.send_message_stream(s.client, BUILDER, "go", &options()).await.unwrap().expect("opened");
    let (events, end) = s.instance.drain_stream(stream).await.unwrap();
    (events, end, started.elapsed())
}

/// After any stream, the instance still answers (no trap, client intact).
async fn still_works(s: &mut Setup) {
    let reply = s.instance.send_message(s.client, BUILDER, "after", None).await.unwrap().unwrap();
    assert_eq!(reply.text, "echo: after");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scripted_stream_reads_to_its_final_event() {
    let mut s = stream_setup().await;
    let (events, end, _) = run(&mut s, script(&[WORKING, &DONE[..40], &DONE[40..], WORKING], 5, false)).await;
    assert!(end.is_none(), "{end:?}");
    assert_eq!(events.len(), 2, "nothing after the final event: {events:?}");
    still_works(&mut s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_cut_mid_event_is_resumed_and_a_refused_resumption_is_stream_cut() {
    let mut s = stream_setup().await;
    let (events, end, _) = run(&mut s, script(&[WORKING, "data: {\"result\":{\"ki"], 5, false)).await;
    assert_eq!(events.len(), 1);
    let e = end.expect("an error");
    // The cut is met by subscribing to task t again; this platform's agent
    // knows no such method (-32601), and reading the task fails the same way.
    let ErrorKind::StreamCut(cut) = &e.kind else { panic!("{e:?}") };
    assert_eq!((cut.task_id.as_deref(), cut.events, cut.resumes), (Some("t"), 1, 1), "{}", e.message);
    assert!(cut.cause.starts_with("resubscribing was refused: "), "{}", cut.cause);
    assert!(e.message.starts_with("[A2A_ERROR] the stream of task 't' was cut after 1 event and 1 resubscription: resubscribing was refused: Method not found (code=-32601); reading the task failed too: "), "{}", e.message);
    let methods: Vec<String> = s
        .platform
        .log()
        .iter()
        .filter(|r| r.path.ends_with("/a2a"))
        .map(|r| {
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            body["method"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(methods, ["message/stream", "tasks/resubscribe", "tasks/get"]);
    still_works(&mut s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_event_is_refused_at_the_cap() {
    let mut s = stream_setup().await;
    let big =
        format!("data: {{\"result\":{{\"kind\":\"message\",\"parts\":[{{\"text\":\"{}\"}}]}}}}\n\n", "x".repeat(5000));
    let (events, end, _) = run(&mut s, script(&[WORKING, &big], 5, false)).await;
    assert_eq!(events.len(), 1);
    assert!(matches!(end.expect("an error").kind, ErrorKind::BodyTooLarge(t) if t.limit == 1024));
    let memory = s.instance.memory_bytes();
    still_works(&mut s).await;
    assert_eq!(s.instance.memory_bytes(), memory);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_stream_stops_at_the_budget_and_a_silent_one_at_the_read_timeout() {
    let mut s = stream_setup().await;
    let (events, end, took) = run(&mut s, script(&[WORKING], 50, true)).await;
    let e = end.expect("an error");
    assert!(matches!(&e.kind, ErrorKind::TimedOut(t) if t.after_ms == 1500), "{e:?}");
    assert!(events.len() > 5, "{} events", events.len());
    assert!(took < Duration::from_secs(5), "{took:?}");

    let (events, end, took) = run(&mut s, script(&[WORKING, WORKING], 3000, false)).await;
    assert_eq!(events.len(), 1);
    let e = end.expect("an error");
    assert!(matches!(&e.kind, ErrorKind::TimedOut(t) if t.after_ms == 300), "{e:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    still_works(&mut s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn error_events_and_error_statuses() {
    let mut s = stream_setup().await;
    let rpc =
        "event: error\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"1\",\"error\":{\"code\":-32603,\"message\":\"boom\"}}\n\n";
    let (events, end, _) = run(&mut s, script(&[WORKING, rpc], 5, false)).await;
    assert_eq!(events.len(), 1);
    assert!(matches!(end.expect("an error").kind, ErrorKind::RpcError(r) if r.code == Some(-32603)));

    // An error event that echoes the caller's token: redacted everywhere.
    let echo = format!("event: error\ndata: denied for Bearer {ME_TOKEN}\n\n");
    let (_, end, _) = run(&mut s, script(&[&echo], 5, false)).await;
    let e = end.expect("an error");
    assert!(!format!("{e:?}").contains(ME_TOKEN), "{e:?}");

    // An error status: the open itself fails, with the status.
    s.platform.fault(Route::A2a, Fault::json(503, serde_json::json!({"error": "workspace not available"})), Some(1));
    let e = s.instance.send_message_stream(s.client, BUILDER, "go", &options()).await.unwrap().unwrap_err();
    assert!(matches!(&e.kind, ErrorKind::PlatformError(p) if p.status == 503), "{e:?}");
    // A bad id makes no request.
    let before = s.platform.log().len();
    let e = s.instance.send_message_stream(s.client, "../x", "go", &options()).await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "invalid-id");
    assert_eq!(s.platform.log().len(), before);
    still_works(&mut s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_dropped_midway_leaves_the_instance_working() {
    let mut s = stream_setup().await;
    s.platform.fault(Route::A2a, script(&[WORKING], 20, true), Some(1));
    let stream = s.instance.send_message_stream(s.client, BUILDER, "go", &options()).await.unwrap().unwrap();
    for _ in 0..3 {
        assert!(s.instance.next_event(stream).await.unwrap().unwrap().is_some());
    }
    s.instance.drop_stream(stream).await.unwrap();
    still_works(&mut s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pollable_held_across_the_end_of_a_stream_does_not_trap() {
    let mut s = stream_setup().await;
    s.platform.fault(Route::A2a, script(&[WORKING, DONE], 20, false), Some(1));
    let stream = s.instance.send_message_stream(s.client, BUILDER, "go", &options()).await.unwrap().unwrap();
    let held = s.instance.hold_stream_pollable(stream).await.unwrap();
    let (events, failure) = {
        let mut events = Vec::new();
        loop {
            match s.instance.next_event(stream).await.unwrap() {
                Ok(Some(e)) => events.push(e),
                Ok(None) => break (events, None),
                Err(e) => break (events, Some(e)),
            }
        }
    };
    assert_eq!(events.len(), 2, "{failure:?}");
    s.instance.drop_pollable(held).unwrap();
    s.instance.drop_stream(stream).await.unwrap();
    still_works(&mut s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pollable_tells_a_multiplexing_host_when_an_event_is_there() {
    let mut s = stream_setup().await;
    s.platform.fault(Route::A2a, script(&[WORKING, WORKING, DONE], 250, false), Some(1));
    let stream = s.instance.send_message_stream(s.client, BUILDER, "go", &options()).await.unwrap().unwrap();
    assert!(s.instance.next_event(stream).await.unwrap().unwrap().is_some());
    // The next event is 250 ms away: not ready now; the host waits on the pollable, then reads.
    assert!(!s.instance.stream_pollable(stream, false).await.unwrap(), "ready with nothing to read");
    s.instance.stream_pollable(stream, true).await.unwrap();
    let started = Instant::now();
    assert!(s.instance.next_event(stream).await.unwrap().unwrap().is_some());
    assert!(started.elapsed() < Duration::from_millis(200), "next-event blocked after the pollable was ready");
    s.instance.stream_pollable(stream, true).await.unwrap();
    let last = s.instance.next_event(stream).await.unwrap().unwrap().unwrap();
    assert!(matches!(last, StreamEvent::StatusUpdate(u) if u.is_final));
    // Ended: the pollable resolves at once (wasmtime's zero-length timer yields
    // to the runtime once first), and next-event answers none without blocking.
    let started = Instant::now();
    s.instance.stream_pollable(stream, true).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(200));
    assert!(s.instance.next_event(stream).await.unwrap().unwrap().is_none());
    s.instance.drop_stream(stream).await.unwrap();
    still_works(&mut s).await;
}
