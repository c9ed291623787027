//! Stock tools, for the tests that run the components the way users do: the
//! `wasmtime` CLI (its `serve` command on a free loopback port, stopped when
//! dropped) and a plain HTTP client to drive what it serves.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use wasmtime::{bail, format_err, Result};

/// The wasmtime CLI version the tests run against.
pub const WASMTIME_CLI_VERSION: &str = "48.0.8";

/// A stock tool: `$<env>`, else the one this workspace builds (beside the
/// running test or example: `target/<profile>/<bin>`), else `bin` on the
/// `PATH`, else `~/.cargo/bin/<bin>`; checked to print `version` as the
/// second word of `--version`.
fn stock_tool(bin: &str, env: &str, version: &str, install: &str) -> Result<PathBuf> {
    let built = std::env::current_exe().ok().and_then(|exe| {
        // target/<profile>/deps/<test> or target/<profile>/examples/<example>
        let profile_dir = exe.parent()?.parent()?;
        Some(profile_dir.join(bin))
    });
    let candidates = std::env::var_os(env).map(PathBuf::from).into_iter().chain(built).chain([
        PathBuf::from(bin),
        std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin").join(bin)).unwrap_or_default(),
    ]);
    let mut seen = Vec::new();
    for cli in candidates {
        let Ok(out) = std::process::Command::new(&cli).arg("--version").output() else { continue };
        let printed = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if printed.split_whitespace().nth(1) == Some(version) {
            return Ok(cli);
        }
        seen.push(format!("{} is {printed:?}", cli.display()));
    }
    bail!(
        "no {bin} {version} found ({}); build it with `{install}` (`cargo test --workspace` does)",
        if seen.is_empty() { "none on the PATH".to_string() } else { seen.join(", ") }
    )
}

/// The `wasmtime` CLI, version [`WASMTIME_CLI_VERSION`]: the stock
/// commands built by this workspace's `stock-wasmtime` crate from the
/// published wasmtime-cli crate (`$A2A_WASMTIME` overrides; an installed
/// `wasmtime` of that version also serves).
pub fn wasmtime_cli() -> Result<PathBuf> {
    stock_tool("wasmtime", "A2A_WASMTIME", WASMTIME_CLI_VERSION, "cargo build -p stock-wasmtime")
}

/// `wasmtime serve` flags that keep one instance (and so the agent's client,
/// its cache and its lookups in flight) for many requests: up to 100 000 of
/// them, until it has been idle for 10 minutes. (The CLI's defaults for a
/// WASI 0.2 component are 1 request and 1 s.)
pub const INSTANCE_REUSE: [&str; 4] = ["--max-instance-reuse-count", "100000", "--idle-instance-timeout", "600s"];

/// A component served by `wasmtime serve`; the process stops when dropped.
pub struct Served {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Served {
    /// Serves `component` with `wasi:cli` and `wasi:http` and these
    /// environment variables, and waits until it accepts connections. The
    /// CLI's default instance lifetime applies: a WASI 0.2 component gets a
    /// fresh instance per request.
    pub async fn start(component: &Path, env: &[(&str, &str)]) -> Result<Served> {
        Served::start_with(component, env, &[]).await
    }

    /// [`Served::start`] with more `wasmtime serve` flags, e.g.
    /// [`INSTANCE_REUSE`].
    pub async fn start_with(component: &Path, env: &[(&str, &str)], flags: &[&str]) -> Result<Served> {
        let cli = wasmtime_cli()?;
        // A free port: bind, read, release (the CLI binds it right after).
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let mut cmd = Command::new(cli);
        cmd.args(["serve", "-S", "cli", "--addr", &addr.to_string()]).args(flags);
        for (k, v) in env {
            cmd.arg("--env").arg(format!("{k}={v}"));
        }
        cmd.arg(component).stdout(Stdio::null()).stderr(Stdio::piped()).kill_on_drop(true);
        let mut child = cmd.spawn()?;
        let started = Instant::now();
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            if let Some(status) = child.try_wait()? {
                let mut err = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    stderr.read_to_string(&mut err).await?;
                }
                bail!("wasmtime serve exited ({status}): {err}");
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("wasmtime serve did not listen on {addr} within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Served { child, url: format!("http://{addr}"), addr })
    }

    /// Stops the server and returns what it wrote to stderr.
    pub async fn stop(mut self) -> Result<String> {
        self.child.start_kill()?;
        let mut err = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            stderr.read_to_string(&mut err).await?;
        }
        self.child.wait().await?;
        Ok(err)
    }
}

/// One HTTP/1.1 request on a new connection: the status and the body as
/// JSON (`Value::String` when it is not JSON).
pub async fn request(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value)> {
    let (status, _, body) = request_with_headers(addr, method, path, body).await?;
    Ok((status, body))
}

/// [`request`], with the response's headers.
pub async fn request_with_headers(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, http::HeaderMap, Value)> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .body(Full::new(bytes))
        .map_err(|e| format_err!("building the request: {e}"))?;
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await?.to_bytes();
    let value = serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
    Ok((status, headers, value))
}
