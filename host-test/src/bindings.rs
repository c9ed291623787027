//! Host bindings of the `a2a-client` world, generated from the same `wit/`
//! the guest is built from. WASI types map to wasmtime-wasi's own bindings.

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
