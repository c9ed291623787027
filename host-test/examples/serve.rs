//! Figures for the composed agent under the stock `wasmtime serve` (printed,
//! not asserted): registry lookups per 1 000 inbound pushes from 10 peers,
//! and the latency of a push (`POST /inbound`, labelled from the cache)
//! through the served agent — the WASI 0.2 agent with the CLI's default
//! instance lifetime and with instance reuse ([`INSTANCE_REUSE`]), the WASI
//! 0.3 agent (`-S p3`) with reuse; then 16 delegations at once to a peer that
//! answers after 1 s, through each agent with reuse: wall time, instances,
//! throughput per instance, registry lookups.
//!
//! Run: `cargo build --profile perf -p stock-wasmtime && cargo perf serve`
//! (the stock `wasmtime` 48.0.8 beside the benchmark; one on the `PATH` also serves)

use std::time::{Duration, Instant};

use host_test::figures::summary;
use host_test::harness::{agent_async_path, agent_path};
use host_test::platform::{Platform, Workspace};
use host_test::stock::{request_with_headers, Served, INSTANCE_REUSE};
use serde_json::json;

const ME: &str = "11111111-2222-4333-8444-555555555555";
const PUSHES: usize = 1000;
/// Delegations in flight at once, and how long the peer takes to answer each.
const BURST: usize = 16;
const PEER_DELAY: Duration = Duration::from_secs(1);

/// `wasmtime serve` flags of the WASI 0.3 agent: `-S p3` and instance reuse.
const P3_REUSE: [&str; 6] = ["-S", "p3", "--max-instance-reuse-count", "100000", "--idle-instance-timeout", "600s"];

fn workspaces(peers: &[String]) -> Vec<Workspace> {
    let mut me = Workspace::new(ME, "Planner", "planner");
    me.peers = peers.to_vec();
    let mut workspaces = vec![me];
    workspaces.extend(peers.iter().enumerate().map(|(i, id)| Workspace::new(id, &format!("Pusher {i}"), "pusher")));
    workspaces
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let peers: Vec<String> = (1..=10).map(|i| format!("cccccccc-0000-4000-8000-{i:012}")).collect();
    // Latency depends on how that wasmtime was built (the perf profile: opt-level 3).
    println!("wasmtime: {}", host_test::stock::wasmtime_cli().unwrap().display());
    let agents = [
        ("WASI 0.2 agent, default (1 request per instance)", agent_path(), &[][..]),
        ("WASI 0.2 agent, with INSTANCE_REUSE", agent_path(), &INSTANCE_REUSE[..]),
        ("WASI 0.3 agent, -S p3 with reuse", agent_async_path(), &P3_REUSE[..]),
    ];
    for (label, component, flags) in &agents {
        let platform = Platform::start(workspaces(&peers)).await.unwrap();
        let url = platform.url();
        let env = [("WORKSPACE_ID", ME), ("PLATFORM_URL", url.as_str())];
        let agent = Served::start_with(component, &env, flags).await.unwrap();

        let mut labelled = 0;
        let mut instances = std::collections::HashSet::new();
        let mut times = Vec::with_capacity(PUSHES);
        let started = Instant::now();
        for n in 0..PUSHES {
            let push = json!({"from": peers[n % peers.len()], "text": "status: done"});
            let t = Instant::now();
            let (status, headers, body) =
                request_with_headers(agent.addr, "POST", "/inbound", Some(&push)).await.unwrap();
            times.push(t.elapsed());
            instances.insert(headers.get("x-agent-instance").cloned());
            assert_eq!(status, 200, "{body}");
            labelled += usize::from(!body["from"].is_null());
            if n == peers.len() - 1 {
                // Let the first lookups land, as pushes spread over time would.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let wall = started.elapsed();
        let lookups = platform.log().iter().filter(|r| r.path.starts_with("/registry/discover/")).count();
        println!("wasmtime serve, {label}");
        println!(
            "  registry lookups   {lookups} per {PUSHES} pushes from {} peers (goal: {})",
            peers.len(),
            peers.len()
        );
        println!("  pushes labelled    {labelled} of {PUSHES}");
        println!("  instances          {} (x-agent-instance)", instances.len());
        println!("  push latency       {}", summary(times));
        println!("  throughput         {:.0} pushes/s (one client, sequential)", PUSHES as f64 / wall.as_secs_f64());
        agent.stop().await.unwrap();
    }
    for (label, component, flags) in &agents[1..] {
        burst(label, component, flags, &peers).await;
    }
}

/// [`BURST`] delegations at once (a few milliseconds apart, as callers
/// make them) to a peer that answers after [`PEER_DELAY`], with `protocol:
/// auto` (so each send needs the peer's card from the registry).
async fn burst(label: &str, component: &std::path::Path, flags: &[&str], peers: &[String]) {
    let platform = Platform::start(workspaces(peers)).await.unwrap();
    let url = platform.url();
    let env = [("WORKSPACE_ID", ME), ("PLATFORM_URL", url.as_str())];
    let agent = Served::start_with(component, &env, flags).await.unwrap();
    request_with_headers(agent.addr, "GET", "/stats", None).await.unwrap();
    platform.delay_paths("/a2a", PEER_DELAY);
    let started = Instant::now();
    let mut sends = Vec::new();
    for n in 0..BURST {
        let body = json!({"peer": peers[0], "text": format!("job {n}"), "protocol": "auto"});
        let addr = agent.addr;
        sends.push(tokio::spawn(async move { request_with_headers(addr, "POST", "/delegate", Some(&body)).await }));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut instances = std::collections::HashSet::new();
    for send in sends {
        let (status, headers, body) = send.await.unwrap().unwrap();
        assert_eq!(status, 200, "{body}");
        instances.insert(headers.get("x-agent-instance").cloned());
    }
    let wall = started.elapsed();
    let lookups = platform.log().iter().filter(|r| r.path.starts_with("/registry/discover/")).count();
    let rate = BURST as f64 / wall.as_secs_f64();
    println!("{BURST} delegations at once to a peer answering in {PEER_DELAY:?}: {label}");
    println!("  wall time          {wall:.2?}");
    println!("  instances          {}", instances.len());
    println!("  throughput         {rate:.1} delegations/s, {:.1} per instance", rate / instances.len() as f64);
    println!("  registry lookups   {lookups} (the peer's card, per instance that needed it)");
    agent.stop().await.unwrap();
}
