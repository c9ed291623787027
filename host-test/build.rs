//! Builds the guest component — and the example agent component composed
//! with it (wac-graph), in its environment-configured and its wasmCloud
//! (`wasi:config`) variant — before the host crate, so the harness, the tests and
//! the CLI never run a stale `.wasm`.
//!
//! The guest is built in release mode (the shipped artifact) into its own
//! target directory (`target/guest`), which keeps this nested cargo clear of
//! the outer build's lock. The `wasm32-wasip2` standard library must be
//! installed (`rustup target add wasm32-wasip2`; `bash .ci/run` does it): a
//! build does not change the user's toolchain, it says what to run.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    for path in [
        "src",
        "src/p3",
        "wit",
        "wit/async",
        "agent/src",
        "agent/wit",
        "agent/wit/async",
        "agent/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    require_target(&rustc);

    let target_dir = root.join("target").join("guest");
    let release = target_dir.join(TARGET).join("release");
    let guest_build = |extra: &[&str]| {
        let output = Command::new(&cargo)
            .current_dir(&root)
            .args(["build", "--release", "--locked", "--target", TARGET])
            .args(extra)
            .arg("--target-dir")
            .arg(&target_dir)
            // Flags meant for the host crate must not leak into the guest build.
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .expect("running cargo to build the guest");
        if !output.status.success() {
            panic!("building the guest components failed:\n{}", String::from_utf8_lossy(&output.stderr));
        }
    };

    // The WASI 0.3 variants first: their outputs share the WASI 0.2 ones'
    // names, so each is copied away (or composed) right after its build.
    guest_build(&["-p", "a2a-client", "-p", "a2a-agent", "--features", "a2a-client/p3,a2a-agent/p3"]);
    let client_async = release.join("a2a_client_async.wasm");
    copy(&release.join("a2a_client.wasm"), &client_async);
    println!("cargo:rustc-env=A2A_GUEST_ASYNC_WASM={}", client_async.display());
    let composed = release.join("a2a_agent_async_composed.wasm");
    compose(&release.join("a2a_agent.wasm"), &client_async, &composed, API_ASYNC, HANDLER_P3);
    println!("cargo:rustc-env=A2A_AGENT_ASYNC_WASM={}", composed.display());

    guest_build(&["-p", "a2a-client", "-p", "a2a-agent"]);
    let wasm = release.join("a2a_client.wasm");
    assert!(wasm.exists(), "guest build produced no {}", wasm.display());
    println!("cargo:rustc-env=A2A_GUEST_WASM={}", wasm.display());
    // The agent variants share one output name: compose each right after its build.
    let composed = release.join("a2a_agent_composed.wasm");
    compose(&release.join("a2a_agent.wasm"), &wasm, &composed, API, HANDLER);
    println!("cargo:rustc-env=A2A_AGENT_WASM={}", composed.display());
    guest_build(&["-p", "a2a-agent", "--features", "wasmcloud"]);
    let composed = release.join("a2a_agent_wasmcloud_composed.wasm");
    compose(&release.join("a2a_agent.wasm"), &wasm, &composed, API, HANDLER);
    println!("cargo:rustc-env=A2A_AGENT_WASMCLOUD_WASM={}", composed.display());
    println!("cargo:rustc-env=A2A_WIT_DIR={}", root.join("wit").display());
}

/// Stops the build with what to run when the wasm32-wasip2 standard library
/// is not installed (the guest cannot be built without it).
fn require_target(rustc: &str) {
    let libdir = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if libdir.as_deref().is_some_and(Path::exists) {
        return;
    }
    eprintln!(
        "error: the {TARGET} target is not installed, so the guest component cannot be built.\n\
         Run `rustup target add {TARGET}` (or `bash .ci/run`, which also installs what the tests use)."
    );
    std::process::exit(1);
}

/// The client interface the WASI 0.2 agent imports and the handler it exports;
const API: &str = "a2a:client/api@0.4.0";
const HANDLER: &str = "wasi:http/incoming-handler@0.2.12";
/// those of the WASI 0.3 agent.
const API_ASYNC: &str = "a2a:client-async/api@0.1.0";
const HANDLER_P3: &str = "wasi:http/handler@0.3.0";

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("copying {} to {}: {e}", from.display(), to.display()));
}

/// Plugs the client's `api` export into the agent's import: one component
/// that exports the agent's HTTP `handler` and imports only WASI.
fn compose(agent: &Path, client: &Path, out: &Path, api: &str, handler: &str) {
    use wac_graph::{types::Package, CompositionGraph, EncodeOptions};
    let fail = |what: &str, e: &dyn std::fmt::Display| -> ! { panic!("composing the agent: {what}: {e}") };
    let mut graph = CompositionGraph::new();
    let client =
        Package::from_file("a2a:client", None, client, graph.types_mut()).unwrap_or_else(|e| fail("client", &e));
    let client = graph.register_package(client).unwrap_or_else(|e| fail("register client", &e));
    let agent = Package::from_file("a2a:agent", None, agent, graph.types_mut()).unwrap_or_else(|e| fail("agent", &e));
    let agent = graph.register_package(agent).unwrap_or_else(|e| fail("register agent", &e));
    let client = graph.instantiate(client);
    let exported = graph.alias_instance_export(client, api).unwrap_or_else(|e| fail(api, &e));
    let agent = graph.instantiate(agent);
    graph.set_instantiation_argument(agent, api, exported).unwrap_or_else(|e| fail("plug", &e));
    let served = graph.alias_instance_export(agent, handler).unwrap_or_else(|e| fail(handler, &e));
    graph.export(served, handler).unwrap_or_else(|e| fail("export", &e));
    let bytes = graph.encode(EncodeOptions::default()).unwrap_or_else(|e| fail("encode", &e));
    std::fs::write(out, bytes).unwrap_or_else(|e| fail("write", &e));
}
