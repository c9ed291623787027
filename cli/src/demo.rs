//! `a2a demo`: an embedded platform with a few peers and a short, readable
//! session of every read path against it — success and failure.

use std::process::ExitCode;
use std::time::Instant;

use host_test::bindings::{Config, Credential, Peer};
use host_test::harness::component_path;
use host_test::platform::{Fault, Platform, Route, Workspace};
use host_test::{Client, Instance, InstanceOptions};

const PLANNER: &str = "11111111-2222-4333-8444-555555555555";
const OPS: &str = "22222222-2222-4333-8444-555555555555";
const BUILDER: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const REVIEWER: &str = "aaaaaaaa-0000-4000-8000-000000000002";
const ARCHIVIST: &str = "aaaaaaaa-0000-4000-8000-000000000003";
const SUPPORT: &str = "aaaaaaaa-0000-4000-8000-000000000004";
const GHOST: &str = "bbbbbbbb-0000-4000-8000-000000000009";

/// Peers as an aligned table.
pub fn peer_table(peers: &[Peer]) -> String {
    if peers.is_empty() {
        return "(no peers)".into();
    }
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let rows: Vec<[String; 4]> =
        peers.iter().map(|p| [p.id.clone(), opt(&p.name), opt(&p.role), opt(&p.status)]).collect();
    let mut widths = [2, 4, 4, 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 4]| {
        let mut s = String::new();
        for (cell, w) in cells.iter().zip(widths) {
            s.push_str(&format!("{cell:<w$}  "));
        }
        s.trim_end().to_string()
    };
    let mut out = vec![line(["ID", "NAME", "ROLE", "STATUS"])];
    out.extend(rows.iter().map(|r| line([&r[0], &r[1], &r[2], &r[3]])));
    out.join("\n")
}

/// One peer as `field: value` lines.
pub fn peer_lines(p: &Peer) -> String {
    let mut out = vec![format!("id:     {}", p.id)];
    for (k, v) in [("name", &p.name), ("role", &p.role), ("status", &p.status), ("url", &p.url)] {
        if let Some(v) = v {
            out.push(format!("{k}:{}{v}", " ".repeat(7 - k.len())));
        }
    }
    out.join("\n")
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("     {l}")).collect::<Vec<_>>().join("\n")
}

struct Session {
    instance: Instance,
    client: Client,
    step: usize,
}

impl Session {
    fn step(&mut self, what: &str) {
        self.step += 1;
        println!("\n{:>2}. {what}", self.step);
    }
}

fn show<T>(result: Result<T, host_test::bindings::Error>, started: Instant, ok: impl FnOnce(T) -> String) {
    let took = started.elapsed();
    match result {
        Ok(v) => println!("{}\n     ({:.2} ms)", indent(&ok(v)), took.as_secs_f64() * 1e3),
        Err(e) => println!(
            "     error [{}]: {}{}",
            super::json::error(&e)["kind"].as_str().unwrap_or("?"),
            e.message,
            super::removed_detail(&e)
        ),
    }
}

/// Runs the demo.
pub async fn run() -> wasmtime::Result<ExitCode> {
    let mut planner = Workspace::new(PLANNER, "Planner", "planner");
    planner.token = Some("planner-token-v1".into());
    planner.peers = vec![BUILDER.into(), REVIEWER.into(), ARCHIVIST.into()];
    let mut ops = Workspace::new(OPS, "Ops", "operations");
    ops.token = Some("ops-token".into());
    ops.peers = vec![SUPPORT.into()];
    let mut archivist = Workspace::new(ARCHIVIST, "Archivist", "archivist");
    archivist.status = "offline".into();
    let platform = Platform::start(vec![
        planner,
        ops,
        Workspace::new(BUILDER, "Builder", "builder"),
        Workspace::new(REVIEWER, "Reviewer", "code reviewer"),
        archivist,
        Workspace::new(SUPPORT, "Support", "support"),
    ])
    .await?;

    let path = component_path();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let started = Instant::now();
    let harness = super::load_harness()?;
    let compiled = started.elapsed();
    println!("a2a demo — the a2a-client WebAssembly component in wasmtime, against an embedded platform");
    println!("  component  {} ({} KiB, compiled in {:.2} s)", path.display(), size / 1024, compiled.as_secs_f64());
    println!("  platform   {} (in-process, 6 workspaces, no other network)", platform.url());
    println!("  this agent {PLANNER} \"Planner\", also registered as {OPS} \"Ops\"");

    let mut instance = harness.instantiate(InstanceOptions::default()).await?;
    let config = Config {
        workspace_id: PLANNER.into(),
        platform_url: Some(platform.url()),
        credentials: vec![
            Credential { workspace_id: PLANNER.into(), token: "planner-token-v1".into() },
            Credential { workspace_id: OPS.into(), token: "ops-token".into() },
        ],
        timeouts: None,
        max_body_bytes: None,
        protocol: None,
        cache: None,
        // Short waits for the demo; the default starts at 1 s.
        retry: Some(host_test::bindings::RetryPolicy { base_delay_ms: Some(250), ..Default::default() }),
    };
    let client = match instance.client(&config).await? {
        Ok(c) => c,
        Err(e) => wasmtime::bail!("the demo config was refused: {}", e.message),
    };
    let mut s = Session { instance, client, step: 0 };
    let c = s.client;

    s.step(&format!("validate-peer-id \"  {}  \"", BUILDER.to_uppercase()));
    let t = Instant::now();
    let v = s.instance.validate_peer_id(&format!("  {}  ", BUILDER.to_uppercase())).await?;
    show(Ok::<_, host_test::bindings::Error>(v), t, |v| v.unwrap_or_else(|| "none: not a UUID".into()));

    println!("\nA push from a peer arrives: label it (metadata cached per source, LRU + TTL):");
    s.step(&format!("enrich-peer-metadata-nonblocking {REVIEWER}   (cold: answers at once, lookup started)"));
    let t = Instant::now();
    let r = s.instance.enrich_nonblocking(c, REVIEWER, None).await?;
    show(Ok::<_, host_test::bindings::Error>(r), t, |p| p.map(|p| peer_lines(&p)).unwrap_or_else(|| "none".into()));

    s.step("await-enrichment 2000, then the same call again   (warm)");
    let left = s.instance.await_enrichment(c, 2_000).await?;
    let t = Instant::now();
    let r = s.instance.enrich_nonblocking(c, REVIEWER, None).await?;
    show(Ok::<_, host_test::bindings::Error>(r), t, |p| {
        format!("{left} in flight after waiting\n{}", p.map(|p| peer_lines(&p)).unwrap_or_else(|| "none".into()))
    });

    s.step(&format!("enrich-peer-metadata {GHOST} twice   (a 404 is remembered: one registry call)"));
    let t = Instant::now();
    let first = s.instance.enrich(c, GHOST, None).await?;
    let second = s.instance.enrich(c, GHOST, None).await?;
    show(Ok::<_, host_test::bindings::Error>((first, second)), t, |(a, b)| {
        format!(
            "{} then {}",
            if a.is_some() { "a record" } else { "none" },
            if b.is_some() { "a record" } else { "none" }
        )
    });

    s.step("stats");
    let st = s.instance.stats(c).await?;
    println!(
        "     entries {}  hits {}  negative hits {}  misses {}  evictions {}  in flight {}  names {}  routes {}",
        st.entries, st.hits, st.negative_hits, st.misses, st.evictions, st.in_flight, st.names, st.routes
    );

    println!("\nThe registry:");
    s.step("peers");
    let t = Instant::now();
    let r = s.instance.peers(c, None, None).await?;
    show(r, t, |p| peer_table(&p));

    s.step("peers --query review   (the platform's substring filter on name and role)");
    let t = Instant::now();
    let r = s.instance.peers(c, Some("review"), None).await?;
    show(r, t, |p| peer_table(&p));

    s.step(&format!("discover-peer {BUILDER}"));
    let t = Instant::now();
    let r = s.instance.discover_peer(c, BUILDER, None).await?;
    show(r, t, |p| peer_lines(&p));

    s.step(&format!("discover-peer {SUPPORT} --source {OPS}   (multi-workspace: as Ops, with Ops' token)"));
    let t = Instant::now();
    let r = s.instance.discover_peer(c, SUPPORT, Some(OPS)).await?;
    show(r, t, |p| peer_lines(&p));

    s.step("workspace-info");
    let t = Instant::now();
    let r = s.instance.workspace_info(c, None).await?;
    show(r, t, |w| {
        format!(
            "{} \"{}\" ({}), {}",
            w.id,
            w.name.unwrap_or_default(),
            w.role.unwrap_or_default(),
            w.status.unwrap_or_default()
        )
    });

    s.step(&format!("agent-card-url {REVIEWER}"));
    let t = Instant::now();
    let r = s.instance.agent_card_url(c, REVIEWER).await?;
    show(r, t, |u| u);

    println!("\nDelegation (message/send through the platform's A2A proxy):");
    s.step(&format!("send-message {BUILDER} \"task: build the release\""));
    let t = Instant::now();
    let r = s.instance.send_message(c, BUILDER, "task: build the release", None).await?;
    show(r, t, |r| {
        let kind = match &r.kind {
            host_test::bindings::ReplyKind::Message => "a message".to_string(),
            host_test::bindings::ReplyKind::Task(task) => {
                format!("task {} {}", task.id.as_deref().unwrap_or("?"), task.state)
            }
        };
        format!("{}\n({kind}, {} attempt(s), messageId {})", r.text, r.attempts.len(), r.message_id)
    });

    s.step(&format!("send-message {REVIEWER} \"please review\"   (the proxy answers 503 twice: retried, same ids)"));
    platform.fault(Route::A2a, Fault::json(503, serde_json::json!({"error": "workspace not available"})), Some(2));
    let t = Instant::now();
    let r = s.instance.send_message(c, REVIEWER, "please review", None).await?;
    show(r, t, |r| {
        let trace: Vec<String> = r
            .attempts
            .iter()
            .map(|a| match a.delay_ms {
                Some(d) => format!("attempt {}: {} → waited {d} ms", a.number, a.outcome),
                None => format!("attempt {}: {}", a.number, a.outcome),
            })
            .collect();
        format!("{}\n{}", r.text, trace.join("\n"))
    });

    println!("\nFailures, each typed and explained:");
    s.step("discover-peer \"../../etc/passwd\"   (refused before any request)");
    let t = Instant::now();
    let r = s.instance.discover_peer(c, "../../etc/passwd", None).await?;
    show(r, t, |p| peer_lines(&p));

    s.step(&format!("discover-peer {GHOST}   (not registered)"));
    let t = Instant::now();
    let r = s.instance.discover_peer(c, GHOST, None).await?;
    show(r, t, |p| peer_lines(&p));

    s.step(&format!("discover-peer {ARCHIVIST}   (offline)"));
    let t = Instant::now();
    let r = s.instance.discover_peer(c, ARCHIVIST, None).await?;
    show(r, t, |p| peer_lines(&p));

    s.step("the platform rotates Planner's token; peers");
    platform.update(PLANNER, |w| w.token = Some("planner-token-v2".into()));
    let t = Instant::now();
    let r = s.instance.peers(c, None, None).await?;
    show(r, t, |p| peer_table(&p));

    s.step("set-token (rotation) and peers again");
    s.instance
        .set_token(c, PLANNER, Some("planner-token-v2"))
        .await?
        .map_err(|e| wasmtime::format_err!("{}", e.message))?;
    let t = Instant::now();
    let r = s.instance.peers(c, None, None).await?;
    show(r, t, |p| format!("{} peers", p.len()));

    s.step("the platform removes Ops; workspace-info --source Ops");
    platform.update(OPS, |w| w.removed_at = Some("2026-11-25T09:00:00Z".into()));
    let t = Instant::now();
    let r = s.instance.workspace_info(c, Some(OPS)).await?;
    show(r, t, |w| w.id);

    s.step(&format!("send-message {GHOST} \"hello?\"   (not registered)"));
    let t = Instant::now();
    let r = s.instance.send_message(c, GHOST, "hello?", None).await?;
    show(r, t, |r| r.text);

    let log = platform.log();
    println!("\nWhat the platform received ({} requests; tokens masked here):", log.len());
    for req in &log {
        let auth = req
            .header("authorization")
            .map(|a| format!("Bearer <{} chars>", a.len().saturating_sub(7)))
            .unwrap_or_else(|| "-".into());
        println!(
            "  {:<4} {:<58} X-Workspace-ID: {:<36}  Authorization: {auth}",
            req.method,
            req.path,
            req.header("x-workspace-id").unwrap_or("-")
        );
    }
    Ok(ExitCode::SUCCESS)
}
