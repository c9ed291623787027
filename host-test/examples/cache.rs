//! Figures for the peer-metadata cache through the component (printed, not
//! asserted): a cache hit across the component boundary, a non-blocking call
//! on a cold peer while the registry takes a second to answer, and guest
//! linear memory while 100 000 distinct peers pass through the cache.
//!
//! Run: `cargo perf cache` (the `perf` profile: see the root Cargo.toml).
//! For a profiler: `A2A_BENCH_ONLY=hits` runs the hit loops alone and
//! `A2A_BENCH_HITS=<n>` sets how many calls each measures (default 100 000).

use std::time::{Duration, Instant};

use host_test::bindings::CachePolicy;
use host_test::figures::summary;
use host_test::harness::component_path;
use host_test::platform::{Fault, Platform, Route, Workspace};
use host_test::sync_host::SyncInstance;
use host_test::{config, Harness, InstanceOptions};
use serde_json::json;

const ME: &str = "11111111-2222-4333-8444-555555555555";
const PEER: &str = "aaaaaaaa-0000-4000-8000-000000000001";

fn peer_id(i: u32) -> String {
    format!("cccccccc-0000-4000-8000-{i:012x}")
}

/// Measured calls per hit loop (`A2A_BENCH_HITS`), after [`WARMUP`].
fn hits() -> usize {
    std::env::var("A2A_BENCH_HITS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000)
}

/// Calls each hit loop makes before it starts timing.
const WARMUP: usize = 10_000;

/// Times `n` calls of `call` after [`WARMUP`] untimed ones; each must answer true.
async fn time_async(n: usize, mut call: impl AsyncFnMut() -> bool) -> Vec<Duration> {
    let mut times = Vec::with_capacity(n);
    for i in 0..n + WARMUP {
        let t = Instant::now();
        let ok = call().await;
        if i >= WARMUP {
            times.push(t.elapsed());
        }
        assert!(ok);
    }
    times
}

/// [`time_async`] for a call on a synchronous store.
fn time_sync(n: usize, mut call: impl FnMut() -> bool) -> Vec<Duration> {
    let mut times = Vec::with_capacity(n);
    for i in 0..n + WARMUP {
        let t = Instant::now();
        let ok = call();
        if i >= WARMUP {
            times.push(t.elapsed());
        }
        assert!(ok);
    }
    times
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let hits = hits();
    let only_hits = std::env::var("A2A_BENCH_ONLY").is_ok_and(|only| only == "hits");
    let harness = Harness::shared();
    let mut me = Workspace::new(ME, "Planner", "planner");
    me.peers = vec![PEER.into()];
    let platform = Platform::start(vec![me, Workspace::new(PEER, "Builder", "builder")]).await.unwrap();

    // 1. Cache hits through the component boundary.
    let mut instance = harness.instantiate(InstanceOptions::default()).await.unwrap();
    let client = instance.client(&config(ME, Some(&platform.url()))).await.unwrap().unwrap();
    assert!(instance.enrich(client, PEER, None).await.unwrap().is_some());
    let times = time_async(hits, async || instance.enrich(client, PEER, None).await.unwrap().is_some()).await;
    println!("{:<34} {}", "enrich (hit)", summary(times));
    let times =
        time_async(hits, async || instance.enrich_nonblocking(client, PEER, None).await.unwrap().is_some()).await;
    println!("{:<34} {}", "enrich-nonblocking (hit)", summary(times));
    // The same lookup answering one string instead of a whole record: what
    // the boundary costs for the record's nine fields.
    let times = time_async(hits, async || instance.peer_name(client, PEER, None).await.unwrap().is_some()).await;
    println!("{:<34} {}", "peer-name (hit, one string)", summary(times));
    let times = time_async(hits, async || instance.validate_peer_id(PEER).await.unwrap().is_some()).await;
    println!("{:<34} {}", "validate-peer-id (empty call)", summary(times));

    // 1b. The same hits on a synchronous store (no fiber, no future): what a
    //     host without an async runtime pays. Its HTTP runs on tokio
    //     underneath, so this part runs on a blocking thread.
    let url = platform.url();
    tokio::task::spawn_blocking(move || {
        let mut instance = SyncInstance::load(&component_path()).unwrap();
        let client = instance.client(ME, &url).unwrap().unwrap();
        assert!(instance.enrich(client, PEER).unwrap().is_some());
        type Probe = fn(&mut SyncInstance, wasmtime::component::ResourceAny) -> bool;
        let probes: [(&str, Probe); 3] = [
            ("sync store: enrich (hit)", |i, c| i.enrich(c, PEER).unwrap().is_some()),
            ("sync store: peer-name (hit)", |i, c| i.peer_name(c, PEER).unwrap().is_some()),
            ("sync store: validate-peer-id", |i, _| i.validate_peer_id(PEER).unwrap().is_some()),
        ];
        for (name, probe) in probes {
            let times = time_sync(hits, || probe(&mut instance, client));
            println!("{name:<34} {}", summary(times));
        }
    })
    .await
    .unwrap();
    if only_hits {
        return;
    }

    // 2. Non-blocking calls on cold peers while the registry takes 1 s: each
    //    starts a request and returns; the lookups pile up in flight. The
    //    64-wide case runs ten rounds (ten batches of new peers, each
    //    awaited) so its median rests on 640 calls, not 64.
    platform.fault(Route::Discover, Fault::Delay(Duration::from_secs(1)), None);
    for (max_in_flight, rounds) in [(64, 10), (1024, 1)] {
        let mut cfg = config(ME, Some(&platform.url()));
        cfg.cache = Some(CachePolicy { max_in_flight: Some(max_in_flight), ..Default::default() });
        let client = instance.client(&cfg).await.unwrap().unwrap();
        let mut times = Vec::new();
        let mut slowest: f64 = 0.0;
        for round in 0..rounds {
            for i in 0..max_in_flight {
                let t = Instant::now();
                let id = peer_id(max_in_flight * 10_000 + round * max_in_flight + i);
                let r = instance.enrich_nonblocking(client, &id, None).await.unwrap();
                times.push(t.elapsed());
                assert!(r.is_none());
            }
            let t = Instant::now();
            let left = instance.await_enrichment(client, 30_000).await.unwrap();
            assert_eq!(left, 0);
            slowest = slowest.max(t.elapsed().as_secs_f64());
        }
        let label = format!("enrich-nonblocking (cold, ≤{max_in_flight} in flight)");
        println!("{label:<34} {}", summary(times));
        println!(
            "{:<34} at most {slowest:.2} s for {max_in_flight} lookups of 1 s each ({rounds} round(s), none left)",
            "  await-enrichment"
        );
    }
    platform.clear_faults();

    // 3. Guest memory while 100 000 distinct peers pass through the cache (default policy: 1024 entries).
    let mut instance = harness.instantiate(InstanceOptions::default()).await.unwrap();
    let client = instance.client(&config(ME, Some(&platform.url()))).await.unwrap().unwrap();
    let record =
        json!({"id": PEER, "name": "A peer with a name", "url": "http://127.0.0.1/agents/x", "status": "online"});
    platform.fault(Route::Discover, Fault::json(200, record), None);
    println!("guest linear memory after instantiation: {} KiB", instance.memory_bytes() / 1024);
    let started = Instant::now();
    for round in 0..2 {
        for i in 0..100_000u32 {
            let r = instance.enrich(client, &peer_id(round * 1_000_000 + i), None).await.unwrap();
            assert!(r.is_some());
            if (i + 1) % 25_000 == 0 {
                let st = instance.stats(client).await.unwrap();
                println!(
                    "  pass {} peers {:>6}: memory {:>5} KiB   entries {}  evictions {}",
                    round + 1,
                    i + 1,
                    instance.memory_bytes() / 1024,
                    st.entries,
                    st.evictions
                );
            }
        }
    }
    println!("  ({:.1} s for 200 000 lookups)", started.elapsed().as_secs_f64());
    platform.clear_log();
}
