//! What a built component imports and exports, read from the binary itself,
//! and whether it targets the `a2a-client` world of `wit/`.

use std::path::Path;

use wasmtime::error::format_err;
use wasmtime::Result;
use wit_parser::{Resolve, WorldItem, WorldKey};

/// The interfaces a component imports and exports, as `ns:pkg/iface@version`.
#[derive(Debug, Clone)]
pub struct ComponentWorld {
    /// Imported interface names, sorted.
    pub imports: Vec<String>,
    /// Exported interface names, sorted.
    pub exports: Vec<String>,
}

fn item_name(resolve: &Resolve, key: &WorldKey, item: &WorldItem) -> String {
    match (key, item) {
        (WorldKey::Interface(id), _) => resolve.id_of(*id).unwrap_or_else(|| format!("unnamed interface {id:?}")),
        (WorldKey::Name(name), WorldItem::Function(_)) => format!("function {name}"),
        (WorldKey::Name(name), _) => name.clone(),
    }
}

/// Decodes the component's own imports and exports.
pub fn component_world(wasm: &[u8]) -> Result<ComponentWorld> {
    let decoded = wit_component::decode(wasm).map_err(|e| format_err!("decoding the component: {e:#}"))?;
    let resolve = decoded.resolve();
    let world_id = resolve.packages[decoded.package()]
        .worlds
        .values()
        .next()
        .copied()
        .ok_or_else(|| format_err!("the decoded component has no world"))?;
    let world = &resolve.worlds[world_id];
    let list = |items: &wit_parser::IndexMap<WorldKey, WorldItem>| {
        let mut names: Vec<String> = items.iter().map(|(k, i)| item_name(resolve, k, i)).collect();
        names.sort();
        names
    };
    Ok(ComponentWorld { imports: list(&world.imports), exports: list(&world.exports) })
}

/// Checks that the component `wasm` targets `world` of the WIT package in
/// `wit_dir`: it exports what the world exports and imports nothing the
/// world does not (wit-component's `targets`).
pub fn check_targets(wit_dir: &Path, world: &str, wasm: &[u8]) -> Result<()> {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_dir(wit_dir).map_err(|e| format_err!("parsing {}: {e:#}", wit_dir.display()))?;
    let world = resolve.select_world(&[pkg], Some(world)).map_err(|e| format_err!("{e:#}"))?;
    wit_component::targets(&resolve, world, wasm).map_err(|e| format_err!("{e:#}"))
}
