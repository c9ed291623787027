//! `a2a-client`: an A2A client as a WebAssembly component.
//!
//! This file is the WIT glue only: it converts between the generated
//! bindings and the plain-Rust modules, which hold all behaviour and unit-test
//! natively (`cargo test`).

pub mod cache;
pub mod client;
pub mod config;
pub mod directory;
pub mod error;
pub mod ids;
pub mod platform;
pub mod retry;
#[cfg(test)]
mod testing;
pub mod transport;

#[cfg(target_arch = "wasm32")]
mod component {
    use std::cell::RefCell;
    use std::time::Duration;

    use crate::client;
    use crate::config::{RawCachePolicy, RawConfig, RawRetryPolicy};
    use crate::error::{Error, ErrorKind};
    use crate::platform;
    use crate::transport::WasiHttp;

    wit_bindgen::generate!({
        path: "wit",
        world: "a2a-client",
        with: {
            "wasi:http/types@0.2.12": ::wasi::http::types,
            "wasi:http/outgoing-handler@0.2.12": ::wasi::http::outgoing_handler,
            "wasi:io/error@0.2.12": ::wasi::io::error,
            "wasi:io/poll@0.2.12": ::wasi::io::poll,
            "wasi:io/streams@0.2.12": ::wasi::io::streams,
            "wasi:clocks/monotonic-clock@0.2.12": ::wasi::clocks::monotonic_clock,
            "wasi:clocks/wall-clock@0.2.12": ::wasi::clocks::wall_clock,
            "wasi:random/random@0.2.12": ::wasi::random::random,
        },
        generate_all,
    });

    use exports::a2a::client::api as wit;

    struct Component;

    impl wit::Guest for Component {
        type Client = Client;

        fn validate_peer_id(id: String) -> Option<String> {
            crate::ids::validate_peer_id(&id)
        }
    }

    /// The `client` resource: the plain-Rust client over `wasi:http`.
    struct Client {
        core: RefCell<client::Client<WasiHttp>>,
    }

    fn now() -> u64 {
        ::wasi::clocks::monotonic_clock::now()
    }

    impl wit::GuestClient for Client {
        fn new(config: wit::Config) -> Result<Self, wit::Error> {
            let core = client::Client::new(raw_config(config), WasiHttp).map_err(to_wit)?;
            Ok(Client { core: RefCell::new(core) })
        }

        fn set_token(&self, workspace_id: String, token: Option<String>) -> Result<(), wit::Error> {
            self.core.borrow_mut().set_token(&workspace_id, token).map_err(to_wit)
        }

        fn discover_peer(&self, peer_id: String, source: Option<String>) -> Result<wit::Peer, wit::Error> {
            self.core.borrow_mut().discover_peer(&peer_id, source.as_deref(), now()).map(to_wit_peer).map_err(to_wit)
        }

        fn peers(&self, query: Option<String>, source: Option<String>) -> Result<Vec<wit::Peer>, wit::Error> {
            let peers = self.core.borrow_mut().peers(query.as_deref(), source.as_deref(), now()).map_err(to_wit)?;
            Ok(peers.into_iter().map(to_wit_peer).collect())
        }

        fn workspace_info(&self, source: Option<String>) -> Result<wit::Workspace, wit::Error> {
            let w = self.core.borrow_mut().workspace_info(source.as_deref(), now()).map_err(to_wit)?;
            Ok(wit::Workspace { id: w.id, name: w.name, role: w.role, status: w.status, raw: w.raw })
        }

        fn agent_card_url(&self, peer_id: String) -> Result<String, wit::Error> {
            self.core.borrow().agent_card_url(&peer_id).map_err(to_wit)
        }

        fn enrich_peer_metadata(&self, peer_id: String, source: Option<String>) -> Option<wit::Peer> {
            self.core.borrow_mut().enrich(&peer_id, source.as_deref(), now()).map(to_wit_peer)
        }

        fn enrich_peer_metadata_nonblocking(&self, peer_id: String, source: Option<String>) -> Option<wit::Peer> {
            self.core.borrow_mut().enrich_nonblocking(&peer_id, source.as_deref(), now()).map(to_wit_peer)
        }

        fn await_enrichment(&self, timeout_ms: u32) -> u32 {
            self.core.borrow_mut().await_enrichment(Duration::from_millis(timeout_ms.into()), now)
        }

        fn peer_name(&self, peer_id: String, source: Option<String>) -> Option<String> {
            let mut core = self.core.borrow_mut();
            core.harvest(now());
            core.peer_name(&peer_id, source.as_deref())
        }

        fn routed_source(&self, peer_id: String) -> Option<String> {
            self.core.borrow().routed_source(&peer_id)
        }

        fn stats(&self) -> wit::CacheStats {
            let s = self.core.borrow_mut().stats(now());
            wit::CacheStats {
                entries: s.entries,
                hits: s.hits,
                negative_hits: s.negative_hits,
                misses: s.misses,
                evictions: s.evictions,
                in_flight: s.in_flight,
                names: s.names,
                routes: s.routes,
            }
        }
    }

    fn raw_config(c: wit::Config) -> RawConfig {
        let timeouts = c.timeouts.unwrap_or(wit::Timeouts { read_ms: None, read_total_ms: None, enrich_ms: None });
        RawConfig {
            workspace_id: c.workspace_id,
            platform_url: c.platform_url,
            credentials: c.credentials.into_iter().map(|c| (c.workspace_id, c.token)).collect(),
            read_ms: timeouts.read_ms,
            read_total_ms: timeouts.read_total_ms,
            enrich_ms: timeouts.enrich_ms,
            max_body_bytes: c.max_body_bytes,
            cache: c.cache.map(|p| RawCachePolicy {
                max_entries: p.max_entries,
                ttl_ms: p.ttl_ms,
                negative_ttl_ms: p.negative_ttl_ms,
                transient_negative_ttl_ms: p.transient_negative_ttl_ms,
                max_in_flight: p.max_in_flight,
            }),
            retry: c.retry.map(|p| RawRetryPolicy {
                max_attempts: p.max_attempts,
                base_delay_ms: p.base_delay_ms,
                max_delay_ms: p.max_delay_ms,
                jitter_percent: p.jitter_percent,
                total_budget_ms: p.total_budget_ms,
            }),
        }
    }

    fn to_wit_peer(p: platform::Peer) -> wit::Peer {
        wit::Peer {
            id: p.id,
            name: p.name,
            role: p.role,
            tier: p.tier,
            status: p.status,
            url: p.url,
            parent_id: p.parent_id,
            active_tasks: p.active_tasks,
            agent_card: p.agent_card,
            raw: p.raw,
        }
    }

    fn to_wit(e: Error) -> wit::Error {
        use wit::ErrorKind as K;
        let kind = match e.kind {
            ErrorKind::InvalidId { param, value } => K::InvalidId(wit::InvalidId { param, value }),
            ErrorKind::InvalidConfig(msg) => K::InvalidConfig(msg),
            ErrorKind::Transport { url, code, attempt } => K::Transport(wit::TransportFailure { url, code, attempt }),
            ErrorKind::TimedOut { url, after_ms } => K::TimedOut(wit::TimedOut { url, after_ms }),
            ErrorKind::HttpStatus { url, status, excerpt } => {
                K::HttpStatus(wit::HttpStatus { url, status, body_excerpt: excerpt })
            }
            ErrorKind::BadJson { url, status, detail, excerpt } => {
                K::BadJson(wit::BadBody { url, status, detail, body_excerpt: excerpt })
            }
            ErrorKind::UnexpectedShape { url, status, detail, excerpt } => {
                K::UnexpectedShape(wit::BadBody { url, status, detail, body_excerpt: excerpt })
            }
            ErrorKind::BodyTooLarge { url, limit } => K::BodyTooLarge(wit::TooLarge { url, limit }),
            ErrorKind::Removed { id, removed_at, hint } => K::Removed(wit::RemovedWorkspace { id, removed_at, hint }),
        };
        wit::Error { kind, message: e.message }
    }

    export!(Component);
}
