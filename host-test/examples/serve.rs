//! Figures for the composed agent under the stock `wasmtime serve` (printed,
//! not asserted): registry lookups per 1 000 inbound pushes from 10 peers,
//! and the latency of a push (`POST /inbound`, labelled from the cache)
//! through the served agent, with the CLI's default instance lifetime and
//! with instance reuse ([`INSTANCE_REUSE`]).
//!
//! Run: `cargo build --profile perf -p stock-wasmtime && cargo perf serve`
//! (the stock `wasmtime` 48.0.8 beside the benchmark; one on the `PATH` also serves)

use std::time::{Duration, Instant};

use host_test::figures::summary;
use host_test::harness::agent_path;
use host_test::platform::{Platform, Workspace};
use host_test::stock::{request_with_headers, Served, INSTANCE_REUSE};
use serde_json::json;

const ME: &str = "11111111-2222-4333-8444-555555555555";
const PUSHES: usize = 1000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let peers: Vec<String> = (1..=10).map(|i| format!("cccccccc-0000-4000-8000-{i:012}")).collect();
    // Latency depends on how that wasmtime was built (the perf profile: opt-level 3).
    println!("wasmtime: {}", host_test::stock::wasmtime_cli().unwrap().display());
    for (label, flags) in [("default (1 request per instance)", &[][..]), ("with INSTANCE_REUSE", &INSTANCE_REUSE[..])]
    {
        let mut me = Workspace::new(ME, "Planner", "planner");
        me.peers = peers.clone();
        let mut workspaces = vec![me];
        workspaces.extend(peers.iter().enumerate().map(|(i, id)| Workspace::new(id, &format!("Pusher {i}"), "pusher")));
        let platform = Platform::start(workspaces).await.unwrap();
        let url = platform.url();
        let env = [("WORKSPACE_ID", ME), ("PLATFORM_URL", url.as_str())];
        let agent = Served::start_with(&agent_path(), &env, flags).await.unwrap();

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
}
