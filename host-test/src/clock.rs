//! A clock the host controls: the guest's monotonic and wall clocks stand
//! still until a test (or `a2a batch --manual-clock`) advances them.
//!
//! Pollables (`subscribe-duration`) still sleep in real time in
//! wasmtime-wasi; only what the guest reads with `now` is controlled.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

/// A shared, manually advanced clock. Clones share the same time.
#[derive(Clone, Debug)]
pub struct ManualClock {
    /// Nanoseconds advanced since creation.
    offset: Arc<AtomicU64>,
    /// Wall time at creation.
    wall_start: Duration,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// Monotonic time the guest sees at creation (not zero, so code that
    /// subtracts from it is exercised).
    pub const MONOTONIC_START_NS: u64 = 1_000_000_000_000;

    /// A clock starting now (wall) and at [`Self::MONOTONIC_START_NS`] (monotonic).
    pub fn new() -> Self {
        Self {
            offset: Arc::new(AtomicU64::new(0)),
            wall_start: SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default(),
        }
    }

    /// Moves both clocks forward.
    pub fn advance(&self, by: Duration) {
        self.offset.fetch_add(by.as_nanos() as u64, Ordering::SeqCst);
    }

    /// How far the clocks have been advanced.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.offset.load(Ordering::SeqCst))
    }
}

impl HostMonotonicClock for ManualClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        Self::MONOTONIC_START_NS + self.offset.load(Ordering::SeqCst)
    }
}

impl HostWallClock for ManualClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }
    fn now(&self) -> Duration {
        self.wall_start + self.elapsed()
    }
}
