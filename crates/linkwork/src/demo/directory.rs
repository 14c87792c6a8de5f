//! The demo directory: each PCN's voluntary groups and services, and a national directory for benchmarks.

use super::SERVICES_PER_PCN;
use super::words::AREAS;
use super::words::Rng;
use super::words::SERVICE_KINDS;
use super::words::STREETS;
use super::words::VCSE_NAMES;
use chrono::{DateTime, Utc};
use linkwork_domain::access::organisations::Organisation;

/// Need categories for the demo's services: one taxonomy, a term per need domain.
pub const DEMO_TAXONOMY: &str = "0193a000-0000-7000-8000-000000000001";

/// One PCN's directory: its voluntary groups as Open Referral UK organisations they manage, and
/// services with places, opening times, costs and categories, checked as any import is.
pub(super) fn demo_directory(
    rng: &mut Rng,
    now: DateTime<Utc>,
    area: &str,
    vcses: &[Organisation],
    domain: &str,
    pcn: u32,
) -> anyhow::Result<linkwork_domain::ports::DirectoryBatch> {
    use linkwork_domain::casework::NeedDomain;
    use linkwork_domain::directory::Capacity;
    use linkwork_domain::directory::oruk;
    let taxonomy = uuid::Uuid::parse_str(DEMO_TAXONOMY)?;
    let term_id = |i: usize| uuid::Uuid::from_u128(0x0193_a000_0000_7000_8000_0000_0000_1000 + i as u128);
    let terms: Vec<oruk::TaxonomyTerm> = NeedDomain::ALL
        .iter()
        .enumerate()
        .map(|(i, n)| oruk::TaxonomyTerm {
            id: term_id(i),
            name: n.label().to_owned(),
            description: format!("Services for {}", n.label().to_lowercase()),
            taxonomy_id: Some(taxonomy),
            taxonomy: Some("linkwork needs".into()),
            code: Some(n.as_str().to_owned()),
            ..Default::default()
        })
        .collect();
    // Which need each kind of service meets (SERVICE_KINDS order).
    const KIND_NEED: [usize; 12] = [2, 3, 0, 0, 0, 6, 1, 9, 7, 8, 0, 3];
    let outward = AREAS.iter().find(|(a, _)| *a == area).map_or("LS1", |(_, o)| *o);
    let centre = DISTRICTS.iter().find(|(o, _, _)| *o == outward).map_or((53.797, -1.548), |(_, la, lo)| (*la, *lo));
    let known: std::collections::HashSet<uuid::Uuid> = terms.iter().map(|t| t.id).collect();
    let mut services = Vec::new();
    let mut capacities = Vec::new();
    for i in 0..SERVICES_PER_PCN {
        let (kind, description) = SERVICE_KINDS[i % SERVICE_KINDS.len()];
        let owner = &vcses[i % vcses.len()];
        let id = uuid::Uuid::now_v7();
        let jitter = |r: &mut Rng| (r.below(2000) as f64 - 1000.0) / 40_000.0;
        let (lat, lon) = (centre.0 + jitter(rng), centre.1 + jitter(rng) * 1.6);
        let day = ["MO", "TU", "WE", "TH", "FR", "SA"][rng.below(6)];
        let opens = 9 + rng.below(8);
        let online = kind.contains("Telephone") || kind.contains("Digital");
        let term = term_id(KIND_NEED[i % KIND_NEED.len()]);
        let service = oruk::Service {
            id,
            organization_id: Some(owner.id.0),
            name: format!("{kind}, {area} {}", i / SERVICE_KINDS.len() + 1),
            description: Some(description.to_owned()),
            email: Some(format!("hello@vcse{}.{domain}", i % vcses.len() + 1)),
            url: Some(format!("https://vcse{}.{domain}/", i % vcses.len() + 1)),
            status: if rng.chance(95) { "active".into() } else { "temporarily closed".into() },
            minimum_age: (kind.contains("Men") || kind.contains("Chair")).then_some(18.0),
            schedules: vec![oruk::Schedule {
                id: uuid::Uuid::now_v7(),
                freq: Some("WEEKLY".into()),
                byday: Some(day.into()),
                opens_at: Some(format!("{opens:02}:00")),
                closes_at: Some(format!("{:02}:00", opens + 2)),
                attending_type: Some(
                    if kind.contains("Telephone") {
                        "By telephone"
                    } else if online {
                        "In person or online"
                    } else {
                        "In person"
                    }
                    .into(),
                ),
                ..Default::default()
            }],
            service_at_locations: vec![oruk::ServiceAtLocation {
                id: uuid::Uuid::now_v7(),
                location: Some(oruk::Location {
                    id: uuid::Uuid::now_v7(),
                    location_type: "physical".into(),
                    name: Some(format!("{area} Community Centre {}", i % 4 + 1)),
                    latitude: Some(lat),
                    longitude: Some(lon),
                    addresses: vec![oruk::Address {
                        id: uuid::Uuid::now_v7(),
                        address_1: format!("{} {} Road", 1 + rng.below(120), STREETS[rng.below(STREETS.len())]),
                        city: "Leeds".into(),
                        postal_code: format!("{outward} {}AA", 1 + rng.below(9)),
                        country: "GB".into(),
                        address_type: "physical".into(),
                        ..Default::default()
                    }],
                    accessibility: if rng.chance(60) {
                        vec![oruk::Accessibility {
                            id: uuid::Uuid::now_v7(),
                            description: Some("Step-free access and an accessible toilet; hearing loop.".into()),
                            ..Default::default()
                        }]
                    } else {
                        vec![]
                    },
                    ..Default::default()
                }),
                ..Default::default()
            }],
            cost_options: if kind.contains("allotment") || kind.contains("choir") {
                vec![oruk::CostOption {
                    id: uuid::Uuid::now_v7(),
                    option: Some("Per session".into()),
                    amount: Some(2.0),
                    ..Default::default()
                }]
            } else {
                vec![]
            },
            attributes: vec![oruk::Attribute {
                id: uuid::Uuid::now_v7(),
                taxonomy_term_id: Some(term),
                taxonomy_term: terms.iter().find(|t| t.id == term).cloned(),
                ..Default::default()
            }],
            ..Default::default()
        };
        // Checked by the publisher when last changed, up to 400 days ago: those older than
        // their review period show as due for checking; one in seven was never checked.
        let age = i64::try_from(rng.below(400)).unwrap_or(0);
        let modified = now - chrono::Duration::days(age);
        let service = oruk::Service {
            last_modified: Some(modified),
            assured_date: (age % 7 != 3).then(|| modified.format("%Y-%m-%d").to_string()),
            assurer_email: (age % 7 != 3).then(|| "directory.team@example.org".to_owned()),
            ..service
        };
        let (entry, _) = oruk::check_service(service, None, &known)
            .map_err(|e| anyhow::anyhow!("demo service does not pass the import checks: {}", e.join("; ")))?;
        let capacity = match rng.below(10) {
            0 => Capacity::NotAccepting,
            1 => Capacity::WaitOneToThree,
            2 | 3 => Capacity::WaitUnderMonth,
            _ => Capacity::Accepting,
        };
        capacities.push((id, capacity));
        services.push(entry);
    }
    Ok(linkwork_domain::ports::DirectoryBatch {
        organizations: vcses
            .iter()
            .map(|v| oruk::Organization {
                id: v.id.0,
                name: v.name.clone(),
                description: format!("A voluntary group in {area}."),
                ..Default::default()
            })
            .collect(),
        owners: vcses.iter().map(|v| (v.id.0, v.id)).collect(),
        capacities,
        taxonomies: if pcn == 1 {
            vec![oruk::Taxonomy {
                id: taxonomy,
                name: "linkwork needs".into(),
                description: "The need domains link workers use".into(),
                ..Default::default()
            }]
        } else {
            vec![]
        },
        terms,
        services,
        source: "demo".into(),
        at: now,
        steward: None,
    })
}

/// Approximate centres of the demo's postcode districts (as in share/postcodes-sample.csv).
pub(super) const DISTRICTS: &[(&str, f64, f64)] = &[
    ("LS1", 53.797, -1.548),
    ("LS5", 53.817, -1.605),
    ("LS6", 53.823, -1.578),
    ("LS7", 53.822, -1.532),
    ("LS8", 53.818, -1.507),
    ("LS11", 53.775, -1.560),
    ("LS12", 53.797, -1.590),
    ("LS13", 53.810, -1.640),
    ("LS14", 53.820, -1.455),
    ("LS17", 53.858, -1.530),
    ("LS21", 53.905, -1.693),
    ("LS25", 53.792, -1.385),
    ("LS27", 53.742, -1.600),
];

/// The sample postcodes, shipped in the binary so a fresh demo can search by distance.
pub const POSTCODE_SAMPLE: &str = include_str!("../../../../share/postcodes-sample.csv");

/// A synthetic national directory for benchmarks: `n` services from `n / 5` organisations spread
/// over England, with words, categories, ages, weekly times, costs, languages, accessibility,
/// places and capacity drawn from realistic lists, checked as any import is. Returned in batches
/// of about 5,000 services.
pub fn national_directory(
    n: usize,
    seed: u64,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<linkwork_domain::ports::DirectoryBatch>> {
    use linkwork_domain::casework::NeedDomain;
    use linkwork_domain::directory::Capacity;
    use linkwork_domain::directory::oruk;
    const TOWNS: &[&str] = &[
        "Leeds",
        "Bradford",
        "Sheffield",
        "York",
        "Hull",
        "Manchester",
        "Liverpool",
        "Preston",
        "Carlisle",
        "Newcastle",
        "Sunderland",
        "Durham",
        "Birmingham",
        "Coventry",
        "Leicester",
        "Nottingham",
        "Derby",
        "Lincoln",
        "Norwich",
        "Ipswich",
        "Cambridge",
        "Oxford",
        "Reading",
        "Bristol",
        "Exeter",
        "Plymouth",
        "Truro",
        "Bath",
        "Brighton",
        "Canterbury",
        "Southampton",
        "Portsmouth",
        "London",
        "Luton",
        "Stoke",
        "Shrewsbury",
        "Hereford",
        "Gloucester",
    ];
    const EXTRA: &[&str] = &[
        "Friendly, welcoming and free to join.",
        "Run by volunteers with lived experience.",
        "Transport can be arranged for people who cannot get there.",
        "Interpreters available on request.",
        "Tea, coffee and a chat afterwards.",
        "Referral from a link worker or self-referral.",
    ];
    let mut rng = Rng(seed.max(1));
    let taxonomy = uuid::Uuid::parse_str(DEMO_TAXONOMY)?;
    let term_id = |i: usize| uuid::Uuid::from_u128(0x0193_a000_0000_7000_8000_0000_0000_1000 + i as u128);
    let terms: Vec<oruk::TaxonomyTerm> = NeedDomain::ALL
        .iter()
        .enumerate()
        .map(|(i, d)| oruk::TaxonomyTerm {
            id: term_id(i),
            name: d.label().to_owned(),
            taxonomy_id: Some(taxonomy),
            code: Some(d.as_str().to_owned()),
            ..Default::default()
        })
        .collect();
    let known: std::collections::HashSet<uuid::Uuid> = terms.iter().map(|t| t.id).collect();
    const KIND_NEED: [usize; 12] = [2, 3, 0, 0, 0, 6, 1, 9, 7, 8, 0, 3];
    let mut batches = Vec::new();
    let per = 5000;
    for start in (0..n).step_by(per) {
        let count = per.min(n - start);
        let mut orgs = Vec::new();
        let mut services = Vec::new();
        let mut capacities = Vec::new();
        for i in start..start + count {
            if i % 5 == 0 {
                orgs.push(oruk::Organization {
                    id: uuid::Uuid::from_u128(0x0193_b000_0000_7000_8000_0000_0000_0000 + (i / 5) as u128),
                    name: format!("{} {}", TOWNS[rng.below(TOWNS.len())], VCSE_NAMES[rng.below(VCSE_NAMES.len())]),
                    ..Default::default()
                });
            }
            let org = uuid::Uuid::from_u128(0x0193_b000_0000_7000_8000_0000_0000_0000 + (i / 5) as u128);
            let k = rng.below(SERVICE_KINDS.len());
            let (kind, description) = SERVICE_KINDS[k];
            let town = TOWNS[rng.below(TOWNS.len())];
            let (lat, lon) = (50.2 + rng.below(5200) as f64 / 1000.0, -5.3 + rng.below(7000) as f64 / 1000.0);
            let id = uuid::Uuid::from_u128(0x0193_c000_0000_7000_8000_0000_0000_0000 + i as u128);
            let opens = 8 + rng.below(10);
            let s = oruk::Service {
                id,
                organization_id: Some(org),
                name: format!("{kind}, {town} {}", i % 97),
                description: Some(format!("{description} {}", EXTRA[rng.below(EXTRA.len())])),
                status: if rng.chance(96) { "active".into() } else { "temporarily closed".into() },
                minimum_age: rng.chance(30).then_some(18.0),
                maximum_age: rng.chance(10).then_some(25.0),
                schedules: vec![oruk::Schedule {
                    id: uuid::Uuid::from_u128(0x0193_d000_0000_7000_8000_0000_0000_0000 + i as u128),
                    freq: Some("WEEKLY".into()),
                    byday: Some(["MO", "TU", "WE", "TH", "FR", "SA", "MO,WE", "TU,TH"][rng.below(8)].into()),
                    opens_at: Some(format!("{opens:02}:00")),
                    closes_at: Some(format!("{:02}:30", opens + 1 + rng.below(3))),
                    ..Default::default()
                }],
                languages: if rng.chance(15) {
                    vec![oruk::Language {
                        id: uuid::Uuid::now_v7(),
                        name: Some(["Polish", "Urdu", "Punjabi", "Welsh", "Arabic"][rng.below(5)].into()),
                        code: None,
                    }]
                } else {
                    vec![]
                },
                service_at_locations: vec![oruk::ServiceAtLocation {
                    id: uuid::Uuid::from_u128(0x0193_e000_0000_7000_8000_0000_0000_0000 + i as u128),
                    location: Some(oruk::Location {
                        id: uuid::Uuid::from_u128(0x0193_f000_0000_7000_8000_0000_0000_0000 + i as u128),
                        location_type: "physical".into(),
                        name: Some(format!("{town} community centre")),
                        latitude: Some(lat),
                        longitude: Some(lon),
                        accessibility: if rng.chance(50) {
                            vec![oruk::Accessibility {
                                id: uuid::Uuid::now_v7(),
                                description: Some("Wheelchair accessible; hearing loop".into()),
                                ..Default::default()
                            }]
                        } else {
                            vec![]
                        },
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                cost_options: if rng.chance(25) {
                    vec![oruk::CostOption {
                        id: uuid::Uuid::now_v7(),
                        amount: Some(3.0),
                        option: Some("Per session".into()),
                        ..Default::default()
                    }]
                } else {
                    vec![]
                },
                attributes: vec![oruk::Attribute {
                    id: uuid::Uuid::now_v7(),
                    taxonomy_term_id: Some(term_id(KIND_NEED[k])),
                    taxonomy_term: terms.get(KIND_NEED[k]).cloned(),
                    ..Default::default()
                }],
                last_modified: Some(now),
                ..Default::default()
            };
            let (entry, _) = oruk::check_service(s, None, &known)
                .map_err(|e| anyhow::anyhow!("synthetic service fails the checks: {}", e.join("; ")))?;
            capacities.push((
                id,
                [Capacity::Accepting, Capacity::Accepting, Capacity::WaitUnderMonth, Capacity::NotAccepting]
                    [rng.below(4)],
            ));
            services.push(entry);
        }
        batches.push(linkwork_domain::ports::DirectoryBatch {
            organizations: orgs,
            taxonomies: if start == 0 {
                vec![oruk::Taxonomy { id: taxonomy, name: "linkwork needs".into(), ..Default::default() }]
            } else {
                vec![]
            },
            terms: if start == 0 { terms.clone() } else { vec![] },
            services,
            capacities,
            source: "synthetic".into(),
            at: now,
            ..Default::default()
        });
    }
    Ok(batches)
}
