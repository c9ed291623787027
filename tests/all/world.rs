//! The built component itself: its world, its imports, its size.

use host_test::harness::{component_path, wit_dir};
use host_test::world::{check_targets, component_world};

#[test]
fn component_targets_the_a2a_client_world_and_imports_only_wasi() {
    let wasm = std::fs::read(component_path()).unwrap();
    check_targets(&wit_dir(), "a2a-client", &wasm).expect("the component targets a2a:client/a2a-client");
    let world = component_world(&wasm).unwrap();
    println!("imports: {:#?}\nexports: {:#?}", world.imports, world.exports);
    assert_eq!(world.exports, ["a2a:client/api@0.4.0"]);
    assert!(!world.imports.is_empty());
    for import in &world.imports {
        assert!(import.starts_with("wasi:") && import.contains("@0.2."), "non-WASI-0.2 import {import}");
        assert!(!import.starts_with("wasi:config") && !import.starts_with("wasi:logging"), "{import}");
    }
    assert!(world.imports.iter().any(|i| i.starts_with("wasi:http/outgoing-handler@")));
}

#[test]
fn the_composed_agent_serves_http_and_imports_only_wasi() {
    let wasm = std::fs::read(host_test::harness::agent_path()).unwrap();
    let world = component_world(&wasm).unwrap();
    println!("imports: {:#?}\nexports: {:#?}", world.imports, world.exports);
    assert_eq!(world.exports, ["wasi:http/incoming-handler@0.2.12"]);
    for import in &world.imports {
        assert!(import.starts_with("wasi:") && import.contains("@0.2."), "the client import was not plugged: {import}");
    }
    assert!(world.imports.iter().any(|i| i.starts_with("wasi:http/outgoing-handler@")));
    assert!(world.imports.iter().any(|i| i.starts_with("wasi:cli/environment@")));
}

#[test]
fn the_wasmcloud_agent_reads_wasi_config_instead_of_the_environment() {
    let wasm = std::fs::read(host_test::harness::wasmcloud_agent_path()).unwrap();
    let world = component_world(&wasm).unwrap();
    println!("imports: {:#?}\nexports: {:#?}", world.imports, world.exports);
    assert_eq!(world.exports, ["wasi:http/incoming-handler@0.2.12"]);
    assert!(world.imports.iter().all(|i| i.starts_with("wasi:")), "the client import was not plugged");
    assert!(world.imports.iter().any(|i| i == "wasi:config/store@0.2.0-draft"));
}
