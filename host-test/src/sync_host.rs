//! The same component on a synchronous store, for hosts that embed the client
//! without an async runtime of their own (`async_support` off).
//!
//! A call on an async store runs the guest on a fiber and polls it as a
//! future; a synchronous call enters the guest directly, which is what the
//! cache-hit figure in `examples/cache.rs` compares. `wasi:http` still works:
//! wasmtime-wasi-http's sync bindings run each request on tokio underneath
//! (`in_tokio`), so calls that do I/O must not be made from inside an async
//! task (use `spawn_blocking` or a plain thread).

use std::path::Path;

use wasmtime::component::{Component, Linker, ResourceAny, ResourceTable};
use wasmtime::{Engine, Result, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

mod generated {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "a2a-client",
        with: {
            "wasi:io": wasmtime_wasi::p2::bindings::sync::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "wasi:random": wasmtime_wasi::p2::bindings::random,
            "wasi:cli": wasmtime_wasi::p2::bindings::cli,
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        },
    });
}

use generated::exports::a2a::client::api::{CallOptions, Config, Peer};
use generated::{A2aClient, A2aClientPre};

/// Store data of a synchronous instance.
pub struct SyncHost {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
}

impl WasiView for SyncHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for SyncHost {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: wasmtime_wasi_http::default_hooks() }
    }
}

/// One instance of the component on a synchronous store.
pub struct SyncInstance {
    store: Store<SyncHost>,
    bindings: A2aClient,
}

impl SyncInstance {
    /// Compiles the component at `path` on an engine without async support,
    /// links WASI and `wasi:http` synchronously and instantiates it.
    pub fn load(path: &Path) -> Result<Self> {
        let engine = Engine::new(&crate::harness::engine_config())?;
        let component = Component::from_file(&engine, path)?;
        let mut linker = Linker::<SyncHost>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)?;
        let pre = A2aClientPre::new(linker.instantiate_pre(&component)?)?;
        let host =
            SyncHost { wasi: WasiCtxBuilder::new().build(), http: WasiHttpCtx::new(), table: ResourceTable::new() };
        let mut store = Store::new(&engine, host);
        let bindings = pre.instantiate(&mut store)?;
        Ok(Self { store, bindings })
    }

    /// `client` constructor with the given workspace and platform URL; a
    /// config error comes back as its message.
    pub fn client(
        &mut self,
        workspace_id: &str,
        platform_url: &str,
    ) -> Result<std::result::Result<ResourceAny, String>> {
        let config = Config {
            workspace_id: workspace_id.into(),
            platform_url: Some(platform_url.into()),
            credentials: Vec::new(),
            timeouts: None,
            max_body_bytes: None,
            protocol: None,
            cache: None,
            retry: None,
        };
        let api = self.bindings.a2a_client_api();
        Ok(api.client().call_constructor(&mut self.store, &config)?.map_err(|e| e.message))
    }

    /// `client.enrich-peer-metadata`.
    pub fn enrich(&mut self, client: ResourceAny, peer_id: &str) -> Result<Option<Peer>> {
        let api = self.bindings.a2a_client_api();
        api.client().call_enrich_peer_metadata(
            &mut self.store,
            client,
            peer_id,
            &CallOptions { source: None, protocol: None, extensions: Vec::new() },
        )
    }

    /// `client.peer-name`.
    pub fn peer_name(&mut self, client: ResourceAny, peer_id: &str) -> Result<Option<String>> {
        let api = self.bindings.a2a_client_api();
        api.client().call_peer_name(&mut self.store, client, peer_id, None)
    }

    /// `validate-peer-id`: the cost of an empty round trip.
    pub fn validate_peer_id(&mut self, id: &str) -> Result<Option<String>> {
        self.bindings.a2a_client_api().call_validate_peer_id(&mut self.store, id)
    }
}
