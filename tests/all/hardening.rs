//! Short runs of the component fuzzer and the soak (the full runs are
//! `cargo a2a fuzz` and `cargo a2a soak`; figures in docs/hardening.md).

use host_test::{fuzz, soak};

#[tokio::test]
async fn component_fuzz_short_run_finds_nothing() {
    let report = fuzz::run(600, 20261125, |_| {}).await.expect("no finding");
    assert_eq!((report.executions, report.probes), (600, 600));
    // The mutations reach more than the happy path of every method.
    let kinds: Vec<&str> = report.outcomes.keys().map(String::as_str).collect();
    for method in ["discover-peer", "peers", "workspace-info", "enrich", "enrich-nonblocking", "send-message"] {
        assert!(kinds.iter().any(|k| k.starts_with(&format!("{method}: "))), "{method} never ran: {kinds:?}");
    }
    let errors = kinds.iter().filter(|k| !k.ends_with(": ok") && !k.ends_with(": record")).count();
    assert!(errors >= 8, "too few distinct failure outcomes: {kinds:?}");
}

#[tokio::test]
async fn soak_short_run_keeps_memory_flat() {
    let report = soak::run(30_000, 12, |_| {}, |_| {}).await.expect("soak");
    assert_eq!(report.calls, 30_000);
    assert!(report.network_calls > 3_000 && report.failures > 1_000, "{report:?}");
    assert_eq!(report.samples.len(), 12);
    let last = &report.samples[11].stats;
    assert!(last.hits > 10_000 && last.negative_hits > 0 && last.evictions > 0, "{last:?}");
    assert!(last.in_flight > 0, "lookups left in flight: {last:?}");
    let warm = report.samples.iter().filter(|s| s.warm).count();
    assert!(warm >= 3, "at least 3 samples after warm-up: {:?}", report.samples);
    assert_eq!(report.growth_after_warmup(), Some(0), "{:?}", report.samples);
}
