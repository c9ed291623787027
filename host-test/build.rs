//! Builds the guest component before the host crate, so the harness, the
//! tests and the CLI never run a stale `.wasm`.
//!
//! The guest is built in release mode (the shipped artifact) into its own
//! target directory (`target/guest`), which keeps this nested cargo clear of
//! the outer build's lock. A fresh machine lacks the `wasm32-wasip2` target
//! and rustup will not add it by itself here (`RUSTUP_AUTO_INSTALL=0`), so it
//! is added when missing.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    for path in ["src", "wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    ensure_target(&rustc);

    let target_dir = root.join("target").join("guest");
    let output = Command::new(&cargo)
        .current_dir(&root)
        .args(["build", "--release", "--locked", "-p", "a2a-client", "--target", TARGET])
        .arg("--target-dir")
        .arg(&target_dir)
        // Flags meant for the host crate must not leak into the guest build.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("running cargo to build the guest");
    if !output.status.success() {
        panic!("building the guest component failed:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    let wasm = target_dir.join(TARGET).join("release").join("a2a_client.wasm");
    assert!(wasm.exists(), "guest build produced no {}", wasm.display());
    println!("cargo:rustc-env=A2A_GUEST_WASM={}", wasm.display());
    println!("cargo:rustc-env=A2A_WIT_DIR={}", root.join("wit").display());
}

/// Adds the wasm32-wasip2 standard library with rustup when it is missing.
fn ensure_target(rustc: &str) {
    let libdir = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if libdir.as_deref().is_some_and(Path::exists) {
        return;
    }
    println!("cargo:warning=adding the {TARGET} target with rustup");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .expect("the wasm32-wasip2 target is missing and rustup could not be run");
    assert!(status.success(), "`rustup target add {TARGET}` failed");
}
