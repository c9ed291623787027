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
use host_test::p3::{api, AsyncInstance};
use host_test::platform::Platform;
use host_test::stock::{request_with_headers, wasmtime_cli, Served};
use serde_json::json;

use crate::common::agent_http::{
    delegates_texts_of_every_size, pushers_listing, pushes_are_labelled, serves_delegation_peers_and_errors,
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

/// The task, push-config, card and list calls of the async API against the
/// official `a2a-sdk` agent behind the platform's proxy, in both versions
/// (the same checks as `a2a_sdk.rs` makes of the WASI 0.2 client, in short),
/// some of them in flight together on one client.
#[tokio::test(flavor = "multi_thread")]
async fn async_task_calls_against_the_sdk_agent() {
    const SDK_PEER: &str = "cccccccc-0000-4000-8000-000000000001";
    let agent = host_test::a2a_sdk::SdkAgent::start().await.expect("the a2a-sdk agent starts");
    let mut sdk = host_test::platform::Workspace::new(SDK_PEER, "SDK Echo", "echo");
    sdk.upstream = Some(agent.url.clone());
    sdk.agent_card = Some(agent.card.clone());
    let mut all = crate::common::workspaces();
    all[0].peers.push(SDK_PEER.into());
    all.push(sdk);
    let platform = Platform::start(all).await.unwrap();
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
