//! The binary is the CLI the tests expect (and, as an integration test of
//! this crate, makes `cargo test --workspace` build it before any test runs).

#[test]
fn it_is_wasmtime_48_0_8_with_serve() {
    let exe = env!("CARGO_BIN_EXE_wasmtime");
    let out = std::process::Command::new(exe).arg("--version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "wasmtime 48.0.8");
    let help = std::process::Command::new(exe).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--max-instance-reuse-count"), "{help}");
}
