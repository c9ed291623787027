//! `a2a`: the a2a-client component from the command line.
//!
//! Every command loads the component into wasmtime and calls it; the host
//! reads the configuration (flags or the Python client's environment variables)
//! and passes it in through the `client` constructor — the guest itself has
//! no environment.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use host_test::bindings::{self, Credential, Timeouts};
use host_test::clock::ManualClock;
use host_test::faults::{HookEvent, TransportFaults};
use host_test::{json, Client, Harness, Instance, InstanceOptions};
use serde_json::{json, Value};

mod demo;
mod hardening;

/// A2A client (WebAssembly component) — peer discovery and workspace info through an agent platform.
#[derive(Parser)]
#[command(name = "a2a", version, about)]
struct Cli {
    #[command(flatten)]
    conn: Conn,
    #[command(subcommand)]
    command: Command,
}

/// How to reach the platform, and as whom.
#[derive(Args, Clone)]
struct Conn {
    /// This workspace's id.
    #[arg(long, env = "WORKSPACE_ID", global = true)]
    workspace_id: Option<String>,
    /// Platform base URL [default: http://localhost:8080].
    #[arg(long, env = "PLATFORM_URL", global = true)]
    platform_url: Option<String>,
    /// Bearer token of --workspace-id.
    #[arg(long, env = "WORKSPACE_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// Token of another registered workspace, as ID=TOKEN (repeatable).
    #[arg(long = "credential", value_name = "ID=TOKEN", global = true)]
    credentials: Vec<String>,
    /// Act as this registered workspace instead of --workspace-id.
    #[arg(long, global = true)]
    source: Option<String>,
    /// Connect / first-byte / between-bytes timeout, ms [default: 10000].
    #[arg(long, global = true)]
    read_timeout_ms: Option<u32>,
    /// Largest response body, bytes [default: 4 MiB].
    #[arg(long, global = true)]
    max_body_bytes: Option<u32>,
    /// A2A version spoken to peers [default: v0.3]; `auto` reads the peer's agent card.
    #[arg(long, value_enum, global = true)]
    protocol: Option<ProtocolArg>,
    /// An A2A extension to activate, by URI (repeatable; the `A2A-Extensions` header).
    #[arg(long = "extension", value_name = "URI", global = true)]
    extensions: Vec<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
}

impl Conn {
    /// The call options every call here shares: source, version, extensions.
    fn call_options(&self) -> bindings::CallOptions {
        bindings::CallOptions {
            source: self.source.clone(),
            protocol: self.protocol.map(Into::into),
            extensions: self.extensions.clone(),
        }
    }
}

/// `a2a task` actions.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum TaskAction {
    /// The task's current state.
    Get,
    /// Cancel it.
    Cancel,
    /// Follow its events from now on (tasks/resubscribe, SubscribeToTask),
    /// printed as `send --stream` prints them.
    Subscribe,
    /// The peer's tasks, a page at a time (ListTasks; A2A v1.0 only).
    List,
}

/// `--protocol` values.
#[derive(clap::ValueEnum, Clone, Copy)]
enum ProtocolArg {
    /// A2A v0.3 (`message/send`), what the platform proxy speaks today.
    #[value(name = "v0.3")]
    V03,
    /// A2A v1.0 (`SendMessage`, `A2A-Version: 1.0`).
    #[value(name = "v1.0")]
    V10,
    /// Read the peer's agent card and pick.
    Auto,
}

impl From<ProtocolArg> for bindings::Protocol {
    fn from(p: ProtocolArg) -> Self {
        match p {
            ProtocolArg::V03 => bindings::Protocol::V03,
            ProtocolArg::V10 => bindings::Protocol::V10,
            ProtocolArg::Auto => bindings::Protocol::Auto,
        }
    }
}

/// `a2a push-config` actions.
#[derive(Subcommand)]
enum PushAction {
    /// Create (or replace) a config: the peer will POST the task's updates to URL.
    Create {
        /// The peer's workspace id.
        peer: String,
        /// The task id.
        task_id: String,
        /// Where the peer POSTs updates.
        url: String,
        /// The config's id (the peer picks one otherwise).
        #[arg(long)]
        id: Option<String>,
        /// A token the peer sends with each update (`--token` is the
        /// workspace's own).
        #[arg(long)]
        push_token: Option<String>,
    },
    /// One config.
    Get {
        /// The peer's workspace id.
        peer: String,
        /// The task id.
        task_id: String,
        /// The config's id.
        config_id: String,
    },
    /// Every config of a task.
    List {
        /// The peer's workspace id.
        peer: String,
        /// The task id.
        task_id: String,
    },
    /// Remove a config.
    Delete {
        /// The peer's workspace id.
        peer: String,
        /// The task id.
        task_id: String,
        /// The config's id.
        config_id: String,
    },
}

#[derive(Subcommand)]
enum Command {
    /// List this workspace's peers.
    Peers {
        /// Only peers whose name or role contains this text.
        #[arg(long, short)]
        query: Option<String>,
    },
    /// Look a peer up in the registry.
    Discover {
        /// The peer's workspace id.
        id: String,
    },
    /// This workspace's own record.
    Info,
    /// The URL of a peer's registry record (no request).
    CardUrl {
        /// The peer's workspace id.
        id: String,
    },
    /// A peer's metadata through the cache (as an inbound push would be labelled).
    Enrich {
        /// The peer's workspace id.
        id: String,
        /// Use the non-blocking call: print its answer (none on a cold
        /// cache), wait for the lookup it started, then ask again.
        #[arg(long)]
        nonblocking: bool,
    },
    /// Send a message to a peer (A2A message/send through the platform proxy) and print the reply.
    Send {
        /// The peer's workspace id.
        peer: String,
        /// The message text (its first part).
        text: Option<String>,
        /// A data part: a JSON object (repeatable).
        #[arg(long = "data", value_name = "JSON")]
        data: Vec<String>,
        /// A file part, its bytes inline (repeatable; the media type is guessed
        /// from the extension).
        #[arg(long = "file", value_name = "PATH")]
        files: Vec<std::path::PathBuf>,
        /// Continue this task (one that asked for input).
        #[arg(long)]
        task_id: Option<String>,
        /// The conversation (context) the message belongs to.
        #[arg(long)]
        context_id: Option<String>,
        /// The message's metadata: a JSON object.
        #[arg(long, value_name = "JSON")]
        metadata: Option<String>,
        /// Attempts in all [default: 5].
        #[arg(long)]
        max_attempts: Option<u32>,
        /// First backoff, ms, doubled per retry [default: 1000].
        #[arg(long)]
        base_delay_ms: Option<u32>,
        /// Bound on the whole send, ms [default: 600000].
        #[arg(long)]
        total_budget_ms: Option<u32>,
        /// Stream the reply (message/stream, SendStreamingMessage): print each
        /// event as it arrives (one JSON line each with --json).
        #[arg(long)]
        stream: bool,
    },
    /// Send one message to several peers at once (the sends overlap, each
    /// with its own retries) and print each outcome, in order.
    SendMany {
        /// The message text.
        text: String,
        /// The peers' workspace ids (at most 64).
        #[arg(required = true)]
        peers: Vec<String>,
    },
    /// Read or cancel a task a peer runs (tasks/get, tasks/cancel; GetTask, CancelTask in v1.0).
    Task {
        /// `get`, `cancel`, `subscribe` (a task id) or `list`.
        #[arg(value_enum)]
        action: TaskAction,
        /// The peer's workspace id.
        peer: String,
        /// The task id (as the peer reported it); not for `list`.
        task_id: Option<String>,
        /// `list`: only tasks in this state (`working`, `completed`, …).
        #[arg(long)]
        state: Option<String>,
        /// `list`: only this conversation's tasks.
        #[arg(long)]
        context_id: Option<String>,
        /// `list`: at most this many per page.
        #[arg(long)]
        page_size: Option<u32>,
        /// `list`: the page after the one that gave this token.
        #[arg(long)]
        page_token: Option<String>,
    },
    /// A peer's A2A agent card, through the platform's registry (cached).
    Card {
        /// The peer's workspace id.
        id: String,
        /// The card the peer shows callers it authenticates, asked of the
        /// peer itself (GetExtendedAgentCard), not the registry's.
        #[arg(long)]
        extended: bool,
    },
    /// A task's push-notification configs (where the peer POSTs its updates).
    PushConfig {
        #[command(subcommand)]
        action: PushAction,
    },
    /// Check a workspace id and print it canonical.
    Validate {
        /// The id to check.
        id: String,
    },
    /// Read JSON-line calls on stdin, answer one JSON line each, on one long-lived instance.
    Batch {
        /// Give the guest a clock that only `advance-clock` calls move.
        #[arg(long)]
        manual_clock: bool,
    },
    /// Start an embedded platform with a few peers and run a short session against it.
    Demo,
    /// Fuzz the component: an embedded platform answers every method with
    /// mutated statuses, headers and bodies; each call is followed by a normal
    /// one that must answer correctly.
    Fuzz {
        /// Fuzzed calls.
        #[arg(long, default_value_t = 10_000)]
        iterations: u64,
        /// Mutation seed (the same seed replays the same run).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Soak the component: many mixed calls on one instance against an
    /// embedded platform, printing guest memory as it goes; fails if memory
    /// grows after warm-up.
    Soak {
        /// Calls in all.
        #[arg(long, default_value_t = 1_000_000)]
        calls: u64,
        /// Memory samples printed after warm-up.
        #[arg(long, default_value_t = 10)]
        samples: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Demo => demo::run().await,
        Command::Fuzz { iterations, seed } => hardening::fuzz(*iterations, *seed).await,
        Command::Soak { calls, samples } => hardening::soak(*calls, *samples).await,
        Command::Validate { id } => validate(id, cli.conn.json).await,
        Command::Batch { manual_clock } => batch(&cli.conn, *manual_clock).await,
        command => one_call(&cli.conn, command).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("a2a: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The client config from flags and environment.
fn config(conn: &Conn) -> wasmtime::Result<bindings::Config> {
    let workspace_id = conn.workspace_id.clone().ok_or_else(|| {
        wasmtime::format_err!("no workspace id: set WORKSPACE_ID or pass --workspace-id (or run `a2a demo`)")
    })?;
    let mut credentials = Vec::new();
    if let Some(token) = &conn.token {
        credentials.push(Credential { workspace_id: workspace_id.clone(), token: token.clone() });
    }
    for pair in &conn.credentials {
        let (ws, token) = pair
            .split_once('=')
            .ok_or_else(|| wasmtime::format_err!("--credential takes ID=TOKEN, got {:?}", pair.split('=').next()))?;
        credentials.push(Credential { workspace_id: ws.into(), token: token.into() });
    }
    Ok(bindings::Config {
        workspace_id,
        platform_url: conn.platform_url.clone(),
        credentials,
        timeouts: Some(Timeouts { read_ms: conn.read_timeout_ms, ..Default::default() }),
        max_body_bytes: conn.max_body_bytes,
        protocol: conn.protocol.map(Into::into),
        cache: None,
        retry: None,
    })
}

/// Loads the component, showing a spinner while it compiles.
pub(crate) fn load_harness() -> wasmtime::Result<&'static Harness> {
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message("compiling the a2a-client component…");
    spinner.enable_steady_tick(Duration::from_millis(100));
    let harness = Harness::shared();
    spinner.finish_and_clear();
    Ok(harness)
}

async fn instance_and_client(
    conn: &Conn,
    options: InstanceOptions,
) -> wasmtime::Result<(Instance, Result<Client, bindings::Error>)> {
    let cfg = config(conn)?;
    let mut instance = load_harness()?.instantiate(options).await?;
    let client = instance.client(&cfg).await?;
    Ok((instance, client))
}

async fn validate(id: &str, as_json: bool) -> wasmtime::Result<ExitCode> {
    let mut instance = load_harness()?.instantiate(InstanceOptions::default()).await?;
    let canonical = instance.validate_peer_id(id).await?;
    match (&canonical, as_json) {
        (_, true) => println!("{}", json!(canonical)),
        (Some(id), false) => println!("{id}"),
        (None, false) => eprintln!("not a workspace id (UUID): {id:?}"),
    }
    Ok(if canonical.is_some() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// What a person needs beside a `removed` error's one-word message: which
/// workspace, when, and the platform's hint.
pub(crate) fn removed_detail(e: &bindings::Error) -> String {
    match &e.kind {
        bindings::ErrorKind::Removed(r) => match &r.removed_at {
            Some(at) => format!(" — workspace {} was removed at {at}. {}", r.id, r.hint),
            None => format!(" — workspace {} was removed. {}", r.id, r.hint),
        },
        _ => String::new(),
    }
}

/// Prints an error the component returned and gives the exit code.
fn report(e: &bindings::Error, as_json: bool) -> ExitCode {
    if as_json {
        println!("{}", json::error(e));
    } else {
        eprintln!("{}{}", e.message, removed_detail(e));
    }
    ExitCode::FAILURE
}

async fn one_call(conn: &Conn, command: &Command) -> wasmtime::Result<ExitCode> {
    if let Command::Task { action, task_id, .. } = command {
        if task_id.is_none() != matches!(action, TaskAction::List) {
            let want = if task_id.is_none() { "a task id" } else { "no task id" };
            return Err(wasmtime::format_err!("task {}: takes {want}", format!("{action:?}").to_lowercase()));
        }
    }
    if let Command::Task { action: TaskAction::Subscribe, peer, task_id: Some(task_id), .. } = command {
        return subscribe(conn, peer, task_id).await;
    }
    if let Command::Send {
        peer,
        text,
        data,
        files,
        task_id,
        context_id,
        metadata,
        max_attempts,
        base_delay_ms,
        total_budget_ms,
        stream,
    } = command
    {
        let policy = bindings::RetryPolicy {
            max_attempts: *max_attempts,
            base_delay_ms: *base_delay_ms,
            total_budget_ms: *total_budget_ms,
            ..Default::default()
        };
        let mut parts: Vec<bindings::Part> = text.iter().map(|t| bindings::Part::Text(t.clone())).collect();
        parts.extend(data.iter().map(|d| bindings::Part::Data(d.clone())));
        for path in files {
            let bytes = std::fs::read(path).map_err(|e| wasmtime::format_err!("reading {}: {e}", path.display()))?;
            parts.push(bindings::Part::File(bindings::FilePart {
                name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
                media_type: Some(media_type(path).to_owned()),
                content: bindings::FileContent::Bytes(bytes),
            }));
        }
        let message = bindings::OutgoingMessage {
            parts,
            task_id: task_id.clone(),
            context_id: context_id.clone(),
            reference_task_ids: Vec::new(),
            metadata: metadata.clone(),
        };
        if *stream {
            return send_stream(conn, peer, &message, policy).await;
        }
        return send(conn, peer, &message, policy).await;
    }
    let (mut instance, client) = instance_and_client(conn, InstanceOptions::default()).await?;
    let client = match client {
        Ok(c) => c,
        Err(e) => return Ok(report(&e, conn.json)),
    };
    let source = conn.source.as_deref();
    let out = match command {
        Command::Peers { query } => instance.peers(client, query.as_deref(), source).await?.map(|peers| {
            if conn.json {
                Value::Array(peers.iter().map(json::peer).collect()).to_string()
            } else {
                demo::peer_table(&peers)
            }
        }),
        Command::Discover { id } => instance.discover_peer(client, id, source).await?.map(|p| {
            if conn.json {
                json::peer(&p).to_string()
            } else {
                demo::peer_lines(&p)
            }
        }),
        Command::Info => instance.workspace_info(client, source).await?.map(|w| {
            if conn.json {
                json::workspace(&w).to_string()
            } else {
                let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
                format!(
                    "id:     {}\nname:   {}\nrole:   {}\nstatus: {}",
                    w.id,
                    opt(&w.name),
                    opt(&w.role),
                    opt(&w.status)
                )
            }
        }),
        Command::CardUrl { id } => {
            instance.agent_card_url(client, id).await?.map(|url| if conn.json { json!(url).to_string() } else { url })
        }
        Command::Task { action: TaskAction::List, peer, state, context_id, page_size, page_token, .. } => {
            let options = conn.call_options();
            let query = bindings::TaskQuery {
                context_id: context_id.clone(),
                state: state.clone(),
                page_size: *page_size,
                page_token: page_token.clone(),
                include_artifacts: true,
            };
            instance.list_tasks(client, peer, &query, &options).await?.map(|page| {
                if conn.json {
                    return json::task_page(&page).to_string();
                }
                if let Some(token) = &page.next_page_token {
                    eprintln!("(more: a2a task list {peer} --page-token {token})");
                }
                let line = |t: &bindings::Task| {
                    let first = t.text.lines().next().unwrap_or("");
                    format!("{}  {}  {first}", t.id, t.state).trim_end().to_owned()
                };
                page.tasks.iter().map(line).collect::<Vec<_>>().join("\n")
            })
        }
        Command::Task { action, peer, task_id, .. } => {
            let options = conn.call_options();
            let task_id = task_id.as_deref().unwrap_or_default();
            let task = match action {
                TaskAction::Get => instance.get_task(client, peer, task_id, &options).await?,
                TaskAction::Cancel => instance.cancel_task(client, peer, task_id, &options).await?,
                TaskAction::Subscribe | TaskAction::List => unreachable!("dispatched before"),
            };
            task.map(|t| {
                if conn.json {
                    json::task(&t).to_string()
                } else {
                    let text = if t.text.is_empty() { String::new() } else { format!("\n{}", t.text) };
                    format!("task {}: {}{text}", t.id, t.state)
                }
            })
        }
        Command::Card { id, extended } => {
            let card = if *extended {
                let options = conn.call_options();
                instance.extended_agent_card(client, id, &options).await?
            } else {
                instance.agent_card(client, id, source).await?
            };
            card.map(|c| {
                if conn.json {
                    json::card(&c).to_string()
                } else {
                    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
                    let mut lines = vec![
                        format!("name:        {}", opt(&c.name)),
                        format!("description: {}", opt(&c.description)),
                        format!("version:     {}", opt(&c.version)),
                        format!(
                            "a2a:         {}",
                            if c.protocol_versions.is_empty() { "-".into() } else { c.protocol_versions.join(", ") }
                        ),
                        format!("streaming:   {}", if c.streaming { "yes" } else { "no" }),
                    ];
                    for k in &c.skills {
                        lines.push(format!(
                            "skill:       {} ({}){}",
                            k.id,
                            opt(&k.name),
                            k.description.as_ref().map(|d| format!(": {d}")).unwrap_or_default()
                        ));
                    }
                    lines.join("\n")
                }
            })
        }
        Command::PushConfig { action } => {
            let options = conn.call_options();
            // One config: a JSON object, or a line of text.
            let show = |c: &bindings::PushConfig| {
                if conn.json {
                    return json::push_config(c).to_string();
                }
                let token = if c.token.is_some() { "  (with a token)" } else { "" };
                format!("{}  {}{token}", c.id.as_deref().unwrap_or("-"), c.url)
            };
            match action {
                PushAction::Create { peer, task_id, url, id, push_token } => {
                    let config = bindings::NewPushConfig {
                        task_id: task_id.clone(),
                        id: id.clone(),
                        url: url.clone(),
                        token: push_token.clone(),
                    };
                    let made = instance.create_push_config(client, peer, &config, &options).await?;
                    made.map(|c| show(&c))
                }
                PushAction::Get { peer, task_id, config_id } => {
                    let got = instance.get_push_config(client, (peer, task_id, config_id), &options).await?;
                    got.map(|c| show(&c))
                }
                PushAction::List { peer, task_id } => {
                    instance.list_push_configs(client, peer, task_id, &options).await?.map(|list| {
                        if conn.json {
                            Value::Array(list.iter().map(json::push_config).collect()).to_string()
                        } else {
                            list.iter().map(show).collect::<Vec<_>>().join("\n")
                        }
                    })
                }
                PushAction::Delete { peer, task_id, config_id } => {
                    let deleted = instance.delete_push_config(client, (peer, task_id, config_id), &options).await?;
                    deleted.map(|()| if conn.json { "null".into() } else { format!("deleted {config_id}") })
                }
            }
        }
        Command::SendMany { text, peers } => {
            let options = conn.call_options();
            let targets: Vec<bindings::SendTarget> = peers
                .iter()
                .map(|p| bindings::SendTarget { peer_id: p.clone(), message: bindings::OutgoingMessage::text(text) })
                .collect();
            let outcomes = match instance.send_many(client, &targets, &options).await? {
                Ok(o) => o,
                Err(e) => return Ok(report(&e, conn.json)),
            };
            let all_ok = outcomes.iter().all(Result::is_ok);
            if conn.json {
                let list: Vec<Value> = peers
                    .iter()
                    .zip(&outcomes)
                    .map(|(peer, o)| match o {
                        Ok(r) => json!({"peer": peer, "ok": json::reply(r)}),
                        Err(e) => json!({"peer": peer, "err": json::error(e)}),
                    })
                    .collect();
                println!("{}", Value::Array(list));
            } else {
                for (peer, o) in peers.iter().zip(&outcomes) {
                    match o {
                        Ok(r) => println!("{peer}: {}", r.text),
                        Err(e) => println!("{peer}: {}", e.message),
                    }
                }
            }
            return Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
        Command::Enrich { id, nonblocking } => {
            let show = |p: Option<bindings::Peer>| match (p, conn.json) {
                (Some(p), true) => json::peer(&p).to_string(),
                (None, true) => "null".to_string(),
                (Some(p), false) => demo::peer_lines(&p),
                (None, false) => format!("(no metadata for {id}: show the bare id)"),
            };
            let mut lines = Vec::new();
            if *nonblocking {
                lines.push(show(instance.enrich_nonblocking(client, id, source).await?));
                let left = instance.await_enrichment(client, 10_000).await?;
                if !conn.json {
                    lines.push(format!("(waited for the lookup it started; {left} still in flight)"));
                }
                lines.push(show(instance.enrich_nonblocking(client, id, source).await?));
            } else {
                lines.push(show(instance.enrich(client, id, source).await?));
            }
            Ok(lines.join("\n"))
        }
        Command::Validate { .. }
        | Command::Batch { .. }
        | Command::Demo
        | Command::Fuzz { .. }
        | Command::Soak { .. }
        | Command::Send { .. } => {
            unreachable!("dispatched before")
        }
    };
    Ok(match out {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => report(&e, conn.json),
    })
}

/// `a2a send`: one send, with a progress line per attempt on stderr (from
/// the host's view of the requests: the guest decides and waits).
async fn send(
    conn: &Conn,
    peer: &str,
    message: &bindings::OutgoingMessage,
    policy: bindings::RetryPolicy,
) -> wasmtime::Result<ExitCode> {
    let max = policy.max_attempts.unwrap_or(5);
    let faults = TransportFaults::quiet();
    let progress = std::sync::Mutex::new((0u32, None::<Instant>));
    faults.observe(move |event| {
        let mut p = progress.lock().unwrap();
        match event {
            HookEvent::Started { uri, .. } if uri.ends_with("/a2a") => {
                p.0 += 1;
                if let Some(failed_at) = p.1.take() {
                    eprintln!("a2a: attempt {}/{max} after waiting {:.1} s", p.0, failed_at.elapsed().as_secs_f64());
                }
            }
            HookEvent::Finished { uri, status, error } if uri.ends_with("/a2a") => {
                let what = match (status, error) {
                    (Some(s), _) if (200..300).contains(s) => return,
                    (Some(s), _) => format!("HTTP {s}"),
                    (None, Some(e)) => e.clone(),
                    (None, None) => "no response".into(),
                };
                eprintln!("a2a: attempt {}/{max} failed: {what}", p.0);
                p.1 = Some(Instant::now());
            }
            _ => {}
        }
    });
    let mut cfg = config(conn)?;
    cfg.retry = Some(policy);
    let mut instance = load_harness()?.instantiate(InstanceOptions { faults, ..Default::default() }).await?;
    let client = match instance.client(&cfg).await? {
        Ok(c) => c,
        Err(e) => return Ok(report(&e, conn.json)),
    };
    let options = conn.call_options();
    match instance.send(client, peer, message, &options).await? {
        Ok(reply) => {
            if conn.json {
                println!("{}", json::reply(&reply));
            } else {
                print_parts(&reply.parts);
                if let bindings::ReplyKind::Task(t) = &reply.kind {
                    for artifact in &t.artifacts {
                        print_parts(&artifact.parts);
                    }
                    let id = t.id.as_deref().unwrap_or("?");
                    eprintln!("(task {id}: {})", t.state);
                    if matches!(t.state.as_str(), "input-required" | "auth-required") {
                        let context = t.context_id.as_deref().map(|c| format!(" --context-id {c}")).unwrap_or_default();
                        eprintln!(
                            "(the peer waits for an answer: a2a send {peer} \"<answer>\" --task-id {id}{context})"
                        );
                    }
                }
                if !reply.activated_extensions.is_empty() {
                    eprintln!("(extensions activated: {})", reply.activated_extensions.join(", "));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if !conn.json {
                for a in &e.attempts {
                    let wait = a.delay_ms.map(|d| format!(", then waited {d} ms")).unwrap_or_default();
                    eprintln!("  attempt {} ({} ms): {}{wait}", a.number, a.took_ms, a.outcome);
                }
            }
            Ok(report(&e, conn.json))
        }
    }
}

/// Each part on its own: text as it is, data pretty-printed, a file by name,
/// type and size (or URI).
fn print_parts(parts: &[bindings::Part]) {
    for part in parts {
        match part {
            bindings::Part::Text(text) => println!("{text}"),
            bindings::Part::Data(data) => match serde_json::from_str::<Value>(data) {
                Ok(value) => println!("{}", serde_json::to_string_pretty(&value).unwrap_or_else(|_| data.clone())),
                Err(_) => println!("{data}"),
            },
            bindings::Part::File(f) => {
                let name = f.name.as_deref().unwrap_or("(unnamed)");
                let kind = f.media_type.as_deref().unwrap_or("unknown type");
                match &f.content {
                    bindings::FileContent::Bytes(bytes) => println!("[file {name} ({kind}, {} bytes)]", bytes.len()),
                    bindings::FileContent::Uri(uri) => println!("[file {name} ({kind}) at {uri}]"),
                }
            }
        }
    }
}

/// A file's media type from its extension (`application/octet-stream` when unknown).
fn media_type(path: &std::path::Path) -> &'static str {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" => "text/plain",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// `a2a send --stream`: prints each event as the component hands it over.
async fn send_stream(
    conn: &Conn,
    peer: &str,
    message: &bindings::OutgoingMessage,
    policy: bindings::RetryPolicy,
) -> wasmtime::Result<ExitCode> {
    let mut cfg = config(conn)?;
    cfg.retry = Some(policy);
    let mut instance = load_harness()?.instantiate(InstanceOptions::default()).await?;
    let client = match instance.client(&cfg).await? {
        Ok(c) => c,
        Err(e) => return Ok(report(&e, conn.json)),
    };
    let options = conn.call_options();
    let stream = instance.send_stream(client, peer, message, &options).await?;
    print_stream(&mut instance, stream, conn.json).await
}

/// `a2a task subscribe`: the task's events from now on, as `send --stream` prints them.
async fn subscribe(conn: &Conn, peer: &str, task_id: &str) -> wasmtime::Result<ExitCode> {
    let (mut instance, client) = instance_and_client(conn, InstanceOptions::default()).await?;
    let client = match client {
        Ok(c) => c,
        Err(e) => return Ok(report(&e, conn.json)),
    };
    let options = conn.call_options();
    let stream = instance.subscribe_to_task(client, peer, task_id, &options).await?;
    print_stream(&mut instance, stream, conn.json).await
}

/// Prints each event of `stream` as it arrives (a JSON line each with `json`).
async fn print_stream(
    instance: &mut Instance,
    stream: Result<host_test::EventStream, bindings::Error>,
    as_json: bool,
) -> wasmtime::Result<ExitCode> {
    let stream = match stream {
        Ok(s) => s,
        Err(e) => return Ok(report(&e, as_json)),
    };
    loop {
        match instance.next_event(stream).await? {
            Ok(Some(event)) => {
                if as_json {
                    println!("{}", json::stream_event(&event));
                } else {
                    println!("{}", event_line(&event));
                }
                std::io::stdout().flush()?;
            }
            Ok(None) => return Ok(ExitCode::SUCCESS),
            Err(e) => return Ok(report(&e, as_json)),
        }
    }
}

/// One stream event as a line of text.
fn event_line(event: &bindings::StreamEvent) -> String {
    let with_text = |head: String, text: &str| if text.is_empty() { head } else { format!("{head}: {text}") };
    match event {
        bindings::StreamEvent::Task(t) => {
            with_text(format!("[task {}] {}", t.id.as_deref().unwrap_or("?"), t.state), &t.text)
        }
        bindings::StreamEvent::StatusUpdate(u) => {
            with_text(format!("[status] {}{}", u.state, if u.is_final { " (final)" } else { "" }), &u.text)
        }
        bindings::StreamEvent::ArtifactUpdate(a) => {
            with_text(format!("[artifact {}]", a.name.as_deref().or(a.artifact_id.as_deref()).unwrap_or("?")), &a.text)
        }
        bindings::StreamEvent::Message(m) => m.text.clone(),
    }
}

fn arg<'a>(args: &'a Value, name: &str) -> Option<&'a str> {
    args.get(name).and_then(Value::as_str)
}

fn need<'a>(args: &'a Value, name: &str) -> Result<&'a str, Value> {
    arg(args, name).ok_or_else(|| bad_call(format!("missing string argument \"{name}\"")))
}

/// `{"source"?, "protocol"?: "v03" | "v10" | "auto", "extensions"?: [URI]}` of a batch call.
fn call_options(args: &Value) -> Result<bindings::CallOptions, Value> {
    let protocol = match arg(args, "protocol") {
        None => None,
        Some("v03") => Some(bindings::Protocol::V03),
        Some("v10") => Some(bindings::Protocol::V10),
        Some("auto") => Some(bindings::Protocol::Auto),
        Some(other) => return Err(bad_call(format!("\"protocol\" is v03, v10 or auto, got {other:?}"))),
    };
    let extensions = match args.get("extensions") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|uri| uri.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| bad_call("\"extensions\" is a list of URI strings".into()))?,
        Some(_) => return Err(bad_call("\"extensions\" is a list of URI strings".into())),
    };
    Ok(bindings::CallOptions { source: arg(args, "source").map(str::to_owned), protocol, extensions })
}

fn bad_call(message: String) -> Value {
    json!({"kind": "bad-call", "message": message})
}

/// Runs one batch call: `Ok(value)` or `Err(error object)`.
async fn batch_call(
    instance: &mut Instance,
    client: Client,
    clock: Option<&ManualClock>,
    call: &str,
    args: &Value,
) -> wasmtime::Result<Result<Value, Value>> {
    let wit = |r: Result<Value, bindings::Error>| r.map_err(|e| json::error(&e));
    Ok(match call {
        "validate-peer-id" => match need(args, "id") {
            Ok(id) => Ok(json!(instance.validate_peer_id(id).await?)),
            Err(e) => Err(e),
        },
        "discover-peer" => match need(args, "peer-id") {
            Ok(peer) => wit(instance.discover_peer(client, peer, arg(args, "source")).await?.map(|p| json::peer(&p))),
            Err(e) => Err(e),
        },
        "peers" => wit(instance
            .peers(client, arg(args, "query"), arg(args, "source"))
            .await?
            .map(|ps| Value::Array(ps.iter().map(json::peer).collect()))),
        "workspace-info" => {
            wit(instance.workspace_info(client, arg(args, "source")).await?.map(|w| json::workspace(&w)))
        }
        "agent-card-url" => match need(args, "peer-id") {
            Ok(peer) => wit(instance.agent_card_url(client, peer).await?.map(Value::String)),
            Err(e) => Err(e),
        },
        "enrich-peer-metadata" => match need(args, "peer-id") {
            Ok(peer) => {
                Ok(instance.enrich(client, peer, arg(args, "source")).await?.map_or(Value::Null, |p| json::peer(&p)))
            }
            Err(e) => Err(e),
        },
        "enrich-peer-metadata-nonblocking" => match need(args, "peer-id") {
            Ok(peer) => Ok(instance
                .enrich_nonblocking(client, peer, arg(args, "source"))
                .await?
                .map_or(Value::Null, |p| json::peer(&p))),
            Err(e) => Err(e),
        },
        "await-enrichment" => {
            match args.get("timeout-ms").and_then(Value::as_u64).and_then(|ms| u32::try_from(ms).ok()) {
                Some(ms) => Ok(json!(instance.await_enrichment(client, ms).await?)),
                None => Err(bad_call("await-enrichment takes {\"timeout-ms\": <u32>}".into())),
            }
        }
        "peer-name" => match need(args, "peer-id") {
            Ok(peer) => Ok(json!(instance.peer_name(client, peer, arg(args, "source")).await?)),
            Err(e) => Err(e),
        },
        "routed-source" => match need(args, "peer-id") {
            Ok(peer) => Ok(json!(instance.routed_source(client, peer).await?)),
            Err(e) => Err(e),
        },
        "stats" => Ok(json::stats(&instance.stats(client).await?)),
        "send-message" | "get-task" | "cancel-task" => {
            let options = match call_options(args) {
                Ok(o) => o,
                Err(e) => return Ok(Err(e)),
            };
            let second = if call == "send-message" { "text" } else { "task-id" };
            match (need(args, "peer-id"), need(args, second)) {
                (Ok(peer), Ok(value)) => match call {
                    "send-message" => {
                        wit(instance.send_message_with(client, peer, value, &options).await?.map(|r| json::reply(&r)))
                    }
                    "get-task" => wit(instance.get_task(client, peer, value, &options).await?.map(|t| json::task(&t))),
                    _ => wit(instance.cancel_task(client, peer, value, &options).await?.map(|t| json::task(&t))),
                },
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
        "send" => {
            let options = match call_options(args) {
                Ok(o) => o,
                Err(e) => return Ok(Err(e)),
            };
            let message = match args.get("message").map(json::outgoing_message) {
                Some(Ok(m)) => m,
                Some(Err(why)) => return Ok(Err(bad_call(format!("\"message\": {why}")))),
                None => return Ok(Err(bad_call("missing argument \"message\"".into()))),
            };
            match need(args, "peer-id") {
                Ok(peer) => wit(instance.send(client, peer, &message, &options).await?.map(|r| json::reply(&r))),
                Err(e) => Err(e),
            }
        }
        "list-tasks" => {
            let options = match call_options(args) {
                Ok(o) => o,
                Err(e) => return Ok(Err(e)),
            };
            let query = bindings::TaskQuery {
                context_id: arg(args, "context-id").map(str::to_owned),
                state: arg(args, "state").map(str::to_owned),
                page_size: args.get("page-size").and_then(Value::as_u64).map(|n| n.min(u32::MAX as u64) as u32),
                page_token: arg(args, "page-token").map(str::to_owned),
                include_artifacts: args.get("include-artifacts").and_then(Value::as_bool).unwrap_or(false),
            };
            match need(args, "peer-id") {
                Ok(peer) => {
                    wit(instance.list_tasks(client, peer, &query, &options).await?.map(|p| json::task_page(&p)))
                }
                Err(e) => Err(e),
            }
        }
        "send-many" => {
            let options = match call_options(args) {
                Ok(o) => o,
                Err(e) => return Ok(Err(e)),
            };
            // Each target: `{"peer-id", "text"}` or `{"peer-id", "message"}` (as `send` takes it).
            let target = |t: &Value| -> Result<bindings::SendTarget, String> {
                let peer_id = arg(t, "peer-id").ok_or("a target needs \"peer-id\"")?.to_owned();
                let message = match (arg(t, "text"), t.get("message")) {
                    (Some(text), None) => bindings::OutgoingMessage::text(text),
                    (None, Some(message)) => json::outgoing_message(message)?,
                    _ => return Err("a target needs \"text\" or \"message\"".into()),
                };
                Ok(bindings::SendTarget { peer_id, message })
            };
            let targets = match args.get("targets").and_then(Value::as_array) {
                Some(list) => list.iter().map(target).collect::<Result<Vec<_>, String>>(),
                None => Err("send-many takes {\"targets\": [{\"peer-id\", \"text\" | \"message\"}, …]}".into()),
            };
            match targets {
                Ok(targets) => wit(instance.send_many(client, &targets, &options).await?.map(|outcomes| {
                    Value::Array(
                        outcomes
                            .iter()
                            .map(|o| match o {
                                Ok(r) => json!({"ok": json::reply(r)}),
                                Err(e) => json!({"err": json::error(e)}),
                            })
                            .collect(),
                    )
                })),
                Err(why) => Err(bad_call(why)),
            }
        }
        "agent-card" => match need(args, "peer-id") {
            Ok(peer) => wit(instance.agent_card(client, peer, arg(args, "source")).await?.map(|c| json::card(&c))),
            Err(e) => Err(e),
        },
        "extended-agent-card" => {
            let options = match call_options(args) {
                Ok(o) => o,
                Err(e) => return Ok(Err(e)),
            };
            match need(args, "peer-id") {
                Ok(peer) => wit(instance.extended_agent_card(client, peer, &options).await?.map(|c| json::card(&c))),
                Err(e) => Err(e),
            }
        }
        "create-push-config" | "get-push-config" | "list-push-configs" | "delete-push-config" => {
            let options = match call_options(args) {
                Ok(o) => o,
                Err(e) => return Ok(Err(e)),
            };
            let (peer, task) = match (need(args, "peer-id"), need(args, "task-id")) {
                (Ok(peer), Ok(task)) => (peer, task),
                (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
            };
            match call {
                "create-push-config" => {
                    let url = match need(args, "url") {
                        Ok(url) => url,
                        Err(e) => return Ok(Err(e)),
                    };
                    let config = bindings::NewPushConfig {
                        task_id: task.to_owned(),
                        id: arg(args, "config-id").map(str::to_owned),
                        url: url.to_owned(),
                        token: arg(args, "token").map(str::to_owned),
                    };
                    wit(instance
                        .create_push_config(client, peer, &config, &options)
                        .await?
                        .map(|c| json::push_config(&c)))
                }
                "list-push-configs" => wit(instance
                    .list_push_configs(client, peer, task, &options)
                    .await?
                    .map(|list| Value::Array(list.iter().map(json::push_config).collect()))),
                _ => match need(args, "config-id") {
                    Ok(id) if call == "get-push-config" => wit(instance
                        .get_push_config(client, (peer, task, id), &options)
                        .await?
                        .map(|c| json::push_config(&c))),
                    Ok(id) => wit(instance
                        .delete_push_config(client, (peer, task, id), &options)
                        .await?
                        .map(|()| Value::Null)),
                    Err(e) => Err(e),
                },
            }
        }
        "send-stream" | "subscribe-to-task" => {
            let options = match call_options(args) {
                Ok(o) => o,
                Err(e) => return Ok(Err(e)),
            };
            let opened = match call {
                "send-stream" => {
                    let message = match args.get("message").map(json::outgoing_message) {
                        Some(Ok(m)) => m,
                        Some(Err(why)) => return Ok(Err(bad_call(format!("\"message\": {why}")))),
                        None => return Ok(Err(bad_call("missing argument \"message\"".into()))),
                    };
                    match need(args, "peer-id") {
                        Ok(peer) => instance.send_stream(client, peer, &message, &options).await?,
                        Err(e) => return Ok(Err(e)),
                    }
                }
                _ => match (need(args, "peer-id"), need(args, "task-id")) {
                    (Ok(peer), Ok(task)) => instance.subscribe_to_task(client, peer, task, &options).await?,
                    (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
                },
            };
            match opened {
                // The whole stream, read to its end: its events, then how it ended.
                Ok(stream) => {
                    let mut events = Vec::new();
                    let end = loop {
                        match instance.next_event(stream).await? {
                            Ok(Some(event)) => events.push(json::stream_event(&event)),
                            Ok(None) => break Value::Null,
                            Err(e) => break json::error(&e),
                        }
                    };
                    let resumes = instance.stream_resumes(stream).await?;
                    let extensions = instance.stream_extensions(stream).await?;
                    instance.drop_stream(stream).await?;
                    Ok(json!({"events": events, "end": end, "resumes": resumes, "activated-extensions": extensions}))
                }
                Err(e) => Err(json::error(&e)),
            }
        }
        "set-token" => match need(args, "workspace-id") {
            Ok(ws) => wit(instance.set_token(client, ws, arg(args, "token")).await?.map(|()| Value::Null)),
            Err(e) => Err(e),
        },
        "advance-clock" => match (clock, args.get("ms").and_then(Value::as_u64)) {
            (None, _) => Err(bad_call("advance-clock needs `a2a batch --manual-clock`".into())),
            (Some(_), None) => Err(bad_call("advance-clock takes {\"ms\": <non-negative integer>}".into())),
            (Some(clock), Some(ms)) => {
                clock.advance(Duration::from_millis(ms));
                Ok(json!({"elapsed-ms": clock.elapsed().as_millis() as u64}))
            }
        },
        other => Err(bad_call(format!(
            "unknown call {other:?}; calls: validate-peer-id, discover-peer, peers, workspace-info, agent-card-url, \
             enrich-peer-metadata, enrich-peer-metadata-nonblocking, await-enrichment, peer-name, routed-source, \
             stats, send-message, send, send-many, send-stream, list-tasks, get-task, cancel-task, \
             subscribe-to-task, agent-card, extended-agent-card, create-push-config, get-push-config, \
             list-push-configs, delete-push-config, set-token, advance-clock"
        ))),
    })
}

async fn batch(conn: &Conn, manual_clock: bool) -> wasmtime::Result<ExitCode> {
    let clock = manual_clock.then(ManualClock::new);
    let options = InstanceOptions { clock: clock.clone(), ..Default::default() };
    let (mut instance, client) = instance_and_client(conn, options).await?;
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            println!("{}", json!({"id": null, "err": json::error(&e)}));
            return Ok(ExitCode::FAILURE);
        }
    };
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<Value>(&line) {
            Err(e) => json!({"id": null, "err": bad_call(format!("not a JSON line: {e}"))}),
            Ok(request) => {
                let id = request.get("id").cloned().unwrap_or(Value::Null);
                let args = request.get("args").cloned().unwrap_or_else(|| json!({}));
                match request.get("call").and_then(Value::as_str) {
                    None => json!({"id": id, "err": bad_call("missing \"call\"".into())}),
                    Some(call) => match batch_call(&mut instance, client, clock.as_ref(), call, &args).await? {
                        Ok(ok) => json!({"id": id, "ok": ok}),
                        Err(err) => json!({"id": id, "err": err}),
                    },
                }
            }
        };
        writeln!(stdout, "{answer}")?;
        stdout.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}
