#!/usr/bin/env python3
"""Generate tests/vectors/recognition.jsonl: caller IDs and what libphonenumber makes of them.

Run with the project venv (scripts/python-tools.sh makes it):

    .tools/venv/bin/python scripts/gen-phone-vectors.py           # (re)write the file
    .tools/venv/bin/python scripts/gen-phone-vectors.py --check   # exit 1 if it is stale

Each line is one JSON object (sorted keys):
    region          default region the input is parsed with
    kind            how the input was rendered (e164, national, sip, mut_drop_digit, ...)
    mutated         true for deliberately damaged inputs (kind "mut_*")
    input           the caller ID exactly as given to the parser
    libphonenumber  parse(input, region) -> E.164 when is_possible_number_with_reason is
                    IS_POSSIBLE, else "!" + the exception kind or validation result
    departure, expect   only where the service must answer differently ("sip", "withheld",
                    "tel_parameters"); expect is then the service's answer

The output depends only on this file and the pinned phonenumbers version (the number parser's
crates/phonenumber/METADATA_VERSION; scripts/update-phone-metadata.sh moves it): every random
choice comes from a random.Random seeded with a fixed string (string seeds hash with
SHA-512, so PYTHONHASHSEED does not matter), and every set is sorted before use.
"""

import argparse
import itertools
import json
import random
import re
import sys
import urllib.parse
from collections import Counter
from pathlib import Path

try:
    import phonenumbers as pn
    from phonenumbers import (
        NumberParseException,
        PhoneMetadata,
        PhoneNumberFormat,
        PhoneNumberType,
        ValidationResult,
    )
except ImportError:
    sys.exit("phonenumbers is missing: run scripts/python-tools.sh and use .tools/venv/bin/python")

SEED = "customer-lookup/recognition/v1"
ROOT = Path(__file__).resolve().parent.parent
# The phonenumbers release the vectors come from: the one the number parser's metadata is.
PINNED_VERSION = (ROOT / "crates" / "phonenumber" / "METADATA_VERSION").read_text().strip()
OUT = ROOT / "tests" / "vectors" / "recognition.jsonl"

# US gets every rendering of every base number; the others get their own numbers in
# full and every other number in a rotating subset of renderings (keeps the file ~10 MB).
DEFAULT_REGIONS = ["US", "GB", "DE", "IN", "BR", "AU"]
MIN_VECTORS = {"US": 20_000, "GB": 5_000, "DE": 5_000, "IN": 5_000, "BR": 5_000, "AU": 5_000}
MAX_BYTES = 10_500_000

TYPES = [
    ("FIXED_LINE", PhoneNumberType.FIXED_LINE, "fixed_line"),
    ("MOBILE", PhoneNumberType.MOBILE, "mobile"),
    ("TOLL_FREE", PhoneNumberType.TOLL_FREE, "toll_free"),
    ("PREMIUM_RATE", PhoneNumberType.PREMIUM_RATE, "premium_rate"),
    ("SHARED_COST", PhoneNumberType.SHARED_COST, "shared_cost"),
    ("PERSONAL_NUMBER", PhoneNumberType.PERSONAL_NUMBER, "personal_number"),
    ("VOIP", PhoneNumberType.VOIP, "voip"),
    ("PAGER", PhoneNumberType.PAGER, "pager"),
    ("UAN", PhoneNumberType.UAN, "uan"),
    ("VOICEMAIL", PhoneNumberType.VOICEMAIL, "voicemail"),
]
DERIVED_PER_EXAMPLE = 2

# International call prefixes a caller in each default region dials. format_out_of_country
# only knows one (and none for BR, whose IDD carries a carrier selection code: 00 + XX).
IDD_PREFIXES = {
    "US": ["011"],
    "GB": ["00"],
    "DE": ["00"],
    "IN": ["00"],
    "BR": ["0012", "0014", "0015", "0021", "0022", "0023", "0025", "0031", "0041", "0043",
           "0055", "0065", "0099"],
    "AU": ["0011", "0014", "0015", "0016", "0018", "0019", "14110011", "14340011", "14880011"],
}
# A prefix that is an IDD elsewhere but not here (Europeans write 00 in the US, etc.).
FOREIGN_IDD = {"US": "00", "GB": "011", "DE": "011", "IN": "011", "BR": "00", "AU": "00"}

# Every extension form _EXTN_PATTERNS_FOR_PARSING admits (explicit labels, their full-width
# and accented spellings, ambiguous one-character labels, American "- 503#", auto-dial
# ",," and ";", bare commas), plus a few near misses it does not ("ext#", " - ").
EXTENSION_FORMS = [
    ";ext=", " ext. ", " ext ", " extension ", " x", " x ", "#", ",", " ext: ", " anexo ",
    " доб ", " xtn ", " extn ", " ext# ", " EXT ", " Ext.", "ext", " xt. ", " extn: ",
    " extensión ", " extensio\u0301n ", " ｅｘｔ ", " ｘｔｎ ", " ｘ", " ＃", " int ", " ｉｎｔ ",
    " ~", " ～", " x.", "\u00a0x\u00a0", "\tx", ", ext ", " ,, ", ",,", ";", " ;", ",,,",
    " - ", " ", "/x", " ext.: ", " Extension: ",
]
AMERICAN_EXTENSION = "american#"  # "... - 503#": digits then '#', at most 6 of them

WITHHELD_WORDS = ["anonymous", "restricted", "private", "unavailable", "unknown", "withheld",
                  "blocked"]

SIP_HOSTS = ["example.com", "sip.example.net", "10.0.0.1", "192.0.2.10", "[2001:db8::1]",
             "pbx.local", "198.51.100.7:5060"]
SIP_NAMES = ["Alice", "Bob Smith", "Reception", "O'Brien, Pat", "Müller"]

# Parameters of a tel URI that libphonenumber interprets itself; the service removes the rest.
TEL_PARAMETERS_KEPT = {"ext", "isub", "phone-context"}

PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "INVALID_COUNTRY_CODE",
    NumberParseException.NOT_A_NUMBER: "NOT_A_NUMBER",
    NumberParseException.TOO_SHORT_AFTER_IDD: "TOO_SHORT_AFTER_IDD",
    NumberParseException.TOO_SHORT_NSN: "TOO_SHORT_NSN",
    NumberParseException.TOO_LONG: "TOO_LONG",
}
VALIDATION_RESULTS = {
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "IS_POSSIBLE_LOCAL_ONLY",
    ValidationResult.INVALID_COUNTRY_CODE: "INVALID_COUNTRY_CODE",
    ValidationResult.TOO_SHORT: "TOO_SHORT",
    ValidationResult.INVALID_LENGTH: "INVALID_LENGTH",
    ValidationResult.TOO_LONG: "TOO_LONG",
}

_outcomes = {}


def outcome(text, region):
    """libphonenumber's answer on exactly `text`: E.164 or "!" + reason."""
    key = (text, region)
    if key not in _outcomes:
        try:
            number = pn.parse(text, region)
            reason = pn.is_possible_number_with_reason(number)
            if reason == ValidationResult.IS_POSSIBLE:
                result = pn.format_number(number, PhoneNumberFormat.E164)
            else:
                result = "!" + VALIDATION_RESULTS[reason]
        except NumberParseException as e:
            result = "!" + PARSE_ERRORS[e.error_type]
        except Exception as e:  # noqa: BLE001 - a crash is an outcome too; reported below
            result = "!EXCEPTION_" + type(e).__name__
        _outcomes[key] = result
    return _outcomes[key]


def rng_for(*parts):
    return random.Random("/".join([SEED, *map(str, parts)]))


# ---------------------------------------------------------------------------------------
# Base numbers


class Base:
    """One valid number and the renderings every kind starts from."""

    def __init__(self, region, type_name, number, origin):
        self.region = region  # "001" for non-geographic entities
        self.type_name = type_name
        self.origin = origin  # "example" or "derived"
        self.number = number
        self.cc = number.country_code
        self.nsn = pn.national_significant_number(number)
        self.e164 = pn.format_number(number, PhoneNumberFormat.E164)
        self.intl = pn.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        self.national = pn.format_number(number, PhoneNumberFormat.NATIONAL)
        self.rfc3966 = pn.format_number(number, PhoneNumberFormat.RFC3966)
        # INTERNATIONAL without "+CC ": the grouped national significant number.
        head = "+%d " % self.cc
        self.intl_rest = self.intl[len(head):] if self.intl.startswith(head) else self.nsn
        self.national_digits = re.sub(r"\D", "", self.national)
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(self.cc, region)
        prefix = metadata.national_prefix if metadata else None
        self.national_prefix = prefix if prefix and prefix.isdigit() else None


def example_numbers():
    bases = []
    for region in sorted(pn.SUPPORTED_REGIONS):
        for name, num_type, _ in TYPES:
            number = pn.example_number_for_type(region, num_type)
            if number is not None:
                bases.append(Base(region, name, number, "example"))
    # example_number_for_non_geo_entity gives only the first type; read every type instead.
    for cc in sorted(pn.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        metadata = PhoneMetadata.metadata_for_nongeo_region(cc)
        for name, _, attribute in TYPES:
            desc = getattr(metadata, attribute, None)
            if desc is not None and desc.example_number:
                number = pn.parse("+%d%s" % (cc, desc.example_number), None)
                bases.append(Base("001", name, number, "example"))
    return bases


def derived_numbers(examples):
    """Numbers next to each example (last 1-3 digits varied) that are valid and of the same
    type, so a parser tuned to the example numbers alone does not pass by luck."""
    seen = {b.e164 for b in examples}
    derived = []
    for base in examples:
        rng = rng_for("derive", base.region, base.type_name, base.e164)
        wanted_type = pn.number_type(base.number)
        found = 0
        for _ in range(60):
            k = rng.choice([1, 2, 2, 3, 3, 4])
            if k >= len(base.nsn):
                continue
            nsn = base.nsn[:-k] + "".join(rng.choice("0123456789") for _ in range(k))
            candidate = pn.parse("+%d%s" % (base.cc, nsn), None)
            e164 = pn.format_number(candidate, PhoneNumberFormat.E164)
            if (e164 not in seen and pn.is_valid_number(candidate)
                    and pn.number_type(candidate) == wanted_type):
                seen.add(e164)
                derived.append(Base(base.region, base.type_name, candidate, "derived"))
                found += 1
                if found == DERIVED_PER_EXAMPLE:
                    break
    return derived


# ---------------------------------------------------------------------------------------
# Text helpers

FULLWIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")
FULLWIDTH_PUNCT = str.maketrans({" ": "\u3000", "-": "－", "(": "（", ")": "）"})
ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + d) for d in range(10)))
EXT_ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x06F0 + d) for d in range(10)))
SEPARATORS = [" ", "-", ".", "/", "\u00a0", " - ", "  ", "-", " "]


def scatter(rng, text, positions):
    """Insert a random separator at each of `positions` (indices between characters)."""
    out = []
    for i, ch in enumerate(text):
        if i in positions:
            out.append(rng.choice(SEPARATORS))
        out.append(ch)
    return "".join(out)


def digit_positions(text):
    return [i for i, ch in enumerate(text) if ch.isdigit()]


def strip_tel_parameters(uri):
    """The tel URI as the service reads it: only ext, isub and phone-context kept."""
    head, *params = uri.split(";")
    kept = [p for p in params if p.split("=", 1)[0].strip().lower() in TEL_PARAMETERS_KEPT]
    return ";".join([head, *kept])


# ---------------------------------------------------------------------------------------
# The generator for one default region


class Generator:
    def __init__(self, region):
        self.region = region
        self.cc = pn.country_code_for_region(region)
        self.rng = rng_for("region", region)
        idd_pattern = PhoneMetadata.metadata_for_region(region).international_prefix
        for prefix in IDD_PREFIXES[region]:
            assert re.fullmatch(idd_pattern, prefix), (region, prefix)
        assert not re.fullmatch(idd_pattern, FOREIGN_IDD[region]), region
        self.records = []
        self.base = None  # the number being rendered; lets a debugging hook in add() see it
        self.seen = set()
        # Rotations: every form of a kind gets used, evenly, in a fixed order.
        self.ext_forms = itertools.cycle(EXTENSION_FORMS + [AMERICAN_EXTENSION])
        self.sip_forms = itertools.cycle(range(9))
        self.sep_forms = itertools.cycle(range(6))
        self.pad_forms = itertools.cycle(range(22))
        self.rfc_forms = itertools.cycle(range(5))
        self.np_forms = itertools.cycle(range(5))
        self.ccw_forms = itertools.cycle(range(4))
        self.tel_forms = itertools.cycle(range(9))
        self.mutations = itertools.cycle([
            self.mut_drop_digit, self.mut_add_digit, self.mut_swap_digits, self.mut_plus_lost,
            self.mut_junk, self.mut_zero_after_cc, self.mut_truncate,
        ])
        self.junk_forms = itertools.cycle(range(10))

    # -- recording -----------------------------------------------------------------------

    def add(self, kind, text, mutated=False, departure=None, departure_input=None):
        """Record one vector. `departure_input` is what the service hands libphonenumber
        instead of `text`; the departure keys appear only when that changes the answer."""
        if text in self.seen:
            return
        self.seen.add(text)
        record = {
            "region": self.region,
            "kind": kind,
            "mutated": mutated,
            "input": text,
            "libphonenumber": outcome(text, self.region),
        }
        if departure == "withheld":
            expect = "!WITHHELD"
        elif departure is not None:
            expect = outcome(departure_input, self.region)
        if departure is not None and expect != record["libphonenumber"]:
            record["departure"] = departure
            record["expect"] = expect
        self.records.append(record)

    def pick_rendering(self, base):
        return self.rng.choice([base.e164, base.intl, base.national])

    # -- renderings ----------------------------------------------------------------------

    def e164(self, b):
        self.add("e164", b.e164)

    def international(self, b):
        self.add("international", b.intl)

    def national(self, b):
        self.add("national", b.national)

    def rfc3966(self, b, variants=2):
        self.add("rfc3966", b.rfc3966)
        local = "-".join(b.national.replace("(", "").replace(")", "").split()) or b.nsn
        for _ in range(variants):
            form = next(self.rfc_forms)
            if form == 0:
                self.add("rfc3966", "%s;ext=%d" % (b.rfc3966, self.rng.randint(1, 99999)))
            elif form == 1:
                self.add("rfc3966", "%s;isub=%d" % (b.rfc3966, self.rng.randint(1, 9999)))
            elif form == 2:  # local number with a global phone-context
                self.add("rfc3966", "tel:%s;phone-context=+%d" % (local, b.cc))
            elif form == 3:  # NSN only, context carries the country code with a separator
                self.add("rfc3966", "tel:%s;phone-context=+%d-%s" % (b.nsn[1:], b.cc, b.nsn[0]))
            else:  # domain context: the number is read in the default region
                self.add("rfc3966", "tel:%s;phone-context=%s" % (
                    local, self.rng.choice(["example.com", "ims.mnc001.mcc310.3gppnetwork.org"])))

    def idd(self, b, variants=True):
        dialled = pn.format_out_of_country_calling_number(b.number, self.region)
        if not dialled.startswith("+"):
            self.add("idd", dialled)
            if not variants:
                return
        prefix = self.rng.choice(IDD_PREFIXES[self.region])
        self.add("idd", "%s %d %s" % (prefix, b.cc, b.intl_rest))
        self.add("idd", "%s%d%s" % (prefix, b.cc, b.nsn))

    def idd_other_region(self, b):
        self.add("idd_other_region", "%s %d %s" % (FOREIGN_IDD[self.region], b.cc, b.intl_rest))

    def separators(self, b, count=3):
        for _ in range(count):
            form = next(self.sep_forms)
            rng = self.rng
            if form == 0:  # separator right after '+' or the country code
                sep = rng.choice(SEPARATORS)
                head = rng.choice(["+" + sep + str(b.cc), "+%d%s" % (b.cc, sep)])
                cut = set(rng.sample(range(1, len(b.nsn)), min(2, len(b.nsn) - 1)))
                self.add("separators", head + scatter(rng, b.nsn, cut))
            elif form == 1:  # random separators anywhere in the E.164 string
                cut = set(rng.sample(range(1, len(b.e164)), rng.randint(1, min(4, len(b.e164) - 1))))
                self.add("separators", scatter(rng, b.e164, cut))
            elif form == 2:  # national digits, one group in parentheses
                d = b.national_digits
                if len(d) >= 4:
                    i = rng.randint(0, len(d) - 3)
                    j = rng.randint(i + 2, min(len(d) - 1, i + 5))
                    text = d[:i] + "(" + d[i:j] + ")" + rng.choice(["", " ", "-"]) + d[j:]
                    self.add("separators", text)
            elif form == 3:  # tel: URI with RFC 3966 visual separators in odd places
                cut = set(rng.sample(range(2, len(b.e164)), min(3, len(b.e164) - 2)))
                text = "".join((rng.choice(".-") if i in cut else "") + ch for i, ch in enumerate(b.e164))
                self.add("separators", "tel:" + text)
            elif form == 4:  # parentheses around or after the country code
                self.add("separators", rng.choice([
                    "(+%d) %s" % (b.cc, b.intl_rest),
                    "+(%d) %s" % (b.cc, b.intl_rest),
                    "+%d (%s) %s" % (b.cc, b.nsn[:3], b.nsn[3:]),
                    "+%d-%s" % (b.cc, b.intl_rest.replace(" ", "-")),
                ]))
            else:  # the national format with its spaces swapped for other separators
                sep = rng.choice(["-", ".", "/", "\u00a0"])
                self.add("separators", b.national.replace(" ", sep))

    def sip(self, b, count=2):
        for _ in range(count):
            form = next(self.sip_forms)
            host = self.rng.choice(SIP_HOSTS)
            tag = "%08x" % self.rng.getrandbits(32)
            user = b.e164
            if form == 0:
                text = "sip:%s@%s;user=phone" % (user, host)
            elif form == 1:
                text = "sips:%s@%s" % (user, host)
            elif form == 2:
                text = "sip:%%2B%s@%s;user=phone" % (user[1:], host)
            elif form == 3:
                text = '"%s" <sip:%s@%s>;tag=%s' % (self.rng.choice(SIP_NAMES), user, host, tag)
            elif form == 4:
                text = "%s@%s" % (user, host)
            elif form == 5:  # a PBX sends the number as dialled nationally
                user = b.national_digits
                text = "sip:%s@%s" % (user, host)
            elif form == 6:
                user = b.rfc3966[len("tel:"):]
                text = "<sip:%s@%s;user=phone>" % (user, host)
            elif form == 7:
                text = "%s <sips:%s@%s:5061;transport=tls>;tag=%s" % (
                    self.rng.choice(SIP_NAMES).split()[0], user, host.split(":")[0], tag)
            else:
                text = "SIP:%%2b%s@%s" % (user[1:], host)
            self.add("sip", text, departure="sip", departure_input=user)

    def fullwidth(self, b):
        text = self.pick_rendering(b).translate(FULLWIDTH)
        if self.rng.random() < 0.5:
            text = text.translate(FULLWIDTH_PUNCT)
        self.add("fullwidth", text)

    def arabic_indic(self, b):
        table = self.rng.choice([ARABIC_INDIC, EXT_ARABIC_INDIC])
        self.add("arabic_indic", self.pick_rendering(b).translate(table))

    def extension(self, b, count=2):
        for _ in range(count):
            form = next(self.ext_forms)
            # Mostly short extensions; sometimes past the 6/9/15/20-digit limits of the labels.
            digits = str(self.rng.randint(1, 10 ** self.rng.choice([1, 2, 3, 3, 4, 4, 5, 7, 10, 16]) - 1))
            if form == AMERICAN_EXTENSION:
                self.add("extension", "%s - %s#" % (self.pick_rendering(b), digits))
            elif form == ";ext=":
                self.add("extension", "%s;ext=%s" % (b.rfc3966, digits))
            else:
                self.add("extension", self.pick_rendering(b) + form + digits)

    def padding(self, b):
        text = self.pick_rendering(b)
        form = next(self.pad_forms)
        wrappers = [
            "  %s  ", "\t%s\n", '"%s"', "'%s'", "[%s]", "<%s>", "(%s)", "{%s}", "%s.", "%s,",
            "%s;", "%s!", "%s?", "%s#", "\u00a0%s\u00a0", "\u201c%s\u201d", "\u00ab%s\u00bb",
            "%s\r\n", "%s...", "%s*", "\u3000%s\u3000",
        ]
        if form < len(wrappers):
            self.add("padding", wrappers[form] % text)
        else:  # around libphonenumber's 250-character input limit
            for length in (250, 251):
                self.add("padding", " " * (length - len(b.e164)) + b.e164)

    def national_prefix_after_cc(self, b):
        np_ = b.national_prefix
        if np_ is None:
            return
        form = next(self.np_forms)
        if form == 0:
            text = "+%d %s %s" % (b.cc, np_, b.intl_rest)
        elif form == 1:
            text = "+%d (%s) %s" % (b.cc, np_, b.intl_rest)
        elif form == 2:
            text = "+%d%s%s" % (b.cc, np_, b.nsn)
        elif form == 3:
            text = "+%d (%s)%s" % (b.cc, np_, b.nsn)
        else:
            text = "+%d%s %s" % (b.cc, np_, b.intl_rest)
        self.add("national_prefix_after_cc", text)

    def cc_without_plus(self, b):
        form = next(self.ccw_forms)
        if form == 0:
            text = "%d%s" % (b.cc, b.nsn)
        elif form == 1:
            text = "%d %s" % (b.cc, b.intl_rest)
        elif form == 2:
            split = min(3, len(b.nsn) - 1)
            text = "%d(%s)%s" % (b.cc, b.nsn[:split], b.nsn[split:])
        else:  # the default region's code before a national number ("49(0)30 ...")
            if b.national_prefix is not None and b.national_digits.startswith(b.national_prefix):
                text = "%d (%s)%s" % (self.cc, b.national_prefix, b.national_digits[len(b.national_prefix):])
            else:
                text = "%d %s" % (self.cc, b.national)
        self.add("cc_without_plus", text)

    def tel_parameters(self, b):
        form = next(self.tel_forms)
        body = b.rfc3966[len("tel:"):]
        other = "+%d%s" % (b.cc, b.nsn[:-1] + str((int(b.nsn[-1]) + 1) % 10))
        local = b.nsn
        uri = [
            "tel:%s;user=phone" % b.e164,
            "tel:%s;tgrp=x;trunk-context=example.com" % body,
            "tel:%s;npdi" % b.e164,
            "tel:%s;rn=%s;npdi" % (body, other),
            "tel:%s;cic=+1%04d" % (b.e164, self.rng.randint(0, 9999)),
            "tel:%s;ext=%d;user=phone" % (body, self.rng.randint(1, 999)),
            "tel:%s;tgrp=TG-1;phone-context=+%d" % (local, b.cc),   # before the context
            "tel:%s;phone-context=+%d;tgrp=TG-1" % (local, b.cc),   # after: libphonenumber agrees
            "tel:%s;isub=%d;user=phone" % (body, self.rng.randint(1, 999)),
        ][form]
        self.add("tel_parameters", uri, departure="tel_parameters",
                 departure_input=strip_tel_parameters(uri))

    # -- mutations -----------------------------------------------------------------------

    def mutate(self, b, count):
        for _ in range(count):
            next(self.mutations)(b)

    def mut_drop_digit(self, b):
        text = self.pick_rendering(b)
        i = self.rng.choice(digit_positions(text))
        self.add("mut_drop_digit", text[:i] + text[i + 1:], mutated=True)

    def mut_add_digit(self, b):
        text = self.pick_rendering(b)
        i = self.rng.choice(digit_positions(text) + [len(text)])
        self.add("mut_add_digit", text[:i] + self.rng.choice("0123456789") + text[i:], mutated=True)

    def mut_swap_digits(self, b):
        text = self.pick_rendering(b)
        pos = digit_positions(text)
        pairs = [(pos[k], pos[k + 1]) for k in range(len(pos) - 1) if text[pos[k]] != text[pos[k + 1]]]
        if pairs:
            i, j = self.rng.choice(pairs)
            chars = list(text)
            chars[i], chars[j] = chars[j], chars[i]
            self.add("mut_swap_digits", "".join(chars), mutated=True)

    def mut_plus_lost(self, b):
        self.add("mut_plus_lost", self.rng.choice([b.e164, b.intl])[1:], mutated=True)

    def mut_junk(self, b):
        text = self.pick_rendering(b)
        letters = "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(self.rng.randint(1, 4)))
        form = next(self.junk_forms)
        pos = self.rng.choice(digit_positions(text)[1:] or [1])
        self.add("mut_junk", [
            "Call: %s now" % text,
            "abc" + text,
            text + " abc",
            "Tel: %s" % text,
            "phone %s (mobile)" % text,
            text[:pos] + letters + text[pos:],
            "☎ " + text,
            "%s / %s" % (text, b.e164),
            "%s or %s" % (text, b.national),
            "caller=%s&x=1" % text,
        ][form], mutated=True)

    def mut_zero_after_cc(self, b):
        self.add("mut_zero_after_cc", self.rng.choice([
            "+%d0%s" % (b.cc, b.nsn), "+%d 0%s" % (b.cc, b.intl_rest)]), mutated=True)

    def mut_truncate(self, b):
        text = self.pick_rendering(b)
        self.add("mut_truncate", text[:self.rng.randint(1, len(text) - 1)], mutated=True)

    # -- fixed sets ----------------------------------------------------------------------

    def special_cases(self):
        for text in ["+7 800 123-45-67", "+37080012345", "+358 00 1234", "+7 8 800 123-45-67",
                     "+44 (0)20 7946 0958", "+49 (0)30 1234567", "+39 06 6982 1234",
                     "+1 1 201 555 0123", "+61 (0)2 9374 4000", "+55 0 11 96123 4567"]:
            self.add("national_prefix_after_cc", text)
        for text in ["49(164)12345", "4930123456", "44 20 7946 0958", "91 98765 43210",
                     "55 11 96123 4567", "61 2 9374 4000", "1 201 555 0123"]:
            self.add("cc_without_plus", text)

    def withheld(self):
        for word in WITHHELD_WORDS:
            for w in sorted({word, word.capitalize(), word.upper()}):
                for text in [w, "tel:" + w, "sip:%s@anonymous.invalid" % w, " %s " % w,
                             '"%s" <sip:%s@anonymous.invalid>;tag=1928301774' % (w, word),
                             "sips:%s@%s" % (w, self.rng.choice(SIP_HOSTS))]:
                    self.add("withheld", text, departure="withheld")

    def junk(self):
        for text in ["", " ", "\t", "-", "()", "+", "++", "++1", "+0", "+00", "0", "00", "000",
                     "1", "12", "123", "1234", "+1", "+12", "+44", "*", "#", "*21#", "#31#",
                     "*67", "*69", "911", "112", "999", "000 000", "+000000000", "0000000000",
                     "alice@example.com", "bob.smith+work@example.org", "12. March",
                     "12.03.2024", "2024-03-12", "12/03/2024", "10:30", "v1.2.3",
                     "1-800-FLOWERS", "1-800-GOT-JUNK", "+1-800-FLOWERS", "1 800 MICROSOFT",
                     "800-FLOWERS", "0800 REVERSE", "+44 800 FLOWERS", "FLOWERS", "tel:", "sip:",
                     "sip:@example.com", "tel:+", "null", "None", "N/A", "undefined", "NaN",
                     "x", "ext. 123", ";ext=12", "+1 (", "( ) -", "9" * 17, "+" + "9" * 17,
                     "1" * 251, "+" + "4" * 300, " " * 244 + "+12015550123",
                     " " * 245 + "+12015550123", "١٢٣", "١", "＋", "ｘ"]:
            self.add("junk", text)

    # -- plan ----------------------------------------------------------------------------

    def full(self, b):
        """Every rendering kind of one base number, plus two mutations."""
        self.e164(b)
        self.international(b)
        self.national(b)
        self.rfc3966(b)
        self.idd(b)
        self.separators(b)
        self.sip(b)
        self.fullwidth(b)
        self.arabic_indic(b)
        self.extension(b)
        self.padding(b)
        self.national_prefix_after_cc(b)
        self.cc_without_plus(b)
        self.tel_parameters(b)
        self.mutate(b, 2)

    def some(self, b, extra_kinds):
        """The core renderings plus `extra_kinds` of the others, rotating."""
        self.international(b)
        self.national(b)
        self.idd(b)
        for kind in extra_kinds:
            kind(b)

    def run(self, examples, derived):
        self.special_cases()
        rotation = itertools.cycle([
            lambda b: self.rfc3966(b, 1), lambda b: self.separators(b, 1),
            lambda b: self.sip(b, 1), self.fullwidth, self.arabic_indic,
            lambda b: self.extension(b, 1), self.padding, self.national_prefix_after_cc,
            self.cc_without_plus, self.tel_parameters, self.e164, self.idd_other_region,
            lambda b: self.mutate(b, 1), lambda b: self.mutate(b, 1),
        ])
        for i, b in enumerate(examples):
            self.base = b
            if self.region == "US" or b.cc == self.cc:
                self.full(b)
                if i % 7 == 0:
                    self.idd_other_region(b)
            else:
                self.some(b, [next(rotation), next(rotation)])
        for b in derived:
            self.base = b
            if b.cc == self.cc:
                self.full(b)
            elif self.region == "US":
                self.e164(b)
                self.national(b)
                self.idd(b, variants=False)
                self.separators(b, 1)
                self.mutate(b, 1)
        self.withheld()
        self.junk()
        return self.records


# ---------------------------------------------------------------------------------------


def generate():
    examples = example_numbers()
    derived = derived_numbers(examples)
    lines = []
    for region in DEFAULT_REGIONS:
        records = Generator(region).run(examples, derived)
        if len(records) < MIN_VECTORS[region]:
            sys.exit("%s: only %d vectors, want %d" % (region, len(records), MIN_VECTORS[region]))
        lines.extend(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in records)
    text = "\n".join(lines) + "\n"
    # Raw Unicode keeps the file readable; these would split a line in some readers.
    for ch in "\x85\u2028\u2029":
        assert ch not in text, "line separator %r in output" % ch
    return text, examples, derived


def summary(text, examples, derived):
    records = [json.loads(line) for line in text.splitlines()]
    by_region = Counter(r["region"] for r in records)
    by_kind = Counter((r["region"], r["kind"]) for r in records)
    kinds = sorted({r["kind"] for r in records})
    out = ["base numbers: %d examples, %d derived" % (len(examples), len(derived)),
           "vectors: %d, %d bytes" % (len(records), len(text.encode())),
           "E.164 outcome: %d, '!' outcome: %d" % (
               sum(not r["libphonenumber"].startswith("!") for r in records),
               sum(r["libphonenumber"].startswith("!") for r in records)),
           "", "%-26s" % "kind" + "".join("%8s" % reg for reg in DEFAULT_REGIONS)]
    for kind in kinds:
        out.append("%-26s" % kind + "".join("%8d" % by_kind[(reg, kind)] for reg in DEFAULT_REGIONS))
    out.append("%-26s" % "total" + "".join("%8d" % by_region[reg] for reg in DEFAULT_REGIONS))
    out.append("")
    for (dep, reg), n in sorted(Counter((r["departure"], r["region"]) for r in records if "departure" in r).items()):
        out.append("departure %-16s %s %6d" % (dep, reg, n))
    out.append("")
    for reason, n in Counter(r["libphonenumber"] for r in records if r["libphonenumber"].startswith("!")).most_common():
        out.append("%-26s %6d" % (reason, n))
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed file is stale")
    parser.add_argument("--quiet", action="store_true", help="no summary")
    args = parser.parse_args()
    if pn.__version__ != PINNED_VERSION:
        sys.exit("phonenumbers %s installed, %s pinned: run scripts/python-tools.sh and use "
                 ".tools/venv/bin/python" % (pn.__version__, PINNED_VERSION))
    text, examples, derived = generate()
    if len(text.encode()) > MAX_BYTES:
        sys.exit("output is %d bytes, over the %d cap" % (len(text.encode()), MAX_BYTES))
    if args.check:
        current = OUT.read_bytes() if OUT.exists() else b""
        if current != text.encode():
            sys.exit("%s is stale: rerun scripts/gen-phone-vectors.py" % OUT.relative_to(ROOT))
        print("%s is up to date" % OUT.relative_to(ROOT))
        return
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(text.encode())
    print("wrote %s" % OUT.relative_to(ROOT))
    if not args.quiet:
        print(summary(text, examples, derived))


if __name__ == "__main__":
    main()
