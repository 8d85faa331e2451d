//! The inbound call flow that uses the lookup's answer, as Archy YAML (`templates/flow.yaml.j2`):
//! VIPs to one queue, everyone else (and every caller while the lookup fails or times out) to
//! another.

use serde::Serialize;
use serde_json::json;

use super::{GenesysExport, TemplateError, render};

/// The flow's environment-specific names.
#[derive(Serialize)]
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

/// The environment-specific values of the flow file, each with the Terraform expression the
/// module fills its `{{key}}` placeholder from (through `genesyscloud_flow.substitutions`).
pub(super) const SUBSTITUTIONS: [(&str, &str); 6] = [
    ("flow_name", "var.flow_name"),
    ("division", "var.division_name"),
    (
        "action_category",
        "genesyscloud_integration_action.customer_lookup.category",
    ),
    (
        "action_name",
        "genesyscloud_integration_action.customer_lookup.name",
    ),
    ("vip_queue", "var.vip_queue_name"),
    ("standard_queue", "var.standard_queue_name"),
];

/// How the flow file names environment-specific values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowValues {
    /// As given, for `archy publish`.
    Literal,
    /// As `{{key}}` placeholders, for the Terraform module.
    Placeholders,
}

/// What `templates/flow.yaml.j2` fills in; the names are quoted by the template.
#[derive(Serialize)]
struct FlowContext {
    flow_name: String,
    division: String,
    action_category: String,
    action_name: String,
    vip_queue: String,
    standard_queue: String,
    variables: Vec<FlowVariable>,
}

#[derive(Serialize)]
struct FlowVariable {
    /// The action's output the variable receives.
    output: &'static str,
    name: &'static str,
    kind: &'static str,
    /// The unknown caller's value, as a YAML literal (JSON is one).
    initial_value: String,
}

impl GenesysExport<'_> {
    /// The Archy inbound call flow (`archy publish --file …`).
    pub fn archy_flow(&self, values: FlowValues) -> Result<String, TemplateError> {
        let value = |key: &str, literal: &str| match values {
            FlowValues::Literal => literal.to_owned(),
            FlowValues::Placeholders => format!("{{{{{key}}}}}"),
        };
        let unknown = json!(self.action.unknown);
        let context = FlowContext {
            flow_name: value("flow_name", &self.flow.name),
            division: value("division", &self.flow.division),
            action_category: value("action_category", &self.action.category),
            action_name: value("action_name", &self.action.name),
            vip_queue: value("vip_queue", &self.flow.vip_queue),
            standard_queue: value("standard_queue", &self.flow.standard_queue),
            variables: FLOW_VARIABLES
                .iter()
                .map(|&(output, name, kind)| FlowVariable {
                    output,
                    name,
                    kind,
                    initial_value: unknown[output].to_string(),
                })
                .collect(),
        };
        render("flow.yaml", context)
    }
}
