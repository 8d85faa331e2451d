//! The caller ID inside whatever the flow passed: the user part of a SIP URI or name-addr
//! (RFC 3261), a `tel:` URI (RFC 3966) without the parameters libphonenumber does not know, or
//! the text as it came. Everything else (tel: syntax, extensions, punctuation, Unicode digits) is
//! libphonenumber's to read.

use std::borrow::Cow;

/// The tel: parameters libphonenumber reads itself; any other one makes it refuse the URI.
const TEL_PARAMETERS_LIBPHONENUMBER_READS: [&str; 3] = ["ext", "isub", "phone-context"];

/// The caller ID inside what the flow passed, and what was left out.
#[derive(Debug)]
pub struct CallerId<'a> {
    pub text: Cow<'a, str>,
    /// `tel`, `sip` or `sips` when it was a URI.
    pub scheme: Option<&'static str>,
    /// What was left out: a name-addr around the URI, a SIP host and its parameters, tel:
    /// parameters that name no caller.
    pub dropped: Vec<String>,
}

/// See the module notes; the departures from libphonenumber are listed in `normalise`.
pub fn caller_id(raw: &str) -> CallerId<'_> {
    let mut text = raw.trim();
    let mut dropped = Vec::new();
    // name-addr: `"Alice" <sip:+15551234567@host>;tag=x`
    if let Some(open) = text.find('<')
        && let Some(len) = text[open + 1..].find('>')
    {
        let inner = text[open + 1..open + 1 + len].trim();
        if ["sip:", "sips:", "tel:"]
            .iter()
            .any(|scheme| strip_scheme(inner, scheme).is_some())
        {
            let (before, after) = (&text[..open], &text[open + 1 + len + 1..]);
            dropped.extend(
                [before.trim(), after.trim()]
                    .into_iter()
                    .filter(|part| !part.is_empty())
                    .map(str::to_owned),
            );
            text = inner;
        }
    }

    if let Some(rest) = strip_scheme(text, "tel:") {
        let (kept, unknown) = known_tel_parameters_only(rest);
        dropped.extend(unknown);
        // libphonenumber finds `tel:` and `;phone-context=` in lower case only.
        let kept = if text.starts_with("tel:") && kept.bytes().all(|b| !b.is_ascii_uppercase()) {
            match kept {
                Cow::Borrowed(_) => Cow::Borrowed(text),
                Cow::Owned(kept) => Cow::Owned(format!("tel:{kept}")),
            }
        } else {
            Cow::Owned(format!("tel:{}", lower_case_parameter_names(&kept)))
        };
        return CallerId {
            text: kept,
            scheme: Some("tel"),
            dropped,
        };
    }
    let sip = [("sip:", "sip"), ("sips:", "sips")]
        .into_iter()
        .find_map(|(prefix, name)| strip_scheme(text, prefix).map(|rest| (rest, name)));
    if let Some((rest, scheme)) = sip {
        let user = match rest.find('@') {
            Some(at) => {
                dropped.push(rest[at..].to_owned());
                &rest[..at]
            }
            None => rest,
        };
        let user = percent_encoding::percent_decode_str(user).decode_utf8_lossy();
        // A user part may carry telephone-subscriber parameters (`;npdi;rn=…`) as a tel: URI does.
        let (kept, unknown) = known_tel_parameters_only(&user);
        dropped.extend(unknown);
        return CallerId {
            text: Cow::Owned(kept.into_owned()),
            scheme: Some(scheme),
            dropped,
        };
    }
    // `+15551234567@10.0.0.1`: a SIP user part without its scheme.
    if let Some(at) = text.find('@') {
        dropped.push(text[at..].to_owned());
        return CallerId {
            text: Cow::Borrowed(&text[..at]),
            scheme: None,
            dropped,
        };
    }
    CallerId {
        text: Cow::Borrowed(raw),
        scheme: None,
        dropped,
    }
}

/// `;PHONE-CONTEXT=+1` as `;phone-context=+1`: parameter names are case-insensitive.
fn lower_case_parameter_names(uri: &str) -> String {
    let mut parts = uri.split(';');
    let mut out = parts.next().unwrap_or_default().to_owned();
    for param in parts {
        out.push(';');
        match param.split_once('=') {
            Some((name, value)) => {
                out.push_str(&name.to_ascii_lowercase());
                out.push('=');
                out.push_str(value);
            }
            None => out.push_str(&param.to_ascii_lowercase()),
        }
    }
    out
}

fn strip_scheme<'a>(text: &'a str, scheme: &str) -> Option<&'a str> {
    let head = text.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| &text[scheme.len()..])
}

/// The tel: URI without parameters such as `;user=phone`, `;tgrp=…`, `;npdi` or `;rn=…`, which
/// say how the call was routed, not who is calling; and those parameters.
fn known_tel_parameters_only(uri: &str) -> (Cow<'_, str>, Vec<String>) {
    let known = |param: &str| {
        let name = param.split('=').next().unwrap_or_default().trim();
        TEL_PARAMETERS_LIBPHONENUMBER_READS
            .iter()
            .any(|known| name.eq_ignore_ascii_case(known))
    };
    let mut parts = uri.split(';');
    let number = parts.next().unwrap_or_default();
    let params: Vec<&str> = parts.collect();
    if params.iter().all(|param| known(param)) {
        return (Cow::Borrowed(uri), Vec::new());
    }
    let mut kept = number.to_owned();
    let mut unknown = Vec::new();
    for param in params {
        if known(param) {
            kept.push(';');
            kept.push_str(param);
        } else {
            unknown.push(format!(";{param}"));
        }
    }
    (Cow::Owned(kept), unknown)
}

#[cfg(test)]
mod tests {
    use super::caller_id;

    #[test]
    fn extracts_the_caller_id() {
        let cases = [
            ("tel:+15551234567", "tel:+15551234567"),
            ("TEL:+1-555-123-4567;EXT=9", "tel:+1-555-123-4567;ext=9"),
            (
                "TEL:555-1234;PHONE-CONTEXT=+1-212",
                "tel:555-1234;phone-context=+1-212",
            ),
            (
                "sip:+12015550123;npdi;rn=+12015550000@gw;user=phone",
                "+12015550123",
            ),
            (
                "tel:+15551234567;user=phone;ext=9",
                "tel:+15551234567;ext=9",
            ),
            (
                "tel:555-1234;phone-context=+1-212;tgrp=tg1;trunk-context=example.com",
                "tel:555-1234;phone-context=+1-212",
            ),
            ("tel:+15551234567;npdi;rn=+15550000000", "tel:+15551234567"),
            (
                "sip:+15551234567@sip.example.com;user=phone",
                "+15551234567",
            ),
            ("sips:%2B15551234567@example.com", "+15551234567"),
            ("\"Alice\" <sip:+15551234567@host>;tag=1", "+15551234567"),
            ("<tel:+15551234567>", "tel:+15551234567"),
            ("sip:anonymous@anonymous.invalid", "anonymous"),
            ("+15551234567@10.0.0.1", "+15551234567"),
            ("  (555) 123-4567 ", "  (555) 123-4567 "),
            ("\"+15551234567\"", "\"+15551234567\""),
            ("[+44 20 7946 0958]", "[+44 20 7946 0958]"),
            ("tel:", "tel:"),
            ("<", "<"),
        ];
        for (input, expected) in cases {
            assert_eq!(caller_id(input).text, expected, "{input:?}");
        }
    }

    #[test]
    fn says_what_it_left_out() {
        let sip = caller_id("\"Alice\" <sip:+15551234567@host;user=phone>;tag=1");
        assert_eq!(sip.scheme, Some("sip"));
        assert_eq!(sip.dropped, ["\"Alice\"", ";tag=1", "@host;user=phone"]);
        let tel = caller_id("tel:+15551234567;npdi;ext=9;rn=+15550000000");
        assert_eq!(tel.text, "tel:+15551234567;ext=9");
        assert_eq!(tel.dropped, [";npdi", ";rn=+15550000000"]);
        assert!(caller_id("(555) 123-4567").dropped.is_empty());
    }
}
