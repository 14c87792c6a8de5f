//! Realistic synthetic data, for exploring the product and for benchmarks at national scale.
//!
//! One unit of `--scale` is one PCN's worth: five practices, a link-worker team, about 10,000
//! registered people, a year of referrals at 300 per full-time link worker (four workers), and 60
//! services run by 15 local voluntary groups. Data is generated and written one PCN at a time, so
//! memory stays flat however large the scale. The same seed gives the same data. Every NHS number
//! is a valid one in the 999 range reserved for testing.

use self::casework::casework;
use self::connections::demo_connections;
use self::directory::demo_directory;
use self::words::AREAS;
use self::words::FAMILY;
use self::words::GIVEN;
use self::words::REASON_NEEDS;
use self::words::REASONS;
use self::words::Rng;
use self::words::STAFF;
use self::words::STREETS;
use self::words::VCSE_NAMES;
use self::words::email;
use self::words::nhs_number;
use self::words::weighted_source;
mod casework;
mod connections;
mod directory;
mod outcomes;
mod words;

pub use directory::{DEMO_TAXONOMY, POSTCODE_SAMPLE, national_directory};

use anyhow::Context;
use chrono::Duration;
use indicatif::{ProgressBar, ProgressStyle};
use linkwork_domain::Clock;
use linkwork_domain::access::accounts::{Role, RoleGrant, User};
use linkwork_domain::access::organisations::{OrgKind, Organisation, Team};
use linkwork_domain::casework::{ContactLocation, TeamSettings};
use linkwork_domain::ids::{OrgId, PersonId, ReferralId, TeamId, UserId};
use linkwork_domain::intake::referrals::Urgency;
use linkwork_domain::intake::referrals::{DeclineReason, RedirectTarget, Referral, ReferralSource, ReferralStatus};
use linkwork_domain::people::Person;
use linkwork_domain::people::{ContactChannel, Ethnicity, Gender};
use linkwork_domain::ports::Store;
use linkwork_domain::uktime::UkTime;
use linkwork_domain::values::{OdsCode, Postcode};

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
    pub outcomes: usize,
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
        // A referring agency: the council's adult social care team for the area.
        let agency = org(format!("{area} Adult Social Care {p}"), OrgKind::Agency, None, Some(pcn.id))?;
        store.create_org(&agency, None).await?;
        summary.organisations += 2 + practices.len() + vcses.len();
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
        users.push(add_user(format!("agency@{d}"), "Quinn Caseworker", agency.id, &[Role::AgencyReferrer])?);

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
        // A stream of its own, so the rest of the dataset is the same with or without flags.
        flags(store, &mut Rng(opts.seed ^ 0xF1A6_5AFE ^ (p as u64)), now, &people).await?;

        // The PCN's accounts exist before the referrals and casework that name them.
        for u in &users[created..] {
            store.create_user(u).await.with_context(|| format!("creating demo user {}", u.email))?;
        }
        created = users.len();
        // The demo referrer sends the first practice's GP referrals, so their list shows every
        // stage: waiting, accepted, in progress, discharged (with the summary), declined and
        // redirected with the reason.
        let referrer = users.iter().rev().find(|u| u.has_role(Role::Referrer)).map(|u| (u.id, u.display_name.clone()));
        // The agency's caseworker sends the local authority's referrals.
        let caseworker =
            users.iter().rev().find(|u| u.has_role(Role::AgencyReferrer)).map(|u| (u.id, u.display_name.clone()));
        let deciding_worker = users[first_worker].id;
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
                let received_at = now - Duration::minutes(minutes_ago);
                let source = weighted_source(&mut rng);
                let by_referrer = source == ReferralSource::Gp && person.practice_id == Some(practices[0].id);
                let decided = status != ReferralStatus::Received;
                let sender = if by_referrer {
                    referrer.as_ref()
                } else if source == ReferralSource::LocalAuthority {
                    caseworker.as_ref()
                } else {
                    None
                };
                Referral {
                    id: ReferralId::new(),
                    org_id: pcn.id,
                    person_id: person.id,
                    team_id: Some(team.id),
                    source,
                    reason: REASONS[reason].to_owned(),
                    needs: REASON_NEEDS[reason].to_vec(),
                    urgency: if rng.chance(10) { Urgency::Soon } else { Urgency::Routine },
                    consent: true,
                    status,
                    received_at,
                    referred_by: sender.map(|r| r.0),
                    referrer_name: sender.map(|r| r.1.clone()).unwrap_or_default(),
                    decided_at: decided.then(|| (received_at + Duration::days(3)).min(now)),
                    decided_by: decided.then_some(deciding_worker),
                    decision_reason: match status {
                        ReferralStatus::Declined => Some(rng.pick(DeclineReason::ALL).as_str().to_owned()),
                        ReferralStatus::Redirected => Some(rng.pick(RedirectTarget::ALL).as_str().to_owned()),
                        _ => None,
                    },
                    ..Referral::default()
                }
            })
            .collect();
        store.insert_referrals(&referrals).await.context("writing demo referrals")?;
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
        // A stream of its own, so the rest of the dataset is the same with or without outcomes.
        let measures = outcomes::outcomes(&mut Rng(opts.seed ^ 0x00C7_C0E5 ^ (p as u64)), now, &batch);
        summary.outcomes += measures.len();
        store.import_outcomes(&measures).await.context("writing demo outcome measures")?;
        casework::sent_summaries(store, clock, &batch.episodes).await?;

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

/// Print what was generated and how to sign in.
/// A few people carry flags, with a history: a safeguarding concern, a lone-working risk, a
/// risk to staff, some changed or cleared since.
async fn flags(
    store: &dyn Store,
    rng: &mut Rng,
    now: chrono::DateTime<chrono::Utc>,
    people: &[Person],
) -> anyhow::Result<()> {
    use linkwork_domain::people::{FlagAction, FlagChange, FlagKind};
    const WORDS: &[(FlagKind, &str, &str)] = &[
        (
            FlagKind::Safeguarding,
            "Son manages her money; she has said she feels pressured",
            "Adult safeguarding referral made by the GP",
        ),
        (FlagKind::Safeguarding, "Neighbour reported shouting at night", "Police welfare check done; keep an eye"),
        (
            FlagKind::LoneWorking,
            "Large dog in the house: ask for it to be shut away, or meet at the practice",
            "Two dogs now: meet at the practice",
        ),
        (
            FlagKind::LoneWorking,
            "Lives alone on an unlit lane: visit in daylight, tell the office",
            "Moved to sheltered housing with a warden",
        ),
        (
            FlagKind::StaffRisk,
            "Has been verbally aggressive on the phone when upset",
            "Calmer since the benefits were sorted",
        ),
    ];
    for (i, p) in people.iter().enumerate() {
        // About one person in fifty.
        if !rng.chance(2) || i == 0 {
            continue;
        }
        let (kind, first, later) = *rng.pick(WORDS);
        let raised = now - Duration::days(30 + i64::try_from(rng.below(300)).unwrap_or(0));
        let change = |action, text: Option<&str>, at| FlagChange {
            id: linkwork_domain::ids::FlagId::new(),
            org_id: p.org_id,
            person_id: p.id,
            kind,
            action,
            text: text.map(str::to_owned),
            at,
            by: None,
        };
        store.change_flag(&change(FlagAction::Raised, Some(first), raised)).await.context("writing demo flags")?;
        match rng.below(3) {
            0 => store.change_flag(&change(FlagAction::Changed, Some(later), raised + Duration::days(14))).await?,
            1 => store.change_flag(&change(FlagAction::Cleared, None, raised + Duration::days(21))).await?,
            _ => {}
        }
    }
    Ok(())
}

/// The demo accounts of the first PCN, for the sign-in page, when the database holds demo data.
pub async fn accounts(store: &dyn linkwork_domain::ports::Store) -> anyhow::Result<Option<linkwork_web::DemoAccounts>> {
    let users = store.list_users().await?;
    let accounts: Vec<(String, String)> = users
        .iter()
        .filter(|u| u.is_demo && u.email.as_str().ends_with("@pcn1.demo.test"))
        .map(|u| {
            let mut roles: Vec<&str> = u.roles.iter().map(|g| g.role.label()).collect();
            roles.dedup();
            (u.email.as_str().to_owned(), roles.join(", "))
        })
        .collect();
    if accounts.is_empty() && !users.iter().any(|u| u.is_demo) {
        return Ok(None);
    }
    Ok(Some(linkwork_web::DemoAccounts { password: DEMO_PASSWORD.to_owned(), accounts }))
}

pub fn print_summary(s: &DemoSummary) {
    println!(
        "Demo data loaded: {} organisations, {} people, {} referrals, {} episodes with {} contacts, {} services, {} connections to services, {} outcome measures.",
        s.organisations, s.people, s.referrals, s.episodes, s.contacts, s.services, s.connections, s.outcomes
    );
    println!("Demo accounts (password for all: {DEMO_PASSWORD}):");
    for (email, roles) in s.users.iter().take(12) {
        println!("  {email:<36} {roles}");
    }
    if s.users.len() > 12 {
        println!("  … and {} more, one set per PCN (admin@pcnN.demo.test and so on).", s.users.len() - 12);
    }
}
