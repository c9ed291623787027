//! What the client knows about peers between calls: the peer-metadata cache
//! (LRU + TTL, negative entries included), display names, the peer → source
//! routing of multi-workspace mode, and the enrichment requests in flight.
//!
//! Everything is keyed by the workspace that asked as well as the peer, so
//! one workspace never sees what only another may see (a record fetched with
//! one workspace's rights is not served to another, and one workspace's 403
//! does not hide the peer from the rest), and every map is bounded, so many
//! peers cannot grow memory without limit.

use std::time::Duration;

use crate::cache::{Lookup, TtlLru};
use crate::config::CachePolicy;
use crate::error::ErrorKind;
use crate::platform::Peer;
use crate::transport::{Pending, Response, Transport, TransportError};

/// A peer's fresh entry in the cache (a short-lived answer, unboxed like
/// the record it carries).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Cached {
    /// The peer's record.
    Record(Peer),
    /// A remembered failure: the lookup is not made again until it expires.
    Failure,
    /// Nothing fresh: a lookup is needed.
    Nothing,
}

/// `(source, peer)` as 128-bit ids.
pub(crate) type Key = (u128, u128);

/// Counters of the cache, for the `stats` call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    /// Cached records, positive and negative.
    pub entries: u32,
    /// Lookups answered by a fresh record.
    pub hits: u64,
    /// Lookups answered by a fresh negative entry.
    pub negative_hits: u64,
    /// Lookups that found nothing fresh.
    pub misses: u64,
    /// Records evicted to make room.
    pub evictions: u64,
    /// Enrichment requests in flight.
    pub in_flight: u32,
    /// Display names known.
    pub names: u32,
    /// Peers with a known source.
    pub routes: u32,
}

/// An enrichment request in flight.
struct InFlight<P> {
    key: Key,
    peer: String,
    pending: P,
}

/// The client's knowledge of peers.
pub(crate) struct Directory<P> {
    policy: CachePolicy,
    records: TtlLru<Key, Option<Peer>>,
    names: TtlLru<Key, String>,
    routes: TtlLru<u128, (u128, String)>,
    in_flight: Vec<InFlight<P>>,
    /// Where the next bounded sweep of `in_flight` starts.
    cursor: usize,
    hits: u64,
    negative_hits: u64,
    misses: u64,
}

const FOREVER: u64 = u64::MAX;

fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u64::MAX as u128) as u64
}

impl<P: Pending> Directory<P> {
    /// An empty directory following `policy`.
    pub(crate) fn new(policy: CachePolicy) -> Self {
        let cap = policy.max_entries as usize;
        Self {
            records: TtlLru::new(cap),
            names: TtlLru::new(cap),
            routes: TtlLru::new(cap),
            in_flight: Vec::new(),
            cursor: 0,
            policy,
            hits: 0,
            negative_hits: 0,
            misses: 0,
        }
    }

    /// The fresh record of `key`, if any, for a detail of a call that makes
    /// no lookup (not counted as a hit or a miss).
    pub(crate) fn peek(&mut self, key: Key, now: u64) -> Option<Peer> {
        match self.records.get(&key, now) {
            Lookup::Fresh(Some(peer)) => Some(peer.clone()),
            _ => None,
        }
    }

    /// What the cache holds, fresh, for `key` (counted as a hit, a negative
    /// hit or a miss).
    pub(crate) fn cached(&mut self, key: Key, now: u64) -> Cached {
        match self.records.get(&key, now) {
            Lookup::Fresh(Some(peer)) => {
                self.hits += 1;
                Cached::Record(peer.clone())
            }
            Lookup::Fresh(None) => {
                self.negative_hits += 1;
                Cached::Failure
            }
            Lookup::Expired | Lookup::Missing => {
                self.misses += 1;
                Cached::Nothing
            }
        }
    }

    /// How long a failed lookup is remembered: a definite answer (404, 403,
    /// a body that is not a peer) as long as a record, a transient one
    /// (transport failure, time-out, 401, 429, 5xx) briefly, so a network
    /// blip does not hide a peer for a whole TTL.
    pub(crate) fn negative_ttl(&self, kind: &ErrorKind) -> Duration {
        match kind {
            ErrorKind::HttpStatus { status: 400 | 403 | 404 | 410, .. }
            | ErrorKind::BadJson { .. }
            | ErrorKind::UnexpectedShape { .. }
            | ErrorKind::BodyTooLarge { .. } => self.policy.negative_ttl,
            _ => self.policy.transient_negative_ttl,
        }
    }

    /// Stores the outcome of a lookup of `key`. A failure never replaces a
    /// fresh record (one a `peers` listing stored while the lookup was in flight).
    pub(crate) fn store(&mut self, key: Key, outcome: &Result<Peer, ErrorKind>, now: u64) {
        match outcome {
            Ok(peer) => self.store_peer(key, peer.clone(), now),
            Err(_) if matches!(self.records.peek(&key, now), Some(Some(_))) => {}
            Err(kind) => {
                let ttl = nanos(self.negative_ttl(kind));
                self.records.insert(key, None, ttl, now);
            }
        }
    }

    fn store_peer(&mut self, key: Key, peer: Peer, now: u64) {
        // An empty name is no name: it never replaces a known one.
        if let Some(name) = peer.name.as_ref().filter(|n| !n.is_empty()) {
            self.names.insert(key, name.clone(), FOREVER, now);
        }
        self.records.insert(key, Some(peer), nanos(self.policy.ttl), now);
    }

    /// Records a `peers` listing made as `source`: caches each record and
    /// routes each peer through `source` (the last listing wins).
    pub(crate) fn record_listing(&mut self, source: (u128, &str), peers: &[Peer], now: u64) {
        for peer in peers {
            let Some(bits) = crate::ids::validate_peer_id(&peer.id).and_then(|id| crate::ids::id_bits(&id)) else {
                continue;
            };
            self.store_peer((source.0, bits), peer.clone(), now);
            self.routes.insert(bits, (source.0, source.1.to_owned()), FOREVER, now);
        }
    }

    /// The source (bits and id) whose listing last included `peer`.
    pub(crate) fn route(&self, peer: u128) -> Option<(u128, &str)> {
        self.routes.peek(&peer, 0).map(|(bits, id)| (*bits, id.as_str()))
    }

    /// The display name of `key`'s peer, as last seen by that source.
    pub(crate) fn name(&self, key: Key) -> Option<&str> {
        self.names.peek(&key, 0).map(String::as_str)
    }

    /// Whether a lookup of `key` is in flight.
    pub(crate) fn is_in_flight(&self, key: Key) -> bool {
        self.in_flight.iter().any(|f| f.key == key)
    }

    /// The request in flight for `key`, if any.
    pub(crate) fn pending_of(&self, key: Key) -> Option<&P> {
        self.in_flight.iter().find(|f| f.key == key).map(|f| &f.pending)
    }

    /// Whether another request may be started.
    pub(crate) fn has_room(&self) -> bool {
        self.in_flight.len() < self.policy.max_in_flight as usize
    }

    /// Keeps a started lookup of `key` until it completes.
    pub(crate) fn track(&mut self, key: Key, peer: String, pending: P) {
        self.in_flight.push(InFlight { key, peer, pending });
    }

    /// Stores every lookup in flight that has completed, without blocking:
    /// one readiness check for all of them, then progress on those ready.
    /// `read` turns a transport outcome into a peer (the discovery parser).
    pub(crate) fn harvest_all<T: Transport<Pending = P>>(
        &mut self,
        transport: &mut T,
        now: u64,
        read: impl Fn(&str, Result<Response, TransportError>) -> Result<Peer, ErrorKind>,
    ) {
        if self.in_flight.is_empty() {
            return;
        }
        let ready = transport.ready_now(&self.pending());
        self.progress(ready, now, read);
    }

    /// Like [`Self::harvest_all`], but looks at no more than `budget` lookups
    /// (taking turns, so each is looked at within `in-flight / budget`
    /// calls), plus `key`'s own lookup if it is in flight. This keeps the
    /// cost of every call bounded however many lookups are in flight.
    pub(crate) fn harvest_some(
        &mut self,
        budget: usize,
        key: Option<Key>,
        now: u64,
        read: impl Fn(&str, Result<Response, TransportError>) -> Result<Peer, ErrorKind>,
    ) {
        let n = self.in_flight.len();
        if n == 0 {
            return;
        }
        let mut picked: Vec<usize> = (0..budget.min(n)).map(|k| (self.cursor + k) % n).collect();
        self.cursor = (self.cursor + budget) % n;
        if let Some(i) = key.and_then(|key| self.in_flight.iter().position(|f| f.key == key)) {
            if !picked.contains(&i) {
                picked.push(i);
            }
        }
        self.progress(picked, now, read);
    }

    /// Polls the lookups at `indices` and stores those that completed.
    fn progress(
        &mut self,
        indices: Vec<usize>,
        now: u64,
        read: impl Fn(&str, Result<Response, TransportError>) -> Result<Peer, ErrorKind>,
    ) {
        // Each lookup once, whatever order or repeats the readiness came in:
        // a lookup polled after it completed must not be removed twice.
        let mut indices = indices;
        indices.sort_unstable();
        indices.dedup();
        let mut done = Vec::new();
        for i in indices {
            if let Some(outcome) = self.in_flight.get_mut(i).and_then(|f| f.pending.poll()) {
                done.push((i, outcome));
            }
        }
        // Remove from the back so the other indices stay valid.
        done.sort_by_key(|(i, _)| std::cmp::Reverse(*i));
        for (i, outcome) in done {
            let finished = self.in_flight.swap_remove(i);
            let result = read(&finished.peer, outcome);
            self.store(finished.key, &result, now);
        }
    }

    /// The requests in flight, to wait on.
    pub(crate) fn pending(&self) -> Vec<&P> {
        self.in_flight.iter().map(|f| &f.pending).collect()
    }

    /// Lookups in flight.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The counters.
    pub(crate) fn stats(&self) -> Stats {
        Stats {
            entries: self.records.len() as u32,
            hits: self.hits,
            negative_hits: self.negative_hits,
            misses: self.misses,
            evictions: self.records.evictions(),
            in_flight: self.in_flight.len() as u32,
            names: self.names.len() as u32,
            routes: self.routes.len() as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::{CachePolicy, PlatformUrl, RawConfig};
    use crate::testing::{FakePending, FakeTransport};
    use crate::transport::{Request, Transport};

    /// A host whose readiness answers repeat, disorder and invent indices.
    struct Confused(FakeTransport);

    impl Transport for Confused {
        type Pending = FakePending;
        type Timer = Duration;
        type Stream = crate::testing::FakeStream;
        fn open(
            &mut self,
            p: &PlatformUrl,
            r: &Request,
        ) -> Result<crate::transport::Opened<Self::Stream>, TransportError> {
            self.0.open(p, r)
        }
        fn start(&mut self, p: &PlatformUrl, r: &Request) -> Result<FakePending, TransportError> {
            self.0.start(p, r)
        }
        fn timer(&mut self, after: Duration) -> Duration {
            self.0.timer(after)
        }
        fn expired(&mut self, t: &Duration) -> bool {
            self.0.expired(t)
        }
        fn wait(&mut self, p: &[&FakePending], until: Option<&Duration>) {
            self.0.wait(p, until)
        }
        fn ready_now(&mut self, p: &[&FakePending]) -> Vec<usize> {
            let mut ready = self.0.ready_now(p);
            ready.extend([usize::MAX, p.len(), 0, 1, 0]);
            ready.reverse();
            ready
        }
    }

    fn policy() -> CachePolicy {
        crate::config::Config::from_raw(RawConfig {
            workspace_id: "11111111-2222-4333-8444-555555555555".into(),
            ..Default::default()
        })
        .unwrap()
        .cache
    }

    #[test]
    fn a_confused_host_cannot_make_a_harvest_trap_or_lose_lookups() {
        let mut t = Confused(FakeTransport::default());
        let mut d: Directory<FakePending> = Directory::new(policy());
        let url = PlatformUrl::parse("http://p").unwrap();
        let req = |n: u128| Request {
            method: crate::transport::Method::Get,
            path: format!("/{n}"),
            headers: Vec::new(),
            body: None,
            connect_timeout: Duration::ZERO,
            timeout: Duration::ZERO,
            total: Duration::ZERO,
            max_body_bytes: 0,
        };
        let first = t.0.then_hold();
        t.0.then_answer(404, "{}");
        let _held = t.0.then_hold();
        for n in 0..3u128 {
            let pending = t.start(&url, &req(n)).unwrap();
            d.track((1, n), format!("peer-{n}"), pending);
        }
        first.answer(404, "{}");
        let read = |_: &str, _| Err(ErrorKind::InvalidConfig("x".into()));
        d.harvest_all(&mut t, 0, read);
        assert_eq!(d.in_flight(), 1, "the two finished lookups stored once each, the held one kept");
        d.harvest_all(&mut t, 0, read);
        assert_eq!(d.in_flight(), 1);
    }
}
