//! Retry policy of `message/send`: which failures are transient, the backoff
//! schedule with jitter, `Retry-After`, and the retry budget shared by all
//! sends of a client (a token bucket in the spirit of gRPC retry throttling).

use std::time::Duration;

use wasi::http::types::ErrorCode;

use crate::config::RetryPolicy;

/// Whether a `wasi:http` error code is worth another attempt: the request
/// may not have reached the peer, or the peer may answer next time.
///
/// | retried | not retried |
/// |---|---|
/// | `DNS-timeout`, `DNS-error`, `destination-not-found`, `destination-unavailable` | `destination-IP-prohibited`, `destination-IP-unroutable` (a host policy) |
/// | `connection-refused`, `connection-terminated`, `connection-timeout`, `connection-read-timeout`, `connection-write-timeout`, `connection-limit-reached` | `TLS-protocol-error`, `TLS-certificate-error`, `TLS-alert-received` (will fail the same way) |
/// | `HTTP-response-incomplete`, `HTTP-response-timeout`, `HTTP-protocol-error` (a reset mid-response) | `HTTP-request-*` (our request is refused as built), `HTTP-response-*-size`, `-transfer-coding`, `-content-coding`, `HTTP-upgrade-failed`, `loop-detected`, `configuration-error`, `internal-error` |
pub(crate) fn is_transient_code(code: &ErrorCode) -> bool {
    use ErrorCode as E;
    match code {
        E::DnsTimeout
        | E::DnsError(_)
        | E::DestinationNotFound
        | E::DestinationUnavailable
        | E::ConnectionRefused
        | E::ConnectionTerminated
        | E::ConnectionTimeout
        | E::ConnectionReadTimeout
        | E::ConnectionWriteTimeout
        | E::ConnectionLimitReached
        | E::HttpResponseIncomplete
        | E::HttpResponseTimeout
        | E::HttpProtocolError => true,
        E::DestinationIpProhibited
        | E::DestinationIpUnroutable
        | E::TlsProtocolError
        | E::TlsCertificateError
        | E::TlsAlertReceived(_)
        | E::HttpRequestDenied
        | E::HttpRequestLengthRequired
        | E::HttpRequestBodySize(_)
        | E::HttpRequestMethodInvalid
        | E::HttpRequestUriInvalid
        | E::HttpRequestUriTooLong
        | E::HttpRequestHeaderSectionSize(_)
        | E::HttpRequestHeaderSize(_)
        | E::HttpRequestTrailerSectionSize(_)
        | E::HttpRequestTrailerSize(_)
        | E::HttpResponseHeaderSectionSize(_)
        | E::HttpResponseHeaderSize(_)
        | E::HttpResponseBodySize(_)
        | E::HttpResponseTrailerSectionSize(_)
        | E::HttpResponseTrailerSize(_)
        | E::HttpResponseTransferCoding(_)
        | E::HttpResponseContentCoding(_)
        | E::HttpUpgradeFailed
        | E::LoopDetected
        | E::ConfigurationError
        | E::InternalError(_) => false,
    }
}

/// HTTP statuses retried: the proxy's 502/503/504 (a peer restarting) and 429.
pub(crate) fn is_transient_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// The backoff before retry number `retry` (0 = before the second attempt):
/// `base · 2^retry` capped at `max_delay`, then ±`jitter_percent` with
/// `random` in `[0, 1)` (0 gives the lowest delay, 1 the highest).
pub(crate) fn backoff(policy: &RetryPolicy, retry: u32, random: f64) -> Duration {
    let base = policy.base_delay.as_secs_f64() * 2f64.powi(retry.min(62) as i32);
    let base = base.min(policy.max_delay.as_secs_f64());
    let j = f64::from(policy.jitter_percent) / 100.0;
    let jittered = base * (1.0 - j + 2.0 * j * random.clamp(0.0, 1.0));
    Duration::from_secs_f64(jittered.max(0.0))
}

/// The wait chosen before the next attempt: the server's `Retry-After` when
/// it gave one (capped at the policy's `max_delay`), else the backoff; never
/// more than what is left of the budget.
pub(crate) fn next_delay(
    policy: &RetryPolicy,
    retry: u32,
    random: f64,
    retry_after: Option<Duration>,
    left: Duration,
) -> Duration {
    let wanted = match retry_after {
        Some(server) => server.min(policy.max_delay),
        None => backoff(policy, retry, random),
    };
    wanted.min(left)
}

/// Parses a `Retry-After` value: delta-seconds, or an HTTP date (IMF-fixdate,
/// RFC 850 or asctime) taken relative to `now_unix` (seconds). A date in the
/// past means "now". `None` for anything else.
pub(crate) fn parse_retry_after(value: &str, now_unix: u64) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX / 4).min(u64::MAX / 4)));
    }
    let at = parse_http_date(value)?;
    Some(Duration::from_secs(at.saturating_sub(now_unix)))
}

/// Seconds since the Unix epoch of an HTTP date (RFC 9110 §5.6.7).
pub(crate) fn parse_http_date(value: &str) -> Option<u64> {
    let words: Vec<&str> = value.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT   → [Sun, 06, Nov, 1994, 08:49:37, GMT]
    // RFC 850:     Sunday, 06-Nov-94 08:49:37 GMT  → [Sunday, 06-Nov-94, 08:49:37, GMT]
    // asctime:     Sun Nov  6 08:49:37 1994        → [Sun, Nov, 6, 08:49:37, 1994]
    let (day, month, year, time) = match words.as_slice() {
        [_, d, m, y, t, "GMT"] => (d.parse().ok()?, month_number(m)?, y.parse().ok()?, *t),
        [_, dmy, t, "GMT"] => {
            let mut parts = dmy.split('-');
            let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
            let y: u64 = y.parse().ok()?;
            // Two-digit years: RFC 9110 says interpret as within 50 years.
            let y = if y < 70 {
                2000 + y
            } else if y < 100 {
                1900 + y
            } else {
                y
            };
            (d.parse().ok()?, month_number(m)?, y, *t)
        }
        [_, m, d, t, y] => (d.parse().ok()?, month_number(m)?, y.parse().ok()?, *t),
        _ => return None,
    };
    let mut hms = time.split(':').map(|p| p.parse::<u64>().ok());
    let (h, mi, s) = (hms.next()??, hms.next()??, hms.next()??);
    // Four-digit years only: a hostile year must not overflow the day count.
    if !(1..=31).contains(&day) || h > 23 || mi > 59 || s > 60 || !(1970..=9999).contains(&year) {
        return None;
    }
    Some(days_since_epoch(year, month, day) * 86_400 + h * 3_600 + mi * 60 + s)
}

fn month_number(name: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    MONTHS.iter().position(|m| m.eq_ignore_ascii_case(name)).map(|i| i as u64 + 1)
}

/// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}

/// The retry budget shared by every send of a client: each failed attempt
/// takes a token, each successful send gives back a fraction of one;
/// retries are allowed only while more than half the tokens remain. When
/// most recent sends fail, further sends fail fast instead of multiplying
/// the load on a platform that is already down.
#[derive(Debug, Clone)]
pub(crate) struct RetryBudget {
    /// Tokens ×1000 (integer arithmetic).
    milli: u64,
    max_milli: u64,
    refill_milli: u64,
}

impl RetryBudget {
    /// A full bucket of `max_tokens`, refilled by `refill_percent` of a token
    /// per success. `max_tokens` 0 disables the budget (always allows).
    pub(crate) fn new(max_tokens: u32, refill_percent: u32) -> Self {
        let max_milli = u64::from(max_tokens) * 1000;
        Self { milli: max_milli, max_milli, refill_milli: u64::from(refill_percent) * 10 }
    }

    /// Whether a retry may be made now.
    pub(crate) fn allows_retry(&self) -> bool {
        self.max_milli == 0 || self.milli * 2 > self.max_milli
    }

    /// A failed attempt.
    pub(crate) fn on_failure(&mut self) {
        self.milli = self.milli.saturating_sub(1000);
    }

    /// A successful send.
    pub(crate) fn on_success(&mut self) {
        self.milli = (self.milli + self.refill_milli).min(self.max_milli);
    }

    /// Tokens left, for stats and messages.
    pub(crate) fn tokens(&self) -> f64 {
        self.milli as f64 / 1000.0
    }

    /// The bucket's size.
    pub(crate) fn max_tokens(&self) -> u64 {
        self.max_milli / 1000
    }
}

/// A uniform draw in [0, 1) from 64 random bits (the top 53, a double's precision).
pub(crate) fn unit_interval(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(16),
            jitter_percent: 25,
            total_budget: Duration::from_secs(600),
            budget_tokens: 10,
            budget_refill_percent: 10,
        }
    }

    #[test]
    fn schedule_doubles_and_caps() {
        let p = policy();
        let mid: Vec<f64> = (0..7).map(|r| backoff(&p, r, 0.5).as_secs_f64()).collect();
        assert_eq!(mid, [1.0, 2.0, 4.0, 8.0, 16.0, 16.0, 16.0]);
        assert_eq!(backoff(&p, 1000, 0.5), Duration::from_secs(16), "no overflow");
    }

    #[test]
    fn jitter_stays_within_25_percent() {
        let p = policy();
        for retry in 0..6 {
            let base = backoff(&p, retry, 0.5).as_secs_f64();
            let low = backoff(&p, retry, 0.0).as_secs_f64();
            let high = backoff(&p, retry, 0.999_999).as_secs_f64();
            assert!((low - base * 0.75).abs() < 1e-9, "{retry}: {low}");
            assert!(high < base * 1.25 + 1e-6 && high > base * 1.249, "{retry}: {high}");
            for k in 0..100 {
                let d = backoff(&p, retry, k as f64 / 100.0).as_secs_f64();
                assert!(d >= base * 0.75 - 1e-9 && d <= base * 1.25 + 1e-9);
            }
        }
        let mut no_jitter = policy();
        no_jitter.jitter_percent = 0;
        assert_eq!(backoff(&no_jitter, 2, 0.9), Duration::from_secs(4));
    }

    #[test]
    fn delays_are_clamped_to_the_budget_left() {
        let p = policy();
        assert_eq!(next_delay(&p, 3, 0.5, None, Duration::from_secs(3)), Duration::from_secs(3));
        assert_eq!(next_delay(&p, 3, 0.5, None, Duration::ZERO), Duration::ZERO);
        // Retry-After wins over the schedule, capped by the policy and the budget.
        assert_eq!(
            next_delay(&p, 0, 0.5, Some(Duration::from_secs(7)), Duration::from_secs(60)),
            Duration::from_secs(7)
        );
        assert_eq!(
            next_delay(&p, 0, 0.5, Some(Duration::from_secs(3600)), Duration::from_secs(60)),
            Duration::from_secs(16)
        );
        assert_eq!(
            next_delay(&p, 0, 0.5, Some(Duration::from_secs(3600)), Duration::from_secs(5)),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Sunday, 06-Nov-94 08:50:37 GMT", now), Some(Duration::from_secs(60)));
        assert_eq!(parse_retry_after("Sun Nov  6 08:49:47 1994", now), Some(Duration::from_secs(10)));
        assert_eq!(
            parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO),
            "past dates mean now"
        );
        for bad in ["", "-1", "1.5", "soon", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
        // Seconds past u64 saturate rather than vanish; the backoff then caps them.
        let huge = parse_retry_after("99999999999999999999999", now);
        assert_eq!(huge, Some(Duration::from_secs(u64::MAX / 4)));
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_http_date("Wed, 25 Nov 2026 09:00:00 GMT"), Some(1_795_597_200));
        assert_eq!(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"), Some(253_402_300_799));
    }

    /// A fuzz finding: a 17-digit year overflowed the day count (a trap in
    /// a build with overflow checks, a wrong wait without).
    #[test]
    fn huge_years_are_not_dates() {
        assert_eq!(parse_http_date("Sun, 06 Nov 184467440737095516 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 99999999999"), None);
        assert_eq!(parse_retry_after("Sun, 06 Nov 10000 08:49:37 GMT", 0), None);
    }

    #[test]
    fn transient_codes_and_statuses() {
        assert!(is_transient_code(&ErrorCode::ConnectionRefused));
        assert!(is_transient_code(&ErrorCode::HttpProtocolError));
        assert!(is_transient_code(&ErrorCode::ConnectionReadTimeout));
        assert!(!is_transient_code(&ErrorCode::TlsCertificateError));
        assert!(!is_transient_code(&ErrorCode::InternalError(None)));
        for s in [429, 502, 503, 504] {
            assert!(is_transient_status(s));
        }
        for s in [400, 401, 403, 404, 500, 501] {
            assert!(!is_transient_status(s));
        }
    }

    #[test]
    fn budget_drains_on_failures_and_refills_on_successes() {
        let mut b = RetryBudget::new(10, 10);
        for _ in 0..4 {
            b.on_failure();
        }
        assert!(b.allows_retry(), "6 of 10 left");
        b.on_failure();
        assert!(!b.allows_retry(), "5 of 10: no more retries");
        b.on_success();
        assert!(b.allows_retry(), "5.1 of 10: above half again");
        b.on_failure();
        assert!(!b.allows_retry(), "4.1 of 10");
        for _ in 0..1000 {
            b.on_success();
        }
        assert_eq!(b.tokens(), 10.0, "never above the maximum");
        let off = RetryBudget::new(0, 10);
        assert!(off.allows_retry());
    }
}
