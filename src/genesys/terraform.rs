//! The data action as CX as Code: the `genesyscloud_integration_action` resource alone, or the
//! whole Terraform module (credential, integration, action and flow), from `templates/*.tf.j2`.

use serde::Serialize;
use serde_json::Value;

use super::archy::SUBSTITUTIONS;
use super::{
    API_KEY_CREDENTIAL_FIELD, ActionSpec, FLOW_FILE, FlowValues, GenesysExport, TemplateError,
    render,
};

/// The genesyscloud provider releases the module is written for.
pub const PROVIDER_VERSION: &str = "~> 1.84";

/// The action as `templates/action_resource.tf.j2` reads it.
#[derive(Serialize)]
struct ActionContext<'a> {
    name: &'a str,
    category: &'a str,
    secure: bool,
    timeout_seconds: u8,
    /// JSON text (JSON is valid HCL expression syntax).
    input_schema: String,
    success_schema: String,
    request_template: &'static str,
    headers: Vec<(&'static str, String)>,
    translation_map: Vec<(&'static str, String)>,
    translation_map_defaults: Vec<(&'static str, String)>,
    success_template: String,
}

/// What the action resource refers to, as HCL expressions: the rest of its module, or
/// variables when it stands alone.
#[derive(Serialize)]
struct ActionRefs {
    integration_id: &'static str,
    category: String,
    request_url: String,
}

impl<'a> ActionContext<'a> {
    fn of(action: &'a ActionSpec) -> Self {
        Self {
            name: &action.name,
            category: &action.category,
            secure: action.secure,
            timeout_seconds: action.timeout_seconds,
            input_schema: ActionSpec::input_schema().to_string(),
            success_schema: action.success_schema().to_string(),
            request_template: ActionSpec::request_template(),
            headers: action.headers(),
            translation_map: action.translation_map(),
            translation_map_defaults: action.translation_map_defaults(),
            success_template: action.success_template(),
        }
    }
}

impl ActionSpec {
    /// The same action as a `genesyscloud_integration_action` resource, on its own: the
    /// integration is a variable (`export-action --format terraform` without `--out`).
    pub fn to_terraform(&self) -> Result<String, TemplateError> {
        #[derive(Serialize)]
        struct Context<'a> {
            action: ActionContext<'a>,
            refs: ActionRefs,
        }
        render(
            "action.tf",
            Context {
                action: ActionContext::of(self),
                refs: ActionRefs {
                    integration_id: "var.customer_lookup_integration_id",
                    category: hcl_string(&self.category),
                    request_url: hcl_string(&self.request_url()),
                },
            },
        )
    }
}

/// What the module's templates read. The integration's credential is looked up by Web Services
/// Data Actions under the key `basicAuth` whatever its type; the client certificate authority
/// goes in the integration's free-form properties (the provider has no attribute for it).
#[derive(Serialize)]
struct ModuleContext<'a> {
    action: ActionContext<'a>,
    refs: ActionRefs,
    flow: &'a super::FlowSpec,
    auth: &'static str,
    api_key_field: &'static str,
    client_certificate_authority: Option<&'static str>,
    service_url: &'a str,
    provider_version: &'static str,
    flow_file: &'static str,
    substitutions: [(&'static str, &'static str); 6],
}

impl GenesysExport<'_> {
    /// The Terraform module: each file's name and text.
    pub fn terraform_module(&self) -> Result<Vec<(&'static str, String)>, TemplateError> {
        let action = self.action;
        let context = ModuleContext {
            action: ActionContext::of(action),
            refs: ActionRefs {
                integration_id: "genesyscloud_integration.customer_lookup.id",
                category: "genesyscloud_integration.customer_lookup.config[0].name".into(),
                request_url: "\"${var.service_url}/api/v1/lookup\"".into(),
            },
            flow: self.flow,
            auth: action.auth.name(),
            api_key_field: API_KEY_CREDENTIAL_FIELD,
            client_certificate_authority: action.client_certificate.map(|a| a.genesys_name()),
            service_url: action.base_url.trim_end_matches('/'),
            provider_version: PROVIDER_VERSION,
            flow_file: FLOW_FILE,
            substitutions: SUBSTITUTIONS,
        };
        Ok(vec![
            ("versions.tf", render("versions.tf", &context)?),
            ("variables.tf", render("variables.tf", &context)?),
            ("main.tf", render("main.tf", &context)?),
            ("outputs.tf", render("outputs.tf", &context)?),
            (FLOW_FILE, self.archy_flow(FlowValues::Placeholders)?),
        ])
    }
}

/// A quoted HCL string: JSON escaping, plus `$${` / `%%{` so Terraform passes Velocity's `${…}`
/// through instead of interpolating it.
pub(super) fn hcl_string(value: &str) -> String {
    hcl_escape_templates(&Value::String(value.to_owned()).to_string())
}

/// HCL text with its template sequences escaped, so Terraform interpolates none of them.
pub(super) fn hcl_escape_templates(text: &str) -> String {
    text.replace("${", "$${").replace("%{", "%%{")
}

/// An object key: bare when HCL allows it, quoted otherwise.
pub(super) fn hcl_key(key: &str) -> String {
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
    use super::super::ActionAuth;
    use super::super::action::tests::spec;

    #[test]
    fn terraform_escapes_template_interpolation() {
        let tf = spec(ActionAuth::ApiKey).to_terraform().unwrap();
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
