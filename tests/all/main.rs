//! The integration tests: the real `.wasm` components through the harness
//! (`host-test`), under the stock `wasmtime` CLI, on a wasmCloud host and
//! against the official `a2a-sdk` server, all over loopback HTTP. One test
//! binary (one link of wasmtime), one module per concern.

mod common;

mod a2a_errors;
mod a2a_sdk;
mod cache;
mod failures;
mod framing;
mod hardening;
mod hostile;
mod messaging;
mod read_paths;
mod send_many;
mod stock_wasmtime;
mod streaming;
mod wasip3;
mod wasmcloud;
mod world;
