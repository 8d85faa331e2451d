//! What Genesys Cloud needs to call this service, generated rather than hand-written: the data
//! action (`action`: the JSON definition Admin > Integrations > Actions imports), the Terraform
//! (`terraform`: the action alone, or the whole CX as Code module) and the inbound call flow
//! (`archy`). The Terraform and Archy text comes from the templates in `templates/`.

mod action;
mod archy;
mod terraform;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::Value;

pub use action::{API_KEY_CREDENTIAL_FIELD, ActionOutput, ActionSpec};
pub use archy::{FLOW_FILE, FLOW_VARIABLES, FlowSpec, FlowValues};
pub use terraform::PROVIDER_VERSION;

/// A template's error; only a template shipped with the binary can raise one.
pub type TemplateError = minijinja::Error;

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

/// Everything Genesys Cloud needs, from one description: the credential, the integration, the
/// data action and the inbound flow. Names agree by construction: the flow's category and
/// action are the action's, the variables it reads are the ones it maps.
pub struct GenesysExport<'a> {
    pub action: &'a ActionSpec,
    pub flow: &'a FlowSpec,
}

/// The templates, by the name each is rendered under.
const TEMPLATES: [(&str, &str); 7] = [
    (
        "action_resource.tf",
        include_str!("templates/action_resource.tf.j2"),
    ),
    ("action.tf", include_str!("templates/action.tf.j2")),
    ("versions.tf", include_str!("templates/versions.tf.j2")),
    ("variables.tf", include_str!("templates/variables.tf.j2")),
    ("main.tf", include_str!("templates/main.tf.j2")),
    ("outputs.tf", include_str!("templates/outputs.tf.j2")),
    ("flow.yaml", include_str!("templates/flow.yaml.j2")),
];

/// One template rendered with `context`. Block tags take their whole line (trim and lstrip),
/// nothing is HTML-escaped, and an unknown variable is an error rather than empty text.
fn render(name: &str, context: impl serde::Serialize) -> Result<String, TemplateError> {
    let mut templates = Environment::new();
    templates.set_trim_blocks(true);
    templates.set_lstrip_blocks(true);
    templates.set_keep_trailing_newline(true);
    templates.set_auto_escape_callback(|_| AutoEscape::None);
    templates.set_undefined_behavior(UndefinedBehavior::Strict);
    templates.add_filter("hcl_string", terraform::hcl_string);
    templates.add_filter("hcl_escape_templates", terraform::hcl_escape_templates);
    templates.add_filter("hcl_key", terraform::hcl_key);
    templates.add_filter("yaml_string", yaml_string);
    for (template, source) in TEMPLATES {
        templates.add_template(template, source)?;
    }
    templates.get_template(name)?.render(context)
}

/// A YAML double-quoted scalar: a JSON string is one.
fn yaml_string(value: &str) -> String {
    Value::String(value.to_owned()).to_string()
}
