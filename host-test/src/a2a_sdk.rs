//! A real A2A agent built on the official `a2a-sdk` Python package
//! (`tests/a2a_sdk/agent.py`), started on a free 127.0.0.1 port for the
//! tests that check the client against the official implementation of the
//! protocol. `.ci/run` installs the pinned SDK (`tests/a2a_sdk/requirements.txt`)
//! into `target/a2a-sdk-venv`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use wasmtime::{bail, format_err, Result};

/// The repository root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host-test sits in the repository").to_path_buf()
}

/// The Python with the SDK: `$A2A_SDK_PYTHON`, else `target/a2a-sdk-venv/bin/python`.
pub fn python() -> Result<PathBuf> {
    let python = std::env::var_os("A2A_SDK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/a2a-sdk-venv/bin/python"));
    if !python.exists() {
        bail!(
            "no Python with a2a-sdk at {}: run `python3 -m venv target/a2a-sdk-venv && \
             target/a2a-sdk-venv/bin/pip install -r tests/a2a_sdk/requirements.txt` (`.ci/run` does)",
            python.display()
        );
    }
    Ok(python)
}

/// A running SDK agent; stopped when dropped (and when this process dies:
/// it exits when its stdin closes).
pub struct SdkAgent {
    _child: Child,
    /// Its JSON-RPC endpoint, `http://127.0.0.1:<port>/`.
    pub url: String,
    /// The agent card it serves at `/.well-known/agent-card.json`.
    pub card: Value,
}

impl SdkAgent {
    /// Starts the agent and reads its card.
    pub async fn start() -> Result<SdkAgent> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut child = Command::new(python()?)
            .arg(root().join("tests/a2a_sdk/agent.py"))
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await;
        match ready {
            Ok(Ok(Some(line))) if line.starts_with("listening") => {}
            Ok(other) => bail!("the a2a-sdk agent did not start: {other:?}"),
            Err(_) => bail!("the a2a-sdk agent did not start within 60 s"),
        }
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let (status, card) = crate::stock::request(addr, "GET", "/.well-known/agent-card.json", None).await?;
        if status != 200 || !card.is_object() {
            return Err(format_err!("the a2a-sdk agent's card: HTTP {status}: {card}"));
        }
        Ok(SdkAgent { _child: child, url: format!("http://127.0.0.1:{port}/"), card })
    }
}
