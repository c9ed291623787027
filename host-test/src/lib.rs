//! `host-test`: a wasmtime host for the `a2a-client` component.
//!
//! - [`harness`]: compile once, pre-instantiate, fresh instances with typed calls;
//! - [`platform`]: an embedded agent platform on loopback, with faults and a request log;
//! - [`a2a_sdk`]: a real A2A agent on the official Python SDK, for the platform to forward to;
//! - [`faults`]: transport faults through `WasiHttpHooks::send_request`;
//! - [`fuzz`]: mutated platform answers to every method, through the component;
//! - [`hostile`]: a raw TCP proxy that sends what no HTTP library would;
//! - [`clock`]: a controllable clock for the guest;
//! - [`soak`]: a million mixed calls on one instance, sampling guest memory;
//! - [`stock`]: the stock `wasmtime` CLI serving a component, and an HTTP client;
//! - [`sync_host`]: the same component on a synchronous store;
//! - [`wasmcloud`]: the wasmCloud runner (`wasmcloud/`), built on use, serving an agent;
//! - [`world`]: what the built component imports and exports;
//! - [`json`]: WIT values as JSON, for the CLI and its batch mode.

pub mod a2a_sdk;
pub mod agent;
pub mod bindings;
pub mod clock;
pub mod faults;
pub mod figures;
pub mod fuzz;
pub mod harness;
pub mod hostile;
pub mod json;
pub mod p3;
pub mod platform;
pub mod soak;
pub mod stock;
pub mod sync_host;
pub mod wasmcloud;
pub mod world;

pub use harness::{config, Client, EventStream, Harness, Instance, InstanceOptions};
