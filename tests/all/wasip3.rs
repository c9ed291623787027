//! The WASI 0.3 build: the example agent composed with the client's
//! `a2a-client-async` component, served by the stock `wasmtime serve -S p3`
//! (whose default for a `wasi:http@0.3.0` service is one instance for up to
//! 16 requests at once and 128 in all). Requests in flight at once share the
//! instance's client: a delegation waiting on a slow peer holds only its own
//! request, and concurrent sends to a peer whose card is not cached wait on
//! one registry lookup.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use host_test::faults::TransportFaults;
use host_test::harness::{agent_async_path, client_async_path};
use host_test::p3::{api, Accessor, AsyncHost, AsyncInstance, ResourceAny};
use host_test::platform::{Fault, Platform, Route};
use host_test::stock::{request_with_headers, wasmtime_cli, Served};
use serde_json::json;

use crate::common::agent_http::{
    delegates_texts_of_every_size, lookups, pushers_listing, pushes_are_labelled, serves_delegation_peers_and_errors,
    workspaces_with_pushers,
};
use crate::common::*;

/// `wasmtime serve` flags for the WASI 0.3 agent: its interfaces, and one
/// instance kept for up to 100 000 requests (the default, 128, would
/// recycle it eight times in 1 000 pushes) and while idle for 10 minutes
/// (the default drops it after 1 s).
const P3: [&str; 6] = ["-S", "p3", "--max-instance-reuse-count", "100000", "--idle-instance-timeout", "600s"];

async fn served(platform: &Platform) -> Served {
    let url = platform.url();
    let env = [("WORKSPACE_ID", ME), ("PLATFORM_URL", url.as_str()), ("WORKSPACE_TOKEN", ME_TOKEN)];
    Served::start_with(&agent_async_path(), &env, &P3).await.expect("wasmtime serve -S p3 runs the composed agent")
}

/// 16 delegations at once to a peer that answers after 1 s: about 1 s in
/// all, not 16, on one instance, whose one client looked the peer's card up
/// once for all of them (`protocol: auto` reads the card).
#[tokio::test(flavor = "multi_thread")]
async fn one_instance_serves_concurrent_delegations_on_one_cache() {
    let platform = Platform::start(workspaces_with_pushers()).await.unwrap();
    let agent = served(&platform).await;
    // The instance and its client, made before the burst.
    let (status, _, _) = request_with_headers(agent.addr, "GET", "/stats", None).await.unwrap();
    assert_eq!(status, 200);
    platform.delay_paths("/a2a", Duration::from_secs(1));

    let started = Instant::now();
    let mut sends = Vec::new();
    for n in 0..16 {
        let body = json!({"peer": BUILDER, "text": format!("job {n}"), "protocol": "auto"});
        sends.push(tokio::spawn(
            async move { request_with_headers(agent.addr, "POST", "/delegate", Some(&body)).await },
        ));
        // Requests a few milliseconds apart, as callers make them: `wasmtime
        // serve` starts another instance for a request that arrives while
        // the current one is still computing, not while it waits on I/O.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut instances = HashSet::new();
    for (n, send) in sends.into_iter().enumerate() {
        let (status, headers, body) = send.await.unwrap().unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["text"], format!("echo: job {n}"));
        instances.insert(headers["x-agent-instance"].to_str().unwrap().to_owned());
    }
    let took = started.elapsed();
    println!("16 delegations to a 1 s peer on wasmtime serve -S p3: {took:?}, {} instance(s)", instances.len());
    assert_eq!(instances.len(), 1, "one instance served them all");
    // One after another they take 16 s; two at a time, 8.
    assert!(took < Duration::from_secs(4), "the delegations did not all run at once: {took:?}");
    let card_reads = platform.log().iter().filter(|r| r.path == format!("/registry/discover/{BUILDER}")).count();
    assert_eq!(card_reads, 1, "one registry lookup for the 16 sends");
    assert_eq!(platform.log().iter().filter(|r| r.path.ends_with("/a2a")).count(), 16);
    agent.stop().await.unwrap();
}

/// The pushes — 1 000 from 10 peers on a cold agent cost 10 registry
/// lookups, and every push after a peer's first is labelled — and the same
/// checks as every host's (delegation, peers, errors, real sizes).
#[tokio::test(flavor = "multi_thread")]
async fn the_wasi_0_3_agent_answers_like_the_wasi_0_2_one() {
    let platform = Platform::start(workspaces_with_pushers()).await.unwrap();
    let agent = served(&platform).await;
    let seen = pushes_are_labelled(agent.addr, &platform, 1000).await;
    println!("wasmtime serve -S p3: {seen:?}");
    assert_eq!((seen.instances, seen.lookups, seen.cold_pairs), (1, 10, 10), "{seen:?}");
    assert_eq!((seen.labelled_after_first, seen.unlabelled_warm), (990, 0), "{seen:?}");
    serves_delegation_peers_and_errors(agent.addr, &platform, &pushers_listing()).await;
    delegates_texts_of_every_size(agent.addr, &platform).await;
    agent.stop().await.unwrap();
}

/// The stock CLI compiles the bare WASI 0.3 client component.
#[tokio::test(flavor = "multi_thread")]
async fn the_stock_cli_compiles_the_wasi_0_3_client() {
    let out = tokio::process::Command::new(wasmtime_cli().unwrap())
        .args(["compile", "-W", "component-model-async=y", "-o", "/dev/null"])
        .arg(client_async_path())
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The config of [`async_api_calls_share_one_client`]: ME and ALT, as
/// `common::config` for the WASI 0.2 API.
fn async_config(platform_url: &str) -> api::Config {
    api::Config {
        workspace_id: ME.into(),
        platform_url: Some(platform_url.into()),
        credentials: vec![
            api::Credential { workspace_id: ME.into(), token: ME_TOKEN.into() },
            api::Credential { workspace_id: ALT.into(), token: ALT_TOKEN.into() },
        ],
        timeouts: None,
        max_body_bytes: None,
        cache: None,
        retry: None,
        protocol: None,
    }
}

fn no_options() -> api::CallOptions {
    api::CallOptions { source: None, protocol: None, extensions: Vec::new() }
}

/// Every call of the async API on one instance of the bare WASI 0.3 client
/// (a wasmtime host with the component model's async ABI): discovery,
/// workspace information, cards, labelling and waiting for lookups,
/// delegation one and many at once — and 8 sends in flight together on
/// the one client, to a peer that answers in 300 ms, in about 300 ms.
#[tokio::test(flavor = "multi_thread")]
async fn async_api_calls_share_one_client() {
    let platform = Platform::start(crate::common::workspaces()).await.unwrap();
    let mut instance = AsyncInstance::load(&client_async_path(), TransportFaults::quiet()).await.unwrap();
    let url = platform.url();
    let sends = instance
        .run(async |acc, api| {
            let calls = api.client();
            let c = calls.call_constructor(acc, async_config(&url)).await.unwrap().unwrap();
            let bad = calls.call_constructor(acc, async_config("ftp://x")).await.unwrap();
            assert!(matches!(bad, Err(api::Error { kind: api::ErrorKind::InvalidConfig(_), .. })));

            let peer = calls.call_discover_peer(acc, c, BUILDER.into(), no_options()).await.unwrap().unwrap();
            assert_eq!(peer.name.as_deref(), Some("Builder"));
            let peers = calls.call_peers(acc, c, None, no_options()).await.unwrap().unwrap();
            assert_eq!(peers.len(), 3);
            let me = calls.call_workspace_info(acc, c, no_options()).await.unwrap().unwrap();
            assert_eq!(me.name.as_deref(), Some("Planner"));
            let card = calls.call_agent_card(acc, c, BUILDER.into(), no_options()).await.unwrap().unwrap();
            assert!(card.raw.len() > 2, "{card:?}");
            let unknown = calls.call_discover_peer(acc, c, UNKNOWN.into(), no_options()).await.unwrap();
            assert!(matches!(unknown, Err(api::Error { kind: api::ErrorKind::HttpStatus(_), .. })), "{unknown:?}");

            // Labelling: cached, then a lookup in flight, waited for.
            let named = calls.call_enrich_peer_metadata(acc, c, BUILDER.into(), no_options()).await.unwrap();
            assert_eq!(named.and_then(|p| p.name).as_deref(), Some("Builder"));
            let mut alt = no_options();
            alt.source = Some(ALT.into());
            let first =
                calls.call_enrich_peer_metadata_nonblocking(acc, c, STRANGER.into(), alt.clone()).await.unwrap();
            assert!(first.is_none());
            assert_eq!(calls.call_await_enrichment(acc, c, 5_000).await.unwrap(), 0);
            let name = calls.call_peer_name(acc, c, STRANGER.into(), Some(ALT.into())).await.unwrap();
            assert_eq!(name.as_deref(), Some("Stranger"));
            let stats = calls.call_stats(acc, c).await.unwrap();
            assert_eq!(stats.in_flight, 0);

            // Delegation: one, many (an invalid target is its own error), and an error.
            let reply = calls.call_send_message(acc, c, BUILDER.into(), "hello".into(), no_options()).await.unwrap();
            assert_eq!(reply.unwrap().text, "echo: hello");
            let targets = vec![
                api::SendTarget { peer_id: BUILDER.into(), message: text_message("one") },
                api::SendTarget { peer_id: "../admin".into(), message: text_message("two") },
                api::SendTarget { peer_id: REVIEWER.into(), message: text_message("task: three") },
            ];
            let many = calls.call_send_many(acc, c, targets, no_options()).await.unwrap().unwrap();
            assert_eq!(many[0].as_ref().unwrap().text, "echo: one");
            assert!(matches!(&many[1], Err(api::Error { kind: api::ErrorKind::InvalidId(_), .. })), "{:?}", many[1]);
            assert!(matches!(many[2].as_ref().unwrap().kind, api::ReplyKind::Task(_)));
            let failed = calls.call_send_message(acc, c, STRANGER.into(), "x".into(), no_options()).await.unwrap();
            assert!(failed.unwrap_err().message.starts_with("[A2A_ERROR] "));

            // 8 sends in flight together on one client.
            platform.delay_paths("/a2a", Duration::from_millis(300));
            let started = Instant::now();
            let sends = (0..8).map(|n| calls.call_send_message(acc, c, BUILDER.into(), format!("n{n}"), no_options()));
            let replies = futures::future::join_all(sends).await;
            let took = started.elapsed();
            for (n, reply) in replies.into_iter().enumerate() {
                assert_eq!(reply.unwrap().unwrap().text, format!("echo: n{n}"));
            }

            // `auto` sends at once, on a second client (its cache cold): one
            // card lookup for all, and the version the card prefers.
            let cold = calls.call_constructor(acc, async_config(&url)).await.unwrap().unwrap();
            let card_reads =
                || platform.log().iter().filter(|r| r.path == format!("/registry/discover/{BUILDER}")).count();
            let before = card_reads();
            let mut auto = no_options();
            auto.protocol = Some(api::Protocol::Auto);
            let sends =
                (0..4).map(|n| calls.call_send_message(acc, cold, BUILDER.into(), format!("a{n}"), auto.clone()));
            for reply in futures::future::join_all(sends).await {
                assert_eq!(reply.unwrap().unwrap().protocol, api::Protocol::V03);
            }
            assert_eq!(card_reads() - before, 1, "one card lookup for 4 sends at once");
            took
        })
        .await
        .unwrap();
    println!("8 concurrent sends to a 300 ms peer on one WASI 0.3 instance: {sends:?}");
    // One after another they take 2.4 s.
    assert!(sends < Duration::from_millis(1200), "the sends did not all run at once: {sends:?}");
}

fn text_message(text: &str) -> api::OutgoingMessage {
    api::OutgoingMessage {
        parts: vec![api::Part::Text(text.into())],
        task_id: None,
        context_id: None,
        reference_task_ids: Vec::new(),
        metadata: None,
    }
}

/// The peer whose agent is the official `a2a-sdk` server.
const SDK_PEER: &str = "cccccccc-0000-4000-8000-000000000001";

/// The `a2a-sdk` agent, and the embedded platform with it as ME's peer
/// [`SDK_PEER`] behind the proxy (its card in the registry).
async fn sdk_platform() -> (host_test::a2a_sdk::SdkAgent, Platform) {
    let agent = host_test::a2a_sdk::SdkAgent::start().await.expect("the a2a-sdk agent starts");
    let mut sdk = host_test::platform::Workspace::new(SDK_PEER, "SDK Echo", "echo");
    sdk.upstream = Some(agent.url.clone());
    sdk.agent_card = Some(agent.card.clone());
    let mut all = crate::common::workspaces();
    all[0].peers.push(SDK_PEER.into());
    all.push(sdk);
    (agent, Platform::start(all).await.unwrap())
}

/// The task, push-config, card and list calls of the async API against the
/// official `a2a-sdk` agent behind the platform's proxy, in both versions
/// (the same checks as `a2a_sdk.rs` makes of the WASI 0.2 client, in short),
/// some of them in flight together on one client.
#[tokio::test(flavor = "multi_thread")]
async fn async_task_calls_against_the_sdk_agent() {
    let (_agent, platform) = sdk_platform().await;
    let mut instance = AsyncInstance::load(&client_async_path(), TransportFaults::quiet()).await.unwrap();
    let url = platform.url();
    instance
        .run(async |acc, api| {
            let calls = api.client();
            let c = calls.call_constructor(acc, async_config(&url)).await.unwrap().unwrap();
            for protocol in [api::Protocol::V03, api::Protocol::V10] {
                let with = api::CallOptions { protocol: Some(protocol), ..no_options() };
                let reply = calls.call_send_message(acc, c, SDK_PEER.into(), "wait: x".into(), with.clone()).await;
                let reply = reply.unwrap().unwrap();
                let api::ReplyKind::Task(started) = &reply.kind else { panic!("{:?}", reply.kind) };
                let id = started.id.clone().unwrap();

                let task =
                    calls.call_get_task(acc, c, SDK_PEER.into(), id.clone(), with.clone()).await.unwrap().unwrap();
                assert_eq!((task.state.as_str(), task.protocol), ("working", protocol));

                // Two configs created at once, then listed, one deleted.
                let new = |n: &str| api::NewPushConfig {
                    task_id: id.clone(),
                    id: Some(n.into()),
                    url: format!("https://me.example/hook/{n}"),
                    token: None,
                };
                let (a, b) = futures::join!(
                    calls.call_create_push_config(acc, c, SDK_PEER.into(), new("c1"), with.clone()),
                    calls.call_create_push_config(acc, c, SDK_PEER.into(), new("c2"), with.clone()),
                );
                assert_eq!(a.unwrap().unwrap().id.as_deref(), Some("c1"), "{protocol:?}");
                assert_eq!(b.unwrap().unwrap().id.as_deref(), Some("c2"));
                let got = calls.call_get_push_config(acc, c, SDK_PEER.into(), id.clone(), "c2".into(), with.clone());
                assert_eq!(got.await.unwrap().unwrap().url, "https://me.example/hook/c2");
                calls
                    .call_delete_push_config(acc, c, SDK_PEER.into(), id.clone(), "c1".into(), with.clone())
                    .await
                    .unwrap()
                    .unwrap();
                let listed = calls
                    .call_list_push_configs(acc, c, SDK_PEER.into(), id.clone(), with.clone())
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(listed.iter().filter_map(|c| c.id.as_deref()).collect::<Vec<_>>(), ["c2"], "{protocol:?}");

                let card =
                    calls.call_extended_agent_card(acc, c, SDK_PEER.into(), with.clone()).await.unwrap().unwrap();
                assert_eq!(card.name.as_deref(), Some("SDK Echo (extended)"), "{protocol:?}");

                let task =
                    calls.call_cancel_task(acc, c, SDK_PEER.into(), id.clone(), with.clone()).await.unwrap().unwrap();
                assert_eq!(task.state, "canceled", "{protocol:?}");
                let e =
                    calls.call_get_task(acc, c, SDK_PEER.into(), "no-such-task".into(), with.clone()).await.unwrap();
                let e = e.unwrap_err();
                let api::ErrorKind::RpcError(rpc) = &e.kind else { panic!("{e:?}") };
                assert_eq!((rpc.reason, rpc.code), (api::RpcReason::TaskNotFound, Some(-32001)), "{protocol:?}");
            }
            // `list-tasks`: `auto` reads the card (v1.0 listed) and lists; v0.3 cannot, and sends nothing.
            let auto = api::CallOptions { protocol: Some(api::Protocol::Auto), ..no_options() };
            let query = api::TaskQuery {
                context_id: None,
                state: None,
                page_size: None,
                page_token: None,
                include_artifacts: false,
            };
            let page = calls.call_list_tasks(acc, c, SDK_PEER.into(), query.clone(), auto).await.unwrap().unwrap();
            assert_eq!(page.tasks.len(), 2, "{page:?}");
            let sent = || platform.log().iter().filter(|r| r.path.ends_with("/a2a")).count();
            let before = sent();
            let v03 = api::CallOptions { protocol: Some(api::Protocol::V03), ..no_options() };
            let e = calls.call_list_tasks(acc, c, SDK_PEER.into(), query, v03).await.unwrap().unwrap_err();
            assert!(matches!(e.kind, api::ErrorKind::Unsupported(_)), "{e:?}");
            // Input checked in order, before anything is sent: the peer id, then the task id.
            let bad = calls.call_get_task(acc, c, SDK_PEER.into(), "a\nb".into(), no_options()).await.unwrap();
            assert!(matches!(bad.unwrap_err().kind, api::ErrorKind::InvalidId(i) if i.param == "task-id"));
            let bad = calls.call_get_task(acc, c, "../x".into(), "a\nb".into(), no_options()).await.unwrap();
            assert!(matches!(bad.unwrap_err().kind, api::ErrorKind::InvalidId(i) if i.param == "peer-id"));
            assert_eq!(sent(), before, "a call that cannot be made sent something");
        })
        .await
        .unwrap();
}

/// A retry policy with this first backoff (jittered by half) and total
/// budget, the rest the defaults.
fn retry(base_delay_ms: Option<u32>, total_budget_ms: Option<u32>) -> api::RetryPolicy {
    api::RetryPolicy {
        max_attempts: None,
        base_delay_ms,
        max_delay_ms: None,
        jitter_percent: Some(50),
        total_budget_ms,
        budget_tokens: None,
        budget_refill_percent: None,
    }
}

/// A stream event in a few words (as `a2a_sdk.rs` shows them).
fn short(event: &api::StreamEvent) -> String {
    match event {
        api::StreamEvent::Task(t) => format!("task {}", t.state),
        api::StreamEvent::StatusUpdate(u) => format!("status {}{}", u.state, if u.is_final { " final" } else { "" }),
        api::StreamEvent::ArtifactUpdate(a) => format!("artifact {}", a.text),
        api::StreamEvent::Message(m) => format!("message {}", m.text),
    }
}

/// Every event of `stream`, in a few words, and the error that ended it.
async fn drain(acc: &Accessor<AsyncHost>, api: &api::Guest, stream: ResourceAny) -> (Vec<String>, Option<api::Error>) {
    let mut seen = Vec::new();
    loop {
        match api.event_stream().call_next_event(acc, stream).await.unwrap() {
            Ok(Some(event)) => seen.push(short(&event)),
            Ok(None) => return (seen, None),
            Err(e) => return (seen, Some(e)),
        }
    }
}

/// The streamed calls of the async API against the official `a2a-sdk` agent
/// in both versions: a streamed send read to its end, a plain answer as one
/// event, a running task followed from a second stream, a stream the proxy
/// cuts resumed without repeats or gaps — while a stream waits, the
/// instance's other calls go on (a send answers before the stream's next
/// event), and two reads of one stream at once take turns.
#[tokio::test(flavor = "multi_thread")]
async fn async_streams_against_the_sdk_agent() {
    let (_agent, platform) = sdk_platform().await;
    let mut instance = AsyncInstance::load(&client_async_path(), TransportFaults::quiet()).await.unwrap();
    let url = platform.url();
    let a2a_bodies =
        || -> Vec<String> { platform.log().into_iter().filter(|r| r.path.ends_with("/a2a")).map(|r| r.body).collect() };
    instance
        .run(async |acc, api| {
            let calls = api.client();
            let streams = api.event_stream();
            let mut cfg = async_config(&url);
            // Resubscriptions after 100 ms or so, as `a2a_sdk.rs`'s quick client.
            cfg.retry = Some(retry(Some(100), None));
            let c = calls.call_constructor(acc, cfg).await.unwrap().unwrap();
            for protocol in [api::Protocol::V03, api::Protocol::V10] {
                let with = api::CallOptions { protocol: Some(protocol), ..no_options() };
                let stream = calls.call_send_message_stream(acc, c, SDK_PEER.into(), "stream: 3".into(), with.clone());
                let stream = stream.await.unwrap().unwrap();
                assert_eq!(streams.call_protocol(acc, stream).await.unwrap(), protocol);
                let (seen, end) = drain(acc, api, stream).await;
                assert!(end.is_none(), "{protocol:?}: {end:?}");
                let mut expected = vec!["task submitted", "status working"];
                expected.extend(["artifact chunk 0", "artifact chunk 1", "artifact chunk 2", "status completed final"]);
                assert_eq!(seen, expected, "{protocol:?}");
                let method = if protocol == api::Protocol::V10 { "SendStreamingMessage" } else { "message/stream" };
                assert!(a2a_bodies().last().unwrap().contains(method));

                // A plain message streams as one event (`send-stream`, any message).
                let one = calls.call_send_stream(acc, c, SDK_PEER.into(), text_message("hello"), with.clone());
                let (seen, end) = drain(acc, api, one.await.unwrap().unwrap()).await;
                assert_eq!((seen, end.is_none()), (vec!["message echo: hello".to_owned()], true), "{protocol:?}");

                // A task that streams an artifact every 0.3 s, followed from a
                // second stream; meanwhile a send on the same instance answers
                // at once, and two reads of the first stream at once take turns.
                let started = calls.call_send_message_stream(acc, c, SDK_PEER.into(), "slow: 4".into(), with.clone());
                let started = started.await.unwrap().unwrap();
                let (first, second) =
                    futures::join!(streams.call_next_event(acc, started), streams.call_next_event(acc, started));
                let (first, second) = (first.unwrap().unwrap().unwrap(), second.unwrap().unwrap().unwrap());
                assert_eq!((short(&first), short(&second)), ("task submitted".into(), "status working".into()));
                let api::StreamEvent::Task(task) = first else { unreachable!() };
                let id = task.id.unwrap();
                let sub = calls.call_subscribe_to_task(acc, c, SDK_PEER.into(), id.clone(), with.clone());
                let sub = sub.await.unwrap().unwrap();
                let waited = Instant::now();
                let (followed, (answered, answer_took)) = futures::join!(drain(acc, api, sub), async {
                    let reply = calls.call_send_message(acc, c, SDK_PEER.into(), "hello".into(), with.clone()).await;
                    (reply.unwrap().unwrap().text, waited.elapsed())
                });
                let follow_took = waited.elapsed();
                let (seen, end) = followed;
                assert!(end.is_none(), "{protocol:?}: {end:?}");
                assert!(seen[0].starts_with("task "), "{protocol:?}: the task as it stands first: {seen:?}");
                assert!(seen.iter().any(|e| e.starts_with("artifact chunk ")), "{protocol:?}: {seen:?}");
                assert_eq!(seen.last().map(String::as_str), Some("status completed final"), "{protocol:?}");
                assert_eq!(answered, "echo: hello");
                println!("{protocol:?}: a send answered in {answer_took:?} while a stream read for {follow_took:?}");
                assert!(answer_took < follow_took, "the send waited for the stream: {answer_took:?}");
                let (_, end) = drain(acc, api, started).await;
                assert!(end.is_none(), "{end:?}");
                let method =
                    if protocol == api::Protocol::V10 { "\"SubscribeToTask\"" } else { "\"tasks/resubscribe\"" };
                assert!(a2a_bodies().iter().any(|b| b.contains(method)), "{protocol:?}");

                // An ended task cannot be followed, an unknown one is not found: typed errors.
                for (task, reason) in
                    [(id.as_str(), api::RpcReason::UnsupportedOperation), ("no-such", api::RpcReason::TaskNotFound)]
                {
                    let opened = calls.call_subscribe_to_task(acc, c, SDK_PEER.into(), task.into(), with.clone());
                    let e = match opened.await.unwrap() {
                        Err(e) => e,
                        Ok(stream) => {
                            let (seen, end) = drain(acc, api, stream).await;
                            assert!(seen.is_empty(), "{protocol:?}: {seen:?}");
                            end.expect("an error ends it")
                        }
                    };
                    let api::ErrorKind::RpcError(rpc) = &e.kind else { panic!("{protocol:?}: {e:?}") };
                    assert_eq!(rpc.reason, reason, "{protocol:?}: {}", e.message);
                }

                // The proxy cuts the stream after three events: resumed by one
                // resubscription, every event once, in order.
                platform.clear_log();
                let cut = Fault::CutStream { after_events: 3, mid_event: protocol == api::Protocol::V10 };
                platform.fault(Route::A2a, cut, Some(1));
                let stream = calls.call_send_message_stream(acc, c, SDK_PEER.into(), "slow: 6".into(), with.clone());
                let stream = stream.await.unwrap().unwrap();
                let (seen, end) = drain(acc, api, stream).await;
                assert!(end.is_none(), "{protocol:?}: {end:?}");
                assert_eq!(streams.call_resumes(acc, stream).await.unwrap(), 1, "{protocol:?}");
                let mut expected = vec!["task submitted".to_owned(), "status working".to_owned()];
                expected.extend((0..6).map(|i| format!("artifact chunk {i}")));
                expected.push("status completed final".into());
                assert_eq!(seen, expected, "{protocol:?}: every event once, in order");
                let sent = a2a_bodies();
                assert_eq!(sent.len(), 2, "{protocol:?}: the send, then one resubscription");
                assert!(sent[1].contains(method), "{}", sent[1]);

                // Cut before any event: nothing names the task, so nothing to resume.
                platform.fault(Route::A2a, Fault::CutStream { after_events: 0, mid_event: true }, Some(1));
                let stream = calls.call_send_message_stream(acc, c, SDK_PEER.into(), "slow: 3".into(), with.clone());
                let (seen, end) = drain(acc, api, stream.await.unwrap().unwrap()).await;
                assert!(seen.is_empty(), "{seen:?}");
                let end = end.expect("a cut is an error");
                let api::ErrorKind::StreamCut(cut) = &end.kind else { panic!("{protocol:?}: {end:?}") };
                assert!(cut.cause.contains("no event named its task"), "{}", cut.cause);
            }
            // Checked before anything is sent.
            let before = a2a_bodies().len();
            let bad = calls.call_subscribe_to_task(acc, c, SDK_PEER.into(), "".into(), no_options()).await.unwrap();
            assert!(matches!(bad.unwrap_err().kind, api::ErrorKind::InvalidId(i) if i.param == "task-id"));
            let bad = calls.call_send_message_stream(acc, c, "../x".into(), "hi".into(), no_options()).await.unwrap();
            assert!(matches!(bad.unwrap_err().kind, api::ErrorKind::InvalidId(i) if i.param == "peer-id"));
            assert_eq!(a2a_bodies().len(), before, "a call that cannot be made sent something");
        })
        .await
        .unwrap();
}

const WORKING: &str = "data: {\"result\":{\"kind\":\"status-update\",\"taskId\":\"t\",\"final\":false,\"status\":{\"state\":\"working\"}}}\n\n";
const DONE: &str = "data: {\"result\":{\"kind\":\"status-update\",\"taskId\":\"t\",\"final\":true,\"status\":{\"state\":\"completed\"}}}\n\n";

/// The proxy's answer to the next A2A request: these SSE chunks, one every `every_ms`.
fn script(chunks: &[&str], every_ms: u64, forever: bool) -> Fault {
    let chunks = chunks.iter().map(|c| c.to_string()).collect();
    Fault::Events { chunks, every: Duration::from_millis(every_ms), forever }
}

/// The bounds and failures of `streaming.rs`, on the async API: events split
/// across chunks, a cut resumed (and refused: the scripted agent has no
/// resubscription), an oversized event, an endless stream stopped by the
/// budget, a silent one by the read timeout, error events and statuses, a
/// stream dropped midway — each a typed error, the instance still answering.
#[tokio::test(flavor = "multi_thread")]
async fn async_streams_are_bounded_and_fail_typed() {
    let platform = Platform::start(crate::common::workspaces()).await.unwrap();
    let mut instance = AsyncInstance::load(&client_async_path(), TransportFaults::quiet()).await.unwrap();
    let url = platform.url();
    let (c, stream) = instance
        .run(async |acc, api| {
            let calls = api.client();
            // Reads within 300 ms, streams of at most 1.5 s, events up to 1 KiB.
            let mut cfg = async_config(&url);
            cfg.max_body_bytes = Some(1024);
            cfg.timeouts = Some(api::Timeouts {
                read_ms: None,
                read_total_ms: None,
                enrich_ms: None,
                send_connect_ms: None,
                send_read_ms: Some(300),
            });
            cfg.retry = Some(retry(None, Some(1500)));
            let c = calls.call_constructor(acc, cfg).await.unwrap().unwrap();
            let run = async |fault: Fault| {
                platform.fault(Route::A2a, fault, Some(1));
                let started = Instant::now();
                let stream = calls.call_send_message_stream(acc, c, BUILDER.into(), "go".into(), no_options());
                let (seen, end) = drain(acc, api, stream.await.unwrap().expect("opened")).await;
                (seen, end, started.elapsed())
            };
            let (seen, end, _) = run(script(&[WORKING, &DONE[..40], &DONE[40..], WORKING], 5, false)).await;
            assert!(end.is_none(), "{end:?}");
            assert_eq!(seen, ["status working", "status completed final"], "nothing after the final event");

            let (seen, end, _) = run(script(&[WORKING, "data: {\"result\":{\"ki"], 5, false)).await;
            assert_eq!(seen.len(), 1);
            let e = end.expect("an error");
            let api::ErrorKind::StreamCut(cut) = &e.kind else { panic!("{e:?}") };
            assert_eq!((cut.task_id.as_deref(), cut.events, cut.resumes), (Some("t"), 1, 1), "{}", e.message);
            assert!(e.message.starts_with("[A2A_ERROR] the stream of task 't' was cut after 1 event and 1 resubscription: resubscribing was refused: Method not found (code=-32601); reading the task failed too: "), "{}", e.message);

            let big = format!("data: {{\"result\":{{\"kind\":\"message\",\"parts\":[{{\"text\":\"{}\"}}]}}}}\n\n", "x".repeat(5000));
            let (seen, end, _) = run(script(&[WORKING, &big], 5, false)).await;
            assert_eq!(seen.len(), 1);
            assert!(matches!(end.expect("an error").kind, api::ErrorKind::BodyTooLarge(t) if t.limit == 1024));

            let (seen, end, took) = run(script(&[WORKING], 50, true)).await;
            let e = end.expect("an error");
            assert!(matches!(&e.kind, api::ErrorKind::TimedOut(t) if t.after_ms == 1500), "{e:?}");
            assert!(seen.len() > 5 && took < Duration::from_secs(5), "{} events in {took:?}", seen.len());
            let (seen, end, took) = run(script(&[WORKING, WORKING], 3000, false)).await;
            assert_eq!(seen.len(), 1);
            let e = end.expect("an error");
            assert!(matches!(&e.kind, api::ErrorKind::TimedOut(t) if t.after_ms == 300), "{e:?}");
            assert!(took < Duration::from_secs(3), "{took:?}");

            let rpc = "event: error\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"1\",\"error\":{\"code\":-32603,\"message\":\"boom\"}}\n\n";
            let (seen, end, _) = run(script(&[WORKING, rpc], 5, false)).await;
            assert_eq!(seen.len(), 1);
            assert!(matches!(end.expect("an error").kind, api::ErrorKind::RpcError(r) if r.code == Some(-32603)));
            let echo = format!("event: error\ndata: denied for Bearer {ME_TOKEN}\n\n");
            let (_, end, _) = run(script(&[&echo], 5, false)).await;
            let e = end.expect("an error");
            assert!(!format!("{e:?}").contains(ME_TOKEN), "{e:?}");

            // An error status: the open itself fails, with the status.
            platform.fault(Route::A2a, Fault::json(503, json!({"error": "workspace not available"})), Some(1));
            let e = calls.call_send_message_stream(acc, c, BUILDER.into(), "go".into(), no_options()).await.unwrap();
            assert!(matches!(&e.unwrap_err().kind, api::ErrorKind::PlatformError(p) if p.status == 503));

            // A stream dropped midway (after this run: a host drops it from its store).
            platform.fault(Route::A2a, script(&[WORKING], 20, true), Some(1));
            let stream = calls.call_send_message_stream(acc, c, BUILDER.into(), "go".into(), no_options());
            let stream = stream.await.unwrap().unwrap();
            for _ in 0..3 {
                assert!(api.event_stream().call_next_event(acc, stream).await.unwrap().unwrap().is_some());
            }
            (c, stream)
        })
        .await
        .unwrap();
    instance.drop_resource(stream).await.unwrap();
    instance
        .run(async |acc, api| {
            let reply = api.client().call_send_message(acc, c, BUILDER.into(), "after".into(), no_options()).await;
            assert_eq!(reply.unwrap().unwrap().text, "echo: after");
        })
        .await
        .unwrap();
}

/// A listing of 3 000 peers through the async `peers`, while other calls run
/// on the instance: every peer read, and the newest the cache holds
/// (`max-entries`, 1 024 by default) labelled afterwards without a lookup.
#[tokio::test(flavor = "multi_thread")]
async fn a_listing_of_thousands_of_peers_fills_the_cache() {
    let mut all = crate::common::workspaces();
    let many: Vec<String> = (0..3000).map(|n| format!("dddddddd-0000-4000-8000-{n:012x}")).collect();
    all[0].peers.extend(many.iter().cloned());
    all.extend(
        many.iter().enumerate().map(|(n, id)| host_test::platform::Workspace::new(id, &format!("Peer {n}"), "worker")),
    );
    let platform = Platform::start(all).await.unwrap();
    let mut instance = AsyncInstance::load(&client_async_path(), TransportFaults::quiet()).await.unwrap();
    let url = platform.url();
    instance
        .run(async |acc, api| {
            let calls = api.client();
            let c = calls.call_constructor(acc, async_config(&url)).await.unwrap().unwrap();
            let started = Instant::now();
            let (listed, reply) = futures::join!(
                calls.call_peers(acc, c, None, no_options()),
                calls.call_send_message(acc, c, BUILDER.into(), "meanwhile".into(), no_options()),
            );
            let listed = listed.unwrap().unwrap();
            println!("3 000 peers listed through the WASI 0.3 client in {:?}", started.elapsed());
            assert_eq!(listed.len(), 3000 + 3, "{}", listed.len());
            assert_eq!(reply.unwrap().unwrap().text, "echo: meanwhile");
            let lookups_before = lookups(&platform);
            for (n, id) in many.iter().enumerate().skip(3000 - 1000) {
                let label = calls.call_enrich_peer_metadata_nonblocking(acc, c, id.clone(), no_options()).await;
                assert_eq!(label.unwrap().and_then(|p| p.name), Some(format!("Peer {n}")), "{id}");
            }
            assert_eq!(lookups(&platform), lookups_before, "labels from the listing, without lookups");
            let stats = calls.call_stats(acc, c).await.unwrap();
            assert!(stats.entries <= 1024 && stats.evictions >= 3000 - 1024, "{stats:?}");
        })
        .await
        .unwrap();
}
