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
