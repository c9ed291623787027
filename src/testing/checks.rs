//! Properties every parser and validator keeps on any input: the bodies of
//! the fuzz targets (`fuzz/`) and of the property tests that run in
//! `cargo test` (`tests` below). Each check takes raw bytes, drives the real
//! code over the scripted transport, and panics — a finding — when a
//! property fails. No property depends on wasm: the glue adds no parsing.
//!
//! Properties checked on every input:
//! - no panic, no unbounded recursion (serde_json's depth limit holds);
//! - every error message is non-empty, one line, and never holds the token;
//! - every request that leaves has a path and headers free of control bytes,
//!   and carries a token only for the workspace it belongs to;
//! - a send makes at most the configured number of attempts and its error
//!   text keeps the Python client's `[A2A_ERROR] ` prefix.

use std::time::Duration;

use crate::a2a::{self, Ask, SendIds};
use crate::client::Client;
use crate::config::{RawCachePolicy, RawConfig, RawRetryPolicy};
use crate::error::{Error, Redact};
use crate::ids::{id_bits, quote_input, validate_peer_id};
use crate::message::Message;
use crate::retry::{parse_http_date, parse_retry_after};
use crate::testing::{FakeTransport, FixedEnv};
use crate::transport::{Request, Response};

/// This workspace in every check.
pub const ME: &str = "11111111-2222-4333-8444-555555555555";
/// A second workspace the client holds a token for.
pub const ALT: &str = "22222222-2222-4333-8444-555555555555";
/// The peer the calls are about.
pub const PEER: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
/// `ME`'s token: must never show in any output.
pub const TOKEN: &str = "tok-ME-5ecret-9f3a7c";
/// `ALT`'s token.
pub const ALT_TOKEN: &str = "tok-ALT-5ecret-41d2b8";
/// Attempts a checked send may make.
pub const MAX_ATTEMPTS: u32 = 3;

/// An error's text: non-empty, one line; no token in any text it carries.
pub(crate) fn assert_clean_error(e: &Error, what: &str) {
    assert!(!e.message.trim().is_empty(), "{what}: empty error message: {e:?}");
    assert!(!e.message.contains(['\n', '\r']), "{what}: multi-line error message: {:?}", e.message);
    let mut copy = e.clone();
    for text in copy.texts_mut() {
        for token in [TOKEN, ALT_TOKEN] {
            assert!(!text.contains(token), "{what}: token in error: {e:?}");
        }
    }
}

/// Every request sent: a clean path and headers, tokens only for their own workspace.
pub(crate) fn assert_clean_requests(sent: &[Request]) {
    for req in sent {
        assert!(req.path.starts_with('/'), "path {:?}", req.path);
        assert!(!req.path.bytes().any(|b| b.is_ascii_control() || b == b' '), "path {:?}", req.path);
        for (name, value) in &req.headers {
            assert!(!value.bytes().any(|b| b.is_ascii_control()), "header {name}: {value:?}");
        }
        let header = |n: &str| req.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.as_str());
        match header("authorization") {
            None => {}
            Some(auth) => {
                let owner = header("x-workspace-id").unwrap_or(ME);
                let expected = if owner == ALT { ALT_TOKEN } else { TOKEN };
                assert_eq!(auth, format!("Bearer {expected}"), "token sent for {owner}");
            }
        }
    }
}

/// A little-endian reader over fuzz bytes that yields defaults when empty.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().map(|(b, r)| (*b, r)).unwrap_or((0, &[]));
        self.0 = rest;
        first
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    /// The bytes up to the next `0x1e` (record separator), or the rest.
    fn field(&mut self) -> String {
        let end = self.0.iter().position(|b| *b == 0x1e).unwrap_or(self.0.len());
        let text = String::from_utf8_lossy(&self.0[..end]).into_owned();
        self.0 = self.0.get(end + 1..).unwrap_or(&[]);
        text
    }
    fn rest(self) -> &'a [u8] {
        self.0
    }
}

/// `ids`: validation never accepts anything that is not a canonical UUID,
/// and quoting never lets a control byte through.
pub fn ids(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    match validate_peer_id(&input) {
        Some(id) => {
            assert_eq!(id.len(), 36, "{input:?}");
            assert!(id.bytes().all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{id:?}");
            assert_eq!(validate_peer_id(&id).as_deref(), Some(id.as_str()), "not idempotent");
            assert_eq!(id_bits(&id), id_bits(&input));
        }
        None => assert_eq!(id_bits(&input), None, "{input:?}"),
    }
    let quoted = quote_input(&input, 80);
    assert!(!quoted.chars().any(char::is_control), "{quoted:?}");
    assert!(quoted.chars().count() <= 2 + 80 * 10 + 1, "quote not bounded");
}

/// `config`: any host-supplied configuration either builds a client that
/// talks only to an http(s) origin, or fails with a clean error.
pub fn config(data: &[u8]) {
    let mut b = Bytes(data);
    let flags = b.byte();
    let opt = |b: &mut Bytes, bit: u8| (flags & bit != 0).then(|| b.u32());
    let (read_ms, enrich_ms, max_body) = (opt(&mut b, 1), opt(&mut b, 2), opt(&mut b, 4));
    let cache = (flags & 8 != 0).then(|| RawCachePolicy {
        max_entries: Some(b.u32()),
        ttl_ms: Some(b.u32()),
        negative_ttl_ms: Some(b.u32()),
        transient_negative_ttl_ms: Some(b.u32()),
        max_in_flight: Some(b.u32()),
    });
    let retry = (flags & 16 != 0).then(|| RawRetryPolicy {
        max_attempts: Some(b.u32()),
        base_delay_ms: Some(b.u32()),
        max_delay_ms: Some(b.u32()),
        jitter_percent: Some(b.byte()),
        total_budget_ms: Some(b.u32()),
        budget_tokens: Some(b.u32()),
        budget_refill_percent: Some(b.u32()),
    });
    let workspace_id = b.field();
    let platform_url = b.field();
    let cred_workspace = b.field();
    let cred_token = b.field();
    // The known token rides along so the check can look for it in errors.
    let credentials = vec![(cred_workspace.clone(), cred_token.clone()), (ME.to_owned(), TOKEN.to_owned())];
    let raw = RawConfig {
        workspace_id: workspace_id.clone(),
        platform_url: (flags & 32 == 0).then(|| platform_url.clone()),
        credentials,
        read_ms,
        read_total_ms: read_ms.map(|ms| ms.wrapping_mul(3)),
        enrich_ms,
        send_connect_ms: enrich_ms,
        send_read_ms: read_ms,
        max_body_bytes: max_body,
        cache,
        retry,
        protocol: None,
    };
    match Client::new(raw, FakeTransport::default()) {
        Ok(mut client) => {
            let base = client.platform_base();
            assert!(base.starts_with("http://") || base.starts_with("https://"), "{base:?}");
            assert!(!base.bytes().any(|b| b.is_ascii_control() || b == b' ' || b == b'@'), "{base:?}");
            // A call with no scripted answer would panic: invalid ids must not reach the transport.
            let _ = client.discover_peer(&cred_workspace, Some("not-a-uuid"), 0);
        }
        Err(e) => {
            assert!(!e.message.trim().is_empty(), "config: empty error message: {e:?}");
            assert!(!e.message.contains(['\n', '\r']), "config: multi-line error message: {:?}", e.message);
            // Tokens are secrets unless the caller also put them in a field
            // that errors quote (ids, URL), as typed or as quoted (escaped).
            let fields = [workspace_id.as_str(), &platform_url, &cred_workspace];
            let public: Vec<String> = fields.iter().flat_map(|f| [f.to_string(), quote_input(f, usize::MAX)]).collect();
            let public = public.join("\n");
            let mut copy = e.clone();
            for text in copy.texts_mut() {
                for secret in [TOKEN, cred_token.as_str()] {
                    if secret.len() >= 16 && !public.contains(secret) {
                        assert!(!text.contains(secret), "config: token {secret:?} in error: {e:?}");
                    }
                }
            }
        }
    }
}

/// A platform answer made from fuzz bytes (see [`answer`]).
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status code, 100..=599.
    pub status: u16,
    /// Header names (lower-case) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// The answer [`response`] makes of `data`, for a host that serves it over
/// real HTTP (the harness's component fuzzer).
pub fn answer(data: &[u8]) -> Answer {
    let Response { status, headers, body } = response(data);
    Answer { status, headers, body }
}

/// A response from fuzz bytes: status, optional `Retry-After`, body (which
/// may carry the token, as a platform echoing the request would).
pub(crate) fn response(data: &[u8]) -> Response {
    let mut b = Bytes(data);
    let status = 100 + b.u16() % 500;
    let flags = b.byte();
    let mut headers = Vec::new();
    if flags & 1 != 0 {
        headers.push(("retry-after".to_owned(), b.field()));
    }
    let mut body = b.rest().to_vec();
    if flags & 2 != 0 {
        let at = body.len() / 2;
        body.splice(at..at, TOKEN.bytes());
    }
    Response { status, headers, body }
}

fn checked_client(script: &Response, answers: usize) -> Client<FakeTransport> {
    checked_client_capped(script, answers, None)
}

fn checked_client_capped(script: &Response, answers: usize, max_body_bytes: Option<u32>) -> Client<FakeTransport> {
    let mut t = FakeTransport::default();
    for _ in 0..answers {
        t.then_response(script.clone());
    }
    Client::new(
        RawConfig {
            workspace_id: ME.into(),
            platform_url: Some("http://platform.test:8080/api".into()),
            credentials: vec![(ME.into(), TOKEN.into()), (ALT.into(), ALT_TOKEN.into())],
            cache: Some(RawCachePolicy { max_entries: Some(4), ..Default::default() }),
            max_body_bytes,
            retry: Some(RawRetryPolicy {
                max_attempts: Some(MAX_ATTEMPTS),
                base_delay_ms: Some(10),
                max_delay_ms: Some(40),
                total_budget_ms: Some(5_000),
                ..Default::default()
            }),
            ..Default::default()
        },
        t,
    )
    .expect("checked config")
}

/// `platform_body`: every registry and workspace call reads any response
/// into a value or a clean error, and enrichment never errs.
pub fn platform_body(data: &[u8]) {
    let resp = response(data);
    let mut c = checked_client(&resp, 16);
    let s = 1_000_000_000;
    if let Err(e) = c.discover_peer(PEER, None, 0) {
        assert_clean_error(&e, "discover-peer");
    }
    match c.peers(Some("q &x=\r\n"), Some(ALT), s) {
        Ok(peers) => assert!(peers.len() <= resp.body.len(), "more peers than bytes"),
        Err(e) => assert_clean_error(&e, "peers"),
    }
    if let Err(e) = c.workspace_info(None, 2 * s) {
        assert_clean_error(&e, "workspace-info");
    }
    let _ = c.enrich(PEER, Some(ALT), 3 * s);
    let _ = c.enrich_nonblocking("bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee", None, 4 * s);
    let _ = c.peer_name(PEER, None, 5 * s);
    let stats = c.stats(6 * s);
    assert_eq!(stats.in_flight, 0, "a finished lookup was not harvested");
    assert!(stats.entries <= 4);
    assert_clean_requests(&c.transport_mut().sent);
}

/// `a2a_reply`: any reply to `message/send`, on every attempt, ends in a
/// typed reply or a clean `[A2A_ERROR]` error within the attempt limit.
pub fn a2a_reply(data: &[u8]) {
    let resp = response(data);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&resp.body) {
        let _ = a2a::read_reply(&value);
        // The same body as a `ListTasks` result: a page, or an error naming where.
        match a2a::read_task_page(value.get("result").unwrap_or(&value)) {
            Ok(page) => {
                assert!(page.tasks.iter().all(|t| !t.raw.is_empty()));
                assert!(page.next_page_token.is_none_or(|t| !t.is_empty()));
            }
            Err(why) => assert!(why.starts_with("result.tasks"), "{why}"),
        }
        // And as a push-config answer: configs with a task and a URL, or an error naming where.
        let result = value.get("result").unwrap_or(&value);
        for call in [
            crate::push::PushCall::List { task_id: "t".into() },
            crate::push::PushCall::Get { task_id: "t".into(), id: "c".into() },
        ] {
            match crate::push::read(&call, result) {
                Ok(configs) => assert!(configs.iter().all(|c| !c.task_id.is_empty() && !c.url.is_empty())),
                Err(why) => assert!(why.starts_with("result"), "{why}"),
            }
        }
    }
    let mut c = checked_client(&resp, MAX_ATTEMPTS as usize);
    let ids = SendIds { request_id: "req-1".into(), message_id: "msg-1".into() };
    match c.send_message(PEER, &Message::text("hello\r\n\u{0}"), None, &Ask::default(), &mut FixedEnv, ids) {
        Ok(sent) => {
            assert!(sent.attempts.len() as u32 <= MAX_ATTEMPTS);
            assert_eq!(sent.attempts.last().map(|a| a.outcome.as_str()), Some("ok"));
        }
        Err(e) => {
            assert_clean_error(&e, "send-message");
            assert!(e.message.starts_with("[A2A_ERROR] "), "{:?}", e.message);
            assert!(!e.attempts.is_empty() && e.attempts.len() as u32 <= MAX_ATTEMPTS, "{:?}", e.attempts);
            for a in &e.attempts {
                assert!(!a.outcome.contains(TOKEN), "token in attempt trace");
            }
        }
    }
    let sent = &c.transport_mut().sent;
    assert!(sent.len() as u32 <= MAX_ATTEMPTS);
    assert!(sent.windows(2).all(|w| w[0].body == w[1].body), "a retry changed the body (ids)");
    assert_clean_requests(sent);
    request_size(data, &resp);
}

/// A send whose size the input picks, around a 1 KiB `max-body-bytes`:
/// a body within the cap goes out whole (every attempt the same), one past
/// it is `request-too-large` with nothing sent.
fn request_size(data: &[u8], resp: &Response) {
    const CAP: usize = 1024;
    let len = data.iter().take(2).fold(0usize, |n, b| n * 256 + *b as usize) % (2 * CAP);
    // Multi-byte and escaped characters too: the body's size is not the text's.
    let unit = match data.get(2).copied().unwrap_or(0) % 3 {
        0 => "x",
        1 => "é",
        _ => "\n",
    };
    let text = unit.repeat(len / unit.len().max(1));
    let mut c = checked_client_capped(resp, MAX_ATTEMPTS as usize, Some(CAP as u32));
    let ids = SendIds { request_id: "req-1".into(), message_id: "msg-1".into() };
    let message = Message::text(&text);
    let checked = crate::message::check(&message).expect("a text message is always sendable");
    let body_len = a2a::message_body(a2a::Protocol::V0_3, a2a::Call::Send, &ids, &checked).len();
    let outcome = c.send_message(PEER, &message, None, &Ask::default(), &mut FixedEnv, ids);
    let sent = &c.transport_mut().sent;
    if body_len > CAP {
        match outcome {
            Err(Error { kind: crate::error::ErrorKind::RequestTooLarge { size, limit, .. }, .. }) => {
                assert_eq!((size, limit), (body_len as u64, CAP as u32));
            }
            other => panic!("a {body_len}-byte body past the {CAP}-byte cap: {other:?}"),
        }
        assert!(sent.is_empty(), "an oversized body was sent");
    } else {
        assert!(!sent.is_empty(), "a {body_len}-byte body within the cap was not sent");
        assert!(sent.iter().all(|r| r.body.as_ref().map(|b| b.len()) == Some(body_len)));
    }
}

/// `stream`: any `text/event-stream` body, cut into chunks anywhere, gives
/// typed events then a clean end or a clean `[A2A_ERROR]` error; nothing
/// after the end; events never more than the `data:` lines sent. The agent
/// card reader takes any record.
pub fn stream(data: &[u8]) {
    let Some((&cut, body)) = data.split_first() else { return };
    let _ = crate::card::from_record(&String::from_utf8_lossy(body));
    let size = usize::from(cut % 31) + 1;
    let chunks: Vec<_> = body.chunks(size).map(|c| crate::testing::Chunk::Data(c.to_vec())).collect();
    // The same body answers the send, every resubscription of a stream it
    // leaves cut, and the task read that settles a refused one.
    let answer = Response { status: 200, headers: Vec::new(), body: body.to_vec() };
    // Answers for the send-free calls a resume may make: a task read per
    // resubscription and one to settle, each with its retries.
    let mut c = checked_client(&answer, (2 * MAX_ATTEMPTS * MAX_ATTEMPTS) as usize);
    for _ in 0..MAX_ATTEMPTS {
        c.transport_mut().then_stream(200, "text/event-stream", chunks.clone());
    }
    let ids = SendIds { request_id: "req-1".into(), message_id: "msg-1".into() };
    let mut events =
        match c.send_message_stream(PEER, &Message::text("hello"), None, &Ask::default(), &mut FixedEnv, ids) {
            Ok(events) => events,
            Err(e) => return assert_clean_error(&e, "send-message-stream"),
        };
    // Each stream's data lines, and what catching up adds (an event per
    // artifact and one for the status, per resubscription).
    let lines = body.windows(5).filter(|w| w == b"data:").count();
    let most = (lines + body.len()) * MAX_ATTEMPTS as usize;
    let mut got = 0;
    loop {
        match c.next_stream_event(&mut events, &mut FixedEnv) {
            Ok(Some(_)) => {
                got += 1;
                assert!(got <= most, "{got} events from {most} data lines");
            }
            Ok(None) => break,
            Err(e) => {
                assert_clean_error(&e, "next-event");
                assert!(e.message.starts_with("[A2A_ERROR] "), "{:?}", e.message);
                break;
            }
        }
    }
    assert!(matches!(c.next_stream_event(&mut events, &mut FixedEnv), Ok(None)), "an ended stream must answer none");
    assert_clean_requests(&c.transport_mut().sent);
}

/// `retry_after`: any header value gives a bounded wait or none.
pub fn retry_after(data: &[u8]) {
    let value = String::from_utf8_lossy(data);
    if let Some(wait) = parse_retry_after(&value, 1_700_000_000) {
        assert!(wait <= Duration::from_secs(u64::MAX / 4));
    }
    if let Some(at) = parse_http_date(&value) {
        assert!(at < 253_402_300_800, "date past 9999-12-31: {value:?}");
    }
}

/// A status (little-endian, offset by 100), flags, and a body.
fn reply(status: u16, flags: u8, body: &str) -> Vec<u8> {
    let mut v = (status - 100).to_le_bytes().to_vec();
    v.push(flags);
    if flags & 1 != 0 {
        v.extend_from_slice(b"2\x1e");
    }
    v.extend_from_slice(body.as_bytes());
    v
}

fn platform_seeds() -> Vec<Vec<u8>> {
    let peer = format!(
        r#"{{"id":"{PEER}","name":"Writer","role":"w","tier":2,"status":"online","url":"http://x","parent_id":null,"active_tasks":1,"agent_card":{{"name":"c"}}}}"#
    );
    vec![
        reply(200, 0, &peer),
        reply(200, 0, &format!("[{peer},{peer}]")),
        reply(200, 0, &format!(r#"{{"peers":[{peer}]}}"#)),
        reply(200, 0, &format!(r#"{{"id":"{ME}","name":"me","role":"r","status":"online"}}"#)),
        reply(404, 0, r#"{"error":"not found"}"#),
        reply(410, 2, r#"{"error":"removed","hint":"regenerate"}"#),
        reply(503, 1, "<html>down</html>"),
        reply(200, 0, ""),
        reply(200, 0, "null"),
    ]
}

fn a2a_seeds() -> Vec<Vec<u8>> {
    vec![
        reply(
            200,
            0,
            r#"{"jsonrpc":"2.0","id":"req-1","result":{"kind":"message","role":"agent","messageId":"m","parts":[{"kind":"text","text":"hi"},{"kind":"text","text":"there"}]}}"#,
        ),
        reply(
            200,
            0,
            r#"{"jsonrpc":"2.0","id":"req-1","result":{"kind":"task","id":"t","contextId":"c","status":{"state":"completed","message":{"parts":[{"text":"done"}]}},"artifacts":[{"parts":[{"kind":"text","text":"a"}]}]}}"#,
        ),
        reply(
            200,
            0,
            r#"{"jsonrpc":"2.0","id":"req-1","result":{"kind":"message","parts":[{"text":"Agent error: boom"}]}}"#,
        ),
        reply(
            200,
            2,
            r#"{"jsonrpc":"2.0","id":"req-1","error":{"code":-32601,"message":"Method not found","data":{"x":1}}}"#,
        ),
        reply(
            200,
            0,
            r#"{"jsonrpc":"2.0","id":"req-1","result":{"kind":"message","metadata":{"k":1},"parts":[{"kind":"data","data":{"n":4326.0}},{"kind":"file","file":{"bytes":"aGk=","name":"a.txt","mimeType":"text/plain"}},{"kind":"file","file":{"uri":"https://x/y"}}]}}"#,
        ),
        reply(
            200,
            0,
            r#"{"jsonrpc":"2.0","id":"req-1","result":{"task":{"id":"t","status":{"state":"TASK_STATE_INPUT_REQUIRED","message":{"parts":[{"text":"which?"},{"data":[1,2]}]}},"artifacts":[{"artifactId":"a","parts":[{"raw":"aGk","filename":"x"},{"url":"https://x/y","mediaType":"image/png"}]}]}}}"#,
        ),
        reply(
            200,
            0,
            r#"{"jsonrpc":"2.0","id":"req-1","result":{"tasks":[{"id":"t1","contextId":"c","status":{"state":"TASK_STATE_WORKING"}},{"id":"t2","status":{"state":"TASK_STATE_COMPLETED"},"artifacts":[{"parts":[{"text":"x"}]}]}],"nextPageToken":"abc","pageSize":2,"totalSize":5}}"#,
        ),
        reply(
            200,
            0,
            r#"{"jsonrpc":"2.0","id":"req-1","result":[{"taskId":"t","pushNotificationConfig":{"id":"c","url":"https://x/h","token":"n"}}]}"#,
        ),
        reply(502, 1, r#"{"error":"peer unreachable"}"#),
        reply(429, 1, "slow down"),
        reply(500, 0, "<html>boom</html>"),
    ]
}

/// Deterministic mutation of seed inputs (xorshift64*): bit flips, cuts,
/// repeats, random bytes and splices of tokens that break parsers. The same
/// seed number gives the same inputs, so a failure names a reproducible case.
pub struct Mutator(u64);

/// Fragments spliced into inputs: JSON structure, escapes, huge numbers,
/// separators, bytes that are not UTF-8, and shapes the parsers look for.
const SPLICES: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"\\u0000",
    b"\\ud800",
    b"\r\n",
    b"\x00",
    b"\x1e",
    b"\xff\xfe",
    b"null",
    b"1e999",
    b"-0",
    b"18446744073709551616",
    b"[[[[[[[[[[[[[[[[",
    b"\"result\":",
    b"\"error\":",
    b"\"kind\":\"task\"",
    b"\"parts\":[{\"text\":\"",
    b"Agent error:",
    b"GMT",
    b"Sun, 06 Nov 99999999999 08:49:37",
    b"http://evil.test/",
    b"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
];

impl Mutator {
    /// A mutator seeded with `seed` (0 is replaced by a fixed odd constant).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 { 0x2545_f491_4f6c_dd1d } else { seed })
    }

    /// The next pseudo-random number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// `seed` with one to four mutations.
    pub fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut out = seed.to_vec();
        for _ in 0..1 + self.below(4) {
            let at = self.below(out.len() + 1);
            match self.below(5) {
                0 if !out.is_empty() => {
                    let i = self.below(out.len());
                    out[i] ^= 1 << self.below(8);
                }
                1 if !out.is_empty() => {
                    let end = (at + self.below(8)).min(out.len());
                    out.drain(at.min(end)..end);
                }
                2 => {
                    let byte = self.next_u64() as u8;
                    let n = 1 + self.below(4);
                    out.splice(at..at, std::iter::repeat_n(byte, n));
                }
                3 if !out.is_empty() => {
                    let i = self.below(out.len());
                    out[i] = self.next_u64() as u8;
                }
                _ => {
                    let splice = SPLICES[self.below(SPLICES.len())];
                    out.splice(at..at, splice.iter().copied());
                }
            }
        }
        out
    }
}

/// The seed corpus of a check: real shapes of each input (the fuzz targets'
/// starting corpus and the property tests' seeds).
pub fn seeds(check: &str) -> Vec<Vec<u8>> {
    let text = |v: &[&str]| v.iter().map(|s| s.as_bytes().to_vec()).collect();
    match check {
        "ids" => text(&[PEER, "  AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE\n", "../../x", "", "\u{0}\r\n", "é"]),
        "config" => {
            let good = |flags: u8, url: &str| {
                let mut v = vec![flags];
                v.extend(std::iter::repeat_n(7u8, 60));
                v.extend_from_slice(format!("{ME}\x1e{url}\x1e{ALT}\x1e{ALT_TOKEN}").as_bytes());
                v
            };
            vec![
                good(0, "http://127.0.0.1:8080"),
                good(31, "https://platform.example/api/"),
                good(0, "ftp://x"),
                good(0, "http://user:pw@host"),
                good(32, ""),
                good(24, "http://[::1]:9/x?y#z"),
            ]
        }
        "platform_body" => platform_seeds(),
        "a2a_reply" => a2a_seeds(),
        "stream" => {
            // As the a2a-sdk 1.3.0 server streams (v0.3 and v1.0), and broken ones.
            let v03 = concat!(
                "data: {\"id\":\"8\",\"jsonrpc\":\"2.0\",\"result\":{\"contextId\":\"c\",\"id\":\"t\",\"kind\":\"task\",\"status\":{\"state\":\"submitted\"}}}\n\n",
                "data: {\"id\":\"8\",\"jsonrpc\":\"2.0\",\"result\":{\"final\":false,\"kind\":\"status-update\",\"status\":{\"state\":\"working\"},\"taskId\":\"t\"}}\n\n",
                "data: {\"id\":\"8\",\"jsonrpc\":\"2.0\",\"result\":{\"append\":false,\"artifact\":{\"artifactId\":\"a\",\"name\":\"chunk-0\",\"parts\":[{\"kind\":\"text\",\"text\":\"chunk 0\"}]},\"kind\":\"artifact-update\",\"lastChunk\":false,\"taskId\":\"t\"}}\n\n",
                "data: {\"id\":\"8\",\"jsonrpc\":\"2.0\",\"result\":{\"final\":true,\"kind\":\"status-update\",\"status\":{\"state\":\"completed\"},\"taskId\":\"t\"}}\n\n",
            );
            let v10 = concat!(
                "data: {\"result\": {\"task\": {\"id\": \"t\", \"status\": {\"state\": \"TASK_STATE_SUBMITTED\"}}}, \"id\": \"7\", \"jsonrpc\": \"2.0\"}\r\n\r\n",
                "data: {\"result\": {\"artifactUpdate\": {\"taskId\": \"t\", \"artifact\": {\"parts\": [{\"text\": \"chunk 1\"}]}}}}\r\n\r\n",
                "data: {\"result\": {\"statusUpdate\": {\"taskId\": \"t\", \"status\": {\"state\": \"TASK_STATE_COMPLETED\"}}}}\r\n\r\n",
            );
            let with_cut = |cut: u8, body: &str| std::iter::once(cut).chain(body.bytes()).collect();
            vec![
                with_cut(0, v03),
                with_cut(6, v10),
                with_cut(30, "data: {\"result\":{\"kind\":\"message\",\"parts\":[{\"kind\":\"text\",\"text\":\"hi\"}]}}\n\n"),
                with_cut(2, "event: error\ndata: {\"error\":{\"code\":-32001,\"message\":\"Task not found\"}}\n\n"),
                with_cut(1, ": keep-alive\n\ndata: {\"result\":{\"kind\":\"status-update\",\"status\":{\"state\":\"working\"}}}\n\ndata: {\"res"),
                with_cut(3, "{\"id\":\"p\",\"agent_card\":{\"name\":\"x\",\"protocolVersion\":\"0.3\",\"supportedInterfaces\":[{\"protocolVersion\":\"1.0\"}],\"skills\":[{\"id\":\"s\"}]}}"),
            ]
        }
        "message" => {
            let message = |flags: u8, header: [&str; 3], parts: &[(u8, &str)]| {
                let mut v = vec![flags];
                for h in header {
                    v.push(0x1e);
                    v.extend_from_slice(h.as_bytes());
                }
                for (kind, text) in parts {
                    v.push(0x1e);
                    v.push(*kind);
                    v.extend_from_slice(text.as_bytes());
                }
                v
            };
            vec![
                message(0, ["", "", ""], &[(0, "hello")]),
                message(7, ["task-1", "ctx-1", r#"{"trace":"t"}"#], &[(0, "see"), (1, r#"{"n":1.5,"a":[null]}"#)]),
                message(0, ["", "", ""], &[(2, "bytes\u{0}\u{ff}"), (3, "https://f.example/a.pdf"), (4, "report.pdf")]),
                message(1, ["", "", ""], &[(1, "[1]"), (3, "two words")]),
                message(4, ["", "", "{"], &[]),
            ]
        }
        "resume" => vec![
            // Task, working, a chunk of a, another appended; then working again with a grown and b new.
            vec![2, 0, 1, 1, 0, 0, 0x10, 4, 0xff, 1, 0, 0, 0, 4, 8, 1, 1, 9],
            // A status only; the task completed with two artifacts.
            vec![1, 3, 0xff, 3, 2, 0, 1, 2, 3, 4, 1, 5],
            // Nothing seen before the cut.
            vec![0xff, 2, 7, 3, 3],
            // An artifact replaced, then a shorter snapshot of it.
            vec![0, 1, 0, 5, 0xff, 1, 0, 0, 9],
        ],
        "retry_after" => text(&[
            "120",
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Sun, 06 Nov 184467440737095516 08:49:37 GMT",
        ]),
        other => panic!("no check named {other}"),
    }
}

/// `resume`: whatever a stream handed out before a cut, the events caught up
/// to a snapshot of its task bring the caller exactly to that snapshot —
/// catching up to it again gives nothing — and an artifact grown by chunks
/// is caught up as an append of the new chunks only.
///
/// Input: byte pairs, each an event handed out before the cut (an artifact
/// chunk, appended or not, of artifact `a`–`d`; a status; the whole task),
/// up to a `0xff` byte; the rest builds the snapshot (a state, then up to
/// four artifacts with distinct ids and up to four parts each).
pub fn resume(data: &[u8]) {
    use crate::a2a::{Artifact, StreamEvent};
    use crate::message::Part;
    use crate::resume::Seen;
    const STATES: [&str; 5] = ["submitted", "working", "input-required", "completed", "failed"];
    let text = |b: u8| Part::Text(format!("p{}", b % 8));
    let (before, snapshot) = match data.iter().position(|&b| b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let mut seen = Seen::default();
    for pair in before.chunks(2) {
        let (op, arg) = (pair[0], pair.get(1).copied().unwrap_or(0));
        let event = match op % 3 {
            0 => StreamEvent::ArtifactUpdate {
                task_id: Some("t".into()),
                artifact_id: Some(format!("{}", (b'a' + arg % 4) as char)),
                name: None,
                text: String::new(),
                parts: vec![text(arg / 4)],
                append: op & 0x10 != 0,
                last_chunk: false,
            },
            1 => StreamEvent::StatusUpdate {
                task_id: Some("t".into()),
                state: STATES[arg as usize % STATES.len()].into(),
                text: String::new(),
                parts: vec![text(arg / 8)],
                is_final: false,
            },
            _ => StreamEvent::Task {
                id: Some("t".into()),
                context_id: None,
                state: STATES[arg as usize % STATES.len()].into(),
                text: String::new(),
                parts: vec![text(arg / 8)],
                artifacts: Vec::new(),
            },
        };
        seen.record(&event);
    }
    let state = STATES[snapshot.first().copied().unwrap_or(0) as usize % STATES.len()];
    let status = vec![text(snapshot.get(1).copied().unwrap_or(0))];
    let artifacts: Vec<Artifact> = snapshot
        .get(2..)
        .unwrap_or_default()
        .chunks(5)
        .take(4)
        .enumerate()
        .map(|(i, spec)| Artifact {
            id: Some(format!("{}", (b'a' + ((spec[0] as usize + i) % 4) as u8) as char)),
            name: None,
            parts: spec[1..].iter().map(|&b| text(b)).collect(),
        })
        .fold(Vec::new(), |mut unique: Vec<Artifact>, a| {
            if !unique.iter().any(|u| u.id == a.id) {
                unique.push(a);
            }
            unique
        });
    let events = seen.catch_up(state, &status, &artifacts);
    assert!(events.len() <= artifacts.len() + 1, "{} events for {} artifacts", events.len(), artifacts.len());
    for event in &events {
        if let StreamEvent::ArtifactUpdate { artifact_id, parts, append: true, .. } = event {
            let whole = artifacts.iter().find(|a| &a.id == artifact_id).expect("an artifact of the snapshot");
            assert!(!parts.is_empty() && parts.len() < whole.parts.len() + 1, "an append of new chunks only");
            assert_eq!(&whole.parts[whole.parts.len() - parts.len()..], &parts[..], "the snapshot's last parts");
        }
        seen.record(event);
    }
    let again = seen.catch_up(state, &status, &artifacts);
    assert!(again.is_empty(), "caught up, yet {again:?}");
}

/// `message`: any outgoing message is refused with a clean error, or written
/// in both versions as JSON that reads back as the same parts, ids and
/// metadata (the writer and the reader of parts agree).
///
/// Input: fields split by `0x1e`. The first is flags (bit 0: task id from
/// field 1, bit 1: context id from field 2, bit 2: metadata from field 3);
/// each later field is a part, its first byte the kind (text, data, inline
/// file, file by URI, file with name and media type) and the rest its text.
pub fn message(data: &[u8]) {
    use crate::message::{check, read_parts, FileContent, FilePart, Message, Part};
    let mut fields = data.split(|&b| b == 0x1e).map(|f| String::from_utf8_lossy(f).into_owned());
    let flags = fields.next().and_then(|f| f.bytes().next()).unwrap_or(0);
    let mut header: Vec<String> = fields.by_ref().take(3).collect();
    header.resize(3, String::new());
    let parts: Vec<Part> = fields
        .map(|f| {
            let kind = f.bytes().next().unwrap_or(0);
            let rest = f.get(1..).unwrap_or("").to_owned();
            let file =
                |name: Option<String>, content| Part::File(FilePart { name: name.clone(), media_type: name, content });
            match kind % 5 {
                0 => Part::Text(rest),
                1 => Part::Data(rest),
                2 => file(None, FileContent::Bytes(rest.into_bytes())),
                3 => file(None, FileContent::Uri(rest)),
                _ => file(Some(rest), FileContent::Uri("https://x/y".into())),
            }
        })
        .collect();
    let message = Message {
        parts,
        task_id: (flags & 1 != 0).then(|| header[0].clone()),
        context_id: (flags & 2 != 0).then(|| header[1].clone()),
        reference_task_ids: Vec::new(),
        metadata: (flags & 4 != 0).then(|| header[2].clone()),
    };
    let checked = match check(&message) {
        Ok(checked) => checked,
        Err(_) => {
            // Refused through the client, as a caller meets it: clean, and nothing sent.
            let mut c = checked_client(&response(&[]), 0);
            let ids = SendIds { request_id: "req-1".into(), message_id: "msg-1".into() };
            let e = c
                .send_message(PEER, &message, None, &Ask::default(), &mut FixedEnv, ids)
                .expect_err("a refused message");
            assert_clean_error(&e, "message");
            assert!(e.message.starts_with("[A2A_ERROR] "), "{:?}", e.message);
            assert!(c.transport_mut().sent.is_empty(), "a refused message made a request");
            return;
        }
    };
    let as_json = |text: &str| serde_json::from_str::<serde_json::Value>(text).expect("checked JSON");
    for protocol in [a2a::Protocol::V0_3, a2a::Protocol::V1_0] {
        let wire = crate::platform::json_text(&checked.wire(protocol, "m"));
        let wire: serde_json::Value = serde_json::from_str(&wire).expect("the message is JSON");
        assert_eq!(wire["taskId"].as_str(), message.task_id.as_deref());
        assert_eq!(wire["contextId"].as_str(), message.context_id.as_deref());
        assert_eq!(wire.get("metadata").cloned(), message.metadata.as_deref().map(as_json));
        let read = read_parts(wire.get("parts")).expect("what we write reads back");
        assert_eq!(read.len(), message.parts.len(), "{protocol:?}: {wire}");
        for (sent, got) in message.parts.iter().zip(&read) {
            match (sent, got) {
                (Part::Data(a), Part::Data(b)) => assert_eq!(as_json(a), as_json(b)),
                (a, b) => assert_eq!(a, b, "{protocol:?}"),
            }
        }
    }
}

/// A property check over raw bytes (panics on a finding).
pub type Check = fn(&[u8]);

/// Every check by name.
pub const CHECKS: [(&str, Check); 8] = [
    ("ids", ids),
    ("config", config),
    ("platform_body", platform_body),
    ("a2a_reply", a2a_reply),
    ("retry_after", retry_after),
    ("stream", stream),
    ("message", message),
    ("resume", resume),
];

#[cfg(test)]
mod tests {
    //! The checks over a seed corpus and a few thousand deterministic
    //! mutations of it: the fuzz targets' short run, in `cargo test`.

    use super::*;
    use crate::transport::TransportError;

    /// Runs `check` on every seed and on `rounds` mutations, naming the input on failure.
    fn run(name: &str, check: fn(&[u8]), seeds: &[Vec<u8>], rounds: usize) {
        let mut rng = Mutator::new(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
        let inputs = seeds.iter().cloned().chain((0..rounds).map(|_| {
            let seed = &seeds[rng.below(seeds.len())];
            rng.mutate(seed)
        }));
        for input in inputs {
            if let Err(panic) = std::panic::catch_unwind(|| check(&input)) {
                let why = panic.downcast_ref::<String>().cloned().unwrap_or_default();
                panic!("{name} failed on {:?}: {why}", String::from_utf8_lossy(&input));
            }
        }
    }

    /// Every check on its seeds and 2000 mutations of them (the fuzz
    /// targets' short run; `fuzz/` runs them for millions).
    #[test]
    fn checks_hold_on_mutated_seeds() {
        for (name, check) in CHECKS {
            run(name, check, &seeds(name), 2000);
        }
    }

    /// The fuzz targets start from `fuzz/seeds/<check>/seed-<n>`, the files
    /// of [`seeds`]; `A2A_WRITE_SEEDS=1 cargo test -p a2a-client --lib
    /// checks` rewrites them after a change.
    #[test]
    fn fuzz_seed_files_are_the_seeds() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join("seeds");
        let write = std::env::var_os("A2A_WRITE_SEEDS").is_some();
        for (name, _) in CHECKS {
            let dir = root.join(name);
            for (i, seed) in seeds(name).iter().enumerate() {
                let path = dir.join(format!("seed-{i}"));
                if write {
                    std::fs::create_dir_all(&dir).unwrap();
                    std::fs::write(&path, seed).unwrap();
                }
                let file = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert_eq!(&file, seed, "{} is stale: rerun with A2A_WRITE_SEEDS=1", path.display());
            }
        }
    }

    /// A transport failure of every kind, for checks of the error paths.
    fn transport_errors() -> Vec<TransportError> {
        use wasi::http::types::ErrorCode;
        vec![
            TransportError::Code(ErrorCode::ConnectionRefused),
            TransportError::Code(ErrorCode::ConnectionTimeout),
            TransportError::Code(ErrorCode::InternalError(Some(format!("echo {TOKEN}")))),
            TransportError::TimedOut(Duration::from_millis(1500)),
            TransportError::TooLarge(4096),
        ]
    }

    #[test]
    fn transport_failures_give_clean_errors_everywhere() {
        for err in transport_errors() {
            let mut t = FakeTransport::default();
            for _ in 0..8 {
                t.then_fail(err.clone());
            }
            let mut c = checked_client(&Response { status: 200, headers: vec![], body: vec![] }, 0);
            *c.transport_mut() = t;
            assert_clean_error(&c.discover_peer(PEER, None, 0).unwrap_err(), "discover");
            assert_clean_error(&c.peers(None, None, 0).unwrap_err(), "peers");
            assert_clean_error(&c.workspace_info(None, 0).unwrap_err(), "workspace");
            let ids = SendIds { request_id: "r".into(), message_id: "m".into() };
            let e = c.send_message(PEER, &Message::text("x"), None, &Ask::default(), &mut FixedEnv, ids).unwrap_err();
            assert_clean_error(&e, "send");
        }
    }
}
