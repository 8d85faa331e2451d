//! The exported data action, executed the way Genesys Cloud executes it, against the real
//! service over HTTPS: render the request (Velocity), send it with the integration's
//! credentials, translate the response (JSONPath, defaults), render the success template, and
//! validate the result against the action's own output contract.

use serde_json::{Map, Value};

use crate::helpers::{ALICE, Backend, TestApp, UNKNOWN, binary, gen_cert, https_request, json};

const API_KEY: &str = "genesys-0123456789abcdef0123456789";

/// What Genesys Cloud's Velocity `$esc.jsonString` does (commons-lang `escapeJson`): escape
/// quotes, backslashes, `/` and control characters, and write everything outside printable
/// ASCII as `\uXXXX` (UTF-16 units).
fn esc_json_string(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='\u{7e}' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
        }
    }
    out
}

/// The part of Velocity data actions use: `${ns.name}`, `$!{ns.name}`, `$ns.name`, and
/// `$esc.jsonString(<reference>)`. An unknown reference stays as written, as in Velocity.
fn render_velocity(template: &str, context: &Map<String, Value>) -> String {
    let lookup = |reference: &str| -> Option<String> {
        let mut value = context.get(reference.split('.').next()?)?;
        for part in reference.split('.').skip(1) {
            value = value.get(part)?;
        }
        Some(match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    // (length consumed, rendered text) for a reference at the start of `rest`.
    let reference = |rest: &str| -> Option<(usize, String)> {
        let (quiet, body_start) = if rest.starts_with("$!{") {
            (true, 3)
        } else if rest.starts_with("${") {
            (false, 2)
        } else {
            (false, 1)
        };
        if body_start > 1 {
            let end = rest.find('}')?;
            let name = &rest[body_start..end];
            let text = lookup(name).unwrap_or_else(|| {
                if quiet {
                    String::new()
                } else {
                    rest[..=end].to_owned()
                }
            });
            Some((end + 1, text))
        } else {
            let name_len = rest[1..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                .unwrap_or(rest.len() - 1);
            let name = rest[1..1 + name_len].trim_end_matches('.');
            Some((1 + name.len(), lookup(name)?))
        }
    };
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(inner) = rest.strip_prefix("$esc.jsonString(") {
            let close = inner.find(')').expect("closed $esc.jsonString(");
            let (_, value) =
                reference(&inner[..close]).expect("a reference inside $esc.jsonString");
            out.push_str(&esc_json_string(&value));
            rest = &inner[close + 1..];
        } else if let Some((used, text)) = reference(rest) {
            out.push_str(&text);
            rest = &rest[used..];
        } else {
            out.push('$');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

#[derive(Debug)]
enum ActionResult {
    Success(Value),
    Failed(String),
}

/// The integration's side of the exchange.
struct Integration {
    address: String,
    ca: std::path::PathBuf,
    /// `credentials.*` for User Defined credentials.
    credentials: Map<String, Value>,
    /// A Basic Auth credential, sent by Genesys itself.
    basic: Option<(String, String)>,
}

fn validator(schema: &Value) -> jsonschema::Validator {
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    jsonschema::draft4::new(schema).expect("a valid draft-04 schema")
}

async fn execute(action: &Value, integration: &Integration, input: Value) -> ActionResult {
    let input_schema = &action["contract"]["input"]["inputSchema"];
    if let Err(e) = validator(input_schema).validate(&input) {
        return ActionResult::Failed(format!("input does not match the contract: {e}"));
    }
    let mut context = Map::new();
    context.insert("input".into(), input);
    context.insert(
        "credentials".into(),
        Value::Object(integration.credentials.clone()),
    );

    let request = &action["config"]["request"];
    let url = render_velocity(request["requestUrlTemplate"].as_str().unwrap(), &context);
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
        .unwrap();
    let body = render_velocity(request["requestTemplate"].as_str().unwrap(), &context);
    assert!(
        serde_json::from_str::<Value>(&body).is_ok(),
        "the rendered request is not JSON: {body}"
    );
    let mut headers: Vec<(String, String)> = request["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), render_velocity(v.as_str().unwrap(), &context)))
        .collect();
    if let Some((user, password)) = &integration.basic {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers.push(("Authorization".into(), format!("Basic {token}")));
    }
    let method = request["requestType"].as_str().unwrap();
    let response = https_request(
        &integration.address,
        &integration.ca,
        &rustls::version::TLS13,
        method,
        &path,
        &headers,
        &body,
    )
    .await;
    if !(200..300).contains(&response.status) {
        return ActionResult::Failed(format!("HTTP {}: {}", response.status, response.body));
    }
    let Ok(result) = serde_json::from_str::<Value>(&response.body) else {
        return ActionResult::Failed(format!("response is not JSON: {}", response.body));
    };

    let config = &action["config"]["response"];
    let defaults = config["translationMapDefaults"].as_object().unwrap();
    let mut translated = Map::new();
    for (name, path) in config["translationMap"].as_object().unwrap() {
        let path =
            serde_json_path::JsonPath::parse(path.as_str().unwrap()).expect("valid JSONPath");
        let found = path.query(&result).exactly_one().ok().cloned();
        let value = match (found, defaults.get(name)) {
            (Some(value), _) => value,
            (None, Some(default)) => {
                serde_json::from_str(default.as_str().unwrap()).expect("defaults are JSON literals")
            }
            (None, None) => {
                return ActionResult::Failed(format!("no value and no default for {name}"));
            }
        };
        translated.insert(name.clone(), Value::String(value.to_string()));
    }
    let output = render_velocity(config["successTemplate"].as_str().unwrap(), &translated);
    let Ok(output) = serde_json::from_str::<Value>(&output) else {
        return ActionResult::Failed(format!("success template rendered invalid JSON: {output}"));
    };
    match validator(&action["contract"]["output"]["successSchema"]).validate(&output) {
        Ok(()) => ActionResult::Success(output),
        Err(e) => ActionResult::Failed(format!("output does not match the contract: {e}")),
    }
}

fn export(args: &[&str]) -> (Value, String) {
    let output = binary().arg("export-action").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        serde_json::from_slice(&output.stdout).expect("export-action prints JSON"),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn https_app(dir: &std::path::Path, flags: &[&str]) -> (TestApp, std::path::PathBuf) {
    let (cert, key) = gen_cert(dir, false);
    let mut args = vec![
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    args.extend_from_slice(flags);
    (TestApp::spawn(Backend::Sqlite, &args).await, cert)
}

#[tokio::test]
async fn the_exported_api_key_action_works_end_to_end_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let (app, ca) = https_app(dir.path(), &["--api-key", API_KEY]).await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let (action, instructions) =
        export(&["--url", &format!("https://{address}"), "--auth", "api-key"]);
    assert!(
        instructions.contains("User Defined") && instructions.contains("apiKey"),
        "{instructions}"
    );
    assert!(
        !action.to_string().contains(API_KEY),
        "no secret is embedded"
    );

    let mut credentials = Map::new();
    credentials.insert("apiKey".into(), Value::String(API_KEY.into()));
    let integration = Integration {
        address: address.clone(),
        ca: ca.clone(),
        credentials,
        basic: None,
    };
    let cases = [
        ("tel:+15551234567", ALICE),
        ("+15550000000", UNKNOWN),
        ("anonymous", UNKNOWN),
        // Quotes, backslashes, slashes and non-ASCII must be escaped into valid JSON.
        ("\"+1 (555) 123-4567\"", ALICE),
        ("sip:+15551234567@host;x=\"a\\b/c\"", ALICE),
        ("٥٥٥١٢٣٤٥٦٧", ALICE),
        ("Ｒé \" \\ \n\t {} ${input.phoneNumber}", UNKNOWN),
    ];
    for (phone, expected) in cases {
        match execute(
            &action,
            &integration,
            serde_json::json!({ "phoneNumber": phone }),
        )
        .await
        {
            ActionResult::Success(output) => assert_eq!(output, json(expected), "{phone:?}"),
            ActionResult::Failed(why) => panic!("{phone:?}: the action failed: {why}"),
        }
    }

    let mut wrong = Map::new();
    wrong.insert(
        "apiKey".into(),
        Value::String("not-the-key-0123456789abcdef".into()),
    );
    let intruder = Integration {
        address,
        ca,
        credentials: wrong,
        basic: None,
    };
    match execute(
        &action,
        &intruder,
        serde_json::json!({"phoneNumber": "tel:+15551234567"}),
    )
    .await
    {
        ActionResult::Failed(why) => assert!(why.starts_with("HTTP 401"), "{why}"),
        ActionResult::Success(output) => panic!("wrong credentials must fail, got {output}"),
    }
    match execute(&action, &integration, serde_json::json!({"phone": "x"})).await {
        ActionResult::Failed(why) => assert!(why.contains("contract"), "{why}"),
        ActionResult::Success(output) => {
            panic!("an input without phoneNumber must fail, got {output}")
        }
    }
}

#[tokio::test]
async fn the_exported_basic_auth_action_works_and_defaults_follow_the_unknown_answer() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = [
        "--unknown-customer-id",
        "GUEST",
        "--unknown-name",
        "Valued Caller",
    ];
    let mut flags = vec!["--basic-auth", "genesys:correct-horse-battery"];
    flags.extend_from_slice(&unknown);
    let (app, ca) = https_app(dir.path(), &flags).await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut args = vec![
        "--url".to_owned(),
        format!("https://{address}/"),
        "--auth".into(),
        "basic".into(),
    ];
    args.extend(unknown.iter().map(|s| s.to_string()));
    let (action, instructions) = export(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(instructions.contains("Basic Auth"), "{instructions}");
    assert_eq!(
        action["config"]["request"]["requestUrlTemplate"],
        format!("https://{address}/api/v1/lookup")
    );
    assert_eq!(
        action["config"]["response"]["translationMapDefaults"]["customer_id"],
        "\"GUEST\""
    );

    let basic = Some(("genesys".to_owned(), "correct-horse-battery".to_owned()));
    let integration = Integration {
        address: address.clone(),
        ca: ca.clone(),
        credentials: Map::new(),
        basic,
    };
    match execute(
        &action,
        &integration,
        serde_json::json!({"phoneNumber": "tel:+15559876543"}),
    )
    .await
    {
        ActionResult::Success(output) => assert_eq!(output["customer_id"], "CUST-002"),
        ActionResult::Failed(why) => panic!("{why}"),
    }
    match execute(
        &action,
        &integration,
        serde_json::json!({"phoneNumber": "anonymous"}),
    )
    .await
    {
        ActionResult::Success(output) => {
            assert_eq!(
                output,
                serde_json::json!({"customer_id": "GUEST", "name": "Valued Caller", "loyalty_points": 0, "is_vip": false})
            )
        }
        ActionResult::Failed(why) => panic!("{why}"),
    }
    let wrong = Some(("genesys".to_owned(), "wrong-password".to_owned()));
    let intruder = Integration {
        address,
        ca,
        credentials: Map::new(),
        basic: wrong,
    };
    assert!(
        matches!(execute(&action, &intruder, serde_json::json!({"phoneNumber": "x"})).await, ActionResult::Failed(why) if why.starts_with("HTTP 401"))
    );
}

/// A response missing fields still yields a full, contract-valid output: the defaults fill in.
#[test]
fn translation_defaults_cover_every_output_field() {
    let (action, _) = export(&["--url", "https://lookup.example.com"]);
    let response = &action["config"]["response"];
    let mut translated = Map::new();
    for name in response["translationMap"].as_object().unwrap().keys() {
        translated.insert(
            name.clone(),
            response["translationMapDefaults"][name].clone(),
        );
    }
    let output: Value = serde_json::from_str(&render_velocity(
        response["successTemplate"].as_str().unwrap(),
        &translated,
    ))
    .unwrap();
    assert_eq!(output, json(UNKNOWN));
    assert!(validator(&action["contract"]["output"]["successSchema"]).is_valid(&output));
    let timeout = action["config"]["timeoutSeconds"].as_u64().unwrap();
    assert!((1..=60).contains(&timeout), "{timeout}");
}

#[test]
fn plain_http_urls_export_with_a_warning_and_bad_options_are_refused() {
    let output = binary()
        .args(["export-action", "--url", "http://localhost:8080"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("refuses to call plain HTTP"));
    for bad in [["--url", "ftp://x"], ["--url", "not a url"]] {
        assert!(
            !binary()
                .arg("export-action")
                .args(bad)
                .output()
                .unwrap()
                .status
                .success(),
            "{bad:?}"
        );
    }
    let output = binary()
        .args([
            "export-action",
            "--url",
            "https://x.example",
            "--timeout-seconds",
            "61",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
}

/// The Terraform resource is valid HCL and says exactly what the JSON says.
#[test]
fn terraform_output_is_the_same_action_in_valid_hcl() {
    let (action, _) = export(&[
        "--url",
        "https://lookup.example.com",
        "--timeout-seconds",
        "9",
        "--secure",
    ]);
    let output = binary()
        .args([
            "export-action",
            "--url",
            "https://lookup.example.com",
            "--timeout-seconds",
            "9",
            "--secure",
            "--format",
            "terraform",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let body: hcl::Body =
        hcl::from_str(&text).unwrap_or_else(|e| panic!("invalid HCL: {e}\n{text}"));
    let resource = body
        .blocks()
        .find(|b| {
            b.identifier() == "resource"
                && b.labels().first().map(|l| l.as_str()) == Some("genesyscloud_integration_action")
        })
        .expect("a genesyscloud_integration_action resource");
    let attribute = |body: &hcl::Body, name: &str| {
        body.attributes()
            .find(|a| a.key() == name)
            .map(|a| a.expr().clone())
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let string = |expr: hcl::Expression| -> String {
        match expr {
            hcl::Expression::String(s) => s,
            hcl::Expression::TemplateExpr(t) => match *t {
                hcl::TemplateExpr::QuotedString(raw) => {
                    serde_json::from_str::<String>(&format!("\"{raw}\""))
                        .unwrap()
                        .replace("$${", "${")
                }
                other => panic!("unexpected template {other:?}"),
            },
            other => panic!("expected a string, got {other:?}"),
        }
    };
    assert_eq!(string(attribute(resource.body(), "name")), action["name"]);
    assert_eq!(
        attribute(resource.body(), "config_timeout_seconds"),
        hcl::Expression::Number(9.into())
    );
    assert_eq!(
        attribute(resource.body(), "secure"),
        hcl::Expression::Bool(true)
    );
    let request = resource
        .body()
        .blocks()
        .find(|b| b.identifier() == "config_request")
        .unwrap();
    let json_request = &action["config"]["request"];
    assert_eq!(
        string(attribute(request.body(), "request_template")),
        json_request["requestTemplate"]
    );
    assert_eq!(
        string(attribute(request.body(), "request_url_template")),
        json_request["requestUrlTemplate"]
    );
    let response = resource
        .body()
        .blocks()
        .find(|b| b.identifier() == "config_response")
        .unwrap();
    assert_eq!(
        string(attribute(response.body(), "success_template")),
        action["config"]["response"]["successTemplate"]
    );
    let hcl::Expression::Object(headers) = attribute(request.body(), "headers") else {
        panic!("headers is a map")
    };
    let api_key = headers
        .iter()
        .find(|(k, _)| k.to_string().contains("X-API-Key"))
        .map(|(_, v)| string(v.clone()))
        .unwrap();
    assert_eq!(api_key, json_request["headers"]["X-API-Key"]);
    assert!(text.contains("jsonencode({\"$schema\":\"http://json-schema.org/draft-04/schema#\""));
}

/// Genesys sends ININ-Correlation-Id; the service logs it on the request's lines and echoes it.
#[tokio::test]
async fn the_request_id_comes_from_the_caller_or_is_generated_and_is_echoed() {
    let (_folder, mut server) = crate::helpers::serve_demo(&[], &[]);
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/lookup?phoneNumber=%2B15551234567", server.base);
    let echoed = |headers: &[(&str, &str)]| {
        let mut request = client.get(&url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        async move {
            request.send().await.unwrap().headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(
        echoed(&[("ININ-Correlation-Id", "3f1c7a52-genesys-1")]).await,
        "3f1c7a52-genesys-1"
    );
    assert_eq!(
        echoed(&[("X-Request-Id", "req-42"), ("ININ-Correlation-Id", "other")]).await,
        "req-42"
    );
    let generated = echoed(&[]).await;
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
    let replaced = echoed(&[("X-Request-Id", "evil\" injected=1")]).await;
    assert!(
        uuid::Uuid::parse_str(&replaced).is_ok(),
        "an unsafe id must be replaced: {replaced}"
    );

    let line = server.wait_for_log("3f1c7a52-genesys-1");
    assert!(
        line.contains("status=200") && line.contains("outcome=found"),
        "{line}"
    );
    assert!(server.wait_for_log(&generated).contains("status=200"));
}

/// The files `export-action --format terraform --out` writes, by name, with any environment.
fn kit(
    args: &[&str],
    env: &[(&str, &str)],
) -> (
    tempfile::TempDir,
    std::collections::BTreeMap<String, String>,
) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("module");
    let mut command = binary();
    command
        .args([
            "export-action",
            "--format",
            "terraform",
            "--out",
            out.to_str().unwrap(),
        ])
        .args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let files = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(entry.path()).unwrap(),
            )
        })
        .collect();
    (dir, files)
}

/// `var.x` and `genesyscloud_type.name` references in HCL text (escaped `$${…}` templates, which
/// Terraform passes through to Genesys, are not references).
fn references(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    for prefix in ["var.", "genesyscloud_"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(prefix).map(|i| i + from) {
            from = at + prefix.len();
            let before = at.checked_sub(1).map(|i| bytes[i]);
            if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'"') {
                continue;
            }
            let end = text[at..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .map_or(text.len(), |i| at + i);
            let reference = &text[at..end];
            let parts: Vec<&str> = reference.split('.').collect();
            if prefix == "var." {
                found.push(format!("var.{}", parts[1]));
            } else if parts.len() >= 2 {
                found.push(format!("{}.{}", parts[0], parts[1]));
            }
        }
    }
    found
}

/// The module is complete: valid HCL, the provider pinned, a credential of the kind `--auth`
/// names, the integration, the action and the flow, every reference declared, every
/// environment-specific value of the flow file substituted, secrets only as sensitive variables.
#[test]
fn the_terraform_module_is_complete_and_every_reference_resolves() {
    for (auth, credential_type) in [
        ("api-key", Some("userDefined")),
        ("basic", Some("basicAuth")),
        ("none", None),
    ] {
        let (_dir, files) = kit(
            &["--url", "https://lookup.example.com", "--auth", auth],
            &[],
        );
        let mut declared = std::collections::BTreeSet::new();
        let mut bodies = Vec::new();
        for (name, text) in files.iter().filter(|(name, _)| name.ends_with(".tf")) {
            let body: hcl::Body =
                hcl::from_str(text).unwrap_or_else(|e| panic!("{name} is not HCL: {e}\n{text}"));
            for block in body.blocks() {
                let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
                match block.identifier() {
                    "variable" => {
                        declared.insert(format!("var.{}", labels[0]));
                    }
                    "resource" => {
                        declared.insert(format!("{}.{}", labels[0], labels[1]));
                    }
                    _ => {}
                }
            }
            bodies.push((name.clone(), body));
        }
        for (name, text) in files.iter().filter(|(name, _)| name.ends_with(".tf")) {
            for reference in references(text) {
                assert!(
                    declared.contains(&reference),
                    "{auth}: {name} refers to undeclared {reference}"
                );
            }
        }
        let all = files.values().cloned().collect::<Vec<_>>().join("\n");
        assert!(
            all.contains("source  = \"mypurecloud/genesyscloud\""),
            "{all}"
        );
        assert!(
            !all.contains("file_content_hash"),
            "the provider computes it"
        );
        assert_eq!(
            declared.contains("genesyscloud_integration_credential.customer_lookup"),
            credential_type.is_some(),
            "{auth}"
        );
        if let Some(kind) = credential_type {
            assert!(
                all.contains(&format!("credential_type_name = \"{kind}\"")),
                "{auth}"
            );
            assert!(
                all.contains("basicAuth = genesyscloud_integration_credential.customer_lookup.id"),
                "the integration holds the credential"
            );
            // Every secret is a sensitive variable without a default.
            let secrets: Vec<&str> = match auth {
                "api-key" => vec!["api_key"],
                _ => vec!["basic_auth_username", "basic_auth_password"],
            };
            let variables = &files["variables.tf"];
            for secret in secrets {
                let block = variables
                    .split("variable ")
                    .find(|b| b.starts_with(&format!("\"{secret}\"")))
                    .unwrap_or_else(|| panic!("{auth}: no variable {secret}"));
                assert!(
                    block.contains("sensitive   = true") && !block.contains("default"),
                    "{block}"
                );
            }
        }
        for resource in [
            "genesyscloud_integration.customer_lookup",
            "genesyscloud_integration_action.customer_lookup",
            "genesyscloud_flow.customer_lookup",
        ] {
            assert!(declared.contains(resource), "{auth}: no {resource}");
        }
        let main = &files["main.tf"];
        assert!(
            main.contains("integration_type = \"custom-rest-actions\"")
                && main.contains("intended_state   = \"ENABLED\"")
        );
        assert!(
            main.contains("integration_id         = genesyscloud_integration.customer_lookup.id")
        );
        assert!(main.contains(
            "category               = genesyscloud_integration.customer_lookup.config[0].name"
        ));
        assert!(main.contains(&format!(
            "filepath = \"${{path.module}}/{}\"",
            "customer-lookup-flow.yaml"
        )));
        assert!(
            files.contains_key("customer-lookup-flow.yaml"),
            "the flow file is in the module"
        );
        for output in ["action_id", "flow_id"] {
            assert!(
                files["outputs.tf"].contains(&format!("output \"{output}\"")),
                "{output}"
            );
        }

        // Every `{{key}}` of the flow file is substituted, and nothing else is.
        let flow = &files["customer-lookup-flow.yaml"];
        let placeholders: std::collections::BTreeSet<String> = flow
            .split("{{")
            .skip(1)
            .map(|rest| rest.split("}}").next().unwrap().to_owned())
            .collect();
        let substitutions_block = main
            .split("substitutions = {")
            .nth(1)
            .unwrap()
            .split('}')
            .next()
            .unwrap();
        let substituted: std::collections::BTreeSet<String> = substitutions_block
            .lines()
            .filter_map(|line| line.split_once('=').map(|(key, _)| key.trim().to_owned()))
            .collect();
        assert_eq!(placeholders, substituted, "{auth}");
    }
}

/// The action inside the module is the one the JSON export describes, and it works against the
/// running service for a known, an unknown and a withheld caller.
#[tokio::test]
async fn the_modules_action_answers_like_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let (app, ca) = https_app(dir.path(), &["--api-key", API_KEY]).await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let (_module_dir, files) = kit(&["--url", "https://lookup.example.com"], &[]);
    let body: hcl::Body = hcl::from_str(&files["main.tf"]).unwrap();
    let resource = body
        .blocks()
        .find(|b| {
            b.identifier() == "resource"
                && b.labels()[0].as_str() == "genesyscloud_integration_action"
        })
        .unwrap();
    // The HCL string as Terraform hands it to Genesys: `$${` is a literal `${`.
    let string = |body: &hcl::Body, name: &str| -> String {
        let expr = body
            .attributes()
            .find(|a| a.key() == name)
            .unwrap()
            .expr()
            .clone();
        let raw = match expr {
            hcl::Expression::String(s) => return s,
            hcl::Expression::TemplateExpr(t) => match *t {
                hcl::TemplateExpr::QuotedString(raw) => raw,
                other => panic!("{other:?}"),
            },
            other => panic!("{name}: {other:?}"),
        };
        serde_json::from_str::<String>(&format!("\"{raw}\""))
            .unwrap()
            .replace("$${", "${")
    };
    let map = |body: &hcl::Body, name: &str| -> Value {
        let hcl::Expression::Object(object) = body
            .attributes()
            .find(|a| a.key() == name)
            .unwrap()
            .expr()
            .clone()
        else {
            panic!("{name} is a map")
        };
        Value::Object(
            object
                .into_iter()
                .map(|(key, value)| {
                    let key = key.to_string().trim_matches('"').to_owned();
                    let holder = hcl::Body::builder().add_attribute(("v", value)).build();
                    (key, Value::String(string(&holder, "v")))
                })
                .collect(),
        )
    };
    // jsonencode(<JSON>) on one line, as generated.
    let contract = |name: &str| -> Value {
        let line = files["main.tf"]
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap();
        let json = line
            .split_once("jsonencode(")
            .unwrap()
            .1
            .trim_end()
            .trim_end_matches(')');
        serde_json::from_str(&json.replace("$${", "${")).unwrap()
    };
    let block = |name: &str| {
        resource
            .body()
            .blocks()
            .find(|b| b.identifier() == name)
            .unwrap()
            .body()
            .clone()
    };
    let request = block("config_request");
    let response = block("config_response");
    let url = string(&request, "request_url_template")
        .replace("${var.service_url}", &format!("https://{address}"));
    let action = serde_json::json!({
        "config": {
            "request": {
                "requestUrlTemplate": url,
                "requestType": string(&request, "request_type"),
                "headers": map(&request, "headers"),
                "requestTemplate": string(&request, "request_template"),
            },
            "response": {
                "translationMap": map(&response, "translation_map"),
                "translationMapDefaults": map(&response, "translation_map_defaults"),
                "successTemplate": string(&response, "success_template"),
            },
        },
        "contract": {
            "input": {"inputSchema": contract("contract_input")},
            "output": {"successSchema": contract("contract_output")},
        },
    });
    // The same action as the JSON export says, apart from where the URL comes from.
    let (exported, _) = export(&["--url", &format!("https://{address}")]);
    assert_eq!(
        action["config"],
        exported["config"]
            .as_object()
            .map(|c| {
                let mut c = c.clone();
                c.remove("timeoutSeconds");
                Value::Object(c)
            })
            .unwrap()
    );
    let mut credentials = Map::new();
    credentials.insert("apiKey".into(), Value::String(API_KEY.into()));
    let integration = Integration {
        address,
        ca,
        credentials,
        basic: None,
    };
    for (phone, expected) in [
        ("tel:+15551234567", ALICE),
        ("+15550000000", UNKNOWN),
        ("anonymous", UNKNOWN),
    ] {
        match execute(
            &action,
            &integration,
            serde_json::json!({"phoneNumber": phone}),
        )
        .await
        {
            ActionResult::Success(output) => assert_eq!(output, json(expected), "{phone}"),
            ActionResult::Failed(why) => panic!("{phone}: {why}"),
        }
    }
}

/// The flow calls the exported action (same category, same name) with Call.Ani, maps exactly
/// the outputs the action produces, branches on the boolean it maps, and sends every caller it
/// does not route as a VIP, the lookup's failures included, to the standard queue.
#[test]
fn the_archy_flow_uses_the_action_it_was_exported_with() {
    use yaml_rust2::YamlLoader;
    let args = [
        "export-action",
        "--url",
        "https://lookup.example.com",
        "--format",
        "archy",
        "--name",
        "Who Is Calling",
        "--category",
        "Lookups",
        "--flow-name",
        "Main Line",
        "--vip-queue",
        "Gold Desk",
        "--standard-queue",
        "Front Desk",
    ];
    let output = binary().args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let docs =
        YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("invalid YAML: {e}\n{text}"));
    let flow = &docs[0]["inboundCall"];
    for key in [
        "name",
        "startUpRef",
        "defaultLanguage",
        "supportedLanguages",
        "initialGreeting",
        "tasks",
    ] {
        assert!(!flow[key].is_badvalue(), "inboundCall.{key} missing");
    }
    assert_eq!(flow["name"].as_str(), Some("Main Line"));
    // Any name survives into valid YAML, quotes, colons and backslashes included.
    let odd = "VIP \"Gold\": EU\\Sales # 1";
    let output = binary()
        .args([
            "export-action",
            "--url",
            "https://lookup.example.com",
            "--format",
            "archy",
            "--vip-queue",
            odd,
        ])
        .output()
        .unwrap();
    let odd_flow = YamlLoader::load_from_str(&String::from_utf8(output.stdout).unwrap()).unwrap();
    let odd_vip = &odd_flow[0]["inboundCall"]["tasks"][0]["task"]["actions"][0]["callData"]["outputs"]
        ["success"]["actions"][0]["decision"]["outputs"]["yes"]["actions"][0]["transferToAcd"];
    assert_eq!(odd_vip["targetQueue"]["lit"]["name"].as_str(), Some(odd));
    let task = &flow["tasks"][0]["task"];
    assert_eq!(
        flow["startUpRef"].as_str(),
        Some(
            format!(
                "/inboundCall/tasks/task[{}]",
                task["refId"].as_str().unwrap()
            )
            .as_str()
        )
    );
    let actions = task["actions"].as_vec().unwrap();
    let call = &actions[0]["callData"];
    let categories = call["category"].as_hash().unwrap();
    assert_eq!(categories.len(), 1);
    let (category, by_category) = categories.iter().next().unwrap();
    assert_eq!(category.as_str(), Some("Lookups"), "the action's category");
    let (action_name, data_action) = by_category["dataAction"]
        .as_hash()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    assert_eq!(
        action_name.as_str(),
        Some("Who Is Calling"),
        "the action's name"
    );
    assert_eq!(
        data_action["inputs"]["phoneNumber"]["exp"].as_str(),
        Some("Call.Ani")
    );
    let (json_action, _) = export(&["--url", "https://lookup.example.com"]);
    let produced: std::collections::BTreeSet<String> =
        json_action["contract"]["output"]["successSchema"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
    let mapped: std::collections::BTreeMap<String, String> = data_action["successOutputs"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_owned(),
                v["var"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        mapped
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        produced
    );
    // The decision reads the variable the boolean output is mapped to, declared as a boolean.
    let decision = &call["outputs"]["success"]["actions"][0]["decision"];
    assert_eq!(
        decision["condition"]["exp"].as_str(),
        Some(mapped["is_vip"].as_str())
    );
    let declared_boolean = flow["variables"]
        .as_vec()
        .unwrap()
        .iter()
        .any(|v| v["booleanVariable"]["name"].as_str() == Some(mapped["is_vip"].as_str()));
    assert!(
        declared_boolean,
        "{} is declared a boolean",
        mapped["is_vip"]
    );
    let vip = &decision["outputs"]["yes"]["actions"][0]["transferToAcd"];
    assert_eq!(
        vip["targetQueue"]["lit"]["name"].as_str(),
        Some("Gold Desk")
    );
    // After the lookup, whatever its outcome, the next action transfers to the standard queue.
    let standard = &actions[1]["transferToAcd"];
    assert_eq!(
        standard["targetQueue"]["lit"]["name"].as_str(),
        Some("Front Desk")
    );
}

/// Secrets given to the service (command line or environment) never reach an exported file.
#[test]
fn no_secret_reaches_an_exported_file() {
    let secrets = [
        "sk-9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c",
        "correct-horse-battery",
        "adm-0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    ];
    let env = [
        ("LOOKUP_API_KEYS", secrets[0]),
        ("LOOKUP_BASIC_AUTH", "genesys:correct-horse-battery"),
        ("LOOKUP_ADMIN_KEYS", secrets[2]),
    ];
    for auth in ["api-key", "basic"] {
        let (_dir, files) = kit(
            &["--url", "https://lookup.example.com", "--auth", auth],
            &env,
        );
        for (name, text) in &files {
            for secret in secrets {
                assert!(!text.contains(secret), "{name} holds a secret");
            }
        }
    }
    let refused = binary()
        .args([
            "export-action",
            "--url",
            "https://lookup.example.com",
            "--api-key",
            secrets[0],
        ])
        .output()
        .unwrap();
    assert!(
        !refused.status.success(),
        "export-action takes no secret on its command line"
    );
}

/// With `--answer-fields`, the exported action carries the fields in its contract, translation
/// map and defaults, and answers them from the service configured the same way: a flow can
/// branch on a shared line.
#[tokio::test]
async fn the_exported_action_carries_the_answer_fields_the_service_is_configured_with() {
    let dir = tempfile::tempdir().unwrap();
    let fields = ["--answer-fields", "match,match_count"];
    let mut flags = vec!["--api-key", API_KEY];
    flags.extend_from_slice(&fields);
    let (app, ca) = https_app(dir.path(), &flags).await;
    // Alice's number is a household's now: a second customer has it.
    {
        use sqlx::Connection;
        let mut db = sqlx::SqliteConnection::connect(&app.db.url).await.unwrap();
        sqlx::raw_sql(
            "INSERT INTO customers (customer_id, name, loyalty_points, is_vip) VALUES ('CUST-900', 'Pat Smith', 1, 0); \
             INSERT INTO phone_numbers (e164, customer_id) VALUES ('+15551234567', 'CUST-900')",
        )
        .execute(&mut db)
        .await
        .unwrap();
    }
    let address = app.base.trim_start_matches("http://").to_owned();
    let url = format!("https://{address}");
    let mut args = vec!["--url", url.as_str(), "--auth", "api-key"];
    args.extend_from_slice(&fields);
    let (action, _) = export(&args);
    let schema = &action["contract"]["output"]["successSchema"];
    assert_eq!(
        schema["required"],
        serde_json::json!([
            "customer_id",
            "name",
            "loyalty_points",
            "is_vip",
            "match",
            "match_count"
        ])
    );
    assert_eq!(schema["properties"]["match"]["type"], "string");
    assert_eq!(schema["properties"]["match_count"]["type"], "integer");
    let response = &action["config"]["response"];
    assert_eq!(response["translationMap"]["match"], "$.match");
    assert_eq!(response["translationMapDefaults"]["match"], "\"none\"");
    assert_eq!(response["translationMapDefaults"]["match_count"], "0");

    let mut credentials = Map::new();
    credentials.insert("apiKey".into(), Value::String(API_KEY.into()));
    let integration = Integration {
        address,
        ca,
        credentials,
        basic: None,
    };
    let cases = [
        ("tel:+15551234567", "UNKNOWN", "shared", 2),
        ("tel:+15559876543", "CUST-002", "unique", 1),
        ("+15550000000", "UNKNOWN", "none", 0),
        ("anonymous", "UNKNOWN", "withheld", 0),
    ];
    for (phone, id, outcome, count) in cases {
        // The SQLite change feed may take a moment to drop an answer cached before the insert.
        let started = std::time::Instant::now();
        loop {
            let output = match execute(
                &action,
                &integration,
                serde_json::json!({ "phoneNumber": phone }),
            )
            .await
            {
                ActionResult::Success(output) => output,
                ActionResult::Failed(why) => panic!("{phone}: the action failed: {why}"),
            };
            let got = (
                output["customer_id"].clone(),
                output["match"].clone(),
                output["match_count"].clone(),
            );
            if got == (id.into(), outcome.into(), count.into()) {
                break;
            }
            assert!(started.elapsed().as_secs() < 2, "{phone}: {output}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
