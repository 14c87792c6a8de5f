//! Realistic synthetic data, for exploring the product and for benchmarks at national scale.
//!
//! One unit of `--scale` is one PCN's worth: five practices, a link-worker team, about 10,000
//! registered people, a year of referrals at 300 per full-time link worker (four workers), and 60
//! services run by 15 local voluntary groups. Data is generated and written one PCN at a time, so
//! memory stays flat however large the scale. The same seed gives the same data. Every NHS number
//! is a valid one in the 999 range reserved for testing.

use anyhow::Context;
use chrono::Duration;
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use linkwork_domain::Clock;
use linkwork_domain::access::accounts::{Role, RoleGrant, User};
use linkwork_domain::access::organisations::{OrgKind, Organisation, Team};
use linkwork_domain::casework::coding::{CodedEvent, REFERRAL_TO_SOCIAL_PRESCRIBING};
use linkwork_domain::casework::{
    Appointment, AppointmentStatus, Contact, ContactLocation, ContactMode, DischargeReason, Episode, EpisodeWork, Goal,
    GoalStatus, HoldingEnd, HoldingPeriod, HoldingReason, Need, NeedDomain, TeamSettings,
};
use linkwork_domain::ids::{
    AppointmentId, CodedEventId, ContactId, EpisodeId, GoalId, HoldingId, NeedId, OrgId, PersonId, ReferralId,
    ServiceId, TeamId, UserId,
};
use linkwork_domain::intake::referrals::Urgency;
use linkwork_domain::intake::referrals::{Referral, ReferralSource, ReferralStatus};
use linkwork_domain::people::Person;
use linkwork_domain::people::{ContactChannel, Ethnicity, Gender};
use linkwork_domain::ports::CaseworkBatch;
use linkwork_domain::ports::Store;
use linkwork_domain::uktime::UkTime;
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
    pub episodes: usize,
    pub contacts: usize,
    pub services: usize,
    pub connections: usize,
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
/// The demo link workers' names: family names that no demo person has, so a worker is never
/// mistaken for someone on the waiting list (issue 12, item 19).
const STAFF: &[&str] = &[
    "Priya Ashworth",
    "Tom Fairbairn",
    "Grace Pemberton",
    "Daniel Whitlock",
    "Nadia Holroyd",
    "Sean Lockwood",
    "Hannah Brearley",
    "Yusuf Thornton",
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
/// The need domains behind each of `REASONS`, in the same order.
const REASON_NEEDS: &[&[NeedDomain]] = &[
    &[NeedDomain::Loneliness, NeedDomain::Bereavement],
    &[NeedDomain::Money, NeedDomain::MentalWellbeing],
    &[NeedDomain::Housing, NeedDomain::MentalWellbeing],
    &[NeedDomain::MentalWellbeing, NeedDomain::Work],
    &[NeedDomain::Caring],
    &[NeedDomain::Loneliness],
    &[NeedDomain::PhysicalActivity, NeedDomain::LongTermConditions],
    &[NeedDomain::Money, NeedDomain::Digital],
    &[NeedDomain::Other],
    &[NeedDomain::Loneliness, NeedDomain::Other],
    &[NeedDomain::LongTermConditions, NeedDomain::PhysicalActivity],
    &[NeedDomain::Bereavement, NeedDomain::MentalWellbeing],
];
/// What people say matters to them, by need domain (their own words).
const OWN_WORDS: &[(NeedDomain, &str, &str)] = &[
    (
        NeedDomain::Loneliness,
        "I just want someone to talk to, most days I don't see anyone",
        "Get out of the house twice a week and meet people",
    ),
    (NeedDomain::Bereavement, "Since he died the house is so quiet", "Talk to people who understand what it's like"),
    (NeedDomain::Money, "The letters keep coming and I can't open them", "Sort out the debts so I can sleep"),
    (
        NeedDomain::MentalWellbeing,
        "I feel flat, like nothing is worth doing",
        "Have something to look forward to each week",
    ),
    (NeedDomain::Housing, "The damp is making my chest worse", "Get the landlord to fix the damp"),
    (NeedDomain::Work, "I want a reason to get up in the morning", "Try some volunteering"),
    (NeedDomain::Caring, "I never get a minute to myself", "Have a few hours off each week without worrying"),
    (
        NeedDomain::PhysicalActivity,
        "I used to love walking before my heart trouble",
        "Walk to the park and back without stopping",
    ),
    (NeedDomain::LongTermConditions, "The pain stops me doing anything", "Find something I can do even on bad days"),
    (NeedDomain::Digital, "Everything is online now and I can't do it", "Use the phone to do my forms myself"),
    (NeedDomain::Other, "I keep ending up at the doctor's but it's not really medical", "Know where to go for help"),
];
const STREETS: &[&str] = &["Church", "Station", "Victoria", "Park", "Mill", "Chapel", "Oak", "Moor", "Green", "Kings"];

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
    let today = now.uk_date();
    let mut summary = DemoSummary::default();
    let password_hash = linkwork_web::access::passwords::hash(DEMO_PASSWORD).map_err(anyhow::Error::msg)?;
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
            session_generation: 0,
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

    // Users are written as each PCN's are made (its casework names them).
    let mut created = 0;
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
        // The team's micro-discretions, as a real team might set them.
        let mut settings = TeamSettings::defaults(team.id, pcn.id);
        settings.areas = vec![outward.to_owned()];
        settings.exclusions = vec!["crisis".into(), "suicidal".into()];
        settings.allowed_locations =
            vec![ContactLocation::Practice, ContactLocation::Community, ContactLocation::Remote, ContactLocation::Home];
        store.save_team_settings(&settings).await.context("writing demo team settings")?;

        // Accounts: PCN staff, a referrer at the first practice, a partner at the first VCSE.
        let d = format!("pcn{p}.demo.test");
        users.push(add_user(format!("admin@{d}"), "Alex Administrator", pcn.id, &[Role::Administrator])?);
        memberships.push((team.id, users.len()));
        users.push(add_user(format!("manager@{d}"), "Morgan Manager", pcn.id, &[Role::Manager])?);
        let first_worker = users.len();
        for w in 1..=LINK_WORKERS_PER_PCN {
            let name = STAFF[(usize::try_from(p).unwrap_or(0) * LINK_WORKERS_PER_PCN + w) % STAFF.len()].to_owned();
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
                let gi = rng.below(GIVEN.len());
                let given = GIVEN[gi];
                let family = *rng.pick(FAMILY);
                let contact_by = match rng.below(100) {
                    0..50 => ContactChannel::Phone,
                    50..80 => ContactChannel::Text,
                    80..95 => ContactChannel::Email,
                    _ => ContactChannel::Letter,
                };
                Person {
                    id: PersonId::new(),
                    org_id: pcn.id,
                    nhs_number: nhs_number(&mut nhs_counter),
                    given_name: given.to_owned(),
                    family_name: family.to_owned(),
                    date_of_birth: today - Duration::days(age_days),
                    postcode,
                    practice_id: Some(practices[rng.below(practices.len())].id),
                    address: format!("{} {} Road, {area}, Leeds", rng.below(180) + 1, rng.pick(STREETS)),
                    // Ofcom's range reserved for drama: never a real number.
                    phone: Some(format!("07700 900{:03}", rng.below(1000))),
                    email: (contact_by == ContactChannel::Email).then(|| {
                        format!(
                            "{}.{}{}@example.com",
                            given.to_lowercase(),
                            family.to_lowercase().replace('\'', ""),
                            rng.below(100)
                        )
                    }),
                    contact_by,
                    // The first half of GIVEN are names usually given to girls.
                    gender: if gi < GIVEN.len() / 2 { Gender::Female } else { Gender::Male },
                    ethnicity: match rng.below(100) {
                        0..68 => Ethnicity::WhiteBritish,
                        68..73 => Ethnicity::WhiteOther,
                        73..78 => Ethnicity::Pakistani,
                        78..82 => Ethnicity::Indian,
                        82..86 => Ethnicity::African,
                        86..88 => Ethnicity::Caribbean,
                        88..91 => Ethnicity::MixedCaribbean,
                        91..93 => Ethnicity::Bangladeshi,
                        93..95 => Ethnicity::Chinese,
                        95..97 => Ethnicity::AnyOther,
                        _ => Ethnicity::NotStated,
                    },
                    language: if rng.chance(8) {
                        (*rng.pick(&["Polish", "Urdu", "Punjabi", "Arabic"])).to_owned()
                    } else {
                        "English".to_owned()
                    },
                    version: 1,
                    created_at: now,
                    ..Person::default()
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
                let reason = rng.below(REASONS.len());
                Referral {
                    id: ReferralId::new(),
                    org_id: pcn.id,
                    person_id: person.id,
                    team_id: Some(team.id),
                    source: weighted_source(&mut rng),
                    reason: REASONS[reason].to_owned(),
                    needs: REASON_NEEDS[reason].to_vec(),
                    urgency: if rng.chance(10) { Urgency::Soon } else { Urgency::Routine },
                    consent: true,
                    status,
                    received_at: now - Duration::minutes(minutes_ago),
                    ..Referral::default()
                }
            })
            .collect();
        store.insert_referrals(&referrals).await.context("writing demo referrals")?;
        // The PCN's accounts exist before the casework that names them.
        for u in &users[created..] {
            store.create_user(u).await.with_context(|| format!("creating demo user {}", u.email))?;
        }
        created = users.len();
        for (team, i) in memberships.drain(..) {
            store.add_team_member(team, users[i].id).await.context("adding demo team members")?;
        }
        let workers: Vec<UserId> =
            users[first_worker..first_worker + LINK_WORKERS_PER_PCN].iter().map(|u| u.id).collect();
        let batch = casework(&mut rng, now, &team, &workers, &referrals);
        summary.episodes += batch.episodes.len();
        summary.contacts += batch.contacts.len();
        store.insert_casework(&batch).await.context("writing demo casework")?;

        // Each PCN's directory staff look after its area's listings.
        let directory = linkwork_domain::ports::DirectoryBatch {
            steward: Some(pcn.id),
            ..demo_directory(&mut rng, now, area, &vcses, &d, p)?
        };
        summary.services += directory.services.len();
        store.upsert_directory(&directory).await.context("writing demo services")?;
        let partner =
            users.iter().find(|u| u.email.as_str() == format!("vcse@{d}")).map(|u| (u.id, u.display_name.clone()));
        if let Some(partner) = partner {
            summary.connections += demo_connections(
                store,
                &mut rng,
                now,
                &batch.episodes,
                &people,
                &directory,
                &users[first_worker..],
                partner,
            )
            .await
            .context("writing demo connections")?;
        }

        summary.people += people.len();
        summary.referrals += referrals.len();
        bar.inc(1);
    }
    for u in &users[created..] {
        store.create_user(u).await.with_context(|| format!("creating demo user {}", u.email))?;
    }
    bar.finish_and_clear();
    let points: Vec<linkwork_domain::ports::PostcodePoint> = POSTCODE_SAMPLE
        .lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            Some(linkwork_domain::ports::PostcodePoint {
                postcode: (*c.first()?).to_owned(),
                latitude: c.get(1)?.parse().ok()?,
                longitude: c.get(2)?.parse().ok()?,
                lsoa: c.get(3).map(|x| (*x).to_owned()),
            })
        })
        .collect();
    store.import_postcodes(&points, &[]).await.context("loading the sample postcodes")?;
    store.analyze().await.context("refreshing database statistics")?;
    Ok(summary)
}

/// A year of casework for a PCN's accepted referrals: an episode for each person's first
/// accepted referral, with what matters to them, goals, contacts in the team's usual ways (and
/// sometimes not), holding, appointments, and for older episodes a discharge.
fn casework(
    rng: &mut Rng,
    now: DateTime<Utc>,
    team: &Team,
    workers: &[UserId],
    referrals: &[Referral],
) -> CaseworkBatch {
    let today = now.uk_date();
    let mut b = CaseworkBatch::default();
    let mut sorted: Vec<&Referral> = referrals.iter().filter(|r| r.status == ReferralStatus::Accepted).collect();
    sorted.sort_by_key(|r| r.received_at);
    let mut seen = std::collections::HashSet::new();
    for r in sorted {
        if !seen.insert(r.person_id) {
            continue;
        }
        let opened_at = (r.received_at + Duration::days(i64::try_from(rng.below(6) + 1).unwrap_or(1))).min(now);
        let age = (now - opened_at).num_days();
        let closed_at = (age > 120 && rng.chance(85))
            .then(|| {
                opened_at
                    + Duration::days(60 + i64::try_from(rng.below(usize::try_from(age - 60).unwrap_or(1))).unwrap_or(0))
            })
            .filter(|c| *c < now);
        let worker = *rng.pick(workers);
        let id = EpisodeId::new();
        let end = closed_at.unwrap_or(now).uk_date();
        let span = (end - opened_at.uk_date()).num_days().max(1);
        let n_contacts = if closed_at.is_some() {
            3 + rng.below(9)
        } else {
            1 + rng.below(usize::try_from(span / 10 + 1).unwrap_or(1).min(8))
        };
        let mut last = opened_at.uk_date();
        // Open episodes were last seen recently (most follow-ups are not yet due).
        let reach = if closed_at.is_some() { span } else { (span - i64::try_from(rng.below(17)).unwrap_or(0)).max(0) };
        let n = i64::try_from(n_contacts).unwrap_or(1);
        for k in 0..n_contacts {
            let k = i64::try_from(k).unwrap_or(0);
            // Closed episodes: from the first day to the last. Open ones: the latest contact
            // `reach` days in, so most follow-ups are not yet due.
            let offset = if closed_at.is_some() { reach * k / (n - 1).max(1) } else { reach * (k + 1) / n };
            let day = opened_at.uk_date() + Duration::days(offset);
            last = day;
            let (mode, location) = match rng.below(100) {
                0..45 => (ContactMode::FaceToFace, ContactLocation::Practice),
                45..75 => (ContactMode::Phone, ContactLocation::Remote),
                75..85 => (ContactMode::HomeVisit, ContactLocation::Home),
                85..93 => (ContactMode::FaceToFace, ContactLocation::Community),
                93..97 => (ContactMode::Video, ContactLocation::Remote),
                _ => (ContactMode::Text, ContactLocation::Remote),
            };
            let minutes = i32::try_from(*rng.pick(&[20usize, 30, 45, 45, 45, 60, 60, 90, 120])).unwrap_or(45);
            b.contacts.push(Contact {
                id: ContactId::new(),
                org_id: team.org_id,
                episode_id: id,
                worker_id: Some(worker),
                happened_on: day,
                minutes,
                mode,
                location,
                present: if rng.chance(15) { "Daughter".into() } else { String::new() },
                notes: String::new(),
                outside_usual: minutes > 90 || location == ContactLocation::Home && rng.chance(50),
                created_at: opened_at,
            });
        }
        let needs = if r.needs.is_empty() { vec![NeedDomain::Other] } else { r.needs.clone() };
        for (j, domain) in needs.iter().enumerate() {
            let (_, said, goal) = OWN_WORDS.iter().find(|(d, _, _)| d == domain).copied().unwrap_or(OWN_WORDS[0]);
            b.needs.push(Need {
                id: NeedId::new(),
                org_id: team.org_id,
                episode_id: id,
                domain: *domain,
                own_words: said.into(),
                recorded_at: opened_at,
                recorded_by: Some(worker),
            });
            if j < 2 {
                let status = match (closed_at.is_some(), rng.below(10)) {
                    (true, 0..6) => GoalStatus::Achieved,
                    (true, 6..8) => GoalStatus::PartlyAchieved,
                    (true, _) => GoalStatus::Stopped,
                    (false, 0..4) => GoalStatus::InProgress,
                    (false, 4..6) => GoalStatus::NotStarted,
                    (false, _) => GoalStatus::PartlyAchieved,
                };
                b.goals.push(Goal {
                    id: GoalId::new(),
                    org_id: team.org_id,
                    episode_id: id,
                    domain: *domain,
                    own_words: goal.into(),
                    steps: String::new(),
                    status,
                    progress: i32::try_from(rng.below(11)).unwrap_or(5),
                    created_at: opened_at,
                    updated_at: opened_at,
                    version: 1,
                });
            }
        }
        let holding = rng.chance(30);
        if holding {
            let started_on = opened_at.uk_date() + Duration::days(span / 4);
            let ended_on = closed_at
                .map(|c| c.uk_date())
                .or_else(|| rng.chance(30).then(|| started_on + Duration::days(span / 2)));
            b.holdings.push(HoldingPeriod {
                id: HoldingId::new(),
                org_id: team.org_id,
                episode_id: id,
                reason: *rng.pick(HoldingReason::ALL),
                started_on,
                review_on: started_on + Duration::days(28),
                ended_on: ended_on.filter(|e| *e <= today && *e > started_on),
                ended_how: ended_on
                    .map(|_| if closed_at.is_some() { HoldingEnd::Closed } else { HoldingEnd::ServiceStarted }),
                note: String::new(),
            });
        }
        if closed_at.is_none() && rng.chance(40) {
            let in_days = i64::try_from(rng.below(14)).unwrap_or(0);
            let hour = 9 + i64::try_from(rng.below(7)).unwrap_or(0);
            let starts_at =
                (today + Duration::days(in_days)).and_hms_opt(0, 0, 0).map(|t| t.and_utc() + Duration::hours(hour));
            if let Some(starts_at) = starts_at.filter(|s| *s > now) {
                b.appointments.push(Appointment {
                    id: AppointmentId::new(),
                    org_id: team.org_id,
                    episode_id: id,
                    person_id: r.person_id,
                    worker_id: Some(worker),
                    starts_at,
                    minutes: 45,
                    mode: ContactMode::FaceToFace,
                    location: ContactLocation::Practice,
                    status: AppointmentStatus::Booked,
                    remind: false,
                    created_at: now,
                });
            }
        }
        b.codes.push(CodedEvent {
            id: CodedEventId::new(),
            org_id: team.org_id,
            person_id: r.person_id,
            referral_id: r.id,
            episode_id: Some(id),
            code: REFERRAL_TO_SOCIAL_PRESCRIBING.0.into(),
            term: REFERRAL_TO_SOCIAL_PRESCRIBING.1.into(),
            recorded_at: opened_at,
            recorded_by: Some(worker),
        });
        let discharge_reason = closed_at.map(|_| match rng.below(10) {
            0..4 => DischargeReason::GoalsMet,
            4..7 => DischargeReason::ConnectedOnward,
            7 => DischargeReason::PersonEnded,
            8 => DischargeReason::NoContact,
            _ => DischargeReason::Moved,
        });
        b.episodes.push(Episode {
            id,
            org_id: team.org_id,
            person_id: r.person_id,
            referral_id: r.id,
            team_id: team.id,
            worker_id: Some(worker),
            work: if holding { EpisodeWork::Both } else { EpisodeWork::Connecting },
            opened_at,
            follow_up_on: closed_at.is_none().then(|| last + Duration::days(14)),
            closed_at,
            discharge_reason,
            discharge_note: closed_at
                .map(|_| "Met several times; connected to local groups; feels more confident.".to_owned()),
            version: 1,
        });
    }
    b
}

/// Print what was generated and how to sign in.
pub fn print_summary(s: &DemoSummary) {
    println!(
        "Demo data loaded: {} organisations, {} people, {} referrals, {} episodes with {} contacts, {} services, {} connections to services.",
        s.organisations, s.people, s.referrals, s.episodes, s.contacts, s.services, s.connections
    );
    println!("Demo accounts (password for all: {DEMO_PASSWORD}):");
    for (email, roles) in s.users.iter().take(12) {
        println!("  {email:<36} {roles}");
    }
    if s.users.len() > 12 {
        println!("  … and {} more, one set per PCN (admin@pcnN.demo.test and so on).", s.users.len() - 12);
    }
}

/// Connections from about one episode in six to the PCN's services, at every stage of the closed
/// loop: waiting for an answer (some past the nudge), accepted, attending, completed, declined
/// with a reason (at capacity becoming unmet need), did not attend; and signposts.
#[allow(clippy::too_many_arguments)]
async fn demo_connections(
    store: &dyn Store,
    rng: &mut Rng,
    now: DateTime<Utc>,
    episodes: &[linkwork_domain::casework::Episode],
    people: &[Person],
    directory: &linkwork_domain::ports::DirectoryBatch,
    workers: &[User],
    partner: (UserId, String),
) -> anyhow::Result<usize> {
    use linkwork_domain::directory::{
        Connection, ConnectionEvent, ConnectionKind, DeclineReason, SharedDetails, TaskStatus,
    };
    use linkwork_domain::ids::ConnectionId;
    let active: Vec<&linkwork_domain::directory::oruk::ServiceEntry> =
        directory.services.iter().filter(|s| s.document.status == "active").collect();
    if active.is_empty() {
        return Ok(0);
    }
    let mut n = 0;
    for e in episodes {
        if !rng.chance(17) {
            continue;
        }
        let Some(person) = people.iter().find(|p| p.id == e.person_id) else { continue };
        let Some(worker) = workers.iter().find(|w| Some(w.id) == e.worker_id).or(workers.first()) else { continue };
        let service = active[rng.below(active.len())];
        let created = e.opened_at + Duration::days(i64::try_from(7 + rng.below(40)).unwrap_or(7));
        if created > now {
            continue;
        }
        let refer = rng.chance(75);
        let need =
            [NeedDomain::Loneliness, NeedDomain::PhysicalActivity, NeedDomain::MentalWellbeing, NeedDomain::Money]
                [rng.below(4)];
        let c = Connection {
            id: ConnectionId::new(),
            org_id: e.org_id,
            person_id: person.id,
            episode_id: Some(e.id),
            service_id: ServiceId(service.document.id),
            service_name: service.document.name.clone(),
            kind: if refer { ConnectionKind::Refer } else { ConnectionKind::Signpost },
            status: if refer { TaskStatus::Requested } else { TaskStatus::Completed },
            need,
            shared: SharedDetails {
                name: if refer { person.full_name() } else { String::new() },
                phone: person.phone.clone().filter(|_| refer),
                note: if refer { "Would like to go with someone the first time.".into() } else { String::new() },
                link_worker: worker.display_name.clone(),
                link_worker_email: worker.email.as_str().to_owned(),
                ..SharedDetails::default()
            },
            consent_at: refer.then_some(created),
            created_by: worker.id,
            created_at: created,
            updated_at: created,
            answered_at: None,
            reminded_at: None,
            unanswered_at: None,
            reason: None,
            version: 1,
        };
        let event = |status, reason, hours: i64, note: &str| ConnectionEvent {
            connection_id: c.id,
            status,
            reason,
            note: note.to_owned(),
            at: (created + Duration::hours(hours)).min(now),
            by: partner.0,
            by_name: partner.1.clone(),
        };
        let first = ConnectionEvent {
            by: worker.id,
            by_name: worker.display_name.clone(),
            ..event(c.status, None, 0, if refer { "Referred" } else { "Signposted" })
        };
        store.create_connection(&c, &first).await?;
        n += 1;
        if !refer || now - created < Duration::days(3) {
            continue;
        }
        let reply = i64::try_from(4 + rng.below(24 * 9)).unwrap_or(24);
        let path: Vec<(TaskStatus, Option<DeclineReason>, i64, &str)> = match rng.below(10) {
            0 => vec![],
            1 => vec![(TaskStatus::Rejected, Some(DeclineReason::AtCapacity), reply, "Full until the spring")],
            2 => vec![(TaskStatus::Rejected, Some(DeclineReason::UnableToContact), reply, "Three calls, no answer")],
            3 => vec![
                (TaskStatus::Accepted, None, reply, ""),
                (TaskStatus::Failed, None, reply + 24 * 10, "Did not come to the first session"),
            ],
            4 | 5 => vec![
                (TaskStatus::Accepted, None, reply, ""),
                (TaskStatus::InProgress, None, reply + 24 * 7, "Came along and joined in"),
            ],
            _ => vec![
                (TaskStatus::Accepted, None, reply, ""),
                (TaskStatus::InProgress, None, reply + 24 * 7, "First session"),
                (TaskStatus::Completed, None, reply + 24 * 70, "Finished the course"),
            ],
        };
        let mut current = c.clone();
        for (status, reason, hours, note) in path {
            if created + Duration::hours(hours) > now {
                break;
            }
            current = store.change_connection(&current, &event(status, reason, hours, note)).await?;
        }
    }
    Ok(n)
}

/// Need categories for the demo's services: one taxonomy, a term per need domain.
pub const DEMO_TAXONOMY: &str = "0193a000-0000-7000-8000-000000000001";

/// One PCN's directory: its voluntary groups as Open Referral UK organisations they manage, and
/// services with places, opening times, costs and categories, checked as any import is.
fn demo_directory(
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
            last_modified: Some(now - chrono::Duration::days(i64::try_from(rng.below(400)).unwrap_or(0))),
            ..Default::default()
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
const DISTRICTS: &[(&str, f64, f64)] = &[
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
pub const POSTCODE_SAMPLE: &str = include_str!("../../../share/postcodes-sample.csv");

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

#[cfg(test)]
mod tests {
    #[test]
    fn demo_staff_names_never_match_demo_people() {
        for name in STAFF {
            let family = name.rsplit(' ').next().unwrap_or_default();
            assert!(!FAMILY.contains(&family), "{name} shares a family name with demo people");
        }
    }

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
