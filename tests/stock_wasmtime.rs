//! The components under the stock `wasmtime` CLI (48.0.8, installed by
//! `.ci/run`): the example agent composed with the client, served by
//! `wasmtime serve -S cli`, driven over plain HTTP against the embedded
//! platform; and the bare client component compiled by the stock CLI.

mod common;

use common::*;
use host_test::harness::{agent_path, component_path};
use host_test::platform::Platform;
use host_test::stock::{wasmtime_cli, Served};

async fn served(platform: &Platform) -> Served {
    let url = platform.url();
    let env = [("WORKSPACE_ID", ME), ("PLATFORM_URL", url.as_str()), ("WORKSPACE_TOKEN", ME_TOKEN)];
    Served::start(&agent_path(), &env).await.expect("wasmtime serve runs the composed agent")
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_serve_runs_the_composed_agent() {
    let platform = Platform::start(workspaces()).await.unwrap();
    let agent = served(&platform).await;

    common::agent_http::serves_delegation_peers_and_errors(agent.addr, &platform).await;
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

#[test]
fn the_readme_shows_the_wit_wasm_tools_prints() {
    let out = std::process::Command::new(host_test::stock::wasm_tools_cli().unwrap())
        .args(["component", "wit"])
        .arg(component_path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(printed.contains("export a2a:client/api@0.1.0;"), "{printed}");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let lines = printed.lines().count();
    assert!(
        readme.contains(&format!("```wit\n{}\n```", printed.trim_end())),
        "README's wasm-tools block is stale: replace it with the output of `wasm-tools component wit` ({lines} lines)"
    );
    assert!(readme.contains(&format!("a2a_client.wasm ({lines} lines)")));
}
