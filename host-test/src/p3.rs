//! A WASI 0.3 host for the `a2a-client-async` component: wasmtime with the
//! component model's async ABI, WASI 0.3 and `wasi:http@0.3.0` (and the WASI
//! 0.2 interfaces Rust's standard library links), one instance per
//! [`AsyncInstance`]. Its calls run inside [`AsyncInstance::run`]
//! (`Store::run_concurrent`), so a test can have several in flight at once
//! on one instance, as `wasmtime serve -S p3` does with requests.

use std::path::Path;

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Result, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::faults::TransportFaults;

/// Bindings of the `a2a-client-async` world (`wit/async/`).
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/async",
        world: "a2a-client-async",
        exports: { default: async | store },
        with: {
            "wasi:http": wasmtime_wasi_http::p3::bindings::http,
            "wasi:clocks": wasmtime_wasi::p3::bindings::clocks,
            "wasi:random": wasmtime_wasi::p3::bindings::random,
        },
    });
}

pub use bindings::exports::a2a::client_async::api;
use bindings::A2aClientAsync;
/// What a test's calls go through, and the handles they get (a client, a stream).
pub use wasmtime::component::{Accessor, ResourceAny};

/// The store data of one instance.
pub struct AsyncHost {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: TransportFaults,
}

impl WasiView for AsyncHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for AsyncHost {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

/// One instance of the WASI 0.3 client component and its store.
pub struct AsyncInstance {
    store: Store<AsyncHost>,
    bindings: A2aClientAsync,
}

impl AsyncInstance {
    /// Compiles the component at `path` and makes an instance of it; its
    /// requests pass through `faults` (their log, their faults).
    pub async fn load(path: &Path, faults: TransportFaults) -> Result<Self> {
        let mut config = crate::harness::engine_config();
        config.wasm_component_model_async(true);
        let engine = Engine::new(&config)?;
        let component = Component::from_file(&engine, path)?;
        let mut linker = Linker::<AsyncHost>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi::p3::add_to_linker(&mut linker)?;
        wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
        let host = AsyncHost {
            wasi: WasiCtxBuilder::new().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: faults,
        };
        let mut store = Store::new(&engine, host);
        let bindings = A2aClientAsync::instantiate_async(&mut store, &component, &linker).await?;
        Ok(Self { store, bindings })
    }

    /// Runs `calls` on this instance: the calls it makes through the
    /// accessor and the API may run concurrently (join them).
    pub async fn run<R: Send>(
        &mut self,
        calls: impl AsyncFnOnce(&Accessor<AsyncHost>, &api::Guest) -> R + Send,
    ) -> Result<R> {
        let api = self.bindings.a2a_client_async_api();
        self.store.run_concurrent(async |accessor| calls(accessor, api).await).await
    }

    /// Drops a resource the instance handed out (a client, a stream): its
    /// destructor runs in the guest.
    pub async fn drop_resource(&mut self, resource: ResourceAny) -> Result<()> {
        resource.resource_drop_async(&mut self.store).await
    }
}
