//! The soak: many calls on one instance, mixing every method — cache hits
//! and misses, negative lookups, failures injected by the platform, invalid
//! ids, sends, and non-blocking enrichments left in flight behind a slow
//! registry — sampling the guest's linear memory as it goes. Memory must be
//! flat once the cache has warmed up.

use std::time::{Duration, Instant};

use wasmtime::{bail, Result};

use crate::bindings::CacheStats;
use crate::fuzz::{check_error_text, config, workspaces, PEERS};
use crate::platform::{Fault, Platform, Route};
use crate::{Harness, InstanceOptions};

/// One memory sample.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Calls made so far.
    pub calls: u64,
    /// Guest linear memory, bytes.
    pub memory_bytes: usize,
    /// The cache counters then.
    pub stats: CacheStats,
    /// Whether warm-up was over: the cache full (it has evicted) and a tenth
    /// of the calls made.
    pub warm: bool,
}

/// What a soak did.
#[derive(Debug, Default)]
pub struct SoakReport {
    /// Calls made.
    pub calls: u64,
    /// Of which made an HTTP request (or started one).
    pub network_calls: u64,
    /// Calls that returned an error or none by design (404s, faults, invalid ids).
    pub failures: u64,
    /// Memory samples, evenly spaced.
    pub samples: Vec<Sample>,
    /// Wall time.
    pub elapsed: Duration,
}

impl SoakReport {
    /// Growth of guest memory from the first sample after warm-up to the
    /// last, bytes; `None` when warm-up never ended.
    pub fn growth_after_warmup(&self) -> Option<usize> {
        let first = self.samples.iter().find(|s| s.warm)?;
        let last = self.samples.last()?;
        Some(last.memory_bytes.saturating_sub(first.memory_bytes))
    }
}

/// Ids starting so are looked up slowly (3 s) by the soak's registry.
const SLOW: &str = "eeeeeeee-0000-4000-8000";

/// Ids the registry does not know: their lookups fail with 404 and are
/// negatively cached. More of them than the cache holds, so entries churn.
fn stranger(n: u64) -> String {
    format!("dddddddd-0000-4000-8000-{:012x}", n % 3_000)
}

/// Makes `calls` calls on one instance; `on_sample` gets each memory sample
/// (every `calls / samples` calls) and `progress` the count done.
pub async fn run(
    calls: u64,
    samples: u64,
    mut on_sample: impl FnMut(&Sample),
    mut progress: impl FnMut(u64),
) -> Result<SoakReport> {
    let platform = Platform::start(workspaces()).await?;
    platform.delay_paths(SLOW, Duration::from_secs(3));
    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await?;
    let mut cfg = config(&platform.url());
    // A small cache, so eviction is part of the mix.
    cfg.cache =
        Some(crate::bindings::CachePolicy { max_entries: Some(512), max_in_flight: Some(32), ..Default::default() });
    let c = match instance.client(&cfg).await? {
        Ok(c) => c,
        Err(e) => bail!("config refused: {}", e.message),
    };
    let every = (calls / samples.max(1)).max(1);
    let mut report = SoakReport::default();
    let started = Instant::now();
    for i in 0..calls {
        let peer = PEERS[(i % 3) as usize];
        // 40 kinds of call; the network ones are a few of them.
        let failed = match i % 40 {
            0 => {
                report.network_calls += 1;
                instance.peers(c, None, None).await?.is_err()
            }
            1 => {
                report.network_calls += 1;
                instance.workspace_info(c, None).await?.is_err()
            }
            2 => {
                report.network_calls += 1;
                instance.discover_peer(c, peer, None).await?.is_err()
            }
            3 if i % 400 == 3 => {
                report.network_calls += 1;
                let r = instance.send_message(c, peer, &format!("soak {i}"), None).await?;
                r.is_err()
            }
            4 if i % 200 == 4 => {
                // A platform failure: a 503 with a body.
                report.network_calls += 1;
                platform.fault(Route::Peers, Fault::raw(503, "text/html", "<h1>down</h1>"), Some(1));
                match instance.peers(c, None, None).await? {
                    Ok(_) => bail!("call {i}: the injected 503 was not seen"),
                    Err(e) => {
                        check_error_text(&e)?;
                        true
                    }
                }
            }
            5 => {
                // One of 200 strangers: a miss (404, negatively cached), or a
                // negative hit when it comes round again.
                report.network_calls += 1;
                instance.enrich(c, &stranger(i / 40 % 200), None).await?.is_none()
            }
            6 if i % 500 == 6 => {
                // A lookup in the registry's slow corner, left in flight for
                // the calls after it to harvest.
                report.network_calls += 1;
                instance.enrich_nonblocking(c, &format!("{SLOW}-{i:012x}"), None).await?.is_none()
            }
            7 => {
                report.network_calls += 1;
                // A new stranger each time: the cache churns (evictions).
                instance.enrich_nonblocking(c, &stranger(i / 40 + 1_000), None).await?.is_none()
            }
            8 => match instance.discover_peer(c, "../../admin\r\nX: 1", None).await? {
                Ok(_) => bail!("call {i}: an invalid id was accepted"),
                Err(e) => {
                    check_error_text(&e)?;
                    true
                }
            },
            9 => instance.stats(c).await.map(|_| false)?,
            10..=14 => instance.peer_name(c, peer, None).await?.is_none(),
            15..=19 => instance.validate_peer_id(peer).await?.is_none(),
            20..=24 => instance.agent_card_url(c, peer).await?.is_err(),
            _ => instance.enrich(c, peer, None).await?.is_none(),
        };
        report.failures += u64::from(failed);
        report.calls += 1;
        if i % 10_000 == 0 {
            platform.clear_log();
        }
        if (i + 1) % every == 0 {
            let stats = instance.stats(c).await?;
            let warm = stats.evictions > 0 && i + 1 >= calls / 10;
            let sample = Sample { calls: i + 1, memory_bytes: instance.memory_bytes(), stats, warm };
            on_sample(&sample);
            report.samples.push(sample);
        }
        progress(i + 1);
    }
    report.elapsed = started.elapsed();
    Ok(report)
}
