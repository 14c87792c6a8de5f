//! Realistic synthetic data, for exploring the product and for benchmarks at national scale.
//!
//! One unit of `--scale` is one PCN's worth: five practices, a link-worker team, about 10,000
//! registered people, a year of referrals at 300 per full-time link worker (four workers), and 60
//! services run by 15 local voluntary groups. Data is generated and written one PCN at a time, so
//! memory stays flat however large the scale. The same seed gives the same data. Every NHS number
//! is a valid one in the 999 range reserved for testing.

use anyhow::Context;
use chrono::Duration;
use indicatif::{ProgressBar, ProgressStyle};
use linkwork_domain::Clock;
use linkwork_domain::accounts::{Role, RoleGrant, User};
use linkwork_domain::directory::Service;
use linkwork_domain::ids::{OrgId, PersonId, ReferralId, ServiceId, TeamId, UserId};
use linkwork_domain::organisations::{OrgKind, Organisation, Team};
use linkwork_domain::people::Person;
use linkwork_domain::ports::Store;
use linkwork_domain::referrals::{Referral, ReferralSource, ReferralStatus};
use linkwork_domain::values::{Email, NhsNumber, OdsCode, Postcode};

/// The password of every demo account. Demo accounts are marked as such and the pages say so.
pub const DEMO_PASSWORD: &str = "demo-linkwork-2026";

pub const PEOPLE_PER_PCN: usize = 10_000;
pub const LINK_WORKERS_PER_PCN: usize = 4;
pub const REFERRALS_PER_WORKER_YEAR: usize = 300;
pub const SERVICES_PER_PCN: usize = 60;
pub const VCSE_PER_PCN: usize = 15;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct DemoOptions {
    pub scale: u32,
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self { scale: 1, seed: 1 }
    }
}

/// What was generated.
#[derive(Clone, Debug, Default)]
pub struct DemoSummary {
    pub organisations: usize,
    pub users: Vec<(String, String)>,
    pub people: usize,
    pub referrals: usize,
    pub services: usize,
}

/// SplitMix64: small, fast, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const GIVEN: &[&str] = &[
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Freya", "Lily", "Sophia", "Evie", "Margaret", "Patricia",
    "Joan", "Doreen", "Aisha", "Fatima", "Priya", "Zofia", "Siobhan", "Chloe", "Oliver", "George", "Noah", "Arthur",
    "Leo", "Harry", "Jack", "Muhammad", "Thomas", "James", "William", "David", "Peter", "Kwame", "Tomasz", "Ravi",
    "Dylan", "Callum", "Dennis", "Brian",
];
const FAMILY: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson", "Wright",
    "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Thomas", "Clarke", "Jackson", "Wood", "Khan",
    "Hughes", "Edwards", "Hussain", "Lewis", "Kowalski", "O'Brien", "Murphy", "Begum", "Ahmed", "Okafor", "Singh",
    "Campbell", "Kelly", "Moore", "Price", "Turner", "Baker",
];
const AREAS: &[(&str, &str)] = &[
    ("Harehills", "LS8"),
    ("Chapeltown", "LS7"),
    ("Armley", "LS12"),
    ("Beeston", "LS11"),
    ("Headingley", "LS6"),
    ("Seacroft", "LS14"),
    ("Bramley", "LS13"),
    ("Morley", "LS27"),
    ("Otley", "LS21"),
    ("Garforth", "LS25"),
    ("Kirkstall", "LS5"),
    ("Roundhay", "LS17"),
];
const REASONS: &[&str] = &[
    "Lonely since partner died; wants to get out more",
    "Debt worries affecting sleep and mood",
    "Housing disrepair and damp; anxious about landlord",
    "Low mood, not working, wants structure to the week",
    "Carer for husband with dementia, exhausted",
    "Recently retired and isolated",
    "Wants to be more active after cardiac rehab",
    "Struggling with benefits forms",
    "Frequent attender; social needs behind appointments",
    "Newly arrived, little English, wants to meet people",
    "Long-term pain, wants to try a group activity",
    "Bereaved last year, not coping",
];
const SERVICE_KINDS: &[(&str, &str)] = &[
    ("Walking for Health", "Free, friendly short walks led by trained volunteers, every week."),
    ("Citizens Advice debt clinic", "One-to-one advice on debt, budgeting and benefits."),
    ("Men's Shed", "A workshop space to make, mend and chat, for men of all ages."),
    ("Community choir", "No auditions; sing together once a week, tea after."),
    ("Telephone befriending", "A regular call from the same volunteer for people who feel alone."),
    ("Carers' support group", "Peer support and breaks for unpaid carers."),
    ("Community allotment", "Grow food together; tools and seeds provided."),
    ("Digital drop-in", "Help with phones, tablets, online forms and video calls."),
    ("Bereavement support", "Group and one-to-one support after a death."),
    ("Chair-based exercise", "Gentle seated exercise for people with limited mobility."),
    ("English conversation club", "Practise English in a relaxed group; all levels."),
    ("Food bank and pantry", "Emergency food parcels and a low-cost pantry."),
];
const VCSE_NAMES: &[&str] = &[
    "Neighbourhood Action",
    "Community Trust",
    "Age Concern",
    "Carers Network",
    "Wellbeing Collective",
    "Community Association",
    "Advice Centre",
    "Together Project",
    "Good Neighbours",
    "Arts for Health",
    "Green Spaces Friends",
    "Money Matters",
    "Open Doors",
    "Connect",
    "Community Kitchen",
];

const SOURCES: &[(ReferralSource, usize)] = &[
    (ReferralSource::Gp, 45),
    (ReferralSource::PracticeStaff, 20),
    (ReferralSource::SelfReferral, 10),
    (ReferralSource::HospitalDischarge, 5),
    (ReferralSource::LocalAuthority, 5),
    (ReferralSource::Housing, 4),
    (ReferralSource::Vcse, 5),
    (ReferralSource::Pharmacist, 3),
    (ReferralSource::Other, 3),
];

fn weighted_source(rng: &mut Rng) -> ReferralSource {
    let mut roll = rng.below(100);
    for (s, w) in SOURCES {
        if roll < *w {
            return *s;
        }
        roll -= w;
    }
    ReferralSource::Other
}

/// A valid test-range NHS number from a counter (skipping prefixes whose check digit would be 10).
fn nhs_number(counter: &mut u32) -> Option<NhsNumber> {
    loop {
        let six = *counter % 1_000_000;
        *counter = counter.wrapping_add(1);
        let digits: Vec<u32> = format!("999{six:06}").bytes().map(|b| u32::from(b - b'0')).collect();
        if let Some(check) = NhsNumber::check_digit(&digits) {
            return NhsNumber::parse(&format!("999{six:06}{check}")).ok();
        }
    }
}

fn email(s: &str) -> anyhow::Result<Email> {
    Email::parse(s).map_err(|e| anyhow::anyhow!("demo email {s}: {e}"))
}

/// Generate and store the demo data.
pub async fn generate(
    store: &dyn Store,
    clock: &dyn Clock,
    opts: &DemoOptions,
    progress: bool,
) -> anyhow::Result<DemoSummary> {
    let mut rng = Rng(opts.seed);
    let now = clock.now();
    let today = now.date_naive();
    let mut summary = DemoSummary::default();
    let password_hash = linkwork_web::passwords::hash(DEMO_PASSWORD).map_err(anyhow::Error::msg)?;
    let mut nhs_counter: u32 = 0;

    let org = |name: String, kind, ods: Option<String>, parent: Option<OrgId>| -> anyhow::Result<Organisation> {
        Ok(Organisation {
            id: OrgId::new(),
            name,
            kind,
            ods_code: ods.map(|c| OdsCode::parse(&c)).transpose().map_err(|e| anyhow::anyhow!("{e}"))?,
            parent_id: parent,
            created_at: now,
        })
    };
    let mut add_user = |email_addr: String, name: &str, home: OrgId, roles: &[Role]| -> anyhow::Result<User> {
        summary.users.push((email_addr.clone(), roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ")));
        Ok(User {
            id: UserId::new(),
            org_id: home,
            email: email(&email_addr)?,
            display_name: name.to_owned(),
            password_hash: password_hash.clone(),
            disabled: false,
            is_demo: true,
            roles: roles.iter().map(|r| RoleGrant { org_id: home, role: *r }).collect(),
            created_at: now,
        })
    };

    let icb = org("Demo West Yorkshire ICB".into(), OrgKind::Icb, Some("QDM".into()), None)?;
    store.create_org(&icb, None).await.context("creating the demo ICB")?;
    summary.organisations += 1;
    let mut memberships: Vec<(TeamId, usize)> = Vec::new();
    let mut users = vec![
        add_user("commissioner@icb.demo.test".into(), "Chris Commissioner", icb.id, &[Role::Commissioner])?,
        add_user("researcher@icb.demo.test".into(), "Rowan Researcher", icb.id, &[Role::Researcher])?,
    ];

    let bar = if progress {
        let b = ProgressBar::new(u64::from(opts.scale));
        b.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} PCNs, {elapsed} elapsed, about {eta} left")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b.set_message("Generating demo data");
        b
    } else {
        ProgressBar::hidden()
    };

    for p in 1..=opts.scale {
        let (area, outward) = AREAS[usize::try_from(p - 1).unwrap_or(0) % AREAS.len()];
        let pcn = org(
            format!("{area} Primary Care Network {p}"),
            OrgKind::Pcn,
            Some(format!("U{:05}", 10_000 + p)),
            Some(icb.id),
        )?;
        store.create_org(&pcn, None).await?;
        let mut practices = Vec::new();
        for k in 1..=5 {
            let pr = org(
                format!("{area} Medical Practice {p}-{k}"),
                OrgKind::Practice,
                Some(format!("Y{:05}", p * 10 + k)),
                Some(pcn.id),
            )?;
            store.create_org(&pr, None).await?;
            practices.push(pr);
        }
        let mut vcses = Vec::new();
        for k in 0..VCSE_PER_PCN {
            let v = org(format!("{area} {} {p}", VCSE_NAMES[k % VCSE_NAMES.len()]), OrgKind::Vcse, None, Some(icb.id))?;
            store.create_org(&v, None).await?;
            vcses.push(v);
        }
        summary.organisations += 1 + practices.len() + vcses.len();
        let team = Team { id: TeamId::new(), org_id: pcn.id, name: "Social prescribing team".into(), created_at: now };
        store.create_team(&team).await?;

        // Accounts: PCN staff, a referrer at the first practice, a partner at the first VCSE.
        let d = format!("pcn{p}.demo.test");
        users.push(add_user(format!("admin@{d}"), "Alex Administrator", pcn.id, &[Role::Administrator])?);
        memberships.push((team.id, users.len()));
        users.push(add_user(format!("manager@{d}"), "Morgan Manager", pcn.id, &[Role::Manager])?);
        for w in 1..=LINK_WORKERS_PER_PCN {
            let name = format!("{} {}", GIVEN[(w * 7 + 3) % GIVEN.len()], FAMILY[(w * 5 + 1) % FAMILY.len()]);
            memberships.push((team.id, users.len()));
            users.push(add_user(format!("linkworker{w}@{d}"), &name, pcn.id, &[Role::LinkWorker])?);
        }
        users.push(add_user(format!("referrer@{d}"), "Robin Referrer", practices[0].id, &[Role::Referrer])?);
        users.push(add_user(format!("vcse@{d}"), "Val Partner", vcses[0].id, &[Role::VcsePartner])?);

        // People registered across the PCN's practices: the tenant is the PCN that holds them.
        let people: Vec<Person> = (0..PEOPLE_PER_PCN)
            .map(|_| {
                let age_days = i64::try_from(365 * 18 + rng.below(365 * 77)).unwrap_or(0);
                let district = rng.below(9) + 1;
                let postcode = Postcode::parse(&format!(
                    "{outward} {}{}{}",
                    district,
                    char::from(b'A' + u8::try_from(rng.below(26)).unwrap_or(0)),
                    char::from(b'A' + u8::try_from(rng.below(26)).unwrap_or(0))
                ))
                .ok();
                Person {
                    id: PersonId::new(),
                    org_id: pcn.id,
                    nhs_number: nhs_number(&mut nhs_counter),
                    given_name: (*rng.pick(GIVEN)).to_owned(),
                    family_name: (*rng.pick(FAMILY)).to_owned(),
                    date_of_birth: today - Duration::days(age_days),
                    postcode,
                    created_at: now,
                }
            })
            .collect();
        store.insert_people(&people).await.context("writing demo people")?;

        // A year of referrals, older ones mostly triaged, the last fortnight's mostly waiting.
        let n_referrals = LINK_WORKERS_PER_PCN * REFERRALS_PER_WORKER_YEAR;
        let referrals: Vec<Referral> = (0..n_referrals)
            .map(|_| {
                let person = &people[rng.below(people.len())];
                let minutes_ago = i64::try_from(rng.below(365 * 24 * 60)).unwrap_or(0);
                let status = if minutes_ago < 14 * 24 * 60 && rng.chance(70) {
                    ReferralStatus::Received
                } else if rng.chance(8) {
                    ReferralStatus::Declined
                } else if rng.chance(4) {
                    ReferralStatus::Redirected
                } else {
                    ReferralStatus::Accepted
                };
                Referral {
                    id: ReferralId::new(),
                    org_id: pcn.id,
                    person_id: person.id,
                    team_id: Some(team.id),
                    source: weighted_source(&mut rng),
                    reason: (*rng.pick(REASONS)).to_owned(),
                    status,
                    received_at: now - Duration::minutes(minutes_ago),
                }
            })
            .collect();
        store.insert_referrals(&referrals).await.context("writing demo referrals")?;

        let services: Vec<Service> = (0..SERVICES_PER_PCN)
            .map(|i| {
                let (kind, description) = SERVICE_KINDS[i % SERVICE_KINDS.len()];
                let owner = &vcses[i % vcses.len()];
                Service {
                    id: ServiceId::new(),
                    org_id: owner.id,
                    name: format!("{kind}, {area} {}", i / SERVICE_KINDS.len() + 1),
                    description: description.to_owned(),
                    status: if rng.chance(95) { "active".into() } else { "temporarily closed".into() },
                    url: None,
                    email: Some(format!("hello@vcse{}.{d}", i % vcses.len() + 1)),
                    created_at: now,
                }
            })
            .collect();
        store.insert_services(&services).await.context("writing demo services")?;

        summary.people += people.len();
        summary.referrals += referrals.len();
        summary.services += services.len();
        bar.inc(1);
    }
    for u in &users {
        store.create_user(u).await.with_context(|| format!("creating demo user {}", u.email))?;
    }
    for (team, i) in memberships {
        store.add_team_member(team, users[i].id).await.context("adding demo team members")?;
    }
    bar.finish_and_clear();
    store.analyze().await.context("refreshing database statistics")?;
    Ok(summary)
}

/// Print what was generated and how to sign in.
pub fn print_summary(s: &DemoSummary) {
    println!(
        "Demo data loaded: {} organisations, {} people, {} referrals, {} services.",
        s.organisations, s.people, s.referrals, s.services
    );
    println!("Demo accounts (password for all: {DEMO_PASSWORD}):");
    for (email, roles) in s.users.iter().take(12) {
        println!("  {email:<36} {roles}");
    }
    if s.users.len() > 12 {
        println!("  … and {} more, one set per PCN (admin@pcnN.demo.test and so on).", s.users.len() - 12);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_nhs_numbers_are_valid_test_numbers_and_distinct() {
        let mut c = 0;
        let nums: Vec<NhsNumber> = (0..1000).filter_map(|_| nhs_number(&mut c)).collect();
        assert_eq!(nums.len(), 1000);
        assert!(nums.iter().all(NhsNumber::is_test_number));
        let mut sorted: Vec<&str> = nums.iter().map(NhsNumber::as_str).collect();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 1000);
    }

    #[test]
    fn rng_is_deterministic() {
        let (mut a, mut b) = (Rng(7), Rng(7));
        assert_eq!((0..10).map(|_| a.next()).collect::<Vec<_>>(), (0..10).map(|_| b.next()).collect::<Vec<_>>());
    }
}
