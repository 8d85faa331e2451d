//! The body of `POST /api/v1/lookup` on arbitrary bytes: the one-pass JSON reader
//! (`caller_id_from_json` and its serde visitor in src/http/lookup.rs).
//!
//! Needs `customer_lookup::http::caller_id_from_json`: the function is private to the private
//! module `http::lookup`, so this target compiles once it is `pub` and re-exported from `http`
//! (`pub use self::lookup::caller_id_from_json;` in src/http/mod.rs).
//!
//! Checks: no panic (nor stack overflow: members other than phoneNumber are skipped without
//! recursion); an accepted caller ID is not blank; and wherever serde_json can read the body
//! into a `Value`, the reader agrees with what that tree says about `phoneNumber`.
#![no_main]

use customer_lookup::http::{ApiError, caller_id_from_json};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|body: &[u8]| {
    let read = caller_id_from_json(body);
    if let Ok(caller_id) = &read {
        assert!(
            !caller_id.trim().is_empty(),
            "blank caller ID {caller_id:?} accepted"
        );
    }
    // The reference: the same rules on a serde_json tree. serde_json refuses nesting deeper
    // than 128 where the reader skips it, so only bodies the tree can hold are compared.
    let Ok(tree) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let expected = match &tree {
        Value::Object(members) => match members.get("phoneNumber") {
            None | Some(Value::Null) => Err("missing"),
            Some(Value::String(text)) if text.trim().is_empty() => Err("blank"),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(Value::Number(n)) => n.as_u64().map(|n| n.to_string()).ok_or("not a string"),
            Some(_) => Err("not a string"),
        },
        _ => Err("not an object"),
    };
    let got = match read {
        Ok(caller_id) => Ok(caller_id),
        Err(ApiError::MissingPhoneNumber) => Err("missing"),
        Err(ApiError::BlankPhoneNumber) => Err("blank"),
        Err(ApiError::PhoneNumberNotAString(_)) => Err("not a string"),
        Err(ApiError::BodyNotAnObject(_)) => Err("not an object"),
        Err(other) => panic!("serde_json reads the body, the lookup reader refuses it: {other}"),
    };
    assert_eq!(got, expected, "body {:?}", String::from_utf8_lossy(body));
});
