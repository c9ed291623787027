//! `wasmtime`: the stock CLI's `run`, `compile` and `serve` commands, exactly
//! as wasmtime-cli 48.0.8's own `wasmtime` binary dispatches them (its
//! `src/bin/wasmtime.rs`, cut to the features built here). The commands are
//! wasmtime's code; this file only picks one. Built in the workspace so the
//! tests run the stock `wasmtime serve` without a second wasmtime build.

#![deny(unsafe_code)]

use clap::Parser;
use wasmtime_cli::commands::{CompileCommand, RunCommand, ServeCommand};

/// The wasmtime-cli crate this is (pinned with `=` in Cargo.toml).
const WASMTIME_CLI_VERSION: &str = "48.0.8";

#[derive(Parser)]
#[command(name = "wasmtime", version = WASMTIME_CLI_VERSION, args_conflicts_with_subcommands = true)]
struct Wasmtime {
    #[command(subcommand)]
    subcommand: Option<Subcommand>,
    /// Without a subcommand, `run`.
    #[command(flatten)]
    run: RunCommand,
}

#[derive(Parser)]
enum Subcommand {
    /// Runs a WebAssembly module or component.
    Run(RunCommand),
    /// Compiles a module or component ahead of time.
    Compile(CompileCommand),
    /// Serves a `wasi:http` component.
    Serve(ServeCommand),
}

fn main() -> wasmtime::Result<()> {
    let cli = Wasmtime::parse();
    match cli.subcommand.unwrap_or(Subcommand::Run(cli.run)) {
        Subcommand::Run(c) => c.execute(),
        Subcommand::Compile(c) => c.execute(),
        Subcommand::Serve(c) => c.execute(),
    }
}
