//! The data action itself: its request, response translation and contract, as the JSON
//! definition Admin > Integrations > Actions > Import accepts.

use serde_json::{Value, json};

use super::{ActionAuth, ClientCertificateAuthority};
use crate::domain::AnswerBody;

/// The name of the credential field the exported headers reference.
pub const API_KEY_CREDENTIAL_FIELD: &str = "apiKey";

pub struct ActionSpec {
    /// The service's public base URL, without the path.
    pub base_url: String,
    pub auth: ActionAuth,
    pub name: String,
    pub category: String,
    pub timeout_seconds: u8,
    pub secure: bool,
    /// What the service answers for unknown callers; the action's defaults say the same.
    pub unknown: AnswerBody,
    /// The service requires Genesys Cloud's client certificate (mutual TLS), signed by this CA.
    pub client_certificate: Option<ClientCertificateAuthority>,
    /// The answer fields the service is configured with beyond the four (`--answer-fields`):
    /// the contract, translation map and defaults carry them too.
    pub extra_outputs: Vec<ActionOutput>,
}

/// An output beyond the four: its name, JSON Schema type and the JSON its default is.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionOutput {
    pub name: &'static str,
    pub json_type: &'static str,
    /// What the flow gets when the response lacks the field (a JSON literal).
    pub default: Value,
}

/// The four outputs, their JSON Schema types, and their JSONPaths in the service's answer.
const OUTPUTS: [(&str, &str); 4] = [
    ("customer_id", "string"),
    ("name", "string"),
    ("loyalty_points", "integer"),
    ("is_vip", "boolean"),
];

impl ActionSpec {
    pub(super) fn request_url(&self) -> String {
        format!("{}/api/v1/lookup", self.base_url.trim_end_matches('/'))
    }

    pub(super) fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![("Content-Type", "application/json".to_owned())];
        if self.auth == ActionAuth::ApiKey {
            headers.push((
                "X-API-Key",
                format!("${{credentials.{API_KEY_CREDENTIAL_FIELD}}}"),
            ));
        }
        headers
    }

    /// `$esc.jsonString` escapes quotes, backslashes and control characters, so any caller ID
    /// yields valid JSON.
    pub(super) fn request_template() -> &'static str {
        r#"{"phoneNumber": "$esc.jsonString(${input.phoneNumber})"}"#
    }

    /// Every output with its JSON Schema type: the four, then the extra ones in order.
    fn outputs(&self) -> Vec<(&'static str, &'static str)> {
        OUTPUTS
            .into_iter()
            .chain(self.extra_outputs.iter().map(|o| (o.name, o.json_type)))
            .collect()
    }

    pub(super) fn translation_map(&self) -> Vec<(&'static str, String)> {
        self.outputs()
            .into_iter()
            .map(|(field, _)| (field, format!("$.{field}")))
            .collect()
    }

    /// Defaults are JSON literals: a flow gets the unknown-caller answer even from a response
    /// that lacks a field.
    pub(super) fn translation_map_defaults(&self) -> Vec<(&'static str, String)> {
        let unknown = json!(self.unknown);
        OUTPUTS
            .iter()
            .map(|(field, _)| (*field, unknown[field].to_string()))
            .chain(
                self.extra_outputs
                    .iter()
                    .map(|o| (o.name, o.default.to_string())),
            )
            .collect()
    }

    pub(super) fn success_template(&self) -> String {
        let fields: Vec<String> = self
            .outputs()
            .into_iter()
            .map(|(field, _)| format!("\"{field}\": ${{{field}}}"))
            .collect();
        format!("{{{}}}", fields.join(", "))
    }

    pub fn input_schema() -> Value {
        json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "title": "Customer lookup request",
            "description": "The caller's number as the flow has it, e.g. Call.Ani (tel:+15551234567).",
            "type": "object",
            "required": ["phoneNumber"],
            "properties": {
                "phoneNumber": {
                    "type": "string",
                    "description": "Caller ID in any format: tel: or sip: URI, E.164, national, withheld."
                }
            },
            "additionalProperties": true
        })
    }

    pub fn success_schema(&self) -> Value {
        let outputs = self.outputs();
        let properties: serde_json::Map<String, Value> = outputs
            .iter()
            .map(|(field, kind)| ((*field).to_owned(), json!({"type": kind})))
            .collect();
        json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "title": "Customer lookup answer",
            "type": "object",
            "required": outputs.iter().map(|(field, _)| *field).collect::<Vec<_>>(),
            "properties": properties,
            "additionalProperties": true
        })
    }

    /// The definition Admin > Integrations > Actions > Import accepts.
    pub fn to_json(&self) -> Value {
        let pairs = |list: Vec<(&str, String)>| -> Value {
            Value::Object(
                list.into_iter()
                    .map(|(k, v)| (k.to_owned(), Value::String(v)))
                    .collect(),
            )
        };
        json!({
            "name": self.name,
            "category": self.category,
            "integrationType": "custom-rest-actions",
            "actionType": "custom",
            "secure": self.secure,
            "config": {
                "request": {
                    "requestUrlTemplate": self.request_url(),
                    "requestType": "POST",
                    "headers": pairs(self.headers()),
                    "requestTemplate": Self::request_template(),
                },
                "response": {
                    "translationMap": pairs(self.translation_map()),
                    "translationMapDefaults": pairs(self.translation_map_defaults()),
                    "successTemplate": self.success_template(),
                },
                "timeoutSeconds": self.timeout_seconds,
            },
            "contract": {
                "input": { "inputSchema": Self::input_schema() },
                "output": { "successSchema": self.success_schema() },
            },
        })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::genesys) fn spec(auth: ActionAuth) -> ActionSpec {
        ActionSpec {
            base_url: "https://lookup.example.com/".into(),
            auth,
            name: "Customer Lookup".into(),
            category: "Customer Lookup".into(),
            timeout_seconds: 6,
            secure: false,
            unknown: AnswerBody {
                customer_id: "UNKNOWN".into(),
                name: "Unknown Customer".into(),
                loyalty_points: 0,
                is_vip: false,
            },
            client_certificate: None,
            extra_outputs: Vec::new(),
        }
    }

    #[test]
    fn defaults_are_json_literals_of_the_unknown_answer() {
        let action = spec(ActionAuth::ApiKey).to_json();
        let defaults = &action["config"]["response"]["translationMapDefaults"];
        assert_eq!(defaults["customer_id"], "\"UNKNOWN\"");
        assert_eq!(defaults["loyalty_points"], "0");
        assert_eq!(defaults["is_vip"], "false");
        assert_eq!(
            action["config"]["request"]["requestUrlTemplate"],
            "https://lookup.example.com/api/v1/lookup"
        );
        assert_eq!(
            action["config"]["request"]["headers"]["X-API-Key"],
            "${credentials.apiKey}"
        );
    }

    #[test]
    fn basic_and_none_embed_no_credential_header() {
        for auth in [ActionAuth::Basic, ActionAuth::None] {
            let headers = &spec(auth).to_json()["config"]["request"]["headers"];
            assert_eq!(headers.as_object().map(|h| h.len()), Some(1), "{headers}");
        }
    }
}
