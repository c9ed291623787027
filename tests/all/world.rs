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

/// The WASI 0.3 client: it exports `a2a:client-async/api` and sends over
/// `wasi:http/client@0.3.0`; composed with the WASI 0.3 agent, it serves
/// `wasi:http/handler@0.3.0` and imports only WASI.
#[test]
fn the_wasi_0_3_components_export_their_worlds_and_import_only_wasi() {
    let wasm = std::fs::read(host_test::harness::client_async_path()).unwrap();
    let world = component_world(&wasm).unwrap();
    println!("client imports: {:#?}\nexports: {:#?}", world.imports, world.exports);
    assert_eq!(world.exports, ["a2a:client-async/api@0.1.0"]);
    assert!(world.imports.iter().all(|i| i.starts_with("wasi:")), "{:?}", world.imports);
    assert!(world.imports.iter().any(|i| i == "wasi:http/client@0.3.0"), "{:?}", world.imports);
    assert!(!world.imports.iter().any(|i| i.starts_with("wasi:http/outgoing-handler")), "{:?}", world.imports);

    let wasm = std::fs::read(host_test::harness::agent_async_path()).unwrap();
    let world = component_world(&wasm).unwrap();
    println!("agent imports: {:#?}\nexports: {:#?}", world.imports, world.exports);
    assert_eq!(world.exports, ["wasi:http/handler@0.3.0"]);
    assert!(
        world.imports.iter().all(|i| i.starts_with("wasi:")),
        "the client import was not plugged: {:?}",
        world.imports
    );
}

/// The WASI 0.3 API's types are the WASI 0.2 API's, word for word (the
/// async interface copies them: a type cannot be shared between the two
/// worlds without importing the other's functions).
#[test]
fn the_async_api_types_are_the_api_types() {
    let wit = std::fs::read_to_string(wit_dir().join("a2a-client.wit")).unwrap();
    let async_wit = std::fs::read_to_string(wit_dir().join("async/a2a-client-async.wit")).unwrap();
    let start = wit.find("    /// Check that `id` is a workspace id").unwrap();
    let end = wit.find("    /// The events of a streamed reply").unwrap();
    let types = wit[start..end].trim_end();
    assert!(types.len() > 10_000 && types.contains("record error {"));
    assert!(async_wit.contains(types), "wit/async/a2a-client-async.wit's types differ from wit/a2a-client.wit's");
}
