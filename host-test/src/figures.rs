//! Summaries of timing samples, for the benchmarks' printed figures.

use std::time::Duration;

/// The sample at quantile `q` (0 to 1) of `samples`, sorted in place.
pub fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort_unstable();
    samples[((samples.len() - 1) as f64 * q) as usize]
}

/// `median … µs   p99 … µs   (n = …)`.
pub fn summary(mut samples: Vec<Duration>) -> String {
    let median = quantile(&mut samples, 0.5);
    let p99 = quantile(&mut samples, 0.99);
    format!(
        "median {:>8.2} µs   p99 {:>8.2} µs   (n = {})",
        median.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        samples.len()
    )
}
