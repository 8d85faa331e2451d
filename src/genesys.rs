//! The Genesys Cloud data action that calls this service, generated rather than hand-written:
//! a Web Services Data Actions definition (JSON, importable in Admin > Integrations > Actions)
//! or the same action as a CX as Code `genesyscloud_integration_action` resource.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::domain::LookupAnswer;

/// How the integration authenticates to the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionAuth {
    /// A "User Defined" credential with a field `apiKey`, sent as `X-API-Key`.
    ApiKey,
    /// A "Basic Auth" credential; Genesys adds the Authorization header itself.
    Basic,
    /// No credential (only for a service that is guarded another way).
    None,
}

impl ActionAuth {
    pub const NAMES: [&'static str; 3] = ["api-key", "basic", "none"];
}

impl std::str::FromStr for ActionAuth {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "api-key" => Ok(Self::ApiKey),
            "basic" => Ok(Self::Basic),
            "none" => Ok(Self::None),
            other => Err(format!("{other:?} is not api-key, basic or none")),
        }
    }
}

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
    pub unknown: LookupAnswer,
}

/// The four outputs, their JSON Schema types, and their JSONPaths in the service's answer.
const OUTPUTS: [(&str, &str); 4] = [
    ("customer_id", "string"),
    ("name", "string"),
    ("loyalty_points", "integer"),
    ("is_vip", "boolean"),
];

impl ActionSpec {
    fn request_url(&self) -> String {
        format!("{}/api/v1/lookup", self.base_url.trim_end_matches('/'))
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
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
    fn request_template() -> &'static str {
        r#"{"phoneNumber": "$esc.jsonString(${input.phoneNumber})"}"#
    }

    fn translation_map() -> Vec<(&'static str, String)> {
        OUTPUTS
            .iter()
            .map(|(field, _)| (*field, format!("$.{field}")))
            .collect()
    }

    /// Defaults are JSON literals: a flow gets the unknown-caller answer even from a response
    /// that lacks a field.
    fn translation_map_defaults(&self) -> Vec<(&'static str, String)> {
        let unknown = json!(self.unknown);
        OUTPUTS
            .iter()
            .map(|(field, _)| (*field, unknown[field].to_string()))
            .collect()
    }

    fn success_template() -> String {
        let fields: Vec<String> = OUTPUTS
            .iter()
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

    pub fn success_schema() -> Value {
        let properties: serde_json::Map<String, Value> = OUTPUTS
            .iter()
            .map(|(field, kind)| ((*field).to_owned(), json!({"type": kind})))
            .collect();
        json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "title": "Customer lookup answer",
            "type": "object",
            "required": OUTPUTS.iter().map(|(field, _)| *field).collect::<Vec<_>>(),
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
                    "translationMap": pairs(Self::translation_map()),
                    "translationMapDefaults": pairs(self.translation_map_defaults()),
                    "successTemplate": Self::success_template(),
                },
                "timeoutSeconds": self.timeout_seconds,
            },
            "contract": {
                "input": { "inputSchema": Self::input_schema() },
                "output": { "successSchema": Self::success_schema() },
            },
        })
    }

    /// The same action as a `genesyscloud_integration_action` resource.
    pub fn to_terraform(&self) -> String {
        let mut out = String::new();
        let map = |out: &mut String, name: &str, pairs: Vec<(&str, String)>| {
            let _ = writeln!(out, "    {name} = {{");
            for (key, value) in pairs {
                let _ = writeln!(out, "      {} = {}", hcl_key(key), hcl_string(&value));
            }
            let _ = writeln!(out, "    }}");
        };
        let _ = writeln!(
            out,
            "# Generated by `customer-lookup export-action --format terraform`."
        );
        let _ = writeln!(out, "variable \"customer_lookup_integration_id\" {{");
        let _ = writeln!(
            out,
            "  description = \"Id of the Web Services Data Actions integration holding the credentials\""
        );
        let _ = writeln!(out, "  type        = string");
        let _ = writeln!(out, "}}\n");
        let _ = writeln!(
            out,
            "resource \"genesyscloud_integration_action\" \"customer_lookup\" {{"
        );
        let _ = writeln!(out, "  name                   = {}", hcl_string(&self.name));
        let _ = writeln!(
            out,
            "  category               = {}",
            hcl_string(&self.category)
        );
        let _ = writeln!(
            out,
            "  integration_id         = var.customer_lookup_integration_id"
        );
        let _ = writeln!(out, "  secure                 = {}", self.secure);
        let _ = writeln!(out, "  config_timeout_seconds = {}", self.timeout_seconds);
        let _ = writeln!(
            out,
            "  contract_input         = jsonencode({})",
            hcl_json(&Self::input_schema())
        );
        let _ = writeln!(
            out,
            "  contract_output        = jsonencode({})",
            hcl_json(&Self::success_schema())
        );
        let _ = writeln!(out, "  config_request {{");
        let _ = writeln!(
            out,
            "    request_url_template = {}",
            hcl_string(&self.request_url())
        );
        let _ = writeln!(out, "    request_type         = \"POST\"");
        let _ = writeln!(
            out,
            "    request_template     = {}",
            hcl_string(Self::request_template())
        );
        map(&mut out, "headers", self.headers());
        let _ = writeln!(out, "  }}");
        let _ = writeln!(out, "  config_response {{");
        map(&mut out, "translation_map", Self::translation_map());
        map(
            &mut out,
            "translation_map_defaults",
            self.translation_map_defaults(),
        );
        let _ = writeln!(
            out,
            "    success_template = {}",
            hcl_string(&Self::success_template())
        );
        let _ = writeln!(out, "  }}");
        let _ = writeln!(out, "}}");
        out
    }
}

/// A quoted HCL string: JSON escaping, plus `$${` / `%%{` so Terraform passes Velocity's `${…}`
/// through instead of interpolating it.
fn hcl_string(value: &str) -> String {
    Value::String(value.to_owned())
        .to_string()
        .replace("${", "$${")
        .replace("%{", "%%{")
}

/// JSON is valid HCL expression syntax; only template sequences need escaping.
fn hcl_json(value: &Value) -> String {
    value.to_string().replace("${", "$${").replace("%{", "%%{")
}

fn hcl_key(key: &str) -> String {
    let bare = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && key.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if bare {
        key.to_owned()
    } else {
        hcl_string(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(auth: ActionAuth) -> ActionSpec {
        ActionSpec {
            base_url: "https://lookup.example.com/".into(),
            auth,
            name: "Customer Lookup".into(),
            category: "Customer Lookup".into(),
            timeout_seconds: 6,
            secure: false,
            unknown: LookupAnswer {
                customer_id: "UNKNOWN".into(),
                name: "Unknown Customer".into(),
                loyalty_points: 0,
                is_vip: false,
            },
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

    #[test]
    fn terraform_escapes_template_interpolation() {
        let tf = spec(ActionAuth::ApiKey).to_terraform();
        assert!(
            tf.contains(r#"$esc.jsonString($${input.phoneNumber})"#),
            "{tf}"
        );
        assert!(tf.contains(r#""$${credentials.apiKey}""#), "{tf}");
        assert!(
            !tf.contains("\"${"),
            "an unescaped ${{ would be interpolated by Terraform:\n{tf}"
        );
    }
}
