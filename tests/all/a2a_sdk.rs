//! The client against a real A2A agent built on the official `a2a-sdk`
//! Python package (1.3.0, `tests/a2a_sdk/agent.py`), mounted behind the
//! embedded platform's proxy where a peer's agent would be: Message and Task
//! replies, failed tasks, streams, get and cancel, unknown tasks, in A2A v0.3
//! and v1.0, and `auto` choosing by the agent card.

use crate::common;

use common::*;
use host_test::a2a_sdk::SdkAgent;
use host_test::bindings::{
    CallOptions, ErrorKind, FileContent, FilePart, NewPushConfig, OutgoingMessage, Part, Protocol, ReplyKind,
    RetryPolicy, RpcReason, SendTarget, StreamEvent, TaskQuery,
};
use host_test::harness::Harness;
use host_test::platform::{Fault, Platform, Route, Workspace};
use host_test::{Client, Instance, InstanceOptions};
use serde_json::json;

/// The peer whose agent is the SDK server.
const SDK_PEER: &str = "cccccccc-0000-4000-8000-000000000001";

struct SdkSetup {
    platform: Platform,
    instance: Instance,
    client: Client,
    _agent: SdkAgent,
}

async fn sdk_setup(protocol: Option<Protocol>) -> SdkSetup {
    sdk_setup_with_card(protocol, |_| {}).await
}

/// The set-up, with the card the registry lists for the agent edited.
async fn sdk_setup_with_card(protocol: Option<Protocol>, edit: impl FnOnce(&mut serde_json::Value)) -> SdkSetup {
    let agent = SdkAgent::start().await.expect("the a2a-sdk agent starts");
    let mut sdk = Workspace::new(SDK_PEER, "SDK Echo", "echo");
    sdk.upstream = Some(agent.url.clone());
    let mut card = agent.card.clone();
    edit(&mut card);
    sdk.agent_card = Some(card);
    let mut all = workspaces();
    all[0].peers.push(SDK_PEER.into());
    all.push(sdk);
    let platform = Platform::start(all).await.unwrap();
    let mut instance = Harness::shared().instantiate(InstanceOptions::default()).await.unwrap();
    let mut cfg = config(&platform.url());
    cfg.protocol = protocol;
    let client = instance.client(&cfg).await.unwrap().expect("config accepted");
    SdkSetup { platform, instance, client, _agent: agent }
}

fn with(protocol: Protocol) -> CallOptions {
    CallOptions { protocol: Some(protocol), ..Default::default() }
}

fn a2a_requests(platform: &Platform) -> Vec<host_test::platform::LoggedRequest> {
    platform.log().into_iter().filter(|r| r.path.ends_with("/a2a")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_tasks_and_failures_in_both_versions() {
    let mut s = sdk_setup(None).await;
    for protocol in [Protocol::V03, Protocol::V10] {
        s.platform.clear_log();
        let reply = s.instance.send_message_with(s.client, SDK_PEER, "hello", &with(protocol)).await.unwrap().unwrap();
        assert_eq!((reply.text.as_str(), reply.protocol), ("echo: hello", protocol));
        assert!(matches!(reply.kind, ReplyKind::Message));

        let reply =
            s.instance.send_message_with(s.client, SDK_PEER, "task: build it", &with(protocol)).await.unwrap().unwrap();
        assert_eq!(reply.text, "done: build it\nBUILD IT", "{protocol:?}");
        let ReplyKind::Task(task) = &reply.kind else { panic!("{:?}", reply.kind) };
        assert_eq!(task.state, "completed");
        assert!(task.id.as_deref().is_some_and(|id| !id.is_empty()));

        let reply =
            s.instance.send_message_with(s.client, SDK_PEER, "fail: boom", &with(protocol)).await.unwrap().unwrap();
        assert_eq!(reply.text, "failed: boom");
        assert!(matches!(&reply.kind, ReplyKind::Task(t) if t.state == "failed"), "{:?}", reply.kind);

        // The version header goes with v1.0 only; the proxy saw every call.
        let sent = a2a_requests(&s.platform);
        assert_eq!(sent.len(), 3);
        let header = if protocol == Protocol::V10 { Some("1.0") } else { None };
        assert!(sent.iter().all(|r| r.header("a2a-version") == header), "{protocol:?}");
        let method = if protocol == Protocol::V10 { "\"SendMessage\"" } else { "\"message/send\"" };
        assert!(sent.iter().all(|r| r.body.contains(method)));
    }
    // The reference-compatible call speaks the config's version (v0.3 by default).
    let reply = s.instance.send_message(s.client, SDK_PEER, "hello", None).await.unwrap().unwrap();
    assert_eq!(reply.protocol, Protocol::V03);
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_are_read_and_canceled_in_both_versions() {
    let mut s = sdk_setup(None).await;
    for protocol in [Protocol::V03, Protocol::V10] {
        let reply =
            s.instance.send_message_with(s.client, SDK_PEER, "wait: x", &with(protocol)).await.unwrap().unwrap();
        let ReplyKind::Task(started) = &reply.kind else { panic!("{:?}", reply.kind) };
        assert_eq!(started.state, "working");
        let id = started.id.clone().unwrap();

        let task = s.instance.get_task(s.client, SDK_PEER, &id, &with(protocol)).await.unwrap().unwrap();
        assert_eq!((task.id.as_str(), task.state.as_str(), task.text.as_str()), (id.as_str(), "working", "waiting: x"));
        assert_eq!(task.protocol, protocol);

        let task = s.instance.cancel_task(s.client, SDK_PEER, &id, &with(protocol)).await.unwrap().unwrap();
        assert_eq!((task.id.as_str(), task.state.as_str()), (id.as_str(), "canceled"), "{protocol:?}");

        let e = s.instance.cancel_task(s.client, SDK_PEER, &id, &with(protocol)).await.unwrap().unwrap_err();
        let ErrorKind::RpcError(rpc) = &e.kind else { panic!("{e:?}") };
        assert_eq!((rpc.reason, rpc.code), (RpcReason::TaskNotCancelable, Some(-32002)), "{protocol:?}");
        assert!(e.message.starts_with("[A2A_ERROR] "), "{}", e.message);

        let e = s.instance.get_task(s.client, SDK_PEER, "no-such-task", &with(protocol)).await.unwrap().unwrap_err();
        let ErrorKind::RpcError(rpc) = &e.kind else { panic!("{e:?}") };
        assert_eq!((rpc.reason, rpc.code), (RpcReason::TaskNotFound, Some(-32001)), "{protocol:?}");
        assert_eq!(e.attempts.len(), 1, "a JSON-RPC error is not retried");
    }
    // A task id that cannot be sent makes no request.
    let before = s.platform.log().len();
    for bad in ["", "a\nb"] {
        let e = s.instance.get_task(s.client, SDK_PEER, bad, &with(Protocol::V03)).await.unwrap().unwrap_err();
        assert!(matches!(&e.kind, ErrorKind::InvalidId(i) if i.param == "task-id"), "{e:?}");
    }
    assert_eq!(s.platform.log().len(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_takes_the_cards_preferred_interface_and_names_its_tenant() {
    // The registry's card puts a tenant on the v1.0 interface.
    let mut s = sdk_setup_with_card(Some(Protocol::Auto), |card| {
        card["supportedInterfaces"][0]["tenant"] = json!("acme");
    })
    .await;
    let reply = s.instance.send_message(s.client, SDK_PEER, "tenant?", None).await.unwrap().unwrap();
    assert_eq!((reply.text.as_str(), reply.protocol), ("tenant: acme", Protocol::V10));
    // Asked for v1.0 by name: the cached card's v1.0 tenant too; v0.3 carries none.
    let reply =
        s.instance.send_message_with(s.client, SDK_PEER, "tenant?", &with(Protocol::V10)).await.unwrap().unwrap();
    assert_eq!(reply.text, "tenant: acme");
    let reply =
        s.instance.send_message_with(s.client, SDK_PEER, "tenant?", &with(Protocol::V03)).await.unwrap().unwrap();
    assert_eq!(reply.text, "tenant: ");
    // Task calls carry it as well.
    let reply = s.instance.send_message(s.client, SDK_PEER, "wait: t", None).await.unwrap().unwrap();
    let ReplyKind::Task(task) = &reply.kind else { panic!("{:?}", reply.kind) };
    let id = task.id.clone().expect("a task id");
    let read = s.instance.get_task(s.client, SDK_PEER, &id, &CallOptions::default()).await.unwrap().unwrap();
    assert_eq!(read.state, "working");
    let sent = a2a_requests(&s.platform);
    assert!(sent.last().unwrap().body.contains(r#""tenant":"acme""#), "{}", sent.last().unwrap().body);

    // The agent prefers v0.3 (listed first): auto speaks v0.3.
    let mut s = sdk_setup_with_card(Some(Protocol::Auto), |card| {
        let interfaces = card["supportedInterfaces"].as_array_mut().unwrap();
        interfaces.reverse();
    })
    .await;
    let reply = s.instance.send_message(s.client, SDK_PEER, "hello", None).await.unwrap().unwrap();
    assert_eq!((reply.text.as_str(), reply.protocol), ("echo: hello", Protocol::V03));
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_speaks_what_the_card_lists_and_the_card_is_cached() {
    let mut s = sdk_setup(Some(Protocol::Auto)).await;
    let card = s.instance.agent_card(s.client, SDK_PEER, None).await.unwrap().unwrap();
    assert_eq!(card.name.as_deref(), Some("SDK Echo"));
    assert_eq!(card.protocol_versions, ["0.3", "1.0"]);
    assert!(card.streaming);
    assert_eq!(card.skills.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), ["echo"]);
    let discovers = |p: &Platform| p.log().iter().filter(|r| r.path.starts_with("/registry/discover/")).count();
    assert_eq!(discovers(&s.platform), 1);

    // auto: the SDK agent lists 1.0 (the card comes from the cache: no new lookup).
    let reply = s.instance.send_message(s.client, SDK_PEER, "hello", None).await.unwrap().unwrap();
    assert_eq!((reply.text.as_str(), reply.protocol), ("echo: hello", Protocol::V10));
    assert_eq!(discovers(&s.platform), 1);
    // The scripted agent's record lists no version: v0.3.
    let reply = s.instance.send_message(s.client, BUILDER, "hello", None).await.unwrap().unwrap();
    assert_eq!((reply.text.as_str(), reply.protocol), ("echo: hello", Protocol::V03));
    // Asked in v1.0 anyway, the v0.3-only agent does not know the method.
    let e = s.instance.send_message_with(s.client, BUILDER, "hello", &with(Protocol::V10)).await.unwrap().unwrap_err();
    assert!(matches!(&e.kind, ErrorKind::RpcError(r) if r.reason == RpcReason::MethodNotFound), "{e:?}");
    // A card that cannot be read is an error (unlike enrichment); a bad id makes no request.
    let e = s.instance.agent_card(s.client, UNKNOWN, None).await.unwrap().unwrap_err();
    assert!(matches!(&e.kind, ErrorKind::HttpStatus(h) if h.status == 404), "{e:?}");
    let e = s.instance.agent_card(s.client, "../x", None).await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "invalid-id");
}

fn short(event: &StreamEvent) -> String {
    match event {
        StreamEvent::Task(t) => format!("task {}", t.state),
        StreamEvent::StatusUpdate(u) => format!("status {}{}", u.state, if u.is_final { " final" } else { "" }),
        StreamEvent::ArtifactUpdate(a) => format!("artifact {}", a.text),
        StreamEvent::Message(m) => format!("message {}", m.text),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_in_both_versions() {
    let mut s = sdk_setup(None).await;
    for protocol in [Protocol::V03, Protocol::V10] {
        let stream =
            s.instance.send_message_stream(s.client, SDK_PEER, "stream: 3", &with(protocol)).await.unwrap().unwrap();
        assert_eq!(s.instance.stream_protocol(stream).await.unwrap(), protocol);
        let (events, end) = s.instance.drain_stream(stream).await.unwrap();
        assert!(end.is_none(), "{end:?}");
        let seen: Vec<String> = events.iter().map(short).collect();
        assert_eq!(
            seen,
            [
                "task submitted",
                "status working",
                "artifact chunk 0",
                "artifact chunk 1",
                "artifact chunk 2",
                "status completed final"
            ],
            "{protocol:?}"
        );
        let StreamEvent::StatusUpdate(last) = events.last().unwrap() else { unreachable!() };
        assert_eq!(last.text, "streamed 3");
        let sent = a2a_requests(&s.platform);
        let last_request = sent.last().unwrap();
        assert_eq!(last_request.header("accept"), Some("text/event-stream"));
        let method = if protocol == Protocol::V10 { "SendStreamingMessage" } else { "message/stream" };
        assert!(last_request.body.contains(method), "{}", last_request.body);

        // A plain message streams as one event.
        let stream =
            s.instance.send_message_stream(s.client, SDK_PEER, "hello", &with(protocol)).await.unwrap().unwrap();
        let (events, end) = s.instance.drain_stream(stream).await.unwrap();
        assert!(end.is_none());
        assert_eq!(events.iter().map(short).collect::<Vec<_>>(), ["message echo: hello"]);
    }
    // The v0.3-only scripted agent answers a stream request with a JSON-RPC error: the open fails.
    let e = s.instance.send_message_stream(s.client, BUILDER, "hi", &with(Protocol::V03)).await.unwrap().unwrap_err();
    assert!(matches!(&e.kind, ErrorKind::RpcError(r) if r.reason == RpcReason::MethodNotFound), "{e:?}");
}

/// Parts as the CLI shows them (the generated types have no `PartialEq`).
fn parts(parts: &[Part]) -> Vec<serde_json::Value> {
    host_test::json::parts(parts)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_that_asks_for_input_is_continued_in_both_versions() {
    let mut s = sdk_setup(None).await;
    for protocol in [Protocol::V03, Protocol::V10] {
        let reply = s
            .instance
            .send_message_with(s.client, SDK_PEER, "ask: the colour", &with(protocol))
            .await
            .unwrap()
            .unwrap();
        let ReplyKind::Task(asked) = &reply.kind else { panic!("{:?}", reply.kind) };
        assert_eq!(asked.state, "input-required", "{protocol:?}");
        assert_eq!(parts(&reply.parts), [json!({"text": "what about the colour?"})]);
        let (task_id, context_id) = (asked.id.clone().unwrap(), asked.context_id.clone().unwrap());

        // The answer continues the same task, in the same context.
        let answer = OutgoingMessage {
            task_id: Some(task_id.clone()),
            context_id: Some(context_id.clone()),
            ..OutgoingMessage::text("blue")
        };
        let reply = s.instance.send(s.client, SDK_PEER, &answer, &with(protocol)).await.unwrap().unwrap();
        let ReplyKind::Task(done) = &reply.kind else { panic!("{:?}", reply.kind) };
        assert_eq!((done.id.as_deref(), done.state.as_str()), (Some(task_id.as_str()), "completed"), "{protocol:?}");
        assert_eq!(done.context_id.as_deref(), Some(context_id.as_str()));
        assert_eq!(parts(&reply.parts), [json!({"text": "done: the colour+blue"})]);
        assert_eq!(done.artifacts.len(), 1, "{:?}", done.artifacts);
        assert_eq!(parts(&done.artifacts[0].parts), [json!({"text": "the colour+blue"})]);
        assert_eq!(reply.text, "done: the colour+blue\nthe colour+blue");

        let sent = a2a_requests(&s.platform);
        let body: serde_json::Value = serde_json::from_str(&sent.last().unwrap().body).unwrap();
        assert_eq!(body["params"]["message"]["taskId"], task_id.as_str());
        assert_eq!(body["params"]["message"]["contextId"], context_id.as_str());

        // The task, read back, has the same parts.
        let task = s.instance.get_task(s.client, SDK_PEER, &task_id, &with(protocol)).await.unwrap().unwrap();
        assert_eq!(task.state, "completed");
        assert_eq!(parts(&task.artifacts[0].parts), [json!({"text": "the colour+blue"})]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn data_files_and_metadata_round_trip_in_both_versions() {
    let mut s = sdk_setup(None).await;
    let inline = FilePart {
        name: Some("notes.txt".into()),
        media_type: Some("text/plain".into()),
        content: FileContent::Bytes(b"hello\0world \xff".to_vec()),
    };
    let by_uri = FilePart {
        name: Some("report.pdf".into()),
        media_type: Some("application/pdf".into()),
        content: FileContent::Uri("https://files.example/report.pdf".into()),
    };
    for protocol in [Protocol::V03, Protocol::V10] {
        let message = OutgoingMessage {
            metadata: Some(r#"{"trace": "t-1", "attempt": 2}"#.into()),
            reference_task_ids: vec!["earlier-task".into()],
            ..OutgoingMessage::of(vec![
                Part::Text("see attached".into()),
                Part::Data(r#"{"city": "Oslo", "population": 709037, "tags": ["a", "b"]}"#.into()),
                Part::File(inline.clone()),
                Part::File(by_uri.clone()),
            ])
        };
        let reply = s.instance.send(s.client, SDK_PEER, &message, &with(protocol)).await.unwrap().unwrap();
        assert!(matches!(reply.kind, ReplyKind::Message), "{:?}", reply.kind);
        assert_eq!(reply.text, "see attached");
        let [Part::Text(text), Part::Data(data), Part::File(file), Part::File(linked)] = &reply.parts[..] else {
            panic!("{protocol:?}: {:?}", reply.parts)
        };
        assert_eq!(text, "see attached");
        // Numbers as the server wrote them (protobuf's Value holds doubles).
        let data: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!((data["city"].as_str(), data["population"].as_f64()), (Some("Oslo"), Some(709037.0)), "{data}");
        assert_eq!(data["tags"], serde_json::json!(["a", "b"]));
        let sent = parts(&[Part::File(inline.clone()), Part::File(by_uri.clone())]);
        assert_eq!(parts(&[Part::File(file.clone()), Part::File(linked.clone())]), sent, "{protocol:?}");
        let metadata: serde_json::Value = serde_json::from_str(reply.metadata.as_deref().unwrap()).unwrap();
        assert_eq!(metadata["trace"], "t-1", "{protocol:?}");
        let body: serde_json::Value = serde_json::from_str(&a2a_requests(&s.platform).last().unwrap().body).unwrap();
        assert_eq!(body["params"]["message"]["referenceTaskIds"], serde_json::json!(["earlier-task"]));
    }
    // A streamed send takes the same message.
    let stream = s
        .instance
        .send_stream(s.client, SDK_PEER, &OutgoingMessage::text("stream: 1"), &with(Protocol::V10))
        .await
        .unwrap()
        .unwrap();
    let (events, end) = s.instance.drain_stream(stream).await.unwrap();
    assert!(end.is_none(), "{end:?}");
    assert_eq!(events.len(), 4, "{events:?}");
    let StreamEvent::ArtifactUpdate(chunk) = &events[2] else { panic!("{events:?}") };
    assert_eq!(parts(&chunk.parts), [json!({"text": "chunk 0"})]);
    // Its events carry typed parts, in both versions.
    for protocol in [Protocol::V03, Protocol::V10] {
        let message = OutgoingMessage {
            metadata: Some(r#"{"trace": "s-1"}"#.into()),
            ..OutgoingMessage::of(vec![Part::Data(r#"{"k": "v"}"#.into()), Part::File(by_uri.clone())])
        };
        let stream = s.instance.send_stream(s.client, SDK_PEER, &message, &with(protocol)).await.unwrap().unwrap();
        let (events, end) = s.instance.drain_stream(stream).await.unwrap();
        assert!(end.is_none(), "{end:?}");
        let [StreamEvent::Message(m)] = &events[..] else { panic!("{protocol:?}: {events:?}") };
        assert_eq!(parts(&m.parts), parts(&message.parts), "{protocol:?}");
        assert_eq!(m.text, "");
        assert!(m.metadata.as_deref().is_some_and(|m| m.contains("s-1")), "{protocol:?}: {:?}", m.metadata);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_that_cannot_be_sent_make_no_request() {
    let mut s = sdk_setup(None).await;
    let text = |t: &str| Part::Text(t.into());
    let file = |content| Part::File(FilePart { name: None, media_type: None, content });
    let cases = [
        (OutgoingMessage::of(vec![]), "invalid-message", "a message needs at least one part"),
        (
            OutgoingMessage::of(vec![text("a"), Part::Data("[1, 2]".into())]),
            "invalid-message",
            "part 1: data is not a JSON object",
        ),
        (OutgoingMessage::of(vec![Part::Data("{\"a\":".into())]), "invalid-message", "part 0: data is not JSON"),
        (OutgoingMessage::of(vec![file(FileContent::Uri("two words".into()))]), "invalid-message", "part 0: file uri"),
        (
            OutgoingMessage { metadata: Some("\"x\"".into()), ..OutgoingMessage::text("a") },
            "invalid-message",
            "metadata is not a JSON object",
        ),
        (OutgoingMessage { task_id: Some("".into()), ..OutgoingMessage::text("a") }, "invalid-id", "invalid task-id"),
        (
            OutgoingMessage { context_id: Some("a\nb".into()), ..OutgoingMessage::text("a") },
            "invalid-id",
            "invalid context-id",
        ),
        // 4 MiB inline is 5.3 MiB of base64: over the default 4 MiB request cap.
        (OutgoingMessage::of(vec![file(FileContent::Bytes(vec![7; 4 << 20]))]), "request-too-large", "request body of"),
    ];
    for (message, kind, starts) in cases {
        for protocol in [Protocol::V03, Protocol::V10] {
            let e = s.instance.send(s.client, SDK_PEER, &message, &with(protocol)).await.unwrap().unwrap_err();
            assert_eq!(kind_name(&e.kind), kind, "{}", e.message);
            let shown = e.message.strip_prefix("[A2A_ERROR] ").unwrap_or_else(|| panic!("{}", e.message));
            assert!(shown.contains(starts), "{shown}");
            let e = s.instance.send_stream(s.client, SDK_PEER, &message, &with(protocol)).await.unwrap().unwrap_err();
            assert_eq!(kind_name(&e.kind), kind, "{}", e.message);
        }
    }
    assert_eq!(a2a_requests(&s.platform).len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn send_many_takes_any_message_per_target() {
    let mut s = sdk_setup(None).await;
    let target = |message| SendTarget { peer_id: SDK_PEER.into(), message };
    let targets = [
        target(OutgoingMessage::text("hello")),
        target(OutgoingMessage::of(vec![Part::Data(r#"{"x": [1]}"#.into())])),
        target(OutgoingMessage::of(vec![])),
        target(OutgoingMessage::text("ask: the size")),
    ];
    for protocol in [Protocol::V03, Protocol::V10] {
        s.platform.clear_log();
        let outcomes = s.instance.send_many(s.client, &targets, &with(protocol)).await.unwrap().unwrap();
        let [Ok(echo), Ok(data), Err(empty), Ok(asked)] = &outcomes[..] else { panic!("{outcomes:?}") };
        assert_eq!(echo.text, "echo: hello");
        assert_eq!(parts(&data.parts), [json!({"data": {"x": [1.0]}})], "{protocol:?}");
        assert_eq!(kind_name(&empty.kind), "invalid-message");
        assert!(matches!(&asked.kind, ReplyKind::Task(t) if t.state == "input-required"), "{:?}", asked.kind);
        assert_eq!(a2a_requests(&s.platform).len(), 3, "the invalid message made no request");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_task_is_subscribed_to_in_both_versions() {
    let mut s = sdk_setup(None).await;
    for protocol in [Protocol::V03, Protocol::V10] {
        // A task that streams an artifact every 0.3 s: take its id from the first event…
        let started =
            s.instance.send_message_stream(s.client, SDK_PEER, "slow: 4", &with(protocol)).await.unwrap().unwrap();
        let Some(StreamEvent::Task(task)) = s.instance.next_event(started).await.unwrap().unwrap() else {
            panic!("{protocol:?}: no task first")
        };
        let id = task.id.clone().unwrap();
        // …and follow it from a second stream.
        let sub = s.instance.subscribe_to_task(s.client, SDK_PEER, &id, &with(protocol)).await.unwrap().unwrap();
        assert_eq!(s.instance.stream_protocol(sub).await.unwrap(), protocol);
        let (events, end) = s.instance.drain_stream(sub).await.unwrap();
        assert!(end.is_none(), "{protocol:?}: {end:?}");
        let seen: Vec<String> = events.iter().map(short).collect();
        assert!(seen[0].starts_with("task "), "{protocol:?}: the task as it stands first: {seen:?}");
        assert!(seen.iter().any(|e| e.starts_with("artifact chunk ")), "{protocol:?}: {seen:?}");
        assert_eq!(seen.last().map(String::as_str), Some("status completed final"), "{protocol:?}: {seen:?}");
        let (_, end) = s.instance.drain_stream(started).await.unwrap();
        assert!(end.is_none(), "{end:?}");
        let method = if protocol == Protocol::V10 { "\"SubscribeToTask\"" } else { "\"tasks/resubscribe\"" };
        let sent = a2a_requests(&s.platform);
        assert!(sent.last().unwrap().body.contains(method), "{}", sent.last().unwrap().body);

        // Ended and unknown tasks: the peer's typed errors.
        // (The server opens the stream, then says why in an error event.)
        for (task, reason) in [(id.as_str(), RpcReason::UnsupportedOperation), ("no-such", RpcReason::TaskNotFound)] {
            let e = match s.instance.subscribe_to_task(s.client, SDK_PEER, task, &with(protocol)).await.unwrap() {
                Err(e) => e,
                Ok(stream) => {
                    let (events, end) = s.instance.drain_stream(stream).await.unwrap();
                    assert!(events.is_empty(), "{protocol:?}: {events:?}");
                    end.expect("an error ends it")
                }
            };
            let ErrorKind::RpcError(rpc) = &e.kind else { panic!("{protocol:?}: {e:?}") };
            assert_eq!(rpc.reason, reason, "{protocol:?}: {}", e.message);
        }
    }
    let e = s.instance.subscribe_to_task(s.client, SDK_PEER, "", &with(Protocol::V03)).await.unwrap().unwrap_err();
    assert!(matches!(&e.kind, ErrorKind::InvalidId(i) if i.param == "task-id"), "{e:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_are_listed_a_page_at_a_time() {
    let mut s = sdk_setup(None).await;
    let v10 = with(Protocol::V10);
    let mut completed = Vec::new();
    for i in 0..7 {
        let reply =
            s.instance.send_message_with(s.client, SDK_PEER, &format!("task: n{i}"), &v10).await.unwrap().unwrap();
        let ReplyKind::Task(t) = &reply.kind else { panic!("{:?}", reply.kind) };
        completed.push(t.id.clone().unwrap());
    }
    let reply = s.instance.send_message_with(s.client, SDK_PEER, "wait: x", &v10).await.unwrap().unwrap();
    let ReplyKind::Task(waiting) = &reply.kind else { panic!("{:?}", reply.kind) };
    let (waiting_id, waiting_context) = (waiting.id.clone().unwrap(), waiting.context_id.clone().unwrap());

    // Three pages of at most 3, each token leading to the next.
    let (mut seen, mut token, mut pages) = (Vec::new(), None, 0);
    loop {
        let query = TaskQuery { page_size: Some(3), page_token: token.take(), ..Default::default() };
        let page = s.instance.list_tasks(s.client, SDK_PEER, &query, &v10).await.unwrap().unwrap();
        pages += 1;
        assert!(page.tasks.len() <= 3 && pages <= 5, "{page:?}");
        assert_eq!(page.total_size, Some(8));
        seen.extend(page.tasks.iter().map(|t| t.id.clone()));
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut all = completed.clone();
    all.push(waiting_id.clone());
    all.sort();
    seen.sort();
    assert_eq!(seen, all, "every task once");

    // Filters: state (either spelling) and context; tasks come with their parts.
    let by_state = |state: &str| TaskQuery { state: Some(state.into()), include_artifacts: true, ..Default::default() };
    let page = s.instance.list_tasks(s.client, SDK_PEER, &by_state("completed"), &v10).await.unwrap().unwrap();
    let mut ids: Vec<String> = page.tasks.iter().map(|t| t.id.clone()).collect();
    ids.sort();
    completed.sort();
    assert_eq!(ids, completed);
    let done = page.tasks.iter().find(|t| t.text.starts_with("done: n3")).expect("n3 listed");
    assert_eq!(parts(&done.artifacts[0].parts), [json!({"text": "N3"})]);
    let page = s.instance.list_tasks(s.client, SDK_PEER, &by_state("TASK_STATE_WORKING"), &v10).await.unwrap().unwrap();
    assert_eq!(page.tasks.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), [waiting_id.as_str()]);
    let query = TaskQuery { context_id: Some(waiting_context), ..Default::default() };
    let page = s.instance.list_tasks(s.client, SDK_PEER, &query, &v10).await.unwrap().unwrap();
    assert_eq!(page.tasks.len(), 1);
    assert_eq!(page.tasks[0].state, "working");

    // `auto` speaks v1.0 to this peer (its card lists 1.0); v0.3 has no such method: nothing sent.
    let page = s.instance.list_tasks(s.client, SDK_PEER, &TaskQuery::default(), &with(Protocol::Auto)).await.unwrap();
    assert_eq!(page.unwrap().tasks.len(), 8);
    let before = a2a_requests(&s.platform).len();
    let e = s.instance.list_tasks(s.client, SDK_PEER, &TaskQuery::default(), &with(Protocol::V03)).await.unwrap();
    let e = e.unwrap_err();
    assert_eq!(kind_name(&e.kind), "unsupported", "{}", e.message);
    assert!(e.message.starts_with("[A2A_ERROR] unsupported: list-tasks is A2A v1.0's ListTasks"), "{}", e.message);
    let bad = TaskQuery { page_token: Some("a\nb".into()), ..Default::default() };
    let e = s.instance.list_tasks(s.client, SDK_PEER, &bad, &v10).await.unwrap().unwrap_err();
    assert!(matches!(&e.kind, ErrorKind::InvalidId(i) if i.param == "page-token"), "{e:?}");
    assert_eq!(a2a_requests(&s.platform).len(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_extended_card_comes_from_the_peer_in_both_versions() {
    let mut s = sdk_setup(None).await;
    for protocol in [Protocol::V03, Protocol::V10] {
        let card = s.instance.extended_agent_card(s.client, SDK_PEER, &with(protocol)).await.unwrap().unwrap();
        assert_eq!(card.name.as_deref(), Some("SDK Echo (extended)"), "{protocol:?}");
        let skills: Vec<&str> = card.skills.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(skills, ["echo", "audit"], "{protocol:?}");
        let sent = a2a_requests(&s.platform);
        let method =
            if protocol == Protocol::V10 { "GetExtendedAgentCard" } else { "agent/getAuthenticatedExtendedCard" };
        assert!(sent.last().unwrap().body.contains(method), "{}", sent.last().unwrap().body);
    }
    // The registry's card is the public one.
    let public = s.instance.agent_card(s.client, SDK_PEER, None).await.unwrap().unwrap();
    assert_eq!(public.name.as_deref(), Some("SDK Echo"));
    // A peer without one: its JSON-RPC error, typed.
    let e = s.instance.extended_agent_card(s.client, BUILDER, &with(Protocol::V03)).await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "rpc-error", "{}", e.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn push_configs_round_trip_in_both_versions() {
    let mut s = sdk_setup(None).await;
    for protocol in [Protocol::V03, Protocol::V10] {
        let reply =
            s.instance.send_message_with(s.client, SDK_PEER, "wait: x", &with(protocol)).await.unwrap().unwrap();
        let ReplyKind::Task(task) = &reply.kind else { panic!("{:?}", reply.kind) };
        let task_id = task.id.clone().unwrap();
        let new = |id: &str, url: &str| NewPushConfig {
            task_id: task_id.clone(),
            id: Some(id.into()),
            url: url.into(),
            token: Some(format!("tok-{id}")),
        };
        let first = new("c1", "https://me.example/hook/1");
        let made = s.instance.create_push_config(s.client, SDK_PEER, &first, &with(protocol)).await.unwrap().unwrap();
        assert_eq!((made.id.as_deref(), made.task_id.as_str()), (Some("c1"), task_id.as_str()), "{protocol:?}");
        assert_eq!((made.url.as_str(), made.token.as_deref()), ("https://me.example/hook/1", Some("tok-c1")));
        let second = new("c2", "https://me.example/hook/2");
        s.instance.create_push_config(s.client, SDK_PEER, &second, &with(protocol)).await.unwrap().unwrap();

        let got = s.instance.get_push_config(s.client, (SDK_PEER, &task_id, "c2"), &with(protocol)).await.unwrap();
        assert_eq!(got.unwrap().url, "https://me.example/hook/2", "{protocol:?}");
        let listed =
            s.instance.list_push_configs(s.client, SDK_PEER, &task_id, &with(protocol)).await.unwrap().unwrap();
        let mut ids: Vec<_> = listed.iter().filter_map(|c| c.id.clone()).collect();
        ids.sort();
        assert_eq!(ids, ["c1", "c2"], "{protocol:?}");

        s.instance.delete_push_config(s.client, (SDK_PEER, &task_id, "c1"), &with(protocol)).await.unwrap().unwrap();
        let listed =
            s.instance.list_push_configs(s.client, SDK_PEER, &task_id, &with(protocol)).await.unwrap().unwrap();
        assert_eq!(listed.iter().filter_map(|c| c.id.as_deref()).collect::<Vec<_>>(), ["c2"], "{protocol:?}");

        let e =
            s.instance.list_push_configs(s.client, SDK_PEER, "no-such", &with(protocol)).await.unwrap().unwrap_err();
        let ErrorKind::RpcError(rpc) = &e.kind else { panic!("{e:?}") };
        assert_eq!(rpc.reason, RpcReason::TaskNotFound, "{protocol:?}");
    }
    // Checked first: nothing sent.
    let before = a2a_requests(&s.platform).len();
    let bad = NewPushConfig { task_id: "t".into(), id: None, url: "not a url".into(), token: None };
    let e = s.instance.create_push_config(s.client, SDK_PEER, &bad, &with(Protocol::V03)).await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "invalid-message", "{}", e.message);
    let e = s.instance.get_push_config(s.client, (SDK_PEER, "t", "a\nb"), &with(Protocol::V03)).await.unwrap();
    assert!(matches!(&e.unwrap_err().kind, ErrorKind::InvalidId(i) if i.param == "config-id"));
    assert_eq!(a2a_requests(&s.platform).len(), before);
    // A peer that does not take them: its typed error.
    let e = s.instance.list_push_configs(s.client, BUILDER, "t", &with(Protocol::V03)).await.unwrap().unwrap_err();
    assert_eq!(kind_name(&e.kind), "rpc-error", "{}", e.message);
}

/// A client on `s`'s platform whose resubscriptions wait 50–150 ms.
async fn quick_resuming_client(s: &mut SdkSetup) -> Client {
    let mut cfg = config(&s.platform.url());
    cfg.retry = Some(RetryPolicy { base_delay_ms: Some(100), jitter_percent: Some(50), ..Default::default() });
    s.instance.client(&cfg).await.unwrap().expect("config accepted")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_cut_by_the_proxy_is_resumed_without_repeats_or_gaps_in_both_versions() {
    let mut s = sdk_setup(None).await;
    let client = quick_resuming_client(&mut s).await;
    for protocol in [Protocol::V03, Protocol::V10] {
        s.platform.clear_log();
        // The proxy drops the stream after the task, its start and the first
        // artifact (between events in v0.3, mid-event in v1.0).
        let cut = Fault::CutStream { after_events: 3, mid_event: protocol == Protocol::V10 };
        s.platform.fault(Route::A2a, cut, Some(1));
        let stream =
            s.instance.send_message_stream(client, SDK_PEER, "slow: 6", &with(protocol)).await.unwrap().unwrap();
        let mut events = Vec::new();
        let end = loop {
            match s.instance.next_event(stream).await.unwrap() {
                Ok(Some(event)) => events.push(event),
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        assert!(end.is_none(), "{protocol:?}: {end:?}");
        assert_eq!(s.instance.stream_resumes(stream).await.unwrap(), 1, "{protocol:?}");
        s.instance.drop_stream(stream).await.unwrap();
        let seen: Vec<String> = events.iter().map(short).collect();
        let mut expected = vec!["task submitted".to_owned(), "status working".to_owned()];
        expected.extend((0..6).map(|i| format!("artifact chunk {i}")));
        expected.push("status completed final".into());
        assert_eq!(seen, expected, "{protocol:?}: every event once, in order");
        let StreamEvent::StatusUpdate(done) = events.last().unwrap() else { unreachable!() };
        assert_eq!(done.text, "streamed 6", "{protocol:?}");
        let method = if protocol == Protocol::V10 { "\"SubscribeToTask\"" } else { "\"tasks/resubscribe\"" };
        let sent = a2a_requests(&s.platform);
        assert_eq!(sent.len(), 2, "{protocol:?}: the send, then one resubscription");
        assert!(sent[1].body.contains(method), "{}", sent[1].body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cuts_that_cannot_be_resumed_end_with_stream_cut() {
    let mut s = sdk_setup(None).await;
    let client = quick_resuming_client(&mut s).await;
    for protocol in [Protocol::V03, Protocol::V10] {
        // Cut before any event: no task to subscribe to.
        s.platform.clear_log();
        s.platform.fault(Route::A2a, Fault::CutStream { after_events: 0, mid_event: true }, Some(1));
        let stream =
            s.instance.send_message_stream(client, SDK_PEER, "slow: 3", &with(protocol)).await.unwrap().unwrap();
        let (events, end) = s.instance.drain_stream(stream).await.unwrap();
        assert!(events.is_empty(), "{protocol:?}: {events:?}");
        let end = end.expect("a cut is an error, not an end");
        let ErrorKind::StreamCut(cut) = &end.kind else { panic!("{protocol:?}: {end:?}") };
        assert_eq!((cut.task_id.as_deref(), cut.events, cut.resumes), (None, 0, 0), "{protocol:?}");
        assert!(cut.cause.contains("no event named its task"), "{}", cut.cause);
        assert_eq!(a2a_requests(&s.platform).len(), 1, "{protocol:?}: nothing to resubscribe to");

        // Every resubscription cut before its first event: the policy's attempts, then stream-cut.
        s.platform.clear_log();
        s.platform.fault(Route::A2a, Fault::CutStream { after_events: 2, mid_event: false }, Some(1));
        s.platform.fault(Route::A2a, Fault::CutStream { after_events: 0, mid_event: false }, Some(4));
        let stream =
            s.instance.send_message_stream(client, SDK_PEER, "slow: 8", &with(protocol)).await.unwrap().unwrap();
        let (events, end) = s.instance.drain_stream(stream).await.unwrap();
        assert_eq!(events.iter().map(short).collect::<Vec<_>>(), ["task submitted", "status working"]);
        let end = end.expect("a cut is an error, not an end");
        let ErrorKind::StreamCut(cut) = &end.kind else { panic!("{protocol:?}: {end:?}") };
        assert_eq!((cut.events, cut.resumes), (2, 4), "{protocol:?}: {}", end.message);
        assert!(cut.task_id.is_some() && cut.cause.contains("5 attempts"), "{}", end.message);
        assert!(end.message.contains("was cut after 2 events and 4 resubscriptions"), "{}", end.message);
        assert_eq!(a2a_requests(&s.platform).len(), 5, "{protocol:?}");
        s.platform.clear_faults();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn extensions_are_requested_and_the_activated_ones_read_back_in_both_versions() {
    let mut s = sdk_setup(None).await;
    for protocol in [Protocol::V03, Protocol::V10] {
        s.platform.clear_log();
        let options = CallOptions {
            protocol: Some(protocol),
            extensions: vec!["urn:a2a-test:echo".into(), "urn:a2a-test:unknown".into(), "urn:a2a-test:echo".into()],
            ..Default::default()
        };
        // The agent sees what was asked for; it activates the one it knows.
        let reply = s.instance.send_message_with(s.client, SDK_PEER, "extensions?", &options).await.unwrap().unwrap();
        assert_eq!(reply.text, "extensions: urn:a2a-test:echo,urn:a2a-test:unknown", "{protocol:?}");
        assert_eq!(reply.activated_extensions, ["urn:a2a-test:echo"], "{protocol:?}");
        let sent = a2a_requests(&s.platform);
        let header = |name: &str| sent[0].headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        assert_eq!(header("a2a-extensions").as_deref(), Some("urn:a2a-test:echo, urn:a2a-test:unknown"));
        let legacy = header("x-a2a-extensions");
        assert_eq!(legacy.is_some(), protocol == Protocol::V03, "{protocol:?}: v0.3's name too: {legacy:?}");

        // A stream says so from its head.
        let stream = s.instance.send_message_stream(s.client, SDK_PEER, "stream: 1", &options).await.unwrap().unwrap();
        assert_eq!(s.instance.stream_extensions(stream).await.unwrap(), ["urn:a2a-test:echo"], "{protocol:?}");
        let (_, end) = s.instance.drain_stream(stream).await.unwrap();
        assert!(end.is_none(), "{end:?}");

        // None asked, none activated.
        let plain = s.instance.send_message_with(s.client, SDK_PEER, "extensions?", &with(protocol)).await.unwrap();
        let plain = plain.unwrap();
        assert_eq!((plain.text.as_str(), plain.activated_extensions.len()), ("extensions: ", 0));
    }
    // One that cannot go in a header: refused, nothing sent.
    let before = s.platform.log().len();
    for bad in ["", "urn:a b", "urn:a,urn:b", "urn:\u{7}"] {
        let options = CallOptions { extensions: vec![bad.into()], ..Default::default() };
        let e = s.instance.send_message_with(s.client, SDK_PEER, "hi", &options).await.unwrap().unwrap_err();
        let ErrorKind::InvalidId(i) = &e.kind else { panic!("{bad:?}: {e:?}") };
        assert_eq!(i.param, "extensions");
        assert!(e.message.contains("without spaces, commas or control characters"), "{}", e.message);
    }
    assert_eq!(s.platform.log().len(), before);
}
