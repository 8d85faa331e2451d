//! The Genesys Cloud data action that calls this service, generated rather than hand-written:
//! a Web Services Data Actions definition (JSON, importable in Admin > Integrations > Actions)
//! or the same action as a CX as Code `genesyscloud_integration_action` resource.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::domain::LookupAnswer;

crate::named_values! {
    /// How the integration authenticates to the service.
    pub enum ActionAuth {
        /// A "User Defined" credential with a field `apiKey`, sent as `X-API-Key`.
        ApiKey => "api-key",
        /// A "Basic Auth" credential; Genesys adds the Authorization header itself.
        Basic => "basic",
        /// No credential (only for a service that is guarded another way).
        None => "none",
    }
}

crate::named_values! {
    /// Who signs the client certificate Genesys Cloud presents to the service over mutual TLS,
    /// as chosen on the Web Services Data Actions integration.
    pub enum ClientCertificateAuthority {
        /// The region's private Genesys Cloud CA (no intermediate; rotated yearly).
        Genesys => "genesys",
        /// DigiCert, a public CA.
        DigiCert => "digicert",
    }
}

impl ClientCertificateAuthority {
    /// The integration's `clientCertificateAuthority` property as Genesys Cloud holds it:
    /// "Genesys Cloud" is what configurations exported from orgs show; "DigiCert" is the console's
    /// label for the other choice.
    pub fn genesys_name(self) -> &'static str {
        match self {
            Self::Genesys => "Genesys Cloud",
            Self::DigiCert => "DigiCert",
        }
    }

    /// What must be true of the integration and the service; printed with every export.
    pub fn setup_note(self) -> String {
        format!(
            "Mutual TLS: the Web Services Data Actions integration's client certificate authority must be {} \
             (its property clientCertificateAuthority: the Terraform module of --out sets it; otherwise select it \
             in Admin > Integrations > the integration > Configuration); the service must run with --client-ca \
             holding that CA and --client-cert-name set to your region's data actions domain (docs/security.md).",
            self.genesys_name()
        )
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
    /// The service requires Genesys Cloud's client certificate (mutual TLS), signed by this CA.
    pub client_certificate: Option<ClientCertificateAuthority>,
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

    /// The same action as a `genesyscloud_integration_action` resource, on its own: the
    /// integration is a variable (`export-action --format terraform` without `--out`).
    pub fn to_terraform(&self) -> String {
        let mut out = String::new();
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
        out.push_str(&self.action_resource(&ActionRefs {
            integration_id: "var.customer_lookup_integration_id".into(),
            category: hcl_string(&self.category),
            request_url: hcl_string(&self.request_url()),
        }));
        out
    }

    /// The `genesyscloud_integration_action` resource, with the expressions it takes from the
    /// rest of its module.
    fn action_resource(&self, refs: &ActionRefs) -> String {
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
            "resource \"genesyscloud_integration_action\" \"{RESOURCE}\" {{"
        );
        let _ = writeln!(out, "  name                   = {}", hcl_string(&self.name));
        let _ = writeln!(out, "  category               = {}", refs.category);
        let _ = writeln!(out, "  integration_id         = {}", refs.integration_id);
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
        let _ = writeln!(out, "    request_url_template = {}", refs.request_url);
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

/// The name every generated resource has within its type.
const RESOURCE: &str = "customer_lookup";

/// What the action resource refers to, as HCL expressions.
struct ActionRefs {
    integration_id: String,
    category: String,
    request_url: String,
}

/// The inbound call flow that uses the answer: VIPs to one queue, everyone else (and every
/// caller while the lookup fails or times out) to another.
pub struct FlowSpec {
    pub name: String,
    pub division: String,
    pub vip_queue: String,
    pub standard_queue: String,
}

/// Where each output of the action lands in the flow, and the variable's Archy type.
pub const FLOW_VARIABLES: [(&str, &str, &str); 4] = [
    ("customer_id", "Flow.customerId", "stringVariable"),
    ("name", "Flow.customerName", "stringVariable"),
    ("loyalty_points", "Flow.loyaltyPoints", "integerVariable"),
    ("is_vip", "Flow.isVip", "booleanVariable"),
];

/// The flow file inside the Terraform module.
pub const FLOW_FILE: &str = "customer-lookup-flow.yaml";

/// The environment-specific values of the flow file: the Terraform module fills each
/// `{{key}}` through `genesyscloud_flow.substitutions`.
const SUBSTITUTIONS: [&str; 6] = [
    "flow_name",
    "division",
    "action_category",
    "action_name",
    "vip_queue",
    "standard_queue",
];

/// How the flow file names environment-specific values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowValues {
    /// As given, for `archy publish`.
    Literal,
    /// As `{{key}}` placeholders, for the Terraform module.
    Placeholders,
}

/// Everything Genesys Cloud needs, from one description: the credential, the integration, the
/// data action and the inbound flow. Names agree by construction: the flow's category and
/// action are the action's, the variables it reads are the ones it maps.
pub struct Kit<'a> {
    pub action: &'a ActionSpec,
    pub flow: &'a FlowSpec,
}

impl Kit<'_> {
    fn value(&self, key: &str, values: FlowValues) -> String {
        let literal = match key {
            "flow_name" => &self.flow.name,
            "division" => &self.flow.division,
            "action_category" => &self.action.category,
            "action_name" => &self.action.name,
            "vip_queue" => &self.flow.vip_queue,
            _ => &self.flow.standard_queue,
        };
        let text = match values {
            FlowValues::Literal => literal.clone(),
            FlowValues::Placeholders => format!("{{{{{key}}}}}"),
        };
        // A JSON string is a YAML double-quoted scalar.
        Value::String(text).to_string()
    }

    /// The Archy inbound call flow (`archy publish --file …`).
    pub fn archy_flow(&self, values: FlowValues) -> String {
        let v = |key: &str| self.value(key, values);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Generated by `customer-lookup export-action`: the caller is looked up with Call.Ani;\n\
             # VIPs go to the VIP queue, everyone else, and every caller while the lookup fails or\n\
             # times out, to the standard queue."
        );
        let _ = writeln!(out, "inboundCall:");
        let _ = writeln!(out, "  name: {}", v("flow_name"));
        let _ = writeln!(
            out,
            "  description: \"Recognises the caller with customer-lookup and routes VIPs to their own queue.\""
        );
        let _ = writeln!(out, "  division: {}", v("division"));
        let _ = writeln!(
            out,
            "  startUpRef: \"/inboundCall/tasks/task[Recognise caller_10]\""
        );
        let _ = writeln!(out, "  defaultLanguage: en-us");
        let _ = writeln!(out, "  supportedLanguages:");
        let _ = writeln!(out, "    en-us:");
        let _ = writeln!(out, "      defaultLanguageSkill:");
        let _ = writeln!(out, "        noValue: true");
        let _ = writeln!(out, "  initialGreeting:");
        let _ = writeln!(out, "    tts: \"Thank you for calling.\"");
        let _ = writeln!(out, "  settingsErrorHandling:");
        let _ = writeln!(out, "    errorHandling:");
        let _ = writeln!(out, "      disconnect:");
        let _ = writeln!(out, "        none: true");
        let _ = writeln!(out, "    preHandlingAudio:");
        let _ = writeln!(
            out,
            "      tts: \"Sorry, something went wrong. Please call again.\""
        );
        let _ = writeln!(out, "  variables:");
        let unknown = json!(self.action.unknown);
        for (field, variable, kind) in FLOW_VARIABLES {
            let _ = writeln!(out, "    - {kind}:");
            let _ = writeln!(out, "        name: {variable}");
            let _ = writeln!(out, "        initialValue:");
            let _ = writeln!(out, "          lit: {}", unknown[field]);
        }
        let _ = writeln!(out, "  tasks:");
        let _ = writeln!(out, "    - task:");
        let _ = writeln!(out, "        name: Recognise caller");
        let _ = writeln!(out, "        refId: Recognise caller_10");
        let _ = writeln!(out, "        actions:");
        let _ = writeln!(out, "          - callData:");
        let _ = writeln!(out, "              name: Look up the caller");
        let _ = writeln!(out, "              category:");
        let _ = writeln!(out, "                {}:", v("action_category"));
        let _ = writeln!(out, "                  dataAction:");
        let _ = writeln!(out, "                    {}:", v("action_name"));
        let _ = writeln!(out, "                      inputs:");
        let _ = writeln!(out, "                        phoneNumber:");
        let _ = writeln!(out, "                          exp: Call.Ani");
        let _ = writeln!(out, "                      successOutputs:");
        for (field, variable, _) in FLOW_VARIABLES {
            let _ = writeln!(out, "                        {field}:");
            let _ = writeln!(out, "                          var: {variable}");
        }
        let _ = writeln!(out, "              outputs:");
        let _ = writeln!(out, "                success:");
        let _ = writeln!(out, "                  actions:");
        let _ = writeln!(out, "                    - decision:");
        let _ = writeln!(out, "                        name: Is the caller a VIP?");
        let _ = writeln!(out, "                        condition:");
        let _ = writeln!(out, "                          exp: Flow.isVip");
        let _ = writeln!(out, "                        outputs:");
        let _ = writeln!(out, "                          \"yes\":");
        let _ = writeln!(out, "                            actions:");
        transfer(&mut out, 30, "To the VIP queue", &v("vip_queue"));
        let _ = writeln!(out, "                failure:");
        let _ = writeln!(out, "                  actions:");
        let _ = writeln!(out, "                    - updateData:");
        let _ = writeln!(
            out,
            "                        name: Treat the caller as unknown"
        );
        let _ = writeln!(out, "                        statements:");
        let _ = writeln!(out, "                          - boolean:");
        let _ = writeln!(out, "                              variable: Flow.isVip");
        let _ = writeln!(out, "                              value:");
        let _ = writeln!(out, "                                lit: false");
        let _ = writeln!(
            out,
            "          # Reached by every caller not transferred above: not a VIP, the lookup failed,\n\
             \x20         # or it timed out (an unconnected output goes on to the next action)."
        );
        transfer(&mut out, 10, "To the standard queue", &v("standard_queue"));
        let _ = writeln!(out, "          - disconnect:");
        let _ = writeln!(out, "              name: Disconnect");
        out
    }

    /// `genesyscloud_flow.substitutions`, key by key, as HCL expressions. The provider pastes
    /// the text in as it is, inside the flow file's double quotes: each value is JSON-escaped
    /// (a JSON string body is a YAML double-quoted one), so no name can break the YAML.
    fn substitution(&self, key: &str) -> String {
        let value = match key {
            "flow_name" => "var.flow_name".into(),
            "division" => "var.division_name".into(),
            "action_category" => format!("genesyscloud_integration_action.{RESOURCE}.category"),
            "action_name" => format!("genesyscloud_integration_action.{RESOURCE}.name"),
            "vip_queue" => "var.vip_queue_name".into(),
            _ => "var.standard_queue_name".into(),
        };
        format!("trimsuffix(trimprefix(jsonencode({value}), \"\\\"\"), \"\\\"\")")
    }

    /// The Terraform module: each file's name and text.
    pub fn terraform_module(&self) -> Vec<(&'static str, String)> {
        let action = self.action;
        let mut variables = String::from(
            "# Generated by `customer-lookup export-action --format terraform --out …`.\n",
        );
        let mut variable =
            |name: &str, description: &str, default: Option<&str>, sensitive: bool| {
                let _ = writeln!(variables, "\nvariable \"{name}\" {{");
                let _ = writeln!(variables, "  description = {}", hcl_string(description));
                let _ = writeln!(variables, "  type        = string");
                if let Some(default) = default {
                    let _ = writeln!(variables, "  default     = {}", hcl_string(default));
                }
                if sensitive {
                    let _ = writeln!(variables, "  sensitive   = true");
                }
                let _ = writeln!(variables, "}}");
            };
        variable(
            "service_url",
            "The service's public base URL as Genesys Cloud reaches it (HTTPS, publicly trusted certificate)",
            Some(action.base_url.trim_end_matches('/')),
            false,
        );
        match action.auth {
            ActionAuth::ApiKey => variable(
                "api_key",
                "One of the service's --api-key values (the plain key, not its sha256)",
                None,
                true,
            ),
            ActionAuth::Basic => {
                variable(
                    "basic_auth_username",
                    "A user of the service's --basic-auth",
                    None,
                    true,
                );
                variable("basic_auth_password", "That user's password", None, true);
            }
            ActionAuth::None => {}
        }
        if let Some(authority) = action.client_certificate {
            variable(
                "client_certificate_authority",
                "Who signs the client certificate Genesys Cloud presents to the service: Genesys Cloud or DigiCert (the integration's clientCertificateAuthority)",
                Some(authority.genesys_name()),
                false,
            );
        }
        variable(
            "integration_name",
            "The Web Services Data Actions integration's name; also the data action's category",
            Some(&action.category),
            false,
        );
        variable(
            "flow_name",
            "The inbound call flow's name",
            Some(&self.flow.name),
            false,
        );
        variable(
            "division_name",
            "The division the flow belongs to",
            Some(&self.flow.division),
            false,
        );
        variable(
            "vip_queue_name",
            "The queue VIP callers are transferred to",
            Some(&self.flow.vip_queue),
            false,
        );
        variable(
            "standard_queue_name",
            "The queue every other caller is transferred to, also when the lookup fails",
            Some(&self.flow.standard_queue),
            false,
        );

        let mut main = String::from(
            "# Generated by `customer-lookup export-action --format terraform --out …`.\n\n",
        );
        let credentials = match action.auth {
            ActionAuth::None => None,
            auth => {
                let (kind, fields) = match auth {
                    ActionAuth::ApiKey => (
                        "userDefined",
                        format!("    {API_KEY_CREDENTIAL_FIELD} = var.api_key\n"),
                    ),
                    _ => (
                        "basicAuth",
                        "    userName = var.basic_auth_username\n    password = var.basic_auth_password\n".to_owned(),
                    ),
                };
                let _ = writeln!(
                    main,
                    "resource \"genesyscloud_integration_credential\" \"{RESOURCE}\" {{"
                );
                let _ = writeln!(
                    main,
                    "  name                 = \"${{var.integration_name}} credential\""
                );
                let _ = writeln!(main, "  credential_type_name = \"{kind}\"");
                let _ = writeln!(main, "  fields = {{\n{fields}  }}");
                let _ = writeln!(main, "}}\n");
                Some(format!("genesyscloud_integration_credential.{RESOURCE}.id"))
            }
        };
        let _ = writeln!(
            main,
            "resource \"genesyscloud_integration\" \"{RESOURCE}\" {{"
        );
        let _ = writeln!(main, "  integration_type = \"custom-rest-actions\"");
        let _ = writeln!(main, "  intended_state   = \"ENABLED\"");
        let _ = writeln!(main, "  config {{");
        let _ = writeln!(main, "    name = var.integration_name");
        if action.client_certificate.is_some() {
            // The integration type's own setting, in the free-form properties the provider
            // passes through (no attribute of its own).
            let _ = writeln!(
                main,
                "    properties = jsonencode({{\n      clientCertificateAuthority = var.client_certificate_authority\n    }})"
            );
        }
        if let Some(credential) = &credentials {
            // Web Services Data Actions look their credential up under this key, whatever its type.
            let _ = writeln!(
                main,
                "    credentials = {{\n      basicAuth = {credential}\n    }}"
            );
        }
        let _ = writeln!(main, "  }}");
        let _ = writeln!(main, "}}\n");
        main.push_str(&action.action_resource(&ActionRefs {
            integration_id: format!("genesyscloud_integration.{RESOURCE}.id"),
            category: format!("genesyscloud_integration.{RESOURCE}.config[0].name"),
            request_url: "\"${var.service_url}/api/v1/lookup\"".into(),
        }));
        let _ = writeln!(main);
        let _ = writeln!(main, "resource \"genesyscloud_flow\" \"{RESOURCE}\" {{");
        let _ = writeln!(main, "  filepath = \"${{path.module}}/{FLOW_FILE}\"");
        let _ = writeln!(main, "  substitutions = {{");
        for key in SUBSTITUTIONS {
            let _ = writeln!(main, "    {key} = {}", self.substitution(key));
        }
        let _ = writeln!(main, "  }}");
        let _ = writeln!(main, "}}");

        let mut outputs = format!(
            "# Generated by `customer-lookup export-action --format terraform --out …`.\n\n\
             output \"action_id\" {{\n  description = \"The data action's id\"\n  value       = genesyscloud_integration_action.{RESOURCE}.id\n}}\n\n\
             output \"integration_id\" {{\n  description = \"The Web Services Data Actions integration's id\"\n  value       = genesyscloud_integration.{RESOURCE}.id\n}}\n\n\
             output \"flow_id\" {{\n  description = \"The inbound call flow's id\"\n  value       = genesyscloud_flow.{RESOURCE}.id\n}}\n"
        );
        if action.client_certificate.is_some() {
            let _ = write!(
                outputs,
                "\noutput \"client_certificate_authority\" {{\n  description = {}\n  value       = var.client_certificate_authority\n}}\n",
                hcl_string(
                    "The client certificate authority set on the integration (mutual TLS): the service's --client-ca must hold this CA"
                )
            );
        }
        let versions = format!(
            "# Generated by `customer-lookup export-action --format terraform --out …`.\n\n\
             terraform {{\n  required_version = \">= 1.3\"\n  required_providers {{\n    genesyscloud = {{\n      source  = \"mypurecloud/genesyscloud\"\n      version = \"{PROVIDER_VERSION}\"\n    }}\n  }}\n}}\n"
        );
        vec![
            ("versions.tf", versions),
            ("variables.tf", variables),
            ("main.tf", main),
            ("outputs.tf", outputs),
            (FLOW_FILE, self.archy_flow(FlowValues::Placeholders)),
        ]
    }
}

/// The genesyscloud provider releases the module is written for.
pub const PROVIDER_VERSION: &str = "~> 1.84";

/// A `transferToAcd` action at this indentation.
fn transfer(out: &mut String, indent: usize, name: &str, queue: &str) {
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}- transferToAcd:");
    let _ = writeln!(out, "{pad}    name: {name}");
    let _ = writeln!(out, "{pad}    targetQueue:");
    let _ = writeln!(out, "{pad}      lit:");
    let _ = writeln!(out, "{pad}        name: {queue}");
    let _ = writeln!(out, "{pad}    preTransferAudio:");
    let _ = writeln!(out, "{pad}      tts: \"Please hold while we connect you.\"");
    let _ = writeln!(out, "{pad}    failureTransferAudio:");
    let _ = writeln!(
        out,
        "{pad}      tts: \"Sorry, we cannot connect you right now.\""
    );
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
            client_certificate: None,
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
