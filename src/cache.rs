//! A bounded LRU map whose entries expire: the peer-metadata cache's policy.
//!
//! Built on `hashlink::LruCache`. Time is passed in (monotonic nanoseconds
//! from `wasi:clocks` in the component, plain numbers in tests), and every
//! entry carries its own TTL so that negative entries can expire sooner.

use std::hash::Hash;

use hashlink::linked_hash_map::RawEntryMut;
use hashlink::LruCache;

/// What a lookup found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup<'a, V> {
    /// A fresh entry, now the most recently used.
    Fresh(&'a V),
    /// An entry that had expired; it was removed.
    Expired,
    /// No entry.
    Missing,
}

struct Entry<V> {
    stored_at: u64,
    ttl: u64,
    value: V,
}

/// An LRU map of at most `capacity` entries, each fresh for its own TTL.
pub(crate) struct TtlLru<K: Hash + Eq, V> {
    map: LruCache<K, Entry<V>>,
    evictions: u64,
}

impl<K: Hash + Eq, V> TtlLru<K, V> {
    /// An empty map holding at most `capacity` (≥ 1) entries.
    pub(crate) fn new(capacity: usize) -> Self {
        Self { map: LruCache::new(capacity.max(1)), evictions: 0 }
    }

    /// Looks `key` up at time `now` (ns). A fresh entry is promoted to most
    /// recently used; an entry is fresh while `now - stored_at < ttl` (so it
    /// is expired at exactly its TTL, as in the Python client).
    pub(crate) fn get(&mut self, key: &K, now: u64) -> Lookup<'_, V> {
        // One hash and probe for the whole lookup (the hit path).
        match self.map.raw_entry_mut().from_key(key) {
            RawEntryMut::Vacant(_) => Lookup::Missing,
            RawEntryMut::Occupied(mut entry) => {
                let e = entry.get();
                if now.saturating_sub(e.stored_at) < e.ttl {
                    entry.to_back();
                    Lookup::Fresh(&entry.into_mut().value)
                } else {
                    entry.remove();
                    Lookup::Expired
                }
            }
        }
    }

    /// Reads without promoting or expiring.
    pub(crate) fn peek(&self, key: &K, now: u64) -> Option<&V> {
        self.map.peek(key).filter(|e| now.saturating_sub(e.stored_at) < e.ttl).map(|e| &e.value)
    }

    /// Stores `value` under `key` as most recently used, fresh for `ttl` ns
    /// from `now`; replaces an existing entry in place, or evicts the least
    /// recently used one when full.
    pub(crate) fn insert(&mut self, key: K, value: V, ttl: u64, now: u64) {
        if !self.map.contains_key(&key) && self.map.len() >= self.map.capacity() {
            self.map.remove_lru();
            self.evictions += 1;
        }
        self.map.remove(&key);
        self.map.insert(key, Entry { stored_at: now, ttl, value });
    }

    /// Entries held (fresh or not yet noticed to be expired).
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the map is empty.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Entries evicted to make room so far.
    pub(crate) fn evictions(&self) -> u64 {
        self.evictions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn evicts_least_recently_used_at_capacity() {
        let mut c = TtlLru::new(2);
        c.insert("a", 1, 10 * S, 0);
        c.insert("b", 2, 10 * S, 0);
        c.insert("c", 3, 10 * S, 0);
        assert_eq!(c.get(&"a", 0), Lookup::Missing);
        assert_eq!(c.get(&"b", 0), Lookup::Fresh(&2));
        assert_eq!(c.evictions(), 1);
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn a_read_promotes() {
        let mut c = TtlLru::new(2);
        c.insert("a", 1, 10 * S, 0);
        c.insert("b", 2, 10 * S, 0);
        assert_eq!(c.get(&"a", 1), Lookup::Fresh(&1)); // a is now most recent
        c.insert("c", 3, 10 * S, 1);
        assert_eq!(c.get(&"b", 1), Lookup::Missing);
        assert_eq!(c.get(&"a", 1), Lookup::Fresh(&1));
        assert_eq!(c.get(&"c", 1), Lookup::Fresh(&3));
    }

    #[test]
    fn peek_does_not_promote() {
        let mut c = TtlLru::new(2);
        c.insert("a", 1, 10 * S, 0);
        c.insert("b", 2, 10 * S, 0);
        assert_eq!(c.peek(&"a", 0), Some(&1));
        c.insert("c", 3, 10 * S, 0);
        assert_eq!(c.peek(&"a", 0), None);
    }

    #[test]
    fn replacing_in_place_neither_evicts_nor_grows() {
        let mut c = TtlLru::new(2);
        c.insert("a", 1, 10 * S, 0);
        c.insert("b", 2, 10 * S, 0);
        c.insert("a", 10, 10 * S, 5);
        assert_eq!((c.len(), c.evictions()), (2, 0));
        assert_eq!(c.get(&"a", 5), Lookup::Fresh(&10));
        // The replaced entry became most recent: b is evicted next.
        c.insert("c", 3, 10 * S, 5);
        assert_eq!(c.get(&"b", 5), Lookup::Missing);
    }

    #[test]
    fn expires_exactly_at_the_ttl() {
        let mut c = TtlLru::new(4);
        c.insert("a", 1, 300 * S, 1_000);
        assert_eq!(c.get(&"a", 1_000 + 300 * S - 1), Lookup::Fresh(&1));
        assert_eq!(c.get(&"a", 1_000 + 300 * S), Lookup::Expired);
        assert_eq!(c.get(&"a", 1_000 + 300 * S), Lookup::Missing, "an expired entry is removed");
        assert!(c.is_empty());
    }

    #[test]
    fn each_entry_has_its_own_ttl() {
        let mut c = TtlLru::new(4);
        c.insert("hit", Some(1), 300 * S, 0);
        c.insert("404", None, 300 * S, 0);
        c.insert("refused", None, 30 * S, 0);
        assert_eq!(c.get(&"refused", 30 * S), Lookup::Expired);
        assert_eq!(c.get(&"404", 30 * S), Lookup::Fresh(&None));
        assert_eq!(c.get(&"hit", 299 * S), Lookup::Fresh(&Some(1)));
    }

    #[test]
    fn a_clock_before_the_entry_counts_as_fresh() {
        let mut c = TtlLru::new(1);
        c.insert("a", 1, S, 10 * S);
        assert_eq!(c.get(&"a", 0), Lookup::Fresh(&1));
    }
}
