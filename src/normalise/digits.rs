//! Folding of what a caller ID may contain into the ASCII the `phonenumber` crate reads.
//! libphonenumber accepts every Unicode decimal digit (it calls `Character.digit`); the crate only
//! ASCII ones, and it chokes on tabs, non-breaking spaces and typographic dashes.

/// The zero of every run of ten Unicode decimal digits (general category Nd), Unicode 14.
/// Every Nd character is `zero + value` for one of these (checked when the table was generated
/// from Python's `unicodedata`).
const DIGIT_ZEROS: [u32; 66] = [
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// The value of a Unicode decimal digit, ASCII or not.
pub fn decimal_digit(c: char) -> Option<u8> {
    let code = u32::from(c);
    // The table is sorted: the run holding `c`, if any, starts at the last zero <= c.
    let index = DIGIT_ZEROS
        .partition_point(|&zero| zero <= code)
        .checked_sub(1)?;
    let offset = code - DIGIT_ZEROS[index];
    // Values below 10 only; `offset` fits in u8 then.
    (offset < 10).then_some(offset as u8)
}

/// ASCII digits for every decimal digit, `+` for the full-width plus, a plain space for every
/// other non-ASCII character and every control character; ASCII punctuation and letters stay,
/// since they carry extensions (`ext.`, `x`, `#`) and vanity numbers.
pub fn fold(input: &str) -> String {
    input
        .chars()
        .map(|c| {
            if c.is_ascii() {
                if c.is_ascii_control() { ' ' } else { c }
            } else if let Some(digit) = decimal_digit(c) {
                char::from(b'0' + digit)
            } else if c == '\u{FF0B}' {
                '+'
            } else {
                ' '
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_maps_zero_to_nine() {
        for &zero in &DIGIT_ZEROS {
            for value in 0..10u8 {
                let c = char::from_u32(zero + u32::from(value)).expect("valid scalar");
                assert_eq!(
                    decimal_digit(c),
                    Some(value),
                    "U+{:04X}",
                    zero + u32::from(value)
                );
                assert!(c.is_numeric(), "U+{:04X} is not numeric", u32::from(c));
            }
        }
    }

    #[test]
    fn non_digits_have_no_value() {
        for c in [
            'a', '+', ' ', '\u{065F}', '\u{FF1A}', '\u{0665}', /* Arabic-Indic 5 */
        ] {
            let expected = if c == '\u{0665}' { Some(5) } else { None };
            assert_eq!(decimal_digit(c), expected, "{c:?}");
        }
    }

    #[test]
    fn folds_full_width_and_arabic_indic_digits_and_odd_space() {
        assert_eq!(fold("＋１ ５５５"), "+1 555");
        assert_eq!(fold("٥٥٥١٢٣٤٥٦٧"), "5551234567");
        assert_eq!(fold("555\u{00A0}123\u{2013}4567\t"), "555 123 4567 ");
    }
}
