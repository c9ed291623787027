//! Shared set-up of the integration tests: an embedded platform with a few
//! workspaces and a fresh component instance.

pub mod agent_http;

use host_test::bindings::{Config, Credential, Timeouts};
use host_test::clock::ManualClock;
use host_test::faults::TransportFaults;
use host_test::platform::{Platform, Workspace};
use host_test::{Client, Harness, Instance, InstanceOptions};

/// This agent's workspace.
pub const ME: &str = "11111111-2222-4333-8444-555555555555";
/// A second workspace the agent is registered as (multi-workspace mode).
pub const ALT: &str = "22222222-2222-4333-8444-555555555555";
/// Peers.
pub const BUILDER: &str = "aaaaaaaa-0000-4000-8000-000000000001";
pub const REVIEWER: &str = "aaaaaaaa-0000-4000-8000-000000000002";
pub const OFFLINE: &str = "aaaaaaaa-0000-4000-8000-000000000003";
/// Registered, but nobody's peer.
pub const STRANGER: &str = "aaaaaaaa-0000-4000-8000-000000000004";
/// Never registered.
pub const UNKNOWN: &str = "bbbbbbbb-0000-4000-8000-000000000009";

pub const ME_TOKEN: &str = "tok-me-0123456789";
pub const ALT_TOKEN: &str = "tok-alt-9876543210";

pub fn workspaces() -> Vec<Workspace> {
    let mut me = Workspace::new(ME, "Planner", "planner");
    me.token = Some(ME_TOKEN.into());
    me.peers = vec![BUILDER.into(), REVIEWER.into(), OFFLINE.into()];
    let mut alt = Workspace::new(ALT, "Ops", "operations");
    alt.token = Some(ALT_TOKEN.into());
    alt.peers = vec![STRANGER.into()];
    let mut offline = Workspace::new(OFFLINE, "Sleeper", "archivist");
    offline.status = "offline".into();
    vec![
        me,
        alt,
        Workspace::new(BUILDER, "Builder", "builder"),
        Workspace::new(REVIEWER, "Reviewer", "data reviewer"),
        offline,
        Workspace::new(STRANGER, "Stranger", "support"),
    ]
}

/// The config an agent registered as ME and ALT would use.
pub fn config(platform_url: &str) -> Config {
    Config {
        workspace_id: ME.into(),
        platform_url: Some(platform_url.into()),
        credentials: vec![
            Credential { workspace_id: ME.into(), token: ME_TOKEN.into() },
            Credential { workspace_id: ALT.into(), token: ALT_TOKEN.into() },
        ],
        timeouts: Some(Timeouts { read_ms: Some(2_000), read_total_ms: Some(5_000), ..Default::default() }),
        max_body_bytes: None,
        protocol: None,
        cache: None,
        retry: None,
    }
}

pub struct Setup {
    pub platform: Platform,
    pub instance: Instance,
    pub client: Client,
    pub faults: TransportFaults,
}

/// A platform, an instance and a client configured for it.
pub async fn setup() -> Setup {
    setup_with(|_| {}).await
}

/// As [`setup`], with a config change.
pub async fn setup_with(change: impl FnOnce(&mut Config)) -> Setup {
    setup_full(change, None).await
}

/// As [`setup`], with a config change and, optionally, a controllable clock.
pub async fn setup_full(change: impl FnOnce(&mut Config), clock: Option<ManualClock>) -> Setup {
    let platform = Platform::start(workspaces()).await.unwrap();
    let faults = TransportFaults::default();
    let mut instance = Harness::shared().instantiate(InstanceOptions { faults: faults.clone(), clock }).await.unwrap();
    let mut cfg = config(&platform.url());
    change(&mut cfg);
    let client = instance.client(&cfg).await.unwrap().expect("config accepted");
    Setup { platform, instance, client, faults }
}

pub use host_test::json::kind_name;
