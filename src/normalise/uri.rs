//! The telephone-subscriber inside whatever the flow passed as the caller ID: a `tel:` URI
//! (RFC 3966), a `sip:`/`sips:` URI or name-addr (RFC 3261), or a plain number.

use std::borrow::Cow;

/// Strips URI syntax and returns the number part, with a `phone-context` that carries a global
/// prefix applied (`tel:555-1234;phone-context=+1-212` is `+1212 555-1234`). Parameters that do
/// not change which line is calling (`ext`, `isub`, `user=phone`, host) are dropped.
pub fn subscriber(raw: &str) -> Cow<'_, str> {
    let mut text = raw.trim();
    // name-addr: `"Alice" <sip:+15551234567@host>;tag=x`
    if let Some(open) = text.find('<')
        && let Some(len) = text[open + 1..].find('>')
    {
        text = text[open + 1..open + 1 + len].trim();
    }
    text = text.trim_matches(|c| c == '"' || c == '\'').trim();

    if let Some(rest) = strip_scheme(text, "tel:") {
        return telephone_subscriber(rest);
    }
    let sip_rest = strip_scheme(text, "sip:").or_else(|| strip_scheme(text, "sips:"));
    if let Some(rest) = sip_rest {
        let user = match rest.find('@') {
            Some(at) => &rest[..at],
            None => rest,
        };
        let user = percent_encoding::percent_decode_str(user).decode_utf8_lossy();
        return Cow::Owned(telephone_subscriber(&user).into_owned());
    }
    // `+15551234567@10.0.0.1`: a SIP user part without its scheme.
    if let Some(at) = text.find('@') {
        return telephone_subscriber(&text[..at]);
    }
    Cow::Borrowed(text)
}

fn strip_scheme<'a>(text: &'a str, scheme: &str) -> Option<&'a str> {
    let head = text.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| &text[scheme.len()..])
}

fn telephone_subscriber(text: &str) -> Cow<'_, str> {
    let mut parts = text.split(';');
    let number = parts.next().unwrap_or_default().trim();
    if number.starts_with('+') {
        return Cow::Borrowed(number);
    }
    let global_prefix = parts.find_map(|param| {
        let (name, value) = param.split_once('=')?;
        let value = value.trim();
        (name.trim().eq_ignore_ascii_case("phone-context") && value.starts_with('+'))
            .then_some(value)
    });
    match global_prefix {
        Some(prefix) => {
            let digits: String = prefix.chars().filter(char::is_ascii_digit).collect();
            Cow::Owned(format!("+{digits} {number}"))
        }
        None => Cow::Borrowed(number),
    }
}

#[cfg(test)]
mod tests {
    use super::subscriber;

    #[test]
    fn extracts_the_number_part() {
        let cases = [
            ("tel:+15551234567", "+15551234567"),
            ("TEL:+1-555-123-4567;ext=9", "+1-555-123-4567"),
            ("tel:555-1234;phone-context=+1-212", "+1212 555-1234"),
            ("tel:555-1234;phone-context=example.com", "555-1234"),
            (
                "sip:+15551234567@sip.example.com;user=phone",
                "+15551234567",
            ),
            ("sips:%2B15551234567@example.com", "+15551234567"),
            ("\"Alice\" <sip:+15551234567@host>;tag=1", "+15551234567"),
            ("sip:anonymous@anonymous.invalid", "anonymous"),
            ("+15551234567@10.0.0.1", "+15551234567"),
            ("  (555) 123-4567 ", "(555) 123-4567"),
            ("\"+15551234567\"", "+15551234567"),
            ("tel:", ""),
            ("<", "<"),
        ];
        for (input, expected) in cases {
            assert_eq!(subscriber(input), expected, "{input:?}");
        }
    }
}
