//! The `a2a` binary end to end: demo, one-shot commands and the batch mode,
//! against the embedded platform; and (`secrets`) secret hygiene across the
//! library and the CLI.

mod secrets;

use std::process::Stdio;

use host_test::platform::{Platform, Workspace};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

const ME: &str = "11111111-2222-4333-8444-555555555555";
const PEER: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const TOKEN: &str = "cli-token-123";

async fn platform() -> Platform {
    let mut me = Workspace::new(ME, "Planner", "planner");
    me.token = Some(TOKEN.into());
    me.peers = vec![PEER.into()];
    Platform::start(vec![me, Workspace::new(PEER, "Builder", "builder")]).await.unwrap()
}

fn a2a(platform: Option<&Platform>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_a2a"));
    cmd.env_remove("WORKSPACE_ID").env_remove("PLATFORM_URL").env_remove("WORKSPACE_TOKEN");
    if let Some(p) = platform {
        cmd.env("WORKSPACE_ID", ME).env("PLATFORM_URL", p.url()).env("WORKSPACE_TOKEN", TOKEN);
    }
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

async fn run(mut cmd: Command, args: &[&str]) -> (i32, String, String) {
    let out = cmd.args(args).output().await.unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_runs_with_no_platform_around() {
    let (code, out, err) = run(a2a(None), &["demo"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(" 6. peers"), "{out}");
    assert!(out.contains("entries 2  hits 1  negative hits 1  misses 2"), "{out}");
    assert!(out.contains("Builder"), "{out}");
    assert!(out.contains("error [invalid-id]: invalid peer-id (expected a UUID): '../../etc/passwd'"), "{out}");
    assert!(out.contains("error [removed]: removed — workspace"), "{out}");
    assert!(out.contains("What the platform received (17 requests"), "{out}");
    assert!(!out.contains("planner-token"), "tokens are masked: {out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_shot_commands_text_and_json() {
    let p = platform().await;
    let (code, out, _) = run(a2a(Some(&p)), &["peers"]).await;
    assert_eq!(code, 0);
    assert!(out.starts_with("ID "), "{out}");
    assert!(out.contains(&format!("{PEER}  Builder  builder  online")), "{out}");
    let (code, out, _) = run(a2a(Some(&p)), &["discover", PEER, "--json"]).await;
    assert_eq!(code, 0);
    let peer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(peer["name"], "Builder");
    assert_eq!(peer["raw"]["id"], PEER);
    let (code, out, _) = run(a2a(Some(&p)), &["info"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("name:   Planner"), "{out}");
    let (code, out, _) = run(a2a(Some(&p)), &["card-url", &PEER.to_uppercase()]).await;
    assert_eq!((code, out.trim()), (0, format!("{}/registry/discover/{PEER}", p.url()).as_str()));
    let log = p.log();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}"))));
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_exit_non_zero_with_the_message() {
    let p = platform().await;
    let (code, out, err) = run(a2a(Some(&p)), &["discover", "bbbbbbbb-0000-4000-8000-000000000009"]).await;
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("not found in the registry (HTTP 404)"), "{err}");
    let (code, out, _) = run(a2a(Some(&p)), &["discover", "../x", "--json"]).await;
    assert_eq!(code, 1);
    let e: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((e["kind"].as_str(), e["param"].as_str()), (Some("invalid-id"), Some("peer-id")));
    let (code, _, err) = run(a2a(None), &["peers"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("no workspace id: set WORKSPACE_ID"), "{err}");
    let (code, out, _) = run(a2a(None), &["validate", " AAAAAAAA-0000-4000-8000-000000000001 "]).await;
    assert_eq!((code, out.trim()), (0, PEER));
    let (code, _, _) = run(a2a(None), &["validate", "nope"]).await;
    assert_eq!(code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_keeps_one_instance_and_answers_every_line() {
    let p = platform().await;
    let mut child = a2a(Some(&p)).args(["batch", "--manual-clock"]).spawn().unwrap();
    let lines = [
        json!({"id": 1, "call": "peers", "args": {}}).to_string(),
        json!({"id": 2, "call": "set-token", "args": {"workspace-id": ME, "token": "rotated"}}).to_string(),
        json!({"id": 3, "call": "discover-peer", "args": {"peer-id": PEER}}).to_string(),
        json!({"id": 4, "call": "advance-clock", "args": {"ms": 1500}}).to_string(),
        json!({"id": 5, "call": "advance-clock", "args": {"ms": 500}}).to_string(),
        json!({"id": 6, "call": "validate-peer-id", "args": {"id": "x"}}).to_string(),
        json!({"id": 7, "call": "nope"}).to_string(),
        "this is not json".to_string(),
        json!({"id": "eight", "call": "agent-card-url", "args": {"peer-id": PEER}}).to_string(),
    ];
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all((lines.join("\n") + "\n").as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success());
    let answers: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), 9);
    assert_eq!(answers[0]["ok"][0]["id"], PEER);
    assert_eq!(answers[1], json!({"id": 2, "ok": null}));
    // The token set by call 2 is used by call 3: the platform now refuses it.
    assert_eq!(answers[2]["err"]["kind"], "http-status");
    assert_eq!(answers[2]["err"]["status"], 401);
    assert_eq!(p.log()[1].header("authorization"), Some("Bearer rotated"));
    assert_eq!(answers[3], json!({"id": 4, "ok": {"elapsed-ms": 1500}}));
    assert_eq!(answers[4], json!({"id": 5, "ok": {"elapsed-ms": 2000}}));
    assert_eq!(answers[5], json!({"id": 6, "ok": null}));
    assert_eq!(answers[6]["err"]["kind"], "bad-call");
    assert_eq!(answers[7]["id"], Value::Null);
    assert_eq!(answers[7]["err"]["kind"], "bad-call");
    assert_eq!(answers[8], json!({"id": "eight", "ok": format!("{}/registry/discover/{PEER}", p.url())}));
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_enrichment_and_stats_follow_the_manual_clock() {
    let p = platform().await;
    let mut child = a2a(Some(&p)).args(["batch", "--manual-clock"]).spawn().unwrap();
    let calls = [
        json!({"id": 1, "call": "enrich-peer-metadata-nonblocking", "args": {"peer-id": PEER}}),
        json!({"id": 2, "call": "await-enrichment", "args": {"timeout-ms": 5000}}),
        json!({"id": 3, "call": "enrich-peer-metadata-nonblocking", "args": {"peer-id": PEER}}),
        json!({"id": 4, "call": "peer-name", "args": {"peer-id": PEER}}),
        json!({"id": 5, "call": "advance-clock", "args": {"ms": 300000}}),
        json!({"id": 6, "call": "enrich-peer-metadata", "args": {"peer-id": PEER}}),
        json!({"id": 7, "call": "stats"}),
        json!({"id": 8, "call": "routed-source", "args": {"peer-id": PEER}}),
    ];
    let mut stdin = child.stdin.take().unwrap();
    let text: String = calls.iter().map(|c| format!("{c}\n")).collect();
    stdin.write_all(text.as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let answers: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers[0], json!({"id": 1, "ok": null}));
    assert_eq!(answers[1], json!({"id": 2, "ok": 0}));
    assert_eq!(answers[2]["ok"]["name"], "Builder");
    assert_eq!(answers[3], json!({"id": 4, "ok": "Builder"}));
    assert_eq!(answers[5]["ok"]["name"], "Builder", "refetched after the TTL");
    assert_eq!(
        answers[6]["ok"],
        json!({"entries": 1, "hits": 1, "negative-hits": 0, "misses": 2, "evictions": 0, "in-flight": 0, "names": 1, "routes": 0})
    );
    assert_eq!(answers[7], json!({"id": 8, "ok": null}));
    assert_eq!(p.log().len(), 2, "one lookup, and one more after the clock passed the TTL");
}

#[tokio::test(flavor = "multi_thread")]
async fn enrich_command_nonblocking() {
    let p = platform().await;
    let (code, out, _) = run(a2a(Some(&p)), &["enrich", PEER, "--nonblocking"]).await;
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("(no metadata for {PEER}: show the bare id)"));
    assert_eq!(lines[1], "(waited for the lookup it started; 0 still in flight)");
    assert_eq!(lines[2], format!("id:     {PEER}"));
    assert_eq!(lines[3], "name:   Builder");
}

#[tokio::test(flavor = "multi_thread")]
async fn send_prints_the_reply_and_progress_while_retrying() {
    use host_test::platform::{Fault, Route};
    let p = platform().await;
    let (code, out, _) = run(a2a(Some(&p)), &["send", PEER, "hello"]).await;
    assert_eq!((code, out.as_str()), (0, "echo: hello\n"));
    p.fault(Route::A2a, Fault::json(503, json!({"error": "workspace not available"})), Some(2));
    let (code, out, err) = run(a2a(Some(&p)), &["send", PEER, "task: ship", "--base-delay-ms", "50"]).await;
    assert_eq!((code, out.as_str()), (0, "done: ship\nSHIP\n"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], "a2a: attempt 1/5 failed: HTTP 503");
    assert!(lines[1].starts_with("a2a: attempt 2/5 after waiting 0."), "{err}");
    assert_eq!(lines[2], "a2a: attempt 2/5 failed: HTTP 503");
    assert!(lines[3].starts_with("a2a: attempt 3/5 after waiting 0."), "{err}");
    assert_eq!(lines[4], "(task task-1: completed)");
    // --json: the typed reply with its attempt trace.
    p.fault(Route::A2a, Fault::json(503, json!({"error": "workspace not available"})), Some(1));
    let (code, out, _) = run(a2a(Some(&p)), &["send", PEER, "hi", "--json", "--base-delay-ms", "10"]).await;
    assert_eq!(code, 0);
    let reply: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(reply["text"], "echo: hi");
    assert_eq!(reply["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(reply["attempts"][0]["delay-ms"].as_u64().map(|d| (7..=13).contains(&d)), Some(true));
    // A failure: the message, and the attempts on stderr; exit code 1.
    p.fault(Route::A2a, Fault::raw(500, "text/html", "<b>oops</b>"), Some(1));
    let (code, out, err) = run(a2a(Some(&p)), &["send", PEER, "hi"]).await;
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("  attempt 1 ("), "{err}");
    assert!(err.contains("[A2A_ERROR] HTTP 500: <b>oops</b> [target="), "{err}");
    // Batch.
    let mut child = a2a(Some(&p)).arg("batch").spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(
            format!("{}\n", json!({"id": 1, "call": "send-message", "args": {"peer-id": PEER, "text": "x"}}))
                .as_bytes(),
        )
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["ok"]["text"], "echo: x");
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_without_manual_clock_refuses_advance() {
    let p = platform().await;
    let mut child = a2a(Some(&p)).arg("batch").spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"{\"id\":1,\"call\":\"advance-clock\",\"args\":{\"ms\":5}}\n").await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["err"]["kind"], "bad-call");
}

#[tokio::test(flavor = "multi_thread")]
async fn a2a_breadth_commands_against_the_sdk_agent() {
    const SDK: &str = "cccccccc-0000-4000-8000-000000000001";
    let agent = host_test::a2a_sdk::SdkAgent::start().await.expect("the a2a-sdk agent starts");
    let mut me = Workspace::new(ME, "Planner", "planner");
    me.token = Some(TOKEN.into());
    me.peers = vec![PEER.into(), SDK.into()];
    let mut sdk = Workspace::new(SDK, "SDK Echo", "echo");
    sdk.upstream = Some(agent.url.clone());
    sdk.agent_card = Some(agent.card.clone());
    let p = Platform::start(vec![me, Workspace::new(PEER, "Builder", "builder"), sdk]).await.unwrap();

    let (code, out, err) = run(a2a(Some(&p)), &["card", SDK, "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let card: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((card["name"].as_str(), card["streaming"].as_bool()), (Some("SDK Echo"), Some(true)));
    assert_eq!(card["protocol-versions"], json!(["0.3", "1.0"]));
    let (code, out, err) = run(a2a(Some(&p)), &["card", SDK, "--extended"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("name:        SDK Echo (extended)\n"), "{out}");
    assert!(out.contains("skill:       audit (Audit): For known callers"), "{out}");

    let (code, out, err) = run(a2a(Some(&p)), &["send", SDK, "stream: 2", "--stream"]).await;
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[0].starts_with("[task ") && lines[0].ends_with("] submitted"), "{out}");
    assert_eq!(
        lines[1..],
        [
            "[status] working",
            "[artifact chunk-0]: chunk 0",
            "[artifact chunk-1]: chunk 1",
            "[status] completed (final): streamed 2"
        ]
    );

    let (code, out, err) = run(a2a(Some(&p)), &["--protocol", "v1.0", "send", SDK, "wait: x", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let reply: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(reply["protocol"], "v10");
    let task = reply["kind"]["task"]["id"].as_str().unwrap().to_owned();
    let (code, out, _) = run(a2a(Some(&p)), &["task", "get", SDK, &task]).await;
    assert_eq!((code, out.trim()), (0, format!("task {task}: working\nwaiting: x").as_str()));
    let (code, out, _) = run(a2a(Some(&p)), &["--protocol", "v1.0", "task", "cancel", SDK, &task]).await;
    assert_eq!(code, 0);
    assert!(out.starts_with(&format!("task {task}: canceled")), "{out}");
    let (code, _, err) = run(a2a(Some(&p)), &["task", "get", SDK, "no-such-task"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("Task not found (code=-32001)"), "{err}");
    let (code, out, err) =
        run(a2a(Some(&p)), &["--protocol", "v1.0", "task", "list", SDK, "--state", "canceled"]).await;
    assert_eq!((code, out.trim()), (0, format!("{task}  canceled  canceled").as_str()), "{err}");
    let (code, _, err) = run(a2a(Some(&p)), &["task", "list", SDK]).await;
    assert_eq!(code, 1);
    assert!(err.starts_with("[A2A_ERROR] unsupported: list-tasks is A2A v1.0's ListTasks"), "{err}");
    let (code, _, err) = run(a2a(Some(&p)), &["task", "get", SDK]).await;
    assert_eq!(code, 2);
    assert!(err.contains("task get: takes a task id"), "{err}");
    let (code, out, err) = run(a2a(Some(&p)), &["task", "subscribe", SDK, "no-such-task"]).await;
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(err.contains("Task not found (code=-32001)"), "{err}");

    let (code, out, err) = run(a2a(Some(&p)), &["send", SDK, "wait: y", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let reply: Value = serde_json::from_str(&out).unwrap();
    let waiting = reply["kind"]["task"]["id"].as_str().unwrap().to_owned();
    let hook = "https://me.example/hook";
    let create = ["push-config", "create", SDK, &waiting, hook, "--id", "c1", "--push-token", "n"];
    let (code, out, err) = run(a2a(Some(&p)), &create).await;
    assert_eq!((code, out.trim()), (0, "c1  https://me.example/hook  (with a token)"), "{err}");
    let (code, out, _) = run(a2a(Some(&p)), &["push-config", "list", SDK, &waiting, "--json"]).await;
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((code, &listed[0]["url"], &listed[0]["task-id"]), (0, &json!(hook), &json!(waiting)));
    let (code, out, _) = run(a2a(Some(&p)), &["push-config", "delete", SDK, &waiting, "c1"]).await;
    assert_eq!((code, out.trim()), (0, "deleted c1"));
    let (code, out, _) = run(a2a(Some(&p)), &["push-config", "list", SDK, &waiting]).await;
    assert_eq!((code, out.trim()), (0, ""));

    let (code, out, err) = run(a2a(Some(&p)), &["send-many", "hi", PEER, SDK, "not-an-id"]).await;
    assert_eq!(code, 1, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("{PEER}: echo: hi"));
    assert_eq!(lines[1], format!("{SDK}: echo: hi"));
    assert!(lines[2].starts_with("not-an-id: [A2A_ERROR] invalid peer_id"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn conversations_data_and_files_against_the_sdk_agent() {
    const SDK: &str = "cccccccc-0000-4000-8000-000000000001";
    let agent = host_test::a2a_sdk::SdkAgent::start().await.expect("the a2a-sdk agent starts");
    let mut me = Workspace::new(ME, "Planner", "planner");
    me.token = Some(TOKEN.into());
    me.peers = vec![SDK.into()];
    let mut sdk = Workspace::new(SDK, "SDK Echo", "echo");
    sdk.upstream = Some(agent.url.clone());
    let p = Platform::start(vec![me, sdk]).await.unwrap();

    // A task that asks for input: the CLI says how to answer, and the answer completes it.
    let (code, out, err) = run(a2a(Some(&p)), &["send", SDK, "ask: the colour"]).await;
    assert_eq!((code, out.as_str()), (0, "what about the colour?\n"), "{err}");
    let hint = err
        .lines()
        .find(|l| l.starts_with("(the peer waits for an answer: a2a send "))
        .unwrap_or_else(|| panic!("{err}"));
    let words: Vec<&str> = hint.trim_end_matches(')').split(' ').collect();
    let at = |flag: &str| words[words.iter().position(|w| *w == flag).unwrap() + 1].to_owned();
    let (task, context) = (at("--task-id"), at("--context-id"));
    assert!(err.contains(&format!("(task {task}: input-required)")), "{err}");
    let (code, out, err) =
        run(a2a(Some(&p)), &["send", SDK, "blue", "--task-id", &task, "--context-id", &context]).await;
    assert_eq!((code, out.as_str()), (0, "done: the colour+blue\nthe colour+blue\n"), "{err}");
    assert!(err.contains(&format!("(task {task}: completed)")), "{err}");

    // Data and a file, shown part by part.
    let path = std::env::temp_dir().join(format!("a2a-cli-notes-{}.txt", std::process::id()));
    std::fs::write(&path, b"hello world").unwrap();
    let args = ["send", SDK, "see attached", "--data", r#"{"city": "Oslo"}"#, "--file", path.to_str().unwrap()];
    let (code, out, err) = run(a2a(Some(&p)), &args).await;
    std::fs::remove_file(&path).unwrap();
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("see attached\n{{\n  \"city\": \"Oslo\"\n}}\n[file {file} (text/plain, 11 bytes)]\n"));

    // A message that cannot be sent: the component's error, nothing sent.
    let before = p.log().len();
    let (code, _, err) = run(a2a(Some(&p)), &["send", SDK, "--data", "[1]"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("invalid message: part 0: data is not a JSON object: [1]"), "{err}");
    assert_eq!(p.log().len(), before);

    // The batch `send` call takes the same message shape as replies show.
    let mut child = a2a(Some(&p)).args(["batch"]).spawn().unwrap();
    let message = json!({"parts": [{"text": "hi"}, {"data": {"n": [1, 2]}}, {"file": {"name": "a.bin", "bytes": "AAEC"}}],
        "metadata": {"trace": "t-9"}});
    let line = json!({"id": 1, "call": "send", "args": {"peer-id": SDK, "message": message, "protocol": "v10"}});
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{line}\n").as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    let reply = &answer["ok"];
    assert_eq!(reply["parts"][0], json!({"text": "hi"}), "{answer}");
    assert_eq!(reply["parts"][1]["data"]["n"], json!([1.0, 2.0]));
    assert_eq!(reply["parts"][2], json!({"file": {"name": "a.bin", "media-type": null, "bytes": "AAEC"}}));
    assert_eq!(reply["metadata"]["trace"], "t-9");
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_streams_push_configs_extended_cards_and_extensions_against_the_sdk_agent() {
    const SDK: &str = "cccccccc-0000-4000-8000-000000000001";
    let agent = host_test::a2a_sdk::SdkAgent::start().await.expect("the a2a-sdk agent starts");
    let mut me = Workspace::new(ME, "Planner", "planner");
    me.token = Some(TOKEN.into());
    me.peers = vec![SDK.into()];
    let mut sdk = Workspace::new(SDK, "SDK Echo", "echo");
    sdk.upstream = Some(agent.url.clone());
    let p = Platform::start(vec![me, sdk]).await.unwrap();

    // `--extension` asks for it; the activated ones are said on stderr.
    let (code, out, err) = run(a2a(Some(&p)), &["send", SDK, "extensions?", "--extension", "urn:a2a-test:echo"]).await;
    assert_eq!((code, out.as_str()), (0, "extensions: urn:a2a-test:echo\n"), "{err}");
    assert!(err.contains("(extensions activated: urn:a2a-test:echo)"), "{err}");

    let mut child = a2a(Some(&p)).args(["batch"]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let calls = [
        json!({"id": 1, "call": "send-stream", "args": {"peer-id": SDK, "message": {"parts": [{"text": "stream: 2"}]},
               "extensions": ["urn:a2a-test:echo"]}}),
        json!({"id": 2, "call": "extended-agent-card", "args": {"peer-id": SDK, "protocol": "v10"}}),
        json!({"id": 3, "call": "subscribe-to-task", "args": {"peer-id": SDK, "task-id": "no-such-task"}}),
        json!({"id": 4, "call": "create-push-config", "args": {"peer-id": SDK, "task-id": "t", "url": "https://me.example/h"}}),
        json!({"id": 5, "call": "send", "args": {"peer-id": SDK, "message": {"parts": [{"text": "hi"}]}, "extensions": "x"}}),
    ];
    for line in &calls {
        stdin.write_all(format!("{line}\n").as_bytes()).await.unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let answers: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), calls.len(), "{answers:?}");
    let streamed = &answers[0]["ok"];
    assert_eq!(streamed["events"].as_array().map(Vec::len), Some(5), "{streamed}");
    assert_eq!((&streamed["end"], &streamed["resumes"]), (&Value::Null, &json!(0)));
    assert_eq!(streamed["activated-extensions"], json!(["urn:a2a-test:echo"]));
    assert_eq!(answers[1]["ok"]["name"], "SDK Echo (extended)", "{}", answers[1]);
    // A subscription the peer refuses at once: its error as the stream's end (or the call's).
    let refused = answers[2].get("err").or_else(|| answers[2]["ok"].get("end")).unwrap();
    assert_eq!(refused["kind"], "rpc-error", "{}", answers[2]);
    // The task does not exist: the peer's typed error.
    assert_eq!(answers[3]["err"]["kind"], "rpc-error", "{}", answers[3]);
    assert_eq!(answers[4]["err"]["kind"], "bad-call", "{}", answers[4]);
}
