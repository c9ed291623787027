//! Loads the component once and instantiates it cheaply, with typed calls.
//!
//! [`Harness`] compiles the component and pre-instantiates it against
//! wasmtime-wasi and wasmtime-wasi-http; each [`Instance`] is a fresh store
//! (own memory, own clients, own cache) built from that pre-instance. The
//! guest gets `wasi:http` and clocks/random, and nothing else: no
//! environment, no files, no sockets, no inherited stdio.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use wasmtime::component::{Component, Linker, ResourceAny, ResourceTable};
use wasmtime::error::Context;
use wasmtime::Result;
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::bindings::{self, A2aClient, A2aClientPre, CallOptions};
use crate::clock::ManualClock;
use crate::faults::TransportFaults;

/// Where the guest `.wasm` is: `A2A_COMPONENT` when set, else the one the
/// build script just built from this checkout.
pub fn component_path() -> PathBuf {
    std::env::var_os("A2A_COMPONENT").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("A2A_GUEST_WASM")))
}

/// The example agent (`agent/`) composed with the client: one component
/// that exports `wasi:http/incoming-handler` and reads its configuration
/// from the environment (built by `build.rs`).
pub fn agent_path() -> PathBuf {
    PathBuf::from(env!("A2A_AGENT_WASM"))
}

/// The wasmCloud variant of the composed agent: configured through
/// `wasi:config/store@0.2.0-draft` instead of the environment.
pub fn wasmcloud_agent_path() -> PathBuf {
    PathBuf::from(env!("A2A_AGENT_WASMCLOUD_WASM"))
}

/// The WASI 0.3 agent composed with the WASI 0.3 client: one component that
/// exports `wasi:http/handler@0.3.0` (built by `build.rs`).
pub fn agent_async_path() -> PathBuf {
    PathBuf::from(env!("A2A_AGENT_ASYNC_WASM"))
}

/// The WASI 0.3 client component (world `a2a-client-async`).
pub fn client_async_path() -> PathBuf {
    PathBuf::from(env!("A2A_GUEST_ASYNC_WASM"))
}

/// The `wit/` directory the component and these bindings come from.
pub fn wit_dir() -> PathBuf {
    PathBuf::from(env!("A2A_WIT_DIR"))
}

/// The store data of one instance.
pub struct Host {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: TransportFaults,
    memory: MemoryWatch,
}

/// Watches the guest's linear memory grow (a store limiter that allows
/// everything and remembers the sizes).
#[derive(Default)]
struct MemoryWatch {
    bytes: usize,
}

impl wasmtime::ResourceLimiter for MemoryWatch {
    fn memory_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> Result<bool> {
        self.bytes = self.bytes.max(desired);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, _desired: usize, _max: Option<usize>) -> Result<bool> {
        Ok(true)
    }
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

/// A compiled, pre-instantiated component.
pub struct Harness {
    engine: Engine,
    pre: A2aClientPre<Host>,
}

/// How to set up one instance.
#[derive(Clone)]
pub struct InstanceOptions {
    /// A controllable clock; `None` uses the real clocks.
    pub clock: Option<ManualClock>,
    /// Transport hooks (fault injection and request log). The default passes
    /// every request through and keeps no log ([`TransportFaults::quiet`]).
    pub faults: TransportFaults,
}

impl Default for InstanceOptions {
    fn default() -> Self {
        Self { clock: None, faults: TransportFaults::quiet() }
    }
}

/// The engine configuration of every host here: wasmtime's defaults, plus a
/// perf map of the guest's compiled code (`/tmp/perf-<pid>.map`) when
/// `A2A_PERFMAP` is set, so that `perf report` on a benchmark names the
/// guest's functions.
pub fn engine_config() -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    if std::env::var_os("A2A_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config
}

impl Harness {
    /// Compiles the component at `path` and links it.
    pub fn load(path: &Path) -> Result<Self> {
        let engine = Engine::new(&engine_config())?;
        let component =
            Component::from_file(&engine, path).with_context(|| format!("loading the component {}", path.display()))?;
        let mut linker = Linker::<Host>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        let pre = A2aClientPre::new(linker.instantiate_pre(&component)?)?;
        Ok(Self { engine, pre })
    }

    /// The harness of this process, loading [`component_path`] on first use.
    pub fn shared() -> &'static Harness {
        static SHARED: OnceLock<Harness> = OnceLock::new();
        SHARED.get_or_init(|| Harness::load(&component_path()).expect("loading the a2a-client component"))
    }

    /// A fresh instance.
    pub async fn instantiate(&self, options: InstanceOptions) -> Result<Instance> {
        let mut wasi = WasiCtxBuilder::new();
        if let Some(clock) = &options.clock {
            wasi.monotonic_clock(clock.clone()).wall_clock(clock.clone());
        }
        let host = Host {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: options.faults.clone(),
            memory: MemoryWatch::default(),
        };
        let mut store = Store::new(&self.engine, host);
        store.limiter(|host| &mut host.memory);
        let bindings = self.pre.instantiate_async(&mut store).await?;
        Ok(Instance { store, bindings })
    }
}

/// One instance of the component and its store.
pub struct Instance {
    store: Store<Host>,
    bindings: A2aClient,
}

/// A `client` resource living in an [`Instance`].
#[derive(Clone, Copy, Debug)]
pub struct Client(ResourceAny);

/// An `event-stream` resource living in an [`Instance`].
#[derive(Clone, Copy, Debug)]
pub struct EventStream(ResourceAny);

type Call<T> = Result<Result<T, bindings::Error>>;

impl Instance {
    /// `validate-peer-id`.
    pub async fn validate_peer_id(&mut self, id: &str) -> Result<Option<String>> {
        self.bindings.a2a_client_api().call_validate_peer_id(&mut self.store, id).await
    }

    /// `client` constructor.
    pub async fn client(&mut self, config: &bindings::Config) -> Call<Client> {
        let api = self.bindings.a2a_client_api();
        Ok(api.client().call_constructor(&mut self.store, config).await?.map(Client))
    }

    /// `client.set-token`.
    pub async fn set_token(&mut self, c: Client, workspace_id: &str, token: Option<&str>) -> Call<()> {
        let api = self.bindings.a2a_client_api();
        api.client().call_set_token(&mut self.store, c.0, workspace_id, token).await
    }

    /// `client.discover-peer`, as `source`.
    pub async fn discover_peer(&mut self, c: Client, peer_id: &str, source: Option<&str>) -> Call<bindings::Peer> {
        let api = self.bindings.a2a_client_api();
        api.client().call_discover_peer(&mut self.store, c.0, peer_id, &CallOptions::source(source)).await
    }

    /// `client.peers`, as `source`.
    pub async fn peers(&mut self, c: Client, query: Option<&str>, source: Option<&str>) -> Call<Vec<bindings::Peer>> {
        let api = self.bindings.a2a_client_api();
        api.client().call_peers(&mut self.store, c.0, query, &CallOptions::source(source)).await
    }

    /// `client.workspace-info`, as `source`.
    pub async fn workspace_info(&mut self, c: Client, source: Option<&str>) -> Call<bindings::Workspace> {
        let api = self.bindings.a2a_client_api();
        api.client().call_workspace_info(&mut self.store, c.0, &CallOptions::source(source)).await
    }

    /// `client.agent-card-url`.
    pub async fn agent_card_url(&mut self, c: Client, peer_id: &str) -> Call<String> {
        let api = self.bindings.a2a_client_api();
        api.client().call_agent_card_url(&mut self.store, c.0, peer_id).await
    }

    /// `client.enrich-peer-metadata`, as `source`.
    pub async fn enrich(&mut self, c: Client, peer_id: &str, source: Option<&str>) -> Result<Option<bindings::Peer>> {
        let api = self.bindings.a2a_client_api();
        api.client().call_enrich_peer_metadata(&mut self.store, c.0, peer_id, &CallOptions::source(source)).await
    }

    /// `client.enrich-peer-metadata-nonblocking`, as `source`.
    pub async fn enrich_nonblocking(
        &mut self,
        c: Client,
        peer_id: &str,
        source: Option<&str>,
    ) -> Result<Option<bindings::Peer>> {
        let api = self.bindings.a2a_client_api();
        let options = CallOptions::source(source);
        api.client().call_enrich_peer_metadata_nonblocking(&mut self.store, c.0, peer_id, &options).await
    }

    /// `client.await-enrichment`.
    pub async fn await_enrichment(&mut self, c: Client, timeout_ms: u32) -> Result<u32> {
        let api = self.bindings.a2a_client_api();
        api.client().call_await_enrichment(&mut self.store, c.0, timeout_ms).await
    }

    /// `client.peer-name`.
    pub async fn peer_name(&mut self, c: Client, peer_id: &str, source: Option<&str>) -> Result<Option<String>> {
        let api = self.bindings.a2a_client_api();
        api.client().call_peer_name(&mut self.store, c.0, peer_id, source).await
    }

    /// `client.routed-source`.
    pub async fn routed_source(&mut self, c: Client, peer_id: &str) -> Result<Option<String>> {
        let api = self.bindings.a2a_client_api();
        api.client().call_routed_source(&mut self.store, c.0, peer_id).await
    }

    /// `client.stats`.
    pub async fn stats(&mut self, c: Client) -> Result<bindings::CacheStats> {
        let api = self.bindings.a2a_client_api();
        api.client().call_stats(&mut self.store, c.0).await
    }

    /// `client.send-message`, as `source` in the config's A2A version.
    pub async fn send_message(
        &mut self,
        c: Client,
        peer_id: &str,
        text: &str,
        source: Option<&str>,
    ) -> Call<bindings::Reply> {
        self.send_message_with(c, peer_id, text, &CallOptions::source(source)).await
    }

    /// `client.send-message` with all its options.
    pub async fn send_message_with(
        &mut self,
        c: Client,
        peer_id: &str,
        text: &str,
        options: &bindings::CallOptions,
    ) -> Call<bindings::Reply> {
        let api = self.bindings.a2a_client_api();
        api.client().call_send_message(&mut self.store, c.0, peer_id, text, options).await
    }

    /// `send`: any message (parts, a task or context to continue, metadata).
    pub async fn send(
        &mut self,
        c: Client,
        peer_id: &str,
        message: &bindings::OutgoingMessage,
        options: &bindings::CallOptions,
    ) -> Call<bindings::Reply> {
        let api = self.bindings.a2a_client_api();
        api.client().call_send(&mut self.store, c.0, peer_id, message, options).await
    }

    /// `send-stream`.
    pub async fn send_stream(
        &mut self,
        c: Client,
        peer_id: &str,
        message: &bindings::OutgoingMessage,
        options: &bindings::CallOptions,
    ) -> Call<EventStream> {
        let api = self.bindings.a2a_client_api();
        Ok(api.client().call_send_stream(&mut self.store, c.0, peer_id, message, options).await?.map(EventStream))
    }

    /// `extended-agent-card`.
    pub async fn extended_agent_card(
        &mut self,
        c: Client,
        peer_id: &str,
        options: &bindings::CallOptions,
    ) -> Call<bindings::AgentCard> {
        let api = self.bindings.a2a_client_api();
        api.client().call_extended_agent_card(&mut self.store, c.0, peer_id, options).await
    }

    /// `create-push-config`.
    pub async fn create_push_config(
        &mut self,
        c: Client,
        peer_id: &str,
        config: &bindings::NewPushConfig,
        options: &bindings::CallOptions,
    ) -> Call<bindings::PushConfig> {
        let api = self.bindings.a2a_client_api();
        api.client().call_create_push_config(&mut self.store, c.0, peer_id, config, options).await
    }

    /// `get-push-config`.
    pub async fn get_push_config(
        &mut self,
        c: Client,
        (peer_id, task_id, config_id): (&str, &str, &str),
        options: &bindings::CallOptions,
    ) -> Call<bindings::PushConfig> {
        let api = self.bindings.a2a_client_api();
        api.client().call_get_push_config(&mut self.store, c.0, peer_id, task_id, config_id, options).await
    }

    /// `list-push-configs`.
    pub async fn list_push_configs(
        &mut self,
        c: Client,
        peer_id: &str,
        task_id: &str,
        options: &bindings::CallOptions,
    ) -> Call<Vec<bindings::PushConfig>> {
        let api = self.bindings.a2a_client_api();
        api.client().call_list_push_configs(&mut self.store, c.0, peer_id, task_id, options).await
    }

    /// `delete-push-config`.
    pub async fn delete_push_config(
        &mut self,
        c: Client,
        (peer_id, task_id, config_id): (&str, &str, &str),
        options: &bindings::CallOptions,
    ) -> Call<()> {
        let api = self.bindings.a2a_client_api();
        api.client().call_delete_push_config(&mut self.store, c.0, peer_id, task_id, config_id, options).await
    }

    /// `list-tasks`.
    pub async fn list_tasks(
        &mut self,
        c: Client,
        peer_id: &str,
        query: &bindings::TaskQuery,
        options: &bindings::CallOptions,
    ) -> Call<bindings::TaskPage> {
        let api = self.bindings.a2a_client_api();
        api.client().call_list_tasks(&mut self.store, c.0, peer_id, query, options).await
    }

    /// `subscribe-to-task`.
    pub async fn subscribe_to_task(
        &mut self,
        c: Client,
        peer_id: &str,
        task_id: &str,
        options: &bindings::CallOptions,
    ) -> Call<EventStream> {
        let api = self.bindings.a2a_client_api();
        Ok(api.client().call_subscribe_to_task(&mut self.store, c.0, peer_id, task_id, options).await?.map(EventStream))
    }

    /// `send-many`.
    pub async fn send_many(
        &mut self,
        c: Client,
        targets: &[bindings::SendTarget],
        options: &bindings::CallOptions,
    ) -> Call<Vec<Result<bindings::Reply, bindings::Error>>> {
        let api = self.bindings.a2a_client_api();
        api.client().call_send_many(&mut self.store, c.0, targets, options).await
    }

    /// `send-message-stream`.
    pub async fn send_message_stream(
        &mut self,
        c: Client,
        peer_id: &str,
        text: &str,
        options: &bindings::CallOptions,
    ) -> Call<EventStream> {
        let api = self.bindings.a2a_client_api();
        Ok(api.client().call_send_message_stream(&mut self.store, c.0, peer_id, text, options).await?.map(EventStream))
    }

    /// `event-stream.next-event`.
    pub async fn next_event(&mut self, s: EventStream) -> Call<Option<bindings::StreamEvent>> {
        let api = self.bindings.a2a_client_api();
        api.event_stream().call_next_event(&mut self.store, s.0).await
    }

    /// `event-stream.protocol`.
    pub async fn stream_protocol(&mut self, s: EventStream) -> Result<bindings::Protocol> {
        let api = self.bindings.a2a_client_api();
        api.event_stream().call_protocol(&mut self.store, s.0).await
    }

    /// `event-stream.resumes`.
    pub async fn stream_resumes(&mut self, s: EventStream) -> Result<u32> {
        let api = self.bindings.a2a_client_api();
        api.event_stream().call_resumes(&mut self.store, s.0).await
    }

    /// `event-stream.activated-extensions`.
    pub async fn stream_extensions(&mut self, s: EventStream) -> Result<Vec<String>> {
        let api = self.bindings.a2a_client_api();
        api.event_stream().call_activated_extensions(&mut self.store, s.0).await
    }

    /// `event-stream.subscribe`, as a host that multiplexes uses it: whether
    /// the pollable is ready at once, then (when `block`) waits on it. The
    /// pollable is dropped before returning, as the WIT asks.
    pub async fn stream_pollable(&mut self, s: EventStream, block: bool) -> Result<bool> {
        use wasmtime_wasi::p2::bindings::io::poll::HostPollable;
        let api = self.bindings.a2a_client_api();
        let pollable = api.event_stream().call_subscribe(&mut self.store, s.0).await?;
        let table = &mut self.store.data_mut().table;
        let borrowed = |p: &wasmtime::component::Resource<_>| wasmtime::component::Resource::new_borrow(p.rep());
        let ready = HostPollable::ready(table, borrowed(&pollable)).await?;
        if block && !ready {
            HostPollable::block(table, borrowed(&pollable)).await?;
        }
        HostPollable::drop(table, pollable)?;
        Ok(ready)
    }

    /// `event-stream.subscribe`, the pollable kept by the host (for a host
    /// that waits on it across several `next-event` calls).
    pub async fn hold_stream_pollable(
        &mut self,
        s: EventStream,
    ) -> Result<wasmtime::component::Resource<wasmtime_wasi::p2::DynPollable>> {
        let api = self.bindings.a2a_client_api();
        api.event_stream().call_subscribe(&mut self.store, s.0).await
    }

    /// Drops a pollable [`Instance::hold_stream_pollable`] gave.
    pub fn drop_pollable(&mut self, p: wasmtime::component::Resource<wasmtime_wasi::p2::DynPollable>) -> Result<()> {
        use wasmtime_wasi::p2::bindings::io::poll::HostPollable;
        HostPollable::drop(&mut self.store.data_mut().table, p)
    }

    /// Drops an event-stream resource (closing its connection).
    pub async fn drop_stream(&mut self, s: EventStream) -> Result<()> {
        s.0.resource_drop_async(&mut self.store).await
    }

    /// Every event of a stream, until it ends or fails; dropped after.
    pub async fn drain_stream(
        &mut self,
        s: EventStream,
    ) -> Result<(Vec<bindings::StreamEvent>, Option<bindings::Error>)> {
        let mut events = Vec::new();
        let end = loop {
            match self.next_event(s).await? {
                Ok(Some(event)) => events.push(event),
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        self.drop_stream(s).await?;
        Ok((events, end))
    }

    /// `get-task`.
    pub async fn get_task(
        &mut self,
        c: Client,
        peer_id: &str,
        task_id: &str,
        options: &bindings::CallOptions,
    ) -> Call<bindings::Task> {
        let api = self.bindings.a2a_client_api();
        api.client().call_get_task(&mut self.store, c.0, peer_id, task_id, options).await
    }

    /// `cancel-task`.
    pub async fn cancel_task(
        &mut self,
        c: Client,
        peer_id: &str,
        task_id: &str,
        options: &bindings::CallOptions,
    ) -> Call<bindings::Task> {
        let api = self.bindings.a2a_client_api();
        api.client().call_cancel_task(&mut self.store, c.0, peer_id, task_id, options).await
    }

    /// `agent-card`.
    pub async fn agent_card(&mut self, c: Client, peer_id: &str, source: Option<&str>) -> Call<bindings::AgentCard> {
        let api = self.bindings.a2a_client_api();
        api.client().call_agent_card(&mut self.store, c.0, peer_id, &CallOptions::source(source)).await
    }

    /// The guest's linear memory, in bytes (its largest size so far; wasm
    /// memory never shrinks).
    pub fn memory_bytes(&self) -> usize {
        self.store.data().memory.bytes
    }

    /// Drops a client resource.
    pub async fn drop_client(&mut self, c: Client) -> Result<()> {
        c.0.resource_drop_async(&mut self.store).await
    }
}

/// A config with only the workspace id and platform URL set.
pub fn config(workspace_id: &str, platform_url: Option<&str>) -> bindings::Config {
    bindings::Config {
        workspace_id: workspace_id.into(),
        platform_url: platform_url.map(Into::into),
        credentials: Vec::new(),
        timeouts: None,
        max_body_bytes: None,
        protocol: None,
        cache: None,
        retry: None,
    }
}
