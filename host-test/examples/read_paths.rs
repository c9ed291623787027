//! Figures for the read paths through the component (printed, not asserted):
//! component size, compile and instantiate time, and the median / p99 of
//! `validate-peer-id` (the component boundary alone) and `discover-peer`
//! (boundary + wasi:http + loopback HTTP + JSON) against the embedded platform.
//!
//! Run: `cargo perf read_paths` (the `perf` profile: see the root Cargo.toml)

use std::time::Instant;

use host_test::figures::summary;
use host_test::harness::component_path;
use host_test::platform::{Platform, Workspace};
use host_test::{config, Harness, InstanceOptions};

const ME: &str = "11111111-2222-4333-8444-555555555555";
const PEER: &str = "aaaaaaaa-0000-4000-8000-000000000001";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let path = component_path();
    let size = std::fs::metadata(&path).unwrap().len();
    println!("component          {} bytes ({:.0} KiB)  {}", size, size as f64 / 1024.0, path.display());

    let t = Instant::now();
    let harness = Harness::load(&path).unwrap();
    println!("compile + link     {:.1} ms", t.elapsed().as_secs_f64() * 1e3);

    let mut times = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let instance = harness.instantiate(InstanceOptions::default()).await.unwrap();
        times.push(t.elapsed());
        drop(instance);
    }
    println!("instantiate        {}", summary(times));

    let mut me = Workspace::new(ME, "Planner", "planner");
    me.peers = vec![PEER.into()];
    let platform = Platform::start(vec![me, Workspace::new(PEER, "Builder", "builder")]).await.unwrap();
    let mut instance = harness.instantiate(InstanceOptions::default()).await.unwrap();
    let client = instance.client(&config(ME, Some(&platform.url()))).await.unwrap().unwrap();

    let mut times = Vec::new();
    for i in 0..20_000 {
        let t = Instant::now();
        let r = instance.validate_peer_id(PEER).await.unwrap();
        if i >= 1_000 {
            times.push(t.elapsed());
        }
        assert!(r.is_some());
    }
    println!("validate-peer-id   {}", summary(times));

    let mut times = Vec::new();
    for i in 0..2_100 {
        let t = Instant::now();
        let r = instance.discover_peer(client, PEER, None).await.unwrap();
        if i >= 100 {
            times.push(t.elapsed());
        }
        assert!(r.is_ok());
    }
    println!("discover-peer      {}", summary(times));
}
