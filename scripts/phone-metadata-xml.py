#!/usr/bin/env python3
"""Write libphonenumber's raw PhoneNumberMetadata.xml from the installed `phonenumbers` package.

Usage: phone-metadata-xml.py OUTPUT.xml

The `phonenumber` crate (crates/phonenumber) builds its database from libphonenumber's raw
metadata XML, read by its src/metadata/loader.rs. Our test oracle is the Python port `phonenumbers`
at the version in crates/phonenumber/METADATA_VERSION, and its metadata must be the crate's metadata.
scripts/update-phone-metadata.sh runs this script with that version installed.
Upstream XML for that release cannot be downloaded here, so this script rebuilds the XML from the
Python metadata, undoing what libphonenumber's BuildMetadataFromXml did when it compiled the XML:

* "$1" became "\\1" in format strings and formatting rules (the Python port's regex syntax);
* "$NP" and "$FG" in nationalPrefixFormattingRule / carrierCodeFormattingRule were substituted with
  the national prefix and "$1" (the crate substitutes them itself, so they are restored);
* nationalPrefixForParsing defaulted to nationalPrefix when absent (the crate's loader does that);
* intlFormat elements became a separate intl_number_format list (empty when no format had one);
* generalDesc got the union of the types' possible lengths (the raw XML has none: the DTD allows
  only nationalNumberPattern there, and the crate's loader derives them);
* whitespace inside patterns was removed (the crate compiles patterns ignoring whitespace).

Every rule is written on its numberFormat rather than as a territory-wide default: the Python
metadata no longer records which rules were defaults, and the crate loads both forms into the same
formats. Output is deterministic: territories sorted by region code, then the non-geographic
entities (id "001") by calling code, as in the upstream file.
"""

import re
import sys

import phonenumbers
from phonenumbers import PhoneMetadata

# Number types in the order of the raw XML's DTD, as (XML element, Python attribute). emergency,
# shortCode, standardRate and carrierSpecific belong to ShortNumberMetadata.xml, not this file.
NUMBER_TYPES = [
    ("noInternationalDialling", "no_international_dialling"),
    ("fixedLine", "fixed_line"),
    ("mobile", "mobile"),
    ("pager", "pager"),
    ("tollFree", "toll_free"),
    ("premiumRate", "premium_rate"),
    ("sharedCost", "shared_cost"),
    ("personalNumber", "personal_number"),
    ("voip", "voip"),
    ("uan", "uan"),
    ("voicemail", "voicemail"),
]

# Attributes and fields of the main metadata file that the crate does not read but the Python
# metadata could carry; they must be empty, or the script has fallen behind the data.
UNSUPPORTED = ["emergency", "short_code", "standard_rate", "carrier_specific", "sms_services"]


def check_xml_safe(value, where):
    # The crate's loader keeps text and attribute values as written (it does not unescape
    # entities), so a value that needs escaping could not round-trip; none does today.
    if any(ch in value for ch in '<&"\n\r\t'):
        sys.exit(f"{where}: value {value!r} would need XML escaping, which the crate does not undo")
    return value


def dollar_groups(value, where):
    # The Python port writes group references as \1; the XML (and the crate) use $1.
    value = re.sub(r"\\(\d)", r"$\1", value)
    if "\\" in value:
        sys.exit(f"{where}: unexpected backslash in {value!r}")
    return value


def placeholder_rule(rule, national_prefix, where):
    """Restore $FG and $NP in a formatting rule that BuildMetadataFromXml expanded.

    It replaced the first "$NP" with the national prefix and the first "$FG" with "$1"; undo that
    the same way: the first $1 is $FG, and the first occurrence of the national prefix (which is
    all digits, so cannot clash with $FG or $CC) is $NP. A literal digit that equals the prefix
    would be mistaken for it, but formats the same in the crate, which substitutes $NP back.
    """
    rule = dollar_groups(rule, where)
    if "$1" not in rule:
        sys.exit(f"{where}: formatting rule {rule!r} has no first group")
    rule = rule.replace("$1", "$FG", 1)
    if national_prefix and national_prefix in rule:
        rule = rule.replace(national_prefix, "$NP", 1)
    return rule


def lengths(values):
    """Possible lengths as upstream writes them: runs of three or more as [a-b], else a list."""
    values = sorted(set(values))
    parts, i = [], 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"[{values[i]}-{values[j]}]")
        else:
            parts.extend(str(v) for v in values[i : j + 1])
        i = j + 1
    return ",".join(parts)


def attrs(pairs):
    return "".join(f' {k}="{check_xml_safe(v, k)}"' for k, v in pairs if v is not None)


def intl_formats_by_national(meta):
    """For each national format, its international format: None for 'same', "NA" for none.

    Upstream only keeps intl_number_format when some numberFormat had an intlFormat element; then
    every national format has one entry there, in order, except those whose intlFormat was "NA".
    The crate rebuilds the international list the same way from format/intlFormat.
    """
    national, intl = meta.number_format, meta.intl_number_format
    if not intl:
        return [None] * len(national)
    result, j = [], 0
    for nf in national:
        if (
            j < len(intl)
            and intl[j].pattern == nf.pattern
            and list(intl[j].leading_digits_pattern) == list(nf.leading_digits_pattern)
        ):
            result.append(None if intl[j].format == nf.format else intl[j].format)
            j += 1
        else:
            result.append("NA")
    if j != len(intl):
        sys.exit(f"{meta.id}/{meta.country_code}: intl formats do not follow the national ones")
    return result


def territory(meta, out):
    where = f"{meta.id}/{meta.country_code}"
    for name in UNSUPPORTED:
        if getattr(meta, name) is not None:
            sys.exit(f"{where}: has {name}, which the main metadata XML cannot carry")

    np = meta.national_prefix or None
    npfp = meta.national_prefix_for_parsing
    transform = meta.national_prefix_transform_rule
    # BuildMetadataFromXml copied nationalPrefix into nationalPrefixForParsing when the XML had
    # none; leave it out again (the crate's loader does the same).
    if npfp is not None and npfp == np and transform is None:
        npfp = None
    if transform is not None:
        transform = dollar_groups(transform, where)

    territory_attrs = attrs([
        ("id", meta.id),
        ("countryCode", str(meta.country_code)),
        ("mainCountryForCode", "true" if meta.main_country_for_code else None),
        ("leadingDigits", meta.leading_digits),
        ("preferredInternationalPrefix", meta.preferred_international_prefix),
        ("internationalPrefix", meta.international_prefix or None),
        ("nationalPrefix", np),
        ("nationalPrefixForParsing", npfp),
        ("nationalPrefixTransformRule", transform),
        ("preferredExtnPrefix", meta.preferred_extn_prefix),
        ("mobileNumberPortableRegion", "true" if meta.mobile_number_portable_region else None),
    ])
    out.append(f"    <territory{territory_attrs}>")

    if meta.number_format:
        out.append("      <availableFormats>")
        for nf, intl in zip(meta.number_format, intl_formats_by_national(meta)):
            fwhere = f"{where} format {nf.pattern}"
            npfr = nf.national_prefix_formatting_rule
            carrier = nf.domestic_carrier_code_formatting_rule
            format_attrs = attrs([
                ("pattern", nf.pattern),
                ("nationalPrefixFormattingRule",
                 placeholder_rule(npfr, np, fwhere) if npfr else None),
                ("nationalPrefixOptionalWhenFormatting",
                 "true" if nf.national_prefix_optional_when_formatting else None),
                ("carrierCodeFormattingRule",
                 placeholder_rule(carrier, np, fwhere) if carrier else None),
            ])
            out.append(f"        <numberFormat{format_attrs}>")
            for ld in nf.leading_digits_pattern:
                out.append(f"          <leadingDigits>{check_xml_safe(ld, fwhere)}</leadingDigits>")
            out.append(f"          <format>{check_xml_safe(dollar_groups(nf.format, fwhere), fwhere)}</format>")
            if intl is not None:
                intl = intl if intl == "NA" else dollar_groups(intl, fwhere)
                out.append(f"          <intlFormat>{check_xml_safe(intl, fwhere)}</intlFormat>")
            out.append("        </numberFormat>")
        out.append("      </availableFormats>")

    # generalDesc: pattern only. Its possible lengths in the Python metadata were computed from the
    # types below; the raw XML has none and the crate's loader computes them the same way.
    general = meta.general_desc
    out.append("      <generalDesc>")
    if general.example_number is not None:
        out.append(f"        <exampleNumber>{check_xml_safe(general.example_number, where)}</exampleNumber>")
    out.append(f"        <nationalNumberPattern>{check_xml_safe(general.national_number_pattern, where)}</nationalNumberPattern>")
    out.append("      </generalDesc>")

    # A type absent from the XML is absent (None) in the Python metadata too, and stays absent.
    for element, name in NUMBER_TYPES:
        desc = getattr(meta, name)
        if desc is None:
            continue
        dwhere = f"{where} {element}"
        if not desc.possible_length or desc.national_number_pattern is None:
            sys.exit(f"{dwhere}: no possible lengths or pattern")
        local = desc.possible_length_local_only
        out.append(f"      <{element}>")
        length_attrs = attrs([
            ("national", lengths(desc.possible_length)),
            ("localOnly", lengths(local) if local else None),
        ])
        out.append(f"        <possibleLengths{length_attrs}/>")
        if desc.example_number is not None:
            out.append(f"        <exampleNumber>{check_xml_safe(desc.example_number, dwhere)}</exampleNumber>")
        out.append(f"        <nationalNumberPattern>{check_xml_safe(desc.national_number_pattern, dwhere)}</nationalNumberPattern>")
        out.append(f"      </{element}>")

    out.append("    </territory>")


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTPUT.xml")
    version = phonenumbers.__version__

    metas = [PhoneMetadata.metadata_for_region(r) for r in sorted(phonenumbers.SUPPORTED_REGIONS)]
    metas += [
        PhoneMetadata.metadata_for_nongeo_region(cc)
        for cc in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
    ]

    out = [
        "<!-- Copyright (C) 2009 The Libphonenumber Authors. Licensed under the Apache License, Version 2.0.",
        "",
        f"     Generated from the metadata of the Python package phonenumbers=={version}",
        "     (libphonenumber's Python port) by scripts/phone-metadata-xml.py; do not edit by hand.",
        "     Same conventions as libphonenumber's resources/PhoneNumberMetadata.xml. -->",
        "<phoneNumberMetadata>",
        "  <territories>",
    ]
    for meta in metas:
        territory(meta, out)
    out += ["  </territories>", "</phoneNumberMetadata>", ""]

    with open(sys.argv[1], "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out))
    print(f"phonenumbers {version}: wrote {len(metas)} territories to {sys.argv[1]}")


if __name__ == "__main__":
    main()
