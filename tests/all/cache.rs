//! The peer-metadata cache and enrichment through the real component: time
//! moved with the controllable clock (never slept), negative caching by kind,
//! LRU eviction with promotion, per-workspace isolation, routing, and the
//! non-blocking path over wasi:http futures.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use host_test::bindings::{CachePolicy, Timeouts};
use host_test::clock::ManualClock;
use host_test::faults::TransportFault;
use host_test::platform::{Fault, Route};

fn discovers(s: &Setup) -> usize {
    s.platform.log().iter().filter(|r| r.path.starts_with("/registry/discover/")).count()
}

fn policy(max_entries: u32) -> CachePolicy {
    CachePolicy { max_entries: Some(max_entries), ..Default::default() }
}

#[tokio::test]
async fn hit_miss_and_expiry_follow_the_guest_clock() {
    let clock = ManualClock::new();
    let mut s = setup_full(|_| {}, Some(clock.clone())).await;
    let p = s.instance.enrich(s.client, BUILDER, None).await.unwrap().unwrap();
    assert_eq!(p.name.as_deref(), Some("Builder"));
    assert_eq!(discovers(&s), 1);
    let log = s.platform.log();
    assert_eq!(log[0].header("x-workspace-id"), Some(ME));
    assert_eq!(s.faults.sent()[0].options.unwrap().first_byte_timeout, Some(Duration::from_secs(2)));

    clock.advance(Duration::from_secs(299));
    assert!(s.instance.enrich(s.client, BUILDER, None).await.unwrap().is_some());
    assert_eq!(discovers(&s), 1, "fresh for 300 s");
    s.platform.update(BUILDER, |w| w.name = "Builder II".into());
    clock.advance(Duration::from_secs(1));
    let p = s.instance.enrich(s.client, BUILDER, None).await.unwrap().unwrap();
    assert_eq!(p.name.as_deref(), Some("Builder II"), "expired at exactly 300 s and refetched");
    assert_eq!(discovers(&s), 2);
    let st = s.instance.stats(s.client).await.unwrap();
    assert_eq!((st.hits, st.misses, st.entries, st.names), (1, 2, 1, 1));
    assert_eq!(s.instance.peer_name(s.client, BUILDER, None).await.unwrap().as_deref(), Some("Builder II"));
}

#[tokio::test]
async fn a_404_is_remembered_longer_than_a_refusal_or_a_timeout() {
    let clock = ManualClock::new();
    let mut s =
        setup_full(|c| c.timeouts = Some(Timeouts { enrich_ms: Some(200), ..Default::default() }), Some(clock.clone()))
            .await;
    // 404: definite, 300 s.
    assert!(s.instance.enrich(s.client, UNKNOWN, None).await.unwrap().is_none());
    // Refused: transient, 30 s.
    s.faults.push(TransportFault::Refused);
    assert!(s.instance.enrich(s.client, BUILDER, None).await.unwrap().is_none());
    // Timed out (the registry answers after the 200 ms enrichment bound): transient.
    s.platform.fault(Route::Discover, Fault::Delay(Duration::from_secs(2)), Some(1));
    let started = Instant::now();
    assert!(s.instance.enrich(s.client, REVIEWER, None).await.unwrap().is_none());
    assert!(started.elapsed() < Duration::from_secs(2), "bounded by enrich-ms");
    let sent = s.faults.sent().len();
    assert_eq!(sent, 3);

    clock.advance(Duration::from_secs(29));
    for peer in [UNKNOWN, BUILDER, REVIEWER] {
        assert!(s.instance.enrich(s.client, peer, None).await.unwrap().is_none(), "{peer} remembered");
    }
    assert_eq!(s.faults.sent().len(), sent, "no request within 29 s");
    assert_eq!(s.instance.stats(s.client).await.unwrap().negative_hits, 3);

    clock.advance(Duration::from_secs(1));
    assert!(s.instance.enrich(s.client, BUILDER, None).await.unwrap().is_some(), "refusal forgotten at 30 s");
    assert!(s.instance.enrich(s.client, REVIEWER, None).await.unwrap().is_some(), "time-out forgotten at 30 s");
    assert!(s.instance.enrich(s.client, UNKNOWN, None).await.unwrap().is_none());
    assert_eq!(s.faults.sent().len(), sent + 2, "the 404 is still remembered");
    clock.advance(Duration::from_secs(270));
    assert!(s.instance.enrich(s.client, UNKNOWN, None).await.unwrap().is_none());
    assert_eq!(s.faults.sent().len(), sent + 3, "the 404 forgotten at 300 s");
}

#[tokio::test]
async fn eviction_at_capacity_spares_the_recently_read() {
    let mut s = setup_with(|c| c.cache = Some(policy(2))).await;
    for peer in [BUILDER, REVIEWER] {
        s.instance.enrich(s.client, peer, None).await.unwrap().unwrap();
    }
    s.instance.enrich(s.client, BUILDER, None).await.unwrap().unwrap(); // hit: BUILDER is now most recent
    s.instance.enrich(s.client, OFFLINE, None).await.unwrap(); // 503: a negative entry; evicts REVIEWER
    assert_eq!(discovers(&s), 3);
    s.instance.enrich(s.client, BUILDER, None).await.unwrap().unwrap();
    assert_eq!(discovers(&s), 3, "BUILDER survived");
    s.instance.enrich(s.client, REVIEWER, None).await.unwrap().unwrap();
    assert_eq!(discovers(&s), 4, "REVIEWER was evicted");
    let st = s.instance.stats(s.client).await.unwrap();
    assert_eq!((st.entries, st.evictions), (2, 2));
}

#[tokio::test]
async fn a_record_fetched_as_one_workspace_is_not_served_to_another() {
    let mut s = setup().await;
    // STRANGER is a peer of ALT only: the platform refuses ME (403).
    assert!(s.instance.enrich(s.client, STRANGER, Some(ME)).await.unwrap().is_none());
    let p = s.instance.enrich(s.client, STRANGER, Some(ALT)).await.unwrap();
    assert_eq!(p.unwrap().name.as_deref(), Some("Stranger"), "ME's refusal does not hide the peer from ALT");
    assert!(s.instance.enrich(s.client, STRANGER, Some(ME)).await.unwrap().is_none(), "ALT's record is not ME's");
    assert!(s.instance.peer_name(s.client, STRANGER, Some(ME)).await.unwrap().is_none());
    assert_eq!(s.instance.peer_name(s.client, STRANGER, Some(ALT)).await.unwrap().as_deref(), Some("Stranger"));
    let log = s.platform.log();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].header("authorization"), Some(format!("Bearer {ALT_TOKEN}").as_str()));
}

#[tokio::test]
async fn listing_peers_routes_later_calls_through_that_source() {
    let mut s = setup().await;
    assert!(s.instance.routed_source(s.client, STRANGER).await.unwrap().is_none());
    s.instance.peers(s.client, None, Some(ALT)).await.unwrap().unwrap();
    assert_eq!(s.instance.routed_source(s.client, STRANGER).await.unwrap().as_deref(), Some(ALT));
    // The listing warmed ALT's cache: no registry call.
    let p = s.instance.enrich(s.client, STRANGER, None).await.unwrap().unwrap();
    assert_eq!(p.name.as_deref(), Some("Stranger"));
    assert_eq!(s.platform.log().len(), 1);
    // discover-peer without a source acts as ALT; with one, as that one.
    s.instance.discover_peer(s.client, STRANGER, None).await.unwrap().unwrap();
    assert_eq!(s.platform.log()[1].header("x-workspace-id"), Some(ALT));
    let e = s.instance.discover_peer(s.client, STRANGER, Some(ME)).await.unwrap().unwrap_err();
    assert!(e.message.contains("HTTP 403"), "{}", e.message);
    let st = s.instance.stats(s.client).await.unwrap();
    assert_eq!((st.routes, st.hits), (1, 1));
}

#[tokio::test]
async fn nonblocking_gives_none_first_then_the_record() {
    let mut s = setup().await;
    assert!(s.instance.enrich_nonblocking(s.client, BUILDER, None).await.unwrap().is_none());
    assert_eq!(s.instance.stats(s.client).await.unwrap().in_flight, 1);
    assert_eq!(s.instance.await_enrichment(s.client, 5_000).await.unwrap(), 0);
    let p = s.instance.enrich_nonblocking(s.client, BUILDER, None).await.unwrap().unwrap();
    assert_eq!(p.name.as_deref(), Some("Builder"));
    assert_eq!(discovers(&s), 1);
    let log = s.platform.log();
    assert_eq!(log[0].header("authorization"), Some(format!("Bearer {ME_TOKEN}").as_str()));
}

#[tokio::test]
async fn a_finished_lookup_is_harvested_by_any_later_call() {
    let mut s = setup().await;
    assert!(s.instance.enrich_nonblocking(s.client, BUILDER, None).await.unwrap().is_none());
    // The host performs the request while the guest is idle; unrelated calls
    // (never `await-enrichment`) pick the answer up once it has arrived.
    let started = Instant::now();
    let mut calls = 0;
    while s.instance.stats(s.client).await.unwrap().in_flight > 0 {
        assert!(started.elapsed() < Duration::from_secs(5), "the lookup never completed");
        s.instance.workspace_info(s.client, None).await.unwrap().unwrap();
        calls += 1;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(s.instance.stats(s.client).await.unwrap().entries, 1);
    assert!(s.instance.enrich_nonblocking(s.client, BUILDER, None).await.unwrap().is_some());
    assert_eq!(discovers(&s), 1);
    assert_eq!(s.platform.log().len(), 1 + calls);
}

#[tokio::test]
async fn rapid_nonblocking_calls_start_one_request() {
    let mut s = setup().await;
    s.platform.fault(Route::Discover, Fault::Delay(Duration::from_millis(300)), None);
    for _ in 0..100 {
        assert!(s.instance.enrich_nonblocking(s.client, BUILDER, None).await.unwrap().is_none());
    }
    assert_eq!(s.instance.await_enrichment(s.client, 5_000).await.unwrap(), 0);
    assert_eq!(s.faults.sent().len(), 1);
    assert_eq!(discovers(&s), 1);
    assert!(s.instance.enrich_nonblocking(s.client, BUILDER, None).await.unwrap().is_some());
}

#[tokio::test]
async fn a_registry_that_never_answers_does_not_hold_the_client() {
    let mut s = setup_with(|c| c.timeouts = Some(Timeouts { enrich_ms: Some(500), ..Default::default() })).await;
    s.faults.push(TransportFault::Hang);
    let started = Instant::now();
    assert!(s.instance.enrich_nonblocking(s.client, BUILDER, None).await.unwrap().is_none());
    assert!(started.elapsed() < Duration::from_secs(1), "returned at once: {:?}", started.elapsed());
    // The client keeps working meanwhile.
    assert_eq!(s.instance.peers(s.client, None, Some(ALT)).await.unwrap().unwrap().len(), 1);
    assert!(s.instance.workspace_info(s.client, None).await.unwrap().is_ok());
    assert!(s.instance.enrich_nonblocking(s.client, BUILDER, None).await.unwrap().is_none());
    assert_eq!(s.faults.sent().len(), 3, "no second lookup while one is in flight");
    // The hung lookup ends at its own 500 ms bound and is remembered as transient.
    assert_eq!(s.instance.await_enrichment(s.client, 5_000).await.unwrap(), 0);
    let st = s.instance.stats(s.client).await.unwrap();
    assert_eq!((st.in_flight, st.entries), (0, 2), "BUILDER's failure and ALT's listed peer");
    assert!(s.instance.enrich_nonblocking(s.client, BUILDER, None).await.unwrap().is_none());
    assert_eq!(s.instance.stats(s.client).await.unwrap().negative_hits, 1);
}

#[tokio::test]
async fn await_enrichment_gives_up_at_its_timeout() {
    let mut s = setup().await;
    s.faults.push(TransportFault::Hang);
    s.instance.enrich_nonblocking(s.client, BUILDER, None).await.unwrap();
    let started = Instant::now();
    assert_eq!(s.instance.await_enrichment(s.client, 100).await.unwrap(), 1);
    assert!(started.elapsed() < Duration::from_millis(1_500));
}

#[tokio::test]
async fn invalid_ids_give_none_without_a_request() {
    let mut s = setup().await;
    for bad in ["", "../../admin", "aaaaaaaa-0000-4000-8000-000000000001\r\nX: y"] {
        assert!(s.instance.enrich(s.client, bad, None).await.unwrap().is_none());
        assert!(s.instance.enrich_nonblocking(s.client, bad, None).await.unwrap().is_none());
        assert!(s.instance.enrich(s.client, BUILDER, Some("../x")).await.unwrap().is_none());
    }
    assert!(s.faults.sent().is_empty());
    assert_eq!(s.instance.stats(s.client).await.unwrap().entries, 0);
}
