//! Client configuration: defaults, validation and the parsed platform URL.
//!
//! The glue hands the WIT `config` record over as [`RawConfig`]; everything
//! here is plain Rust so that every rule unit-tests natively.

use std::collections::HashMap;
use std::time::Duration;

pub(crate) use crate::a2a::ProtocolChoice;
use crate::error::{Error, ErrorKind};
use crate::ids::{quote_input, validate_peer_id};

/// Platform URL used when the config names none (the Python client's default
/// outside Docker).
pub(crate) const DEFAULT_PLATFORM_URL: &str = "http://localhost:8080";
/// Connect / first-byte / between-bytes timeout of registry reads (the Python client's 10 s).
pub(crate) const DEFAULT_READ_MS: u32 = 10_000;
/// Bound on a whole registry read.
pub(crate) const DEFAULT_READ_TOTAL_MS: u32 = 30_000;
/// Bound on a metadata-enrichment lookup (the Python client's 2 s).
pub(crate) const DEFAULT_ENRICH_MS: u32 = 2_000;
/// `message/send` connect timeout (the Python client's 30 s).
pub(crate) const DEFAULT_SEND_CONNECT_MS: u32 = 30_000;
/// `message/send` first-byte and between-bytes timeout (the Python client's 300 s).
pub(crate) const DEFAULT_SEND_READ_MS: u32 = 300_000;
/// Largest response body read.
pub(crate) const DEFAULT_MAX_BODY_BYTES: u32 = 4 * 1024 * 1024;
/// Most bearer tokens a client holds (every map the client keeps is bounded).
pub(crate) const MAX_CREDENTIALS: usize = 1024;

/// The configuration as the host passed it: every optional field still optional.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawConfig {
    /// This workspace's id.
    pub workspace_id: String,
    /// Base URL of the platform.
    pub platform_url: Option<String>,
    /// `(workspace id, bearer token)` pairs.
    pub credentials: Vec<(String, String)>,
    /// Read timeout (connect, first byte, between bytes), ms.
    pub read_ms: Option<u32>,
    /// Whole-read bound, ms.
    pub read_total_ms: Option<u32>,
    /// Enrichment lookup bound, ms.
    pub enrich_ms: Option<u32>,
    /// Send connect timeout, ms.
    pub send_connect_ms: Option<u32>,
    /// Send first-byte / between-bytes timeout, ms.
    pub send_read_ms: Option<u32>,
    /// Response body cap, bytes.
    pub max_body_bytes: Option<u32>,
    /// Cache policy fields, see [`CachePolicy`].
    pub cache: Option<RawCachePolicy>,
    /// Retry policy fields, see [`RetryPolicy`].
    pub retry: Option<RawRetryPolicy>,
    /// The A2A version spoken to peers by default.
    pub protocol: Option<ProtocolChoice>,
}

/// Cache policy as passed by the host.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawCachePolicy {
    /// Most entries kept.
    pub max_entries: Option<u32>,
    /// Freshness of a fetched record, ms.
    pub ttl_ms: Option<u32>,
    /// Freshness of a definite miss, ms.
    pub negative_ttl_ms: Option<u32>,
    /// Freshness of a transport failure, ms.
    pub transient_negative_ttl_ms: Option<u32>,
    /// Most enrichment requests in flight at once.
    pub max_in_flight: Option<u32>,
}

/// Retry policy as passed by the host.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawRetryPolicy {
    /// Attempts in all.
    pub max_attempts: Option<u32>,
    /// First backoff, ms.
    pub base_delay_ms: Option<u32>,
    /// Backoff cap, ms.
    pub max_delay_ms: Option<u32>,
    /// Jitter, percent.
    pub jitter_percent: Option<u8>,
    /// Bound on one send, ms.
    pub total_budget_ms: Option<u32>,
    /// Retry budget size, tokens (0: no budget).
    pub budget_tokens: Option<u32>,
    /// Tokens given back per successful send, percent of one.
    pub budget_refill_percent: Option<u32>,
}

/// Peer-metadata cache policy.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CachePolicy {
    /// Most entries kept.
    pub max_entries: u32,
    /// Freshness of a fetched record.
    pub ttl: Duration,
    /// Freshness of a definite miss.
    pub negative_ttl: Duration,
    /// Freshness of a transport failure.
    pub transient_negative_ttl: Duration,
    /// Most enrichment requests in flight at once.
    pub max_in_flight: u32,
}

/// Messaging retry policy.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RetryPolicy {
    /// Attempts in all.
    pub max_attempts: u32,
    /// First backoff.
    pub base_delay: Duration,
    /// Backoff cap.
    pub max_delay: Duration,
    /// Jitter, percent.
    pub jitter_percent: u8,
    /// Bound on one send.
    pub total_budget: Duration,
    /// Retry budget size, tokens (0: no budget).
    pub budget_tokens: u32,
    /// Tokens given back per successful send, percent of one.
    pub budget_refill_percent: u32,
}

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

/// The platform's base URL, split the way `wasi:http` wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlatformUrl {
    /// Scheme.
    pub scheme: Scheme,
    /// `host[:port]`.
    pub authority: String,
    /// Path prefix without a trailing slash (`""` or `/something`).
    pub prefix: String,
}

impl PlatformUrl {
    /// Parses and checks a base URL: `http(s)://host[:port][/prefix]`.
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else if let Some(rest) = url.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else {
            return Err(format!("platform-url {} must start with http:// or https://", quote_input(url, 80)));
        };
        if rest.contains(['?', '#']) {
            return Err("platform-url must not have a query or fragment".into());
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains('@') {
            // Credentials belong in `credentials`, where they are kept out of messages.
            return Err("platform-url must not contain user-info (user:password@)".into());
        }
        let authority_ok =
            !authority.is_empty() && authority.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_:[]".contains(&b));
        if !authority_ok {
            return Err(format!(
                "platform-url host {} is empty or has characters a host cannot have",
                quote_input(authority, 80)
            ));
        }
        let path_ok = path.bytes().all(|b| b.is_ascii_graphic() && !b"\\\"<>^`{|}".contains(&b));
        if !path_ok || path.split('/').any(|seg| seg == ".." || seg == ".") {
            return Err(format!("platform-url path {} is not a plain path", quote_input(path, 80)));
        }
        Ok(Self { scheme, authority: authority.to_string(), prefix: path.trim_end_matches('/').to_string() })
    }

    /// The base URL as text (what messages call "the platform").
    pub(crate) fn base(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        format!("{scheme}://{}{}", self.authority, self.prefix)
    }

    /// The full path (prefix included) of an API path that starts with `/`.
    pub(crate) fn path(&self, api_path: &str) -> String {
        format!("{}{}", self.prefix, api_path)
    }

    /// The full URL of an API path that starts with `/`.
    pub(crate) fn url(&self, api_path: &str) -> String {
        format!("{}{}", self.base(), api_path)
    }
}

/// A checked configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// This workspace's canonical id.
    pub workspace_id: String,
    /// The same id as 128 bits (cache keys).
    pub workspace_bits: u128,
    /// Where the platform is.
    pub platform: PlatformUrl,
    /// Canonical workspace id → bearer token.
    pub tokens: HashMap<String, String>,
    /// Connect / first-byte / between-bytes timeout of reads.
    pub read_timeout: Duration,
    /// Bound on a whole read.
    pub read_total: Duration,
    /// Bound on an enrichment lookup.
    pub enrich_timeout: Duration,
    /// Send connect timeout.
    pub send_connect: Duration,
    /// Send first-byte / between-bytes timeout.
    pub send_read: Duration,
    /// Response body cap, bytes.
    pub max_body_bytes: usize,
    /// Cache policy.
    pub cache: CachePolicy,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// The A2A version spoken to peers unless a call says otherwise.
    pub protocol: ProtocolChoice,
}

fn invalid(msg: String) -> Error {
    Error::new(ErrorKind::InvalidConfig(msg.clone()), format!("invalid config: {msg}"))
}

fn positive_ms(field: &str, value: Option<u32>, default: u32) -> Result<Duration, Error> {
    match value.unwrap_or(default) {
        0 => Err(invalid(format!("{field} must be greater than 0"))),
        ms => Ok(Duration::from_millis(ms.into())),
    }
}

/// Checks a bearer token: visible ASCII only, so it can never break or
/// extend a header. The token itself never appears in the error.
pub(crate) fn check_token(workspace_id: &str, token: &str) -> Result<(), Error> {
    if token.is_empty() {
        return Err(invalid(format!("the token of workspace {workspace_id} is empty")));
    }
    if let Some(pos) = token.bytes().position(|b| !(0x21..=0x7e).contains(&b)) {
        return Err(invalid(format!(
            "the token of workspace {workspace_id} has a byte not allowed in an HTTP header at position {pos}"
        )));
    }
    Ok(())
}

/// Validates an id given in the config, naming the field on failure.
pub(crate) fn config_id(param: &str, id: &str) -> Result<String, Error> {
    validate_peer_id(id).ok_or_else(|| ErrorKind::invalid_id(param, id).into())
}

impl Config {
    /// Applies defaults and checks every field.
    pub(crate) fn from_raw(raw: RawConfig) -> Result<Self, Error> {
        let workspace_id = config_id("workspace-id", &raw.workspace_id)?;
        let workspace_bits = crate::ids::id_bits(&workspace_id).unwrap_or_default();
        let platform =
            PlatformUrl::parse(raw.platform_url.as_deref().unwrap_or(DEFAULT_PLATFORM_URL)).map_err(invalid)?;
        if raw.credentials.len() > MAX_CREDENTIALS {
            return Err(invalid(format!(
                "credentials list {} workspaces; a client holds at most {MAX_CREDENTIALS}",
                raw.credentials.len()
            )));
        }
        let mut tokens = HashMap::with_capacity(raw.credentials.len());
        for (ws, token) in &raw.credentials {
            let ws = config_id("credentials", ws)?;
            check_token(&ws, token)?;
            if tokens.insert(ws.clone(), token.clone()).is_some() {
                return Err(invalid(format!("credentials list workspace {ws} more than once")));
            }
        }
        let read_timeout = positive_ms("timeouts.read-ms", raw.read_ms, DEFAULT_READ_MS)?;
        let read_total = positive_ms("timeouts.read-total-ms", raw.read_total_ms, DEFAULT_READ_TOTAL_MS)?;
        let enrich_timeout = positive_ms("timeouts.enrich-ms", raw.enrich_ms, DEFAULT_ENRICH_MS)?;
        let send_connect = positive_ms("timeouts.send-connect-ms", raw.send_connect_ms, DEFAULT_SEND_CONNECT_MS)?;
        let send_read = positive_ms("timeouts.send-read-ms", raw.send_read_ms, DEFAULT_SEND_READ_MS)?;
        let max_body_bytes = match raw.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES) {
            n if n < 1024 => return Err(invalid(format!("max-body-bytes must be at least 1024, got {n}"))),
            n => n as usize,
        };
        let c = raw.cache.unwrap_or_default();
        let cache = CachePolicy {
            max_entries: match c.max_entries.unwrap_or(1024) {
                0 => return Err(invalid("cache.max-entries must be greater than 0".into())),
                n => n,
            },
            ttl: positive_ms("cache.ttl-ms", c.ttl_ms, 300_000)?,
            negative_ttl: positive_ms("cache.negative-ttl-ms", c.negative_ttl_ms, 300_000)?,
            transient_negative_ttl: positive_ms(
                "cache.transient-negative-ttl-ms",
                c.transient_negative_ttl_ms,
                30_000,
            )?,
            max_in_flight: match c.max_in_flight.unwrap_or(64) {
                n @ 1..=4096 => n,
                n => return Err(invalid(format!("cache.max-in-flight must be 1 to 4096, got {n}"))),
            },
        };
        let r = raw.retry.unwrap_or_default();
        let retry = RetryPolicy {
            max_attempts: match r.max_attempts.unwrap_or(5) {
                n @ 1..=100 => n,
                n => return Err(invalid(format!("retry.max-attempts must be 1 to 100, got {n}"))),
            },
            base_delay: Duration::from_millis(r.base_delay_ms.unwrap_or(1_000).into()),
            max_delay: Duration::from_millis(r.max_delay_ms.unwrap_or(16_000).into()),
            jitter_percent: match r.jitter_percent.unwrap_or(25) {
                n @ 0..=100 => n,
                n => return Err(invalid(format!("retry.jitter-percent must be 0 to 100, got {n}"))),
            },
            total_budget: positive_ms("retry.total-budget-ms", r.total_budget_ms, 600_000)?,
            budget_tokens: match r.budget_tokens.unwrap_or(10) {
                n @ 0..=1_000_000 => n,
                n => return Err(invalid(format!("retry.budget-tokens must be at most 1000000, got {n}"))),
            },
            budget_refill_percent: match r.budget_refill_percent.unwrap_or(10) {
                n @ 0..=100_000 => n,
                n => return Err(invalid(format!("retry.budget-refill-percent must be at most 100000, got {n}"))),
            },
        };
        if retry.base_delay > retry.max_delay {
            return Err(invalid("retry.base-delay-ms must not exceed retry.max-delay-ms".into()));
        }
        Ok(Self {
            workspace_id,
            workspace_bits,
            platform,
            tokens,
            read_timeout,
            read_total,
            enrich_timeout,
            send_connect,
            send_read,
            max_body_bytes,
            cache,
            retry,
            protocol: raw.protocol.unwrap_or_default(),
        })
    }

    /// The source a call acts as: the given one (trimmed, validated) or, when
    /// none or blank, this workspace.
    pub(crate) fn source(&self, source: Option<&str>) -> Result<String, ErrorKind> {
        match source.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(self.workspace_id.clone()),
            Some(s) => validate_peer_id(s).ok_or_else(|| ErrorKind::invalid_id("source", s)),
        }
    }

    /// Replaces or removes a workspace's token (rotation).
    pub(crate) fn set_token(&mut self, workspace_id: &str, token: Option<String>) -> Result<(), Error> {
        let ws = config_id("workspace-id", workspace_id)?;
        match token {
            Some(token) => {
                check_token(&ws, &token)?;
                if self.tokens.len() >= MAX_CREDENTIALS && !self.tokens.contains_key(&ws) {
                    return Err(invalid(format!("a client holds at most {MAX_CREDENTIALS} tokens")));
                }
                self.tokens.insert(ws, token);
            }
            None => {
                self.tokens.remove(&ws);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &str = "11111111-2222-4333-8444-555555555555";
    const OTHER: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

    fn raw() -> RawConfig {
        RawConfig { workspace_id: WS.into(), ..Default::default() }
    }

    fn config_error(raw: RawConfig) -> String {
        Config::from_raw(raw).unwrap_err().message
    }

    #[test]
    fn defaults() {
        let c = Config::from_raw(raw()).unwrap();
        assert_eq!(c.platform.base(), "http://localhost:8080");
        assert_eq!(c.read_timeout, Duration::from_secs(10));
        assert_eq!(c.read_total, Duration::from_secs(30));
        assert_eq!(c.max_body_bytes, 4 << 20);
        assert_eq!(c.cache.max_entries, 1024);
        assert_eq!(c.cache.ttl, Duration::from_secs(300));
        assert_eq!(c.cache.negative_ttl, Duration::from_secs(300));
        assert_eq!(c.cache.transient_negative_ttl, Duration::from_secs(30));
        assert_eq!(c.cache.max_in_flight, 64);
        assert_eq!(c.enrich_timeout, Duration::from_secs(2));
        assert_eq!((c.send_connect, c.send_read), (Duration::from_secs(30), Duration::from_secs(300)));
        assert_eq!((c.retry.budget_tokens, c.retry.budget_refill_percent), (10, 10));
        assert_eq!(c.retry.max_attempts, 5);
        assert_eq!(c.retry.total_budget, Duration::from_secs(600));
    }

    #[test]
    fn platform_urls() {
        let p = PlatformUrl::parse("https://Example.com:8443/base/").unwrap();
        assert_eq!(p.scheme, Scheme::Https);
        assert_eq!(p.authority, "Example.com:8443");
        assert_eq!(p.prefix, "/base");
        assert_eq!(p.url("/registry/x"), "https://Example.com:8443/base/registry/x");
        assert_eq!(PlatformUrl::parse("http://[::1]:80").unwrap().authority, "[::1]:80");
        for bad in [
            "ftp://host",
            "localhost:8080",
            "http://",
            "http://user:pw@host",
            "http://host/a?b=c",
            "http://host/#x",
            "http://ho st",
            "http://host/../x",
            "http://host/a\r\nb",
        ] {
            assert!(PlatformUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_configs_name_the_field() {
        let mut r = raw();
        r.workspace_id = "nope".into();
        assert_eq!(config_error(r), "invalid workspace-id (expected a UUID): 'nope'");
        let mut r = raw();
        r.platform_url = Some("localhost".into());
        assert!(config_error(r).contains("must start with http://"));
        let mut r = raw();
        r.read_ms = Some(0);
        assert!(config_error(r).contains("timeouts.read-ms must be greater than 0"));
        let mut r = raw();
        r.max_body_bytes = Some(10);
        assert!(config_error(r).contains("max-body-bytes"));
        let mut r = raw();
        r.retry = Some(RawRetryPolicy { max_attempts: Some(0), ..Default::default() });
        assert!(config_error(r).contains("retry.max-attempts"));
        let mut r = raw();
        r.retry = Some(RawRetryPolicy { base_delay_ms: Some(5), max_delay_ms: Some(1), ..Default::default() });
        assert!(config_error(r).contains("base-delay-ms"));
        let mut r = raw();
        r.cache = Some(RawCachePolicy { max_entries: Some(0), ..Default::default() });
        assert!(config_error(r).contains("cache.max-entries"));
    }

    #[test]
    fn tokens_are_checked_and_never_echoed() {
        let mut r = raw();
        r.credentials = vec![(WS.into(), "sec ret".into())];
        let msg = config_error(r);
        assert!(msg.contains("position 3"), "{msg}");
        assert!(!msg.contains("sec"), "{msg}");
        let mut r = raw();
        r.credentials = vec![(WS.into(), "a".into()), (WS.to_uppercase(), "b".into())];
        assert!(config_error(r).contains("more than once"));
        let mut r = raw();
        r.credentials = vec![("../x".into(), "a".into())];
        assert!(config_error(r).starts_with("invalid credentials"));
    }

    #[test]
    fn sources_default_trim_and_validate() {
        let c = Config::from_raw(raw()).unwrap();
        assert_eq!(c.source(None).unwrap(), WS);
        assert_eq!(c.source(Some("   ")).unwrap(), WS);
        assert_eq!(c.source(Some(&format!(" {} ", OTHER.to_uppercase()))).unwrap(), OTHER);
        let e = Error::from(c.source(Some("../../admin")).unwrap_err());
        assert_eq!(e.message, "invalid source (expected a UUID): '../../admin'");
    }

    #[test]
    fn token_rotation() {
        let mut c = Config::from_raw(raw()).unwrap();
        c.set_token(WS, Some("t1".into())).unwrap();
        c.set_token(&WS.to_uppercase(), Some("t2".into())).unwrap();
        assert_eq!(c.tokens.get(WS).map(String::as_str), Some("t2"));
        c.set_token(WS, None).unwrap();
        assert!(c.tokens.is_empty());
        assert!(c.set_token(WS, Some("bad\ntoken".into())).is_err());
        for i in 0..MAX_CREDENTIALS {
            c.set_token(&format!("00000000-0000-4000-8000-{i:012}"), Some("t".into())).unwrap();
        }
        let e = c.set_token(WS, Some("t".into())).unwrap_err();
        assert!(e.message.contains("at most 1024 tokens"), "{}", e.message);
        c.set_token("00000000-0000-4000-8000-000000000000", Some("rotated".into())).unwrap();
    }
}
