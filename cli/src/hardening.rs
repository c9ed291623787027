//! `a2a fuzz` and `a2a soak`: the hardening runs from the command line, on
//! an embedded platform (no platform configuration needed).

use std::process::ExitCode;
use std::time::Duration;

use host_test::{fuzz, soak};
use indicatif::{ProgressBar, ProgressStyle};

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(&format!(
        "{{spinner}} {what} {{pos}}/{{len}} [{{elapsed_precise}}, {{per_sec}}, eta {{eta}}] {{wide_bar}}"
    ))
    .expect("static template");
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Updates the bar every 64 calls (drawing per call would cost more than the call).
fn tick(bar: &ProgressBar) -> impl FnMut(u64) + '_ {
    move |done| {
        if done % 64 == 0 {
            bar.set_position(done);
        }
    }
}

/// `a2a fuzz`: mutated answers to every method, then a normal call each.
pub async fn fuzz(iterations: u64, seed: u64) -> wasmtime::Result<ExitCode> {
    super::load_harness()?;
    let bar = bar(iterations, "fuzzing");
    let result = fuzz::run(iterations, seed, tick(&bar)).await;
    bar.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("a2a fuzz: FINDING: {e:#}");
            return Ok(ExitCode::FAILURE);
        }
    };
    println!(
        "{} fuzzed calls (seed {seed}), each followed by a correct normal call, in {:.1} s ({:.0} calls/s); guest memory {} KiB",
        report.executions,
        report.elapsed.as_secs_f64(),
        report.executions as f64 / report.elapsed.as_secs_f64(),
        report.memory_bytes / 1024
    );
    println!("outcomes:\n{}", report.table());
    Ok(ExitCode::SUCCESS)
}

/// `a2a soak`: many mixed calls on one instance, printing guest memory.
pub async fn soak(calls: u64, samples: u64) -> wasmtime::Result<ExitCode> {
    super::load_harness()?;
    let bar = bar(calls, "soaking");
    // To stdout, above the bar (`ProgressBar::println` drops lines when
    // stderr is not a terminal).
    let print = |s: &soak::Sample| {
        let line = format!(
            "{:>9} calls  guest memory {:>6} KiB{}  cache entries {:>4}  hits {:>8}  misses {:>6}  negative hits {:>6}  evictions {:>6}  in flight {:>2}",
            s.calls,
            s.memory_bytes / 1024,
            if s.warm { "" } else { " (warm-up)" },
            s.stats.entries,
            s.stats.hits,
            s.stats.misses,
            s.stats.negative_hits,
            s.stats.evictions,
            s.stats.in_flight
        );
        bar.suspend(|| println!("{line}"));
    };
    let result = soak::run(calls, samples, print, tick(&bar)).await;
    bar.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("a2a soak: FAILED: {e:#}");
            return Ok(ExitCode::FAILURE);
        }
    };
    println!(
        "{} calls ({} with a request, {} failing or empty by design) in {:.1} s",
        report.calls,
        report.network_calls,
        report.failures,
        report.elapsed.as_secs_f64(),
    );
    let first_warm = report.samples.iter().find(|s| s.warm);
    match (report.growth_after_warmup(), first_warm, report.samples.last()) {
        (Some(growth), Some(first), Some(last)) => {
            println!(
                "guest memory after warm-up: {} KiB at {} calls → {} KiB at {} calls (growth {growth} bytes)",
                first.memory_bytes / 1024,
                first.calls,
                last.memory_bytes / 1024,
                last.calls
            );
            Ok(if growth == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        _ => {
            eprintln!("a2a soak: too few calls for the cache to fill (warm-up never ended); try more --calls");
            Ok(ExitCode::FAILURE)
        }
    }
}
