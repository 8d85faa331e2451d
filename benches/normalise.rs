//! What a caller ID costs to normalise: the fast route for `+digits` / `tel:+digits` against
//! the full route (URI syntax, Unicode digits, libphonenumber) for the formats flows send.
//! `cargo bench --bench normalise`; compare the rows of one run (the machine is shared).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use customer_lookup::normalise::{PhoneNormaliser, Region};

fn normalise(c: &mut Criterion) {
    let normaliser = PhoneNormaliser::new("US".parse::<Region>().expect("US"));
    normaliser.warm_up();
    let mut group = c.benchmark_group("normalise");
    for (name, input) in [
        ("e164", "+15551234567"),
        ("genesys_tel", "tel:+15551234567"),
        ("national", "(555) 123-4567"),
        ("sip_uri", "sip:+15551234567@sip.example.com;user=phone"),
        ("international_prefix", "011 44 20 7946 0958"),
        ("full_width", "＋１ ５５５ １２３ ４５６７"),
        ("withheld", "anonymous"),
    ] {
        group.bench_function(name, |b| b.iter(|| normaliser.normalise(black_box(input))));
    }
    group.finish();
}

criterion_group!(benches, normalise);
criterion_main!(benches);
