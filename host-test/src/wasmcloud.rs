//! The wasmCloud runner (`wasmcloud/`, its own cargo workspace: it embeds
//! `wasmcloud-host`, which brings wasmtime 38 and ~470 crates the rest of the
//! project never needs): built on first use, then started on a composed agent
//! and stopped when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use wasmtime::{bail, format_err, Result};

/// The repository root (the parent of `host-test/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host-test sits in the repository").to_path_buf()
}

/// Builds the runner (`cargo build --locked` in `wasmcloud/`, into
/// `target/wasmcloud`, through `wasmcloud/rustc-wrapper.sh`) and returns its
/// path. The first build compiles ~470 crates (≈ 13 min on 2 cores); cargo's
/// progress goes straight to this process's stderr.
pub fn runner() -> Result<PathBuf> {
    let root = root();
    let dir = root.join("wasmcloud");
    let target_dir = root.join("target").join("wasmcloud");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building the wasmCloud runner (cargo build in {})", dir.display());
    let mut build = std::process::Command::new(cargo);
    build
        .current_dir(&dir)
        .args(["build", "--locked", "--bin", "a2a-wasmcloud", "--target-dir"])
        .arg(&target_dir)
        .env("RUSTC_WRAPPER", dir.join("rustc-wrapper.sh"));
    // The runner is built as `.ci/run` builds it, from a shell: none of what
    // cargo sets for the process running the tests (CARGO_PKG_NAME,
    // CARGO_MANIFEST_DIR, …) nor the outer build's flags. Build scripts
    // (`ring`'s) rerun when such a variable changes, which made a runner
    // `.ci/run` had just built rebuild ~30 crates here.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if (name.starts_with("CARGO_") && name != "CARGO_HOME")
            || ["OUT_DIR", "RUSTFLAGS", "RUSTDOC", "RUSTC", "LD_LIBRARY_PATH"].contains(&name.as_ref())
        {
            build.env_remove(name.as_ref());
        }
    }
    let status =
        build.stdout(Stdio::null()).status().map_err(|e| format_err!("running cargo for the wasmCloud runner: {e}"))?;
    if !status.success() {
        bail!("building the wasmCloud runner failed ({status}); its cargo output is above");
    }
    Ok(target_dir.join("debug").join("a2a-wasmcloud"))
}

/// What the agent is configured with on the host (wasi:config `a2a-agent`).
pub struct AgentConfig<'a> {
    /// `workspace_id`.
    pub workspace_id: &'a str,
    /// `platform_url`.
    pub platform_url: &'a str,
    /// `workspace_token`.
    pub workspace_token: Option<&'a str>,
}

/// A running wasmCloud host serving a composed agent over HTTP.
pub struct Deployed {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<String>>,
    /// Where the built-in HTTP server listens for the agent.
    pub addr: SocketAddr,
}

impl Deployed {
    /// Starts `runner` on `component` (with its own `nats-server`) and waits
    /// until it reports the agent answering HTTP.
    pub async fn start(runner: &Path, component: &Path, config: &AgentConfig<'_>) -> Result<Deployed> {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let mut cmd = Command::new(runner);
        cmd.arg("--component").arg(component).args(["--listen", &addr.to_string()]).args([
            "--workspace-id",
            config.workspace_id,
            "--platform-url",
            config.platform_url,
        ]);
        if let Some(token) = config.workspace_token {
            // Through the environment, not argv, where `ps` would show it.
            cmd.env("WORKSPACE_TOKEN", token);
        }
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        let mut child = cmd.spawn()?;
        let stdin = child.stdin.take();
        let stderr = Arc::new(Mutex::new(String::new()));
        // Drained all along, so a chatty host never blocks on a full pipe.
        let mut err_pipe = child.stderr.take().expect("piped");
        let sink = Arc::clone(&stderr);
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(180), async {
            while let Some(line) = lines.next_line().await? {
                if line.starts_with("ready ") {
                    return Ok(true);
                }
            }
            Ok::<_, std::io::Error>(false)
        })
        .await;
        let log = || stderr.lock().unwrap().clone();
        match ready {
            Ok(Ok(true)) => Ok(Deployed { child, stdin, stderr, addr }),
            Ok(Ok(false)) => bail!("the wasmCloud runner exited before it was ready: {}", log()),
            Ok(Err(e)) => bail!("reading the wasmCloud runner's output: {e}: {}", log()),
            Err(_) => bail!("the wasmCloud runner was not ready within 180 s: {}", log()),
        }
    }

    /// Stops the host cleanly (closes its stdin) and returns its stderr.
    pub async fn stop(mut self) -> Result<String> {
        drop(self.stdin.take());
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await;
        let log = self.stderr.lock().unwrap().clone();
        match status {
            Ok(Ok(status)) if status.success() => Ok(log),
            Ok(Ok(status)) => bail!("the wasmCloud runner stopped with {status}: {log}"),
            Ok(Err(e)) => bail!("waiting for the wasmCloud runner: {e}"),
            Err(_) => bail!("the wasmCloud runner did not stop within 60 s of its stdin closing: {log}"),
        }
    }
}
