//! Every A2A error code of the spec (§5.4) answered by a scripted peer to
//! each call beyond the send — list, subscribe, push configs, extended card,
//! get and cancel — in both versions: the call ends with `rpc-error`, the
//! reason named, the peer's message kept, tried once, no token in any text.

use crate::common;

use common::*;
use host_test::bindings::{CallOptions, Error, ErrorKind, NewPushConfig, Protocol, RpcReason, TaskQuery};
use host_test::platform::{Fault, Route};
use host_test::{Client, Instance};
use serde_json::json;

const CODES: [(i64, RpcReason); 9] = [
    (-32001, RpcReason::TaskNotFound),
    (-32002, RpcReason::TaskNotCancelable),
    (-32003, RpcReason::PushNotificationNotSupported),
    (-32004, RpcReason::UnsupportedOperation),
    (-32005, RpcReason::ContentTypeNotSupported),
    (-32006, RpcReason::InvalidAgentResponse),
    (-32007, RpcReason::ExtendedAgentCardNotConfigured),
    (-32008, RpcReason::ExtensionSupportRequired),
    (-32009, RpcReason::VersionNotSupported),
];

const CALLS: [&str; 9] = [
    "get-task",
    "cancel-task",
    "list-tasks",
    "subscribe-to-task",
    "extended-agent-card",
    "create-push-config",
    "get-push-config",
    "list-push-configs",
    "delete-push-config",
];

/// Makes `call` to BUILDER and returns its error (a subscription's may come
/// as the stream's end).
async fn failing(instance: &mut Instance, client: Client, call: &str, options: &CallOptions) -> Error {
    let (peer, task) = (BUILDER, "task-1");
    let result = match call {
        "get-task" => instance.get_task(client, peer, task, options).await.unwrap().map(drop),
        "cancel-task" => instance.cancel_task(client, peer, task, options).await.unwrap().map(drop),
        "list-tasks" => instance.list_tasks(client, peer, &TaskQuery::default(), options).await.unwrap().map(drop),
        "extended-agent-card" => instance.extended_agent_card(client, peer, options).await.unwrap().map(drop),
        "create-push-config" => {
            let config =
                NewPushConfig { task_id: task.into(), id: None, url: "https://me.example/h".into(), token: None };
            instance.create_push_config(client, peer, &config, options).await.unwrap().map(drop)
        }
        "get-push-config" => instance.get_push_config(client, (peer, task, "c1"), options).await.unwrap().map(drop),
        "list-push-configs" => instance.list_push_configs(client, peer, task, options).await.unwrap().map(drop),
        "delete-push-config" => instance.delete_push_config(client, (peer, task, "c1"), options).await.unwrap(),
        "subscribe-to-task" => match instance.subscribe_to_task(client, peer, task, options).await.unwrap() {
            Err(e) => Err(e),
            Ok(stream) => {
                let (events, end) = instance.drain_stream(stream).await.unwrap();
                assert!(events.is_empty(), "{events:?}");
                return end.expect("an error ends the subscription");
            }
        },
        other => panic!("no call {other}"),
    };
    result.expect_err(call)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_spec_error_code_of_every_task_push_and_card_call_is_typed() {
    let mut s = setup().await;
    for protocol in [Protocol::V03, Protocol::V10] {
        let options = CallOptions { protocol: Some(protocol), ..Default::default() };
        for call in CALLS {
            if call == "list-tasks" && protocol == Protocol::V03 {
                continue; // v0.3 has no ListTasks: `unsupported`, tested in a2a_sdk.rs.
            }
            for (code, reason) in CODES {
                s.platform.clear_log();
                // The peer's message echoes the caller's token: it must not come back.
                let message = format!("refused ({call}), Bearer {ME_TOKEN}");
                let body = json!({"jsonrpc": "2.0", "id": "x", "error": {"code": code, "message": message}});
                s.platform.fault(Route::A2a, Fault::json(200, body), Some(1));
                let e = failing(&mut s.instance, s.client, call, &options).await;
                let ErrorKind::RpcError(rpc) = &e.kind else { panic!("{call} {protocol:?} {code}: {e:?}") };
                assert_eq!((rpc.reason, rpc.code), (reason, Some(code)), "{call} {protocol:?}");
                assert!(rpc.message.starts_with(&format!("refused ({call})")), "{}", rpc.message);
                assert!(e.message.starts_with("[A2A_ERROR] refused") && e.message.contains(&format!("(code={code})")));
                let all = format!("{e:?}");
                assert!(!all.contains(ME_TOKEN), "{call}: a token in {all}");
                assert!(all.contains("[redacted]"), "{all}");
                let sent = s.platform.log().into_iter().filter(|r| r.path.ends_with("/a2a")).count();
                assert_eq!(sent, 1, "{call} {protocol:?} {code}: a JSON-RPC error is final, not retried");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_event_ends_a_subscription_with_its_code() {
    let mut s = setup().await;
    for (code, reason) in [(-32001, RpcReason::TaskNotFound), (-32004, RpcReason::UnsupportedOperation)] {
        let event = format!("event: error\ndata: {}\n\n", json!({"error": {"code": code, "message": "no"}}));
        let fault = Fault::Events { chunks: vec![event], every: std::time::Duration::from_millis(1), forever: false };
        s.platform.fault(Route::A2a, fault, Some(1));
        let e = failing(&mut s.instance, s.client, "subscribe-to-task", &CallOptions::default()).await;
        let ErrorKind::RpcError(rpc) = &e.kind else { panic!("{e:?}") };
        assert_eq!(rpc.reason, reason);
    }
}
