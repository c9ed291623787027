//! A task's push-notification configs (where a peer POSTs the task's
//! updates): the JSON-RPC requests that create, get, list and delete them
//! in both protocol versions, and the configs read from the replies.

use serde_json::{json, Value};

use crate::a2a::{short, Protocol};

/// A push-notification config as a peer keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PushConfig {
    /// Its id (the peer's when none was given).
    pub id: Option<String>,
    /// The task it belongs to.
    pub task_id: String,
    /// Where the peer POSTs the task's updates.
    pub url: String,
    /// The token the peer sends with each update.
    pub token: Option<String>,
    /// The config as JSON text.
    pub raw: String,
}

/// One push-config operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PushCall {
    /// Create (or replace) a config of a task.
    Create {
        /// The task.
        task_id: String,
        /// The config's id, when the caller names it.
        id: Option<String>,
        /// Where the peer POSTs updates.
        url: String,
        /// The token the peer sends with each update.
        token: Option<String>,
    },
    /// One config of a task.
    Get {
        /// The task.
        task_id: String,
        /// The config.
        id: String,
    },
    /// Every config of a task.
    List {
        /// The task.
        task_id: String,
    },
    /// Remove a config of a task.
    Delete {
        /// The task.
        task_id: String,
        /// The config.
        id: String,
    },
}

impl PushCall {
    /// The task the call is about.
    pub(crate) fn task_id(&self) -> &str {
        match self {
            PushCall::Create { task_id, .. }
            | PushCall::Get { task_id, .. }
            | PushCall::List { task_id }
            | PushCall::Delete { task_id, .. } => task_id,
        }
    }

    /// The config id the call names, if any.
    pub(crate) fn config_id(&self) -> Option<&str> {
        match self {
            PushCall::Create { id, .. } => id.as_deref(),
            PushCall::Get { id, .. } | PushCall::Delete { id, .. } => Some(id),
            PushCall::List { .. } => None,
        }
    }

    /// The JSON-RPC method and params in `protocol`.
    fn method_and_params(&self, protocol: Protocol) -> (&'static str, Value) {
        let v03 = protocol == Protocol::V0_3;
        match self {
            PushCall::Create { task_id, id, url, token } => {
                let mut config = json!({"url": url});
                if let Some(id) = id {
                    config["id"] = id.as_str().into();
                }
                if let Some(token) = token {
                    config["token"] = token.as_str().into();
                }
                if v03 {
                    ("tasks/pushNotificationConfig/set", json!({"taskId": task_id, "pushNotificationConfig": config}))
                } else {
                    config["taskId"] = task_id.as_str().into();
                    ("CreateTaskPushNotificationConfig", config)
                }
            }
            PushCall::Get { task_id, id } if v03 => {
                ("tasks/pushNotificationConfig/get", json!({"id": task_id, "pushNotificationConfigId": id}))
            }
            PushCall::Get { task_id, id } => ("GetTaskPushNotificationConfig", json!({"taskId": task_id, "id": id})),
            PushCall::List { task_id } if v03 => ("tasks/pushNotificationConfig/list", json!({"id": task_id})),
            PushCall::List { task_id } => ("ListTaskPushNotificationConfigs", json!({"taskId": task_id})),
            PushCall::Delete { task_id, id } if v03 => {
                ("tasks/pushNotificationConfig/delete", json!({"id": task_id, "pushNotificationConfigId": id}))
            }
            PushCall::Delete { task_id, id } => {
                ("DeleteTaskPushNotificationConfig", json!({"taskId": task_id, "id": id}))
            }
        }
    }
}

/// The JSON-RPC body of `call` in `protocol`.
pub(crate) fn body(protocol: Protocol, call: &PushCall, request_id: &str) -> Vec<u8> {
    let (method, params) = call.method_and_params(protocol);
    let body = json!({"id": request_id, "jsonrpc": "2.0", "method": method, "params": params});
    crate::platform::json_text(&body).into_bytes()
}

/// The configs a reply to `call` holds: one for create and get, any number
/// for list (v0.3: a list; v1.0: `{"configs": […]}`), none for delete.
pub(crate) fn read(call: &PushCall, result: &Value) -> Result<Vec<PushConfig>, String> {
    match call {
        PushCall::Delete { .. } => Ok(Vec::new()),
        PushCall::Create { .. } | PushCall::Get { .. } => {
            Ok(vec![read_config(result).map_err(|e| format!("result{e}"))?])
        }
        PushCall::List { .. } => {
            let list = match result {
                Value::Array(list) => list,
                Value::Object(o) => match o.get("configs") {
                    Some(Value::Array(list)) => list,
                    None | Some(Value::Null) => return Ok(Vec::new()),
                    Some(other) => return Err(format!("result.configs is not a list: {}", short(other))),
                },
                other => return Err(format!("result is not a list of configs: {}", short(other))),
            };
            list.iter().enumerate().map(|(i, c)| read_config(c).map_err(|e| format!("result[{i}]{e}"))).collect()
        }
    }
}

/// One config: v0.3 `{"taskId", "pushNotificationConfig": {"id", "url",
/// "token"}}`, v1.0 `{"taskId", "id", "url", "token"}`.
fn read_config(value: &Value) -> Result<PushConfig, String> {
    if !value.is_object() {
        return Err(format!(" is not an object: {}", short(value)));
    }
    let inner = match value.get("pushNotificationConfig") {
        Some(inner @ Value::Object(_)) => inner,
        _ => value,
    };
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let task_id = text(value, "taskId").ok_or_else(|| format!(" has no taskId: {}", short(value)))?;
    let url = text(inner, "url").ok_or_else(|| format!(" has no url: {}", short(value)))?;
    Ok(PushConfig {
        id: text(inner, "id"),
        task_id,
        url,
        token: text(inner, "token"),
        raw: crate::platform::json_text(value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create() -> PushCall {
        PushCall::Create {
            task_id: "t".into(),
            id: Some("c1".into()),
            url: "https://me/hook".into(),
            token: Some("n".into()),
        }
    }

    #[test]
    fn requests_in_both_versions() {
        let text = |p, c: &PushCall| String::from_utf8(body(p, c, "r")).unwrap();
        assert_eq!(
            text(Protocol::V0_3, &create()),
            r#"{"id":"r","jsonrpc":"2.0","method":"tasks/pushNotificationConfig/set","params":{"pushNotificationConfig":{"id":"c1","token":"n","url":"https://me/hook"},"taskId":"t"}}"#
        );
        assert_eq!(
            text(Protocol::V1_0, &create()),
            r#"{"id":"r","jsonrpc":"2.0","method":"CreateTaskPushNotificationConfig","params":{"id":"c1","taskId":"t","token":"n","url":"https://me/hook"}}"#
        );
        let get = PushCall::Get { task_id: "t".into(), id: "c1".into() };
        assert!(text(Protocol::V0_3, &get).contains(r#""params":{"id":"t","pushNotificationConfigId":"c1"}"#));
        assert!(text(Protocol::V1_0, &get).contains(r#""params":{"id":"c1","taskId":"t"}"#));
        let list = PushCall::List { task_id: "t".into() };
        assert!(
            text(Protocol::V0_3, &list).contains(r#""method":"tasks/pushNotificationConfig/list","params":{"id":"t"}"#)
        );
        assert!(text(Protocol::V1_0, &list)
            .contains(r#""method":"ListTaskPushNotificationConfigs","params":{"taskId":"t"}"#));
    }

    #[test]
    fn configs_read_in_both_versions() {
        let v03 =
            json!({"taskId": "t", "pushNotificationConfig": {"id": "c1", "url": "https://me/hook", "token": "n"}});
        let v10 = json!({"taskId": "t", "id": "c1", "url": "https://me/hook", "token": "n"});
        for one in [&v03, &v10] {
            let got = read(&create(), one).unwrap();
            assert_eq!(
                (got[0].id.as_deref(), got[0].task_id.as_str(), got[0].url.as_str(), got[0].token.as_deref()),
                (Some("c1"), "t", "https://me/hook", Some("n"))
            );
        }
        let list = PushCall::List { task_id: "t".into() };
        assert_eq!(read(&list, &json!([v03.clone(), v03])).unwrap().len(), 2);
        assert_eq!(read(&list, &json!({"configs": [v10], "nextPageToken": ""})).unwrap().len(), 1);
        assert_eq!(read(&list, &json!({})).unwrap(), vec![]);
        assert_eq!(read(&PushCall::Delete { task_id: "t".into(), id: "c".into() }, &Value::Null).unwrap(), vec![]);
        assert_eq!(read(&create(), &json!({"taskId": "t"})).unwrap_err(), r#"result has no url: {"taskId":"t"}"#);
        assert_eq!(read(&list, &json!([1])).unwrap_err(), "result[0] is not an object: 1");
    }
}
