//! The components under the stock `wasmtime` CLI (48.0.8: wasmtime-cli's
//! own commands, built by the workspace's `stock-wasmtime`): the example
//! agent composed with the client, served by `wasmtime serve -S cli`, driven over plain HTTP against the embedded
//! platform — with the CLI's default instance lifetime and with instance
//! reuse, where the agent's client and its cache outlive a request; and the
//! bare client component compiled by the stock CLI.

use crate::common;

use common::*;
use host_test::harness::{agent_path, component_path};
use host_test::platform::Platform;
use host_test::stock::{wasmtime_cli, Served, INSTANCE_REUSE};
use std::time::Duration;

use common::agent_http::{
    lookups, push, push_peers, pushers_listing, pushes_are_labelled, settled, stats, workspaces_with_pushers,
};
use serde_json::json;

async fn served(platform: &Platform) -> Served {
    served_with(platform, &[], &[]).await
}

async fn served_with(platform: &Platform, more_env: &[(&str, &str)], flags: &[&str]) -> Served {
    let url = platform.url();
    let mut env = vec![("WORKSPACE_ID", ME), ("PLATFORM_URL", url.as_str()), ("WORKSPACE_TOKEN", ME_TOKEN)];
    env.extend_from_slice(more_env);
    Served::start_with(&agent_path(), &env, flags).await.expect("wasmtime serve runs the composed agent")
}

/// With instance reuse the agent keeps its client: 1 000 pushes from 10
/// peers cost 10 registry lookups, and every push after a peer's first is
/// labelled with its name.
#[tokio::test(flavor = "multi_thread")]
async fn a_reused_instance_labels_pushes_from_its_cache() {
    let platform = Platform::start(workspaces_with_pushers()).await.unwrap();
    let agent = served_with(&platform, &[], &INSTANCE_REUSE).await;
    let seen = pushes_are_labelled(agent.addr, &platform, 1000).await;
    println!("wasmtime serve {INSTANCE_REUSE:?}: {seen:?}");
    assert!(seen.instances >= 1);
    // One lookup per peer per instance, never more: a warm instance labels
    // from its cache. (A request that arrives while the one before it is
    // still returning makes `wasmtime serve` start another WASI 0.2
    // instance, with a cache of its own: rare, and counted here.)
    assert_eq!(seen.lookups, seen.cold_pairs, "{seen:?}");
    assert!(seen.lookups <= 10 * seen.instances, "{seen:?}");
    // Only a late instance may still have its first lookups in flight, and
    // its first push from each peer finds its cache cold.
    let late = 10 * (seen.instances - 1);
    assert!(seen.unlabelled_warm <= late, "{seen:?}");
    assert!(seen.labelled_after_first >= 990usize.saturating_sub(2 * late), "{seen:?}");
    // Delegation still works on the kept client.
    common::agent_http::serves_delegation_peers_and_errors(agent.addr, &platform, &pushers_listing()).await;
    agent.stop().await.unwrap();
}

/// The CLI's default for a WASI 0.2 component is a fresh instance per
/// request: the client, its cache and the lookup a push starts die with the
/// request, so no push is ever labelled. (Why the docs say to reuse.)
#[tokio::test(flavor = "multi_thread")]
async fn without_reuse_every_push_finds_a_cold_cache() {
    let platform = Platform::start(workspaces_with_pushers()).await.unwrap();
    let agent = served(&platform).await;
    let seen = pushes_are_labelled(agent.addr, &platform, 40).await;
    println!("wasmtime serve, default instance lifetime: {seen:?}");
    assert_eq!((seen.instances, seen.labelled_after_first), (40, 0), "{seen:?}");
    assert_eq!(stats(agent.addr).await["hits"], 0);
    agent.stop().await.unwrap();
}

/// A push a few milliseconds after the previous answer: the instance has
/// returned by then, so `wasmtime serve` reuses it rather than starting
/// another (see `a_reused_instance_labels_pushes_from_its_cache`).
async fn calm_push(agent: std::net::SocketAddr, from: &(String, String, String)) -> serde_json::Value {
    tokio::time::sleep(Duration::from_millis(20)).await;
    push(agent, from).await
}

/// A record expires after its TTL (`CACHE_TTL_MS`) and is fetched again;
/// an instance the host drops when idle takes the cache with it, and the
/// next one starts cold and still answers correctly.
#[tokio::test(flavor = "multi_thread")]
async fn records_expire_and_a_recycled_instance_starts_cold() {
    let platform = Platform::start(workspaces_with_pushers()).await.unwrap();
    let flags = ["--max-instance-reuse-count", "100000", "--idle-instance-timeout", "2s"];
    let agent = served_with(&platform, &[("CACHE_TTL_MS", "700")], &flags).await;
    let peer = &push_peers()[0];
    let labelled = || json!({"id": peer.0, "name": peer.1, "role": peer.2});

    assert!(calm_push(agent.addr, peer).await.is_null(), "a cold cache labels nothing");
    settled(agent.addr).await;
    assert_eq!(calm_push(agent.addr, peer).await, labelled());
    assert_eq!(lookups(&platform), 1);

    // Past the TTL, same instance (its hit is still counted): fetched again.
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(stats(agent.addr).await["hits"], 1);
    assert!(calm_push(agent.addr, peer).await.is_null(), "an expired record is not served");
    settled(agent.addr).await;
    assert_eq!(calm_push(agent.addr, peer).await, labelled());
    assert_eq!(lookups(&platform), 2);

    // Idle past the host's timeout: a new instance, cold.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let fresh = stats(agent.addr).await;
    assert_eq!((fresh["hits"].as_u64(), fresh["entries"].as_u64()), (Some(0), Some(0)), "{fresh}");
    assert!(calm_push(agent.addr, peer).await.is_null());
    settled(agent.addr).await;
    assert_eq!(calm_push(agent.addr, peer).await, labelled());
    assert_eq!(lookups(&platform), 3);
    agent.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_serve_runs_the_composed_agent() {
    let platform = Platform::start(workspaces()).await.unwrap();
    let agent = served(&platform).await;

    common::agent_http::serves_delegation_peers_and_errors(agent.addr, &platform, &common::agent_http::my_peers())
        .await;
    common::agent_http::delegates_texts_of_every_size(agent.addr, &platform).await;

    let stderr = agent.stop().await.unwrap();
    assert!(!stderr.contains(ME_TOKEN), "token in wasmtime's output: {stderr}");
}

#[tokio::test]
async fn the_stock_cli_compiles_the_bare_client_component() {
    let out_dir = std::env::temp_dir().join(format!("a2a-stock-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let cwasm = out_dir.join("a2a_client.cwasm");
    let out = tokio::process::Command::new(wasmtime_cli().unwrap())
        .arg("compile")
        .arg(component_path())
        .arg("-o")
        .arg(&cwasm)
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::metadata(&cwasm).unwrap().len() > 100_000);
    std::fs::remove_dir_all(&out_dir).ok();
}
