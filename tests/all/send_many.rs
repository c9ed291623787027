//! `send-many`: one message to several peers at once through the component,
//! multiplexed on one wait, each with its own retry schedule and trace.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use host_test::bindings::{CallOptions, OutgoingMessage, RetryPolicy, SendTarget};

fn to(peer: &str, text: &str) -> SendTarget {
    SendTarget { peer_id: peer.into(), message: OutgoingMessage::text(text) }
}

fn options() -> CallOptions {
    CallOptions::default()
}

async fn fast_retries() -> Setup {
    setup_with(|c| {
        c.retry = Some(RetryPolicy {
            max_attempts: Some(3),
            base_delay_ms: Some(50),
            max_delay_ms: Some(200),
            total_budget_ms: Some(10_000),
            ..Default::default()
        });
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn one_result_per_target_in_order_each_with_its_own_retries() {
    let mut s = fast_retries().await;
    let targets = [to(BUILDER, "one"), to("../etc", "bad"), to(REVIEWER, "two"), to(OFFLINE, "three")];
    let out = s.instance.send_many(s.client, &targets, &options()).await.unwrap().unwrap();
    assert_eq!(out.len(), 4);

    let texts: Vec<String> = out
        .iter()
        .map(|r| match r {
            Ok(reply) => reply.text.clone(),
            Err(e) => kind_name(&e.kind).to_owned(),
        })
        .collect();
    // The offline peer's 503s are retried until its attempts run out.
    assert_eq!(texts, ["echo: one", "invalid-id", "echo: two", "platform-error"]);
    let attempts: Vec<usize> = out
        .iter()
        .map(|r| match r {
            Ok(reply) => reply.attempts.len(),
            Err(e) => e.attempts.len(),
        })
        .collect();
    // The offline peer's send went through its own three attempts; the others needed one.
    assert_eq!(attempts, [1, 0, 1, 3]);

    // Every attempt of one send carries the same ids; different sends, different ids.
    let ids: Vec<&str> = out.iter().filter_map(|r| r.as_ref().ok()).map(|r| r.message_id.as_str()).collect();
    assert_ne!(ids[0], ids[1]);
    let sent = s.platform.log().into_iter().filter(|r| r.path.ends_with("/a2a")).count();
    assert_eq!(sent, 1 + 1 + 3, "the bad id made no request");
}

#[tokio::test(flavor = "multi_thread")]
async fn sends_overlap_so_the_whole_takes_about_the_slowest() {
    let mut s = fast_retries().await;
    let delay = Duration::from_millis(700);
    for peer in [BUILDER, REVIEWER] {
        s.platform.delay_paths(&format!("{peer}/a2a"), delay);
    }
    // Three slow sends (the builder twice).
    let targets = [to(BUILDER, "a"), to(REVIEWER, "b"), to(BUILDER, "again")];
    let started = Instant::now();
    let out = s.instance.send_many(s.client, &targets, &options()).await.unwrap().unwrap();
    let took = started.elapsed();
    assert!(out.iter().all(Result::is_ok), "{out:?}");
    println!("3 sends to peers that each take {delay:?}: {took:?} in all");
    // In sequence they would take 3 × 700 ms.
    assert!(took < delay * 2, "the sends did not overlap: {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn too_many_targets_is_an_error_and_none_is_fine() {
    let mut s = setup().await;
    let many: Vec<SendTarget> = (0..65).map(|_| to(BUILDER, "x")).collect();
    let e = s.instance.send_many(s.client, &many, &options()).await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "invalid-config");
    assert!(s.platform.log().is_empty());
    let out = s.instance.send_many(s.client, &[], &options()).await.unwrap().unwrap();
    assert!(out.is_empty());
}
