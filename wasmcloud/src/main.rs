//! `a2a-wasmcloud`: the composed a2a agent on a real wasmCloud host.
//!
//! Embeds the wasmCloud host library (`wasmcloud-host` 0.27.1, what the
//! `wasmcloud` 1.9 binary runs), connects it to NATS (an existing server with
//! JetStream, or a `nats-server` it starts on 127.0.0.1), and deploys through
//! the lattice control interface, as `wash` or wadm would:
//!
//! 1. named config `a2a-agent` (`workspace_id`, `platform_url`,
//!    `workspace_token`) — the agent reads it through `wasi:config/store`;
//! 2. the component from a local file (`file://`, so no registry);
//! 3. the built-in `http-server` and `http-client` providers;
//! 4. links: http-server → agent (`wasi:http/incoming-handler`, listening on
//!    `--listen`), agent → http-client (`wasi:http/outgoing-handler`).
//!
//! It prints `ready http://<addr>` once the agent answers HTTP, then serves
//! until stdin closes or it is interrupted, and stops the host cleanly.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use clap::Parser;
use tokio::io::AsyncReadExt as _;
use wasmcloud_control_interface::{Client as Ctl, ClientBuilder, CtlResponse, Link};
use wasmcloud_host::wasmbus::{Features, Host, HostConfig};

/// Component id of the agent in the lattice.
const AGENT: &str = "a2a-agent";
/// Provider ids of the built-in HTTP providers.
const HTTP_SERVER: &str = "http-server";
const HTTP_CLIENT: &str = "http-client";
/// How long deployment may take before the runner gives up.
const DEPLOY_TIMEOUT: Duration = Duration::from_secs(120);

/// Run the composed a2a agent component on an embedded wasmCloud host.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The composed agent component (wasmCloud variant, reads wasi:config).
    #[arg(long)]
    component: PathBuf,
    /// Address the built-in HTTP server listens on for the agent.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// NATS server with JetStream; when absent, `nats-server` is started on
    /// 127.0.0.1 with a free port and a temporary store, and stopped at exit.
    #[arg(long)]
    nats: Option<String>,
    /// Lattice name.
    #[arg(long, default_value = "a2a")]
    lattice: String,
    /// The agent's workspace id (config `workspace_id`).
    #[arg(long, env = "WORKSPACE_ID")]
    workspace_id: String,
    /// The platform base URL (config `platform_url`).
    #[arg(long, env = "PLATFORM_URL")]
    platform_url: String,
    /// The workspace's bearer token (config `workspace_token`).
    #[arg(long, env = "WORKSPACE_TOKEN", hide_env_values = true)]
    workspace_token: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let args = Args::parse();
    let component = std::fs::canonicalize(&args.component)
        .with_context(|| format!("reading the component {}", args.component.display()))?;

    let (nats_url, _nats) = match &args.nats {
        Some(url) => (url.clone(), None),
        None => {
            let nats = Nats::start().await?;
            (nats.url.clone(), Some(nats))
        }
    };
    let nats_url_parsed = nats_url.parse().with_context(|| format!("NATS URL {nats_url}"))?;

    let (host, shutdown) = Box::pin(Host::new(HostConfig {
        ctl_nats_url: nats_url_parsed,
        rpc_nats_url: nats_url.parse()?,
        lattice: Arc::from(args.lattice.as_str()),
        allow_file_load: true,
        experimental_features: Features::new().enable_builtin_http_server().enable_builtin_http_client(),
        ..HostConfig::default()
    }))
    .await
    .context("starting the wasmCloud host")?;

    let nc = async_nats::connect(&nats_url).await.with_context(|| format!("connecting to NATS at {nats_url}"))?;
    let ctl = ClientBuilder::new(nc).lattice(&args.lattice).timeout(Duration::from_secs(30)).build();

    let deployed = tokio::time::timeout(DEPLOY_TIMEOUT, deploy(&ctl, &args, &component)).await;
    let outcome = match deployed {
        Ok(Ok(())) => {
            println!("ready http://{}", args.listen);
            serve_until_stopped().await
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(anyhow::anyhow!("deployment did not finish within {DEPLOY_TIMEOUT:?}")),
    };

    drop(host);
    tokio::time::timeout(Duration::from_secs(30), shutdown)
        .await
        .context("host shutdown timed out")?
        .context("host shutdown failed")?;
    outcome
}

/// Config, component, providers and links, then waits until the agent answers.
async fn deploy(ctl: &Ctl, args: &Args, component: &std::path::Path) -> anyhow::Result<()> {
    let host_id = host_id(ctl).await?;
    eprintln!("wasmCloud host {host_id} up in lattice {}", args.lattice);

    let mut config = HashMap::from([
        ("workspace_id".to_string(), args.workspace_id.clone()),
        ("platform_url".to_string(), args.platform_url.clone()),
    ]);
    if let Some(token) = &args.workspace_token {
        config.insert("workspace_token".into(), token.clone());
    }
    check("put config a2a-agent", ctl.put_config(AGENT, config).await)?;
    let listen = HashMap::from([("address".to_string(), args.listen.to_string())]);
    check("put config http-listen", ctl.put_config("http-listen", listen).await)?;

    let reference = format!("file://{}", component.display());
    check(
        "scale component",
        ctl.scale_component(&host_id, &reference, AGENT, 1, None, vec![AGENT.into()], false).await,
    )?;
    for (id, builtin) in
        [(HTTP_SERVER, "wasmcloud+builtin://http-server"), (HTTP_CLIENT, "wasmcloud+builtin://http-client")]
    {
        check(&format!("start provider {id}"), ctl.start_provider(&host_id, builtin, id, None, vec![]).await)?;
    }
    wait_for_inventory(ctl, &host_id).await?;

    let incoming = Link::builder()
        .source_id(HTTP_SERVER)
        .target(AGENT)
        .name("default")
        .wit_namespace("wasi")
        .wit_package("http")
        .interfaces(vec!["incoming-handler".into()])
        .source_config(vec!["http-listen".into()])
        .build()
        .map_err(|e| anyhow::anyhow!("building the incoming link: {e}"))?;
    check("link http-server -> agent", ctl.put_link(incoming).await)?;
    let outgoing = Link::builder()
        .source_id(AGENT)
        .target(HTTP_CLIENT)
        .name("default")
        .wit_namespace("wasi")
        .wit_package("http")
        .interfaces(vec!["outgoing-handler".into()])
        .build()
        .map_err(|e| anyhow::anyhow!("building the outgoing link: {e}"))?;
    check("link agent -> http-client", ctl.put_link(outgoing).await)?;

    wait_for_listener(args.listen).await
}

/// The id of the one host in the lattice, once it has announced itself.
async fn host_id(ctl: &Ctl) -> anyhow::Result<String> {
    loop {
        match ctl.get_hosts().await {
            Ok(hosts) => {
                if let Some(host) = hosts.into_iter().filter_map(CtlResponse::into_data).next() {
                    return Ok(host.id().to_string());
                }
            }
            Err(e) => eprintln!("waiting for the host: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the host reports the agent and both providers running.
async fn wait_for_inventory(ctl: &Ctl, host_id: &str) -> anyhow::Result<()> {
    loop {
        let inventory = ctl.get_host_inventory(host_id).await.map_err(|e| anyhow::anyhow!("host inventory: {e}"))?;
        if let Some(inv) = inventory.into_data() {
            let has_agent = inv.components().iter().any(|c| c.id() == AGENT);
            let providers: Vec<&str> = inv.providers().iter().map(|p| p.id()).collect();
            if has_agent && providers.contains(&HTTP_SERVER) && providers.contains(&HTTP_CLIENT) {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the built-in HTTP server accepts connections on `addr`.
async fn wait_for_listener(addr: SocketAddr) -> anyhow::Result<()> {
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// A control-interface answer as a result naming the step.
fn check<T>(
    step: &str,
    response: Result<CtlResponse<T>, Box<dyn std::error::Error + Send + Sync>>,
) -> anyhow::Result<()> {
    let response = response.map_err(|e| anyhow::anyhow!("{step}: {e}"))?;
    ensure!(response.succeeded(), "{step}: {}", response.message());
    Ok(())
}

/// Runs until stdin reaches its end (the parent went away or closed it), or
/// SIGINT/SIGTERM.
async fn serve_until_stopped() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let stdin_closed = async {
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 256];
        while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
    };
    tokio::select! {
        _ = stdin_closed => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    Ok(())
}

/// A `nats-server` with JetStream on 127.0.0.1, stopped when dropped.
struct Nats {
    url: String,
    _child: tokio::process::Child,
    _store: tempfile::TempDir,
}

impl Nats {
    async fn start() -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let store = tempfile::tempdir()?;
        let child = tokio::process::Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting nats-server (Debian package nats-server; or pass --nats)")?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let started = Instant::now();
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                bail!("nats-server did not listen on {addr} within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eprintln!("nats-server on {addr}");
        Ok(Self { url: format!("nats://{addr}"), _child: child, _store: store })
    }
}
