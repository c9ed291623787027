//! Host bindings of the `a2a-client` world, generated from the same `wit/`
//! the guest is built from. WASI types map to wasmtime-wasi's own bindings.

// The `Default`s below are written out: the types are generated (see there).
#![allow(clippy::derivable_impls)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "a2a-client",
    exports: { default: async },
    with: {
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
        "wasi:cli": wasmtime_wasi::p2::bindings::cli,
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
    },
});

pub use exports::a2a::client::api::*;

// The records every field of which is optional start from `Default`, so a
// caller names only what it sets (`Timeouts { read_ms: Some(50), ..Default::default() }`).
// (bindgen's `additional_derives` would also put `Default` on the variants,
// which cannot have one; clippy cannot see that the types are generated.)

impl Default for CallOptions {
    fn default() -> Self {
        CallOptions { source: None, protocol: None, extensions: Vec::new() }
    }
}

impl CallOptions {
    /// Options naming only the source workspace.
    pub fn source(source: Option<&str>) -> Self {
        CallOptions { source: source.map(str::to_owned), ..Default::default() }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { read_ms: None, read_total_ms: None, enrich_ms: None, send_connect_ms: None, send_read_ms: None }
    }
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            max_entries: None,
            ttl_ms: None,
            negative_ttl_ms: None,
            transient_negative_ttl_ms: None,
            max_in_flight: None,
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: None,
            base_delay_ms: None,
            max_delay_ms: None,
            jitter_percent: None,
            total_budget_ms: None,
            budget_tokens: None,
            budget_refill_percent: None,
        }
    }
}

impl Default for OutgoingMessage {
    fn default() -> Self {
        OutgoingMessage {
            parts: Vec::new(),
            task_id: None,
            context_id: None,
            reference_task_ids: Vec::new(),
            metadata: None,
        }
    }
}

impl OutgoingMessage {
    /// A message of these parts.
    pub fn of(parts: Vec<Part>) -> Self {
        OutgoingMessage { parts, ..Default::default() }
    }

    /// A message of one text part.
    pub fn text(text: &str) -> Self {
        Self::of(vec![Part::Text(text.to_owned())])
    }
}

impl Default for TaskQuery {
    fn default() -> Self {
        TaskQuery { context_id: None, state: None, page_size: None, page_token: None, include_artifacts: false }
    }
}
