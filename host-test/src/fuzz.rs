//! Fuzzing through the real component: the embedded platform answers each
//! call with a mutated status, `Retry-After` and body (mutations of the seed
//! corpus of real shapes in `a2a_client::testing::checks`), every method in turn; after
//! every call the same instance must still answer a normal call correctly.
//! A trap, a wrong normal answer or an error text that is empty, spans lines
//! or holds the token is a finding.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use a2a_client::testing::checks::{self, Mutator};
use wasmtime::{bail, format_err, Result};

use crate::bindings::{self, Credential, RetryPolicy, Timeouts};
use crate::platform::{Fault, Platform, Route, Workspace};
use crate::{Client, Harness, Instance, InstanceOptions};

/// This workspace.
pub const ME: &str = "11111111-2222-4333-8444-555555555555";
/// Its token: must never show in any output.
pub const ME_TOKEN: &str = "tok-fuzz-me-7c1e0b5d2a";
/// Its peers on the embedded platform.
pub const PEERS: [&str; 3] = [
    "aaaaaaaa-0000-4000-8000-000000000001",
    "aaaaaaaa-0000-4000-8000-000000000002",
    "aaaaaaaa-0000-4000-8000-000000000003",
];

/// The platform every run uses: ME with its three peers.
pub fn workspaces() -> Vec<Workspace> {
    let mut me = Workspace::new(ME, "Planner", "planner");
    me.token = Some(ME_TOKEN.into());
    me.peers = PEERS.iter().map(|p| p.to_string()).collect();
    let mut all = vec![me];
    for (i, id) in PEERS.iter().enumerate() {
        all.push(Workspace::new(id, &format!("Peer {i}"), "worker"));
    }
    all
}

/// The client config of a run: short timeouts and a millisecond retry policy.
pub fn config(platform_url: &str) -> bindings::Config {
    bindings::Config {
        workspace_id: ME.into(),
        platform_url: Some(platform_url.into()),
        credentials: vec![Credential { workspace_id: ME.into(), token: ME_TOKEN.into() }],
        timeouts: Some(Timeouts {
            read_ms: Some(2_000),
            read_total_ms: Some(4_000),
            enrich_ms: Some(2_000),
            ..Default::default()
        }),
        max_body_bytes: Some(256 * 1024),
        protocol: None,
        cache: None,
        retry: Some(RetryPolicy {
            max_attempts: Some(3),
            base_delay_ms: Some(1),
            max_delay_ms: Some(5),
            total_budget_ms: Some(4_000),
            budget_tokens: Some(0),
            ..Default::default()
        }),
    }
}

/// An error's text as every output must be: non-empty, one line, no token.
pub fn check_error_text(e: &bindings::Error) -> Result<()> {
    if e.message.trim().is_empty() || e.message.contains(['\n', '\r']) || e.message.contains(ME_TOKEN) {
        bail!("bad error text: {:?}", e.message);
    }
    Ok(())
}

/// The methods fuzzed, in turn.
const METHODS: [&str; 6] = ["discover-peer", "peers", "workspace-info", "enrich", "enrich-nonblocking", "send-message"];

/// What a run did.
#[derive(Debug, Default)]
pub struct FuzzReport {
    /// Calls made with a mutated answer.
    pub executions: u64,
    /// `method: outcome` (ok, none, or the error kind) → count.
    pub outcomes: BTreeMap<String, u64>,
    /// Normal calls made after a fuzzed one (each answered correctly).
    pub probes: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Guest linear memory at the end, bytes.
    pub memory_bytes: usize,
}

impl FuzzReport {
    /// The outcome table, one `method outcome count` line each.
    pub fn table(&self) -> String {
        self.outcomes.iter().map(|(k, n)| format!("  {k:<40} {n:>8}")).collect::<Vec<_>>().join("\n")
    }
}

/// One mutated answer: status 200–599, optional `Retry-After`, body.
fn mutated_fault(m: &mut Mutator, seeds: &[Vec<u8>]) -> Fault {
    let seed = &seeds[m.below(seeds.len())];
    let input = m.mutate(seed);
    let resp = checks::answer(&input);
    let status = if resp.status < 200 { resp.status + 100 } else { resp.status };
    let content_type = ["application/json", "text/html", "text/event-stream", ""][m.below(4)];
    let respond = Fault::Respond { status, content_type, body: resp.body };
    // Only values HTTP can carry reach the wire (the platform skips the rest).
    if resp.headers.is_empty() {
        respond
    } else {
        Fault::WithHeaders(Box::new(respond), resp.headers)
    }
}

/// Runs `iterations` fuzzed calls on one instance; `progress` is told the
/// count done after each. Fails on the first finding, naming the call.
pub async fn run(iterations: u64, seed: u64, mut progress: impl FnMut(u64)) -> Result<FuzzReport> {
    let platform = Platform::start(workspaces()).await?;
    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await?;
    let client = match instance.client(&config(&platform.url())).await? {
        Ok(c) => c,
        Err(e) => bail!("config refused: {}", e.message),
    };
    let (platform_seeds, a2a_seeds) = (checks::seeds("platform_body"), checks::seeds("a2a_reply"));
    let mut m = Mutator::new(seed);
    let mut report = FuzzReport::default();
    let started = Instant::now();
    for i in 0..iterations {
        let method = METHODS[(i % METHODS.len() as u64) as usize];
        let (route, seeds) = match method {
            "peers" => (Route::Peers, &platform_seeds),
            "workspace-info" => (Route::Workspace, &platform_seeds),
            "send-message" => (Route::A2a, &a2a_seeds),
            _ => (Route::Discover, &platform_seeds),
        };
        platform.fault(route, mutated_fault(&mut m, seeds), Some(1));
        // A fresh peer id each time, so enrichment misses and asks.
        let fresh = format!("cccccccc-0000-4000-8000-{:012x}", i % 0x1_0000_0000_0000);
        let outcome = call(&mut instance, client, method, &fresh, PEERS[m.below(3)]).await;
        let outcome = outcome.map_err(|e| format_err!("iteration {i} (seed {seed}), {method}: {e:#}"))?;
        *report.outcomes.entry(format!("{method}: {outcome}")).or_default() += 1;
        report.executions += 1;
        platform.clear_faults();
        probe(&mut instance, client)
            .await
            .map_err(|e| format_err!("iteration {i} (seed {seed}), after {method}: {e:#}"))?;
        report.probes += 1;
        progress(i + 1);
    }
    report.elapsed = started.elapsed();
    report.memory_bytes = instance.memory_bytes();
    Ok(report)
}

/// One fuzzed call: its outcome's name, or a finding.
async fn call(instance: &mut Instance, c: Client, method: &str, fresh: &str, peer: &str) -> Result<String> {
    let kind = |r: Result<(), bindings::Error>| -> Result<String> {
        match r {
            Ok(()) => Ok("ok".into()),
            Err(e) => {
                check_error_text(&e)?;
                Ok(crate::json::error(&e)["kind"].as_str().unwrap_or("?").to_owned())
            }
        }
    };
    match method {
        "discover-peer" => kind(instance.discover_peer(c, peer, None).await?.map(drop)),
        "peers" => kind(instance.peers(c, None, None).await?.map(drop)),
        "workspace-info" => kind(instance.workspace_info(c, None).await?.map(drop)),
        "enrich" => Ok(if instance.enrich(c, fresh, None).await?.is_some() { "record" } else { "none" }.into()),
        "enrich-nonblocking" => {
            let first = instance.enrich_nonblocking(c, fresh, None).await?;
            instance.await_enrichment(c, 5_000).await?;
            let second = instance.enrich_nonblocking(c, fresh, None).await?;
            Ok(match (first, second) {
                (Some(_), _) => bail!("a cold peer answered at once"),
                (None, Some(_)) => "record",
                (None, None) => "none",
            }
            .into())
        }
        "send-message" => {
            let r = instance.send_message(c, peer, "fuzz", None).await?;
            if let Err(e) = &r {
                if !e.message.starts_with("[A2A_ERROR] ") {
                    bail!("send error without the [A2A_ERROR] prefix: {:?}", e.message);
                }
            }
            kind(r.map(drop))
        }
        other => bail!("unknown method {other}"),
    }
}

/// The normal call every fuzzed one is followed by: the full peer list.
async fn probe(instance: &mut Instance, c: Client) -> Result<()> {
    let peers = match instance.peers(c, None, None).await? {
        Ok(p) => p,
        Err(e) => bail!("normal peers call failed: {}", e.message),
    };
    let mut ids: Vec<&str> = peers.iter().map(|p| p.id.as_str()).collect();
    ids.sort_unstable();
    if ids != PEERS {
        bail!("normal peers call answered {ids:?}");
    }
    Ok(())
}
