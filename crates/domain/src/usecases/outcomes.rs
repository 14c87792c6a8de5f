//! Outcome measures, once for every face: recording with the person (the record's
//! questionnaire page), importing a proprietary measure's total, sending a secure link and
//! answering it (the public link pages), loading licensed wording (the command line), and the
//! export the reporting and evaluation areas build on.

use super::{Actor, Caller, Failure, Problems, Services};
use crate::access::audit::{AuditAction, AuditEntry};
use crate::casework::{Episode, parse_date};
use crate::ids::{MessageId, OrgId, OutcomeId, OutcomeLinkId};
use crate::notifications::{MessageStatus, OutboxMessage};
use crate::outcomes::wording::{NotOffered, questionnaire};
use crate::outcomes::{
    Instrument, LINK_DAYS, MeasurePoint, OutcomeLink, OutcomeRecord, Questionnaire, RecordStatus, Respondent, Via,
    Wording, check_interval, hash_token, new_token, spec,
};
use crate::people::Person;
use crate::ports::Conflict;
use crate::uktime::UkTime;
use chrono::{Duration, NaiveDate};

/// A measure as a face received it: every field as typed.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    pub instrument: String,
    pub point: String,
    /// `completed`, `declined` or `not_able`.
    pub status: String,
    /// Each item's code and what was chosen.
    pub answers: Vec<(String, String)>,
    /// An imported measure: its total, the day it was taken and where it came from.
    pub total: String,
    pub taken_on: String,
    pub source: String,
}

impl Recording {
    fn answer(&self, item: &str) -> String {
        self.answers.iter().find(|(k, _)| k == item).map(|(_, v)| v.clone()).unwrap_or_default()
    }
}

/// The instrument a person may be asked on their record: one of the person-side, administered
/// instruments (imported totals go through [`import_total`]).
fn person_instrument(typed: &str, p: &mut Problems) -> Option<Instrument> {
    let i = p.take("instrument", typed.parse::<Instrument>())?;
    let s = spec(i);
    if s.respondent != Respondent::Person {
        p.add("instrument", format!("{} is a question set for link workers about themselves", i.label()));
        return None;
    }
    Some(i)
}

/// The questionnaire for `instrument` in `language`, if it can be offered here.
pub async fn offered(s: Services<'_>, instrument: Instrument, language: &str) -> Result<Questionnaire, Failure> {
    let loaded = s.store.wordings(instrument).await?;
    questionnaire(instrument, language, &loaded).map_err(|e| not_offered(instrument, e))
}

fn not_offered(instrument: Instrument, e: NotOffered) -> Failure {
    Failure::Invalid(vec![crate::intake::FieldError {
        field: "instrument",
        message: format!("{} cannot be offered: {e}", instrument.label()),
    }])
}

/// The worker writing to an open episode: only a signed-in user, never on a closed episode.
fn worker_on_open<'a>(caller: &Caller<'a>, e: &Episode) -> Result<&'a crate::access::accounts::User, Failure> {
    let Actor::User(user) = caller.actor else { return Err(Failure::NotFound) };
    if e.closed_at.is_some() {
        return Err(Failure::Conflict(Conflict::EpisodeClosed));
    }
    Ok(user)
}

/// A completed record of `instrument` for the person in episode `(org, person, episode)`,
/// taken now by the worker; callers change what differs.
fn new_record(
    (org_id, person_id, episode_id): (OrgId, crate::ids::PersonId, crate::ids::EpisodeId),
    instrument: Instrument,
    point: MeasurePoint,
    now: chrono::DateTime<chrono::Utc>,
) -> OutcomeRecord {
    OutcomeRecord {
        id: OutcomeId::new(),
        org_id,
        person_id,
        episode_id,
        instrument,
        version: spec(instrument).version.to_owned(),
        point,
        status: RecordStatus::Completed,
        via: Via::WithWorker,
        source: None,
        answers: vec![],
        total: None,
        language: None,
        completed_on: now.uk_date(),
        recorded_at: now,
        recorded_by: None,
    }
}

/// Record a measure taken with the person now, on episode `e` (open): the answers item by item
/// by the instrument's rules, or that the person declined or could not complete it. Refused
/// inside the instrument's interval since its last completed administration in the episode.
pub async fn record(
    s: Services<'_>,
    caller: &Caller<'_>,
    e: &Episode,
    input: &Recording,
) -> Result<OutcomeRecord, Failure> {
    let user = worker_on_open(caller, e)?;
    let mut p = Problems::default();
    let instrument = person_instrument(&input.instrument, &mut p);
    let point = p.take("point", input.point.parse::<MeasurePoint>());
    let status = p.take("status", input.status.parse::<RecordStatus>());
    let today = s.clock.now().uk_date();
    let mut answers = vec![];
    let mut language = None;
    if let (Some(i), Some(RecordStatus::Completed)) = (instrument, status) {
        match offered(s, i, "English").await {
            Ok(q) => language = Some(q.language),
            Err(Failure::Invalid(errs)) => p.0.extend(errs),
            Err(other) => return Err(other),
        }
        match spec(i).read_answers(|item| input.answer(item)) {
            Ok(a) => answers = a,
            Err(errs) => p.0.extend(errs),
        }
        let mine = s.store.episode_outcomes(e.org_id, &[e.id]).await?;
        if let Err(from) = check_interval(i, &mine.iter().collect::<Vec<_>>(), today) {
            p.add(
                "instrument",
                format!(
                    "{} was completed less than {} days ago; it can be asked again from {}",
                    i.label(),
                    spec(i).min_interval_days,
                    from.format("%-d %B %Y")
                ),
            );
        }
    }
    p.check()?;
    let (Some(instrument), Some(point), Some(status)) = (instrument, point, status) else { unreachable!("checked") };
    let r = OutcomeRecord {
        status,
        answers,
        language,
        recorded_by: Some(user.id),
        ..new_record((e.org_id, e.person_id, e.id), instrument, point, s.clock.now())
    };
    s.store.record_outcome(&r).await?;
    audit_record(s, caller, &r).await?;
    Ok(r)
}

async fn audit_record(s: Services<'_>, caller: &Caller<'_>, r: &OutcomeRecord) -> Result<(), Failure> {
    let entry = caller.entry(AuditEntry {
        org_id: Some(r.org_id),
        person_id: Some(r.person_id),
        record_id: Some(r.id.to_string()),
        reason: Some(format!("{} {} {}", r.instrument.as_str(), r.point.as_str(), r.status.as_str())),
        ..AuditEntry::new(s.clock.now(), AuditAction::Create, "outcome")
    });
    s.audit.record(vec![entry]).await?;
    Ok(())
}

/// Record a proprietary measure's total, taken elsewhere: the instrument, its total within
/// range, the day (in the episode, not in the future) and where it came from.
pub async fn import_total(
    s: Services<'_>,
    caller: &Caller<'_>,
    e: &Episode,
    input: &Recording,
) -> Result<OutcomeRecord, Failure> {
    let user = worker_on_open(caller, e)?;
    let mut p = Problems::default();
    let instrument =
        p.take("instrument", input.instrument.parse::<Instrument>()).filter(|i| !spec(*i).is_administered());
    if instrument.is_none() && !p.has("instrument") {
        p.add("instrument", "Choose a measure whose total is imported (answered measures are asked here)");
    }
    let point = p.take("point", input.point.parse::<MeasurePoint>());
    let total = match instrument {
        Some(i) => p.take("total", spec(i).read_total(&input.total)),
        None => None,
    };
    let today = s.clock.now().uk_date();
    let taken = p
        .take("taken_on", parse_date(&input.taken_on, "day it was taken"))
        .and_then(|d| p.take("taken_on", e.check_happened(d, today, "day it was taken")));
    let source = input.source.trim().to_owned();
    if source.is_empty() {
        p.add("source", "Say where the total came from (the tool or form, and who completed it)");
    } else if let Err(e) = crate::values::check_text(&source, crate::values::TextKind::Line, 200) {
        p.add("source", e.to_string());
    }
    p.check()?;
    let (Some(instrument), Some(point), Some(total), Some(taken)) = (instrument, point, total, taken) else {
        unreachable!("checked")
    };
    let r = OutcomeRecord {
        via: Via::Imported,
        source: Some(source),
        total: Some(total),
        completed_on: taken,
        recorded_by: Some(user.id),
        ..new_record((e.org_id, e.person_id, e.id), instrument, point, s.clock.now())
    };
    s.store.record_outcome(&r).await?;
    audit_record(s, caller, &r).await?;
    Ok(r)
}

/// The message carrying a questionnaire link: the person's first name, never what it is about
/// beyond "a short questionnaire from your link worker".
fn link_message(
    link: &OutcomeLink,
    p: &Person,
    to: &str,
    url: &str,
    reminder: bool,
    at: chrono::DateTime<chrono::Utc>,
) -> OutboxMessage {
    let expires = link.expires_at.uk().format("%-d %B");
    let first = p.given_name.split_whitespace().next().unwrap_or("there");
    let body = if link.channel == "sms" {
        format!(
            "{}{first}, your link worker has sent you a short questionnaire: {url} (works until {expires}).",
            if reminder { "Reminder: " } else { "Hello " }
        )
    } else {
        format!(
            "Hello {first},\n\n{}Your social prescribing link worker has asked you to answer a short questionnaire about how you are feeling. It takes a few minutes:\n\n{url}\n\nThe link works once, until {expires}. You do not need an account. If you did not expect this, you can ignore it.\n",
            if reminder { "A reminder: " } else { "" }
        )
    };
    OutboxMessage {
        id: MessageId::new(),
        org_id: Some(link.org_id),
        channel: link.channel.clone(),
        recipient: to.to_owned(),
        subject: if reminder {
            "Reminder: a short questionnaire from your link worker".into()
        } else {
            "A short questionnaire from your link worker".into()
        },
        body,
        status: MessageStatus::Pending,
        created_at: at,
        sent_at: None,
    }
}

/// The address a token opens, under the installation's public address.
pub fn link_url(public_url: &str, token: &str) -> String {
    format!("{}/q/{token}", public_url.trim_end_matches('/'))
}

/// Send a questionnaire to the person by their channel (email or text through the outbox), in
/// their language where a translation is loaded: a random single-use token, stored as its
/// hash, that expires after [`LINK_DAYS`]. Refused when the person has no email or text
/// channel, or the instrument cannot be offered.
pub async fn send_link(
    s: Services<'_>,
    caller: &Caller<'_>,
    e: &Episode,
    p: &Person,
    instrument: &str,
    point: &str,
    public_url: &str,
) -> Result<OutcomeLink, Failure> {
    let user = worker_on_open(caller, e)?;
    let mut problems = Problems::default();
    let instrument = person_instrument(instrument, &mut problems);
    let point = problems.take("point", point.parse::<MeasurePoint>());
    let to = p.message_channel();
    if to.is_none() {
        problems.add(
            "instrument",
            "The person has not chosen email or text messages with an address to use: change how they are contacted, or ask the questions with them",
        );
    }
    let mut language = "English".to_owned();
    if let Some(i) = instrument {
        match offered(s, i, &p.language).await {
            Ok(q) => language = q.language,
            Err(Failure::Invalid(errs)) => problems.0.extend(errs),
            Err(other) => return Err(other),
        }
    }
    problems.check()?;
    let (Some(instrument), Some(point), Some((channel, to))) = (instrument, point, to) else { unreachable!("checked") };
    let now = s.clock.now();
    let token = new_token();
    let link = OutcomeLink {
        id: OutcomeLinkId::new(),
        org_id: e.org_id,
        person_id: p.id,
        episode_id: e.id,
        instrument,
        point,
        token_hash: hash_token(&token),
        reminder_hash: None,
        channel: channel.to_owned(),
        language,
        created_by: user.id,
        created_at: now,
        expires_at: now + Duration::days(LINK_DAYS),
        reminded_at: None,
        used_at: None,
        record_id: None,
    };
    let msg = link_message(&link, p, &to, &link_url(public_url, &token), false, now);
    s.store.create_link(&link, &msg).await?;
    let entry = caller.entry(AuditEntry {
        org_id: Some(e.org_id),
        person_id: Some(p.id),
        record_id: Some(link.id.to_string()),
        reason: Some(format!("{} {} by {channel}", instrument.as_str(), point.as_str())),
        ..AuditEntry::new(now, AuditAction::Create, "outcome_link")
    });
    s.audit.record(vec![entry]).await?;
    Ok(link)
}

/// A link that can be answered, found by its token: unknown, expired and used tokens are all
/// `NotFound`, so a guesser learns nothing from the answer.
async fn usable_link(s: Services<'_>, token: &str) -> Result<OutcomeLink, Failure> {
    let link = match s.store.link_by_token(&hash_token(token)).await {
        Ok(l) => l,
        Err(crate::ports::StoreError::NotFound) => return Err(Failure::NotFound),
        Err(e) => return Err(e.into()),
    };
    if link.usable(s.clock.now()) { Ok(link) } else { Err(Failure::NotFound) }
}

/// What the person answering a link sees: their first name and the questionnaire.
#[derive(Clone, Debug)]
pub struct LinkPage {
    pub first_name: String,
    pub questionnaire: Questionnaire,
    pub expires_on: NaiveDate,
}

/// Open a link: audited as a view of the person's record by "questionnaire link".
pub async fn open_link(s: Services<'_>, caller: &Caller<'_>, token: &str) -> Result<LinkPage, Failure> {
    let link = usable_link(s, token).await?;
    let person = s.store.get_person(link.org_id, link.person_id).await?;
    let q = offered(s, link.instrument, &link.language).await?;
    let entry = caller.entry(AuditEntry {
        org_id: Some(link.org_id),
        person_id: Some(link.person_id),
        record_id: Some(link.id.to_string()),
        ..AuditEntry::new(s.clock.now(), AuditAction::View, "outcome_link")
    });
    s.audit.record(vec![entry]).await?;
    Ok(LinkPage {
        first_name: person.given_name.split_whitespace().next().unwrap_or_default().to_owned(),
        questionnaire: q,
        expires_on: link.expires_at.uk_date(),
    })
}

/// Answer a link: the answers by the instrument's rules, stored with the link marked used in one
/// transaction, so a second answer (or two at once) stores nothing and is `NotFound` like any
/// link that cannot be used. The episode may have closed meanwhile: the answer still counts
/// (it is the person's), recorded against the episode it was asked in.
pub async fn answer_link(
    s: Services<'_>,
    caller: &Caller<'_>,
    token: &str,
    answers: &[(String, String)],
) -> Result<OutcomeRecord, Failure> {
    let link = usable_link(s, token).await?;
    let spec = spec(link.instrument);
    let value_of = |item: &str| answers.iter().find(|(k, _)| k == item).map(|(_, v)| v.clone()).unwrap_or_default();
    let answers = spec.read_answers(value_of).map_err(Failure::Invalid)?;
    let now = s.clock.now();
    let r = OutcomeRecord {
        via: Via::Link,
        answers,
        language: Some(link.language.clone()),
        ..new_record((link.org_id, link.person_id, link.episode_id), link.instrument, link.point, now)
    };
    match s.store.answer_link(link.id, &r, now).await {
        Ok(()) => {}
        Err(crate::ports::StoreError::Conflict(Conflict::LinkUsed)) => return Err(Failure::NotFound),
        Err(e) => return Err(e.into()),
    }
    audit_record(s, caller, &r).await?;
    Ok(r)
}

/// Remind the person once, a week after a link was sent and not answered: a second token for
/// the same link (the first was never stored, so it cannot be sent again). Run by the worker's
/// sweep, across tenants; each message is stamped with its link's tenant.
pub async fn remind_links(s: Services<'_>, public_url: &str) -> Result<u64, Failure> {
    let now = s.clock.now();
    let mut n = 0;
    for link in s.store.links_to_remind(now - Duration::days(crate::outcomes::REMIND_AFTER_DAYS), now, 500).await? {
        if !link.reminder_due(now) {
            continue;
        }
        let person = s.store.get_person(link.org_id, link.person_id).await?;
        // A person who changed their channel since is reminded by the new one, or not at all.
        let Some((channel, to)) = person.message_channel() else { continue };
        let token = new_token();
        let link = OutcomeLink { channel: channel.to_owned(), ..link };
        let msg = link_message(&link, &person, &to, &link_url(public_url, &token), true, now);
        match s.store.remind_link(link.id, &hash_token(&token), now, &msg).await {
            Ok(()) => n += 1,
            Err(crate::ports::StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(n)
}

/// Load the wording of an instrument (the command line): checked against its declaration;
/// replaces the same instrument and language. Audited.
pub async fn load_wording(s: Services<'_>, caller: &Caller<'_>, text: &str) -> Result<Wording, Failure> {
    let w = Wording::parse(text).map_err(|problems| {
        Failure::Invalid(
            problems.into_iter().map(|m| crate::intake::FieldError { field: "file", message: m }).collect(),
        )
    })?;
    s.store.save_wording(&w, s.clock.now()).await?;
    let entry = caller.entry(AuditEntry {
        record_id: Some(format!("{}:{}", w.instrument.as_str(), w.language)),
        reason: Some(w.licence.clone()),
        ..AuditEntry::new(s.clock.now(), AuditAction::Update, "instrument_wording")
    });
    s.audit.record(vec![entry]).await?;
    Ok(w)
}

/// One row of the outcome export: what the reporting and evaluation areas build on.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportRow {
    pub record: OutcomeRecord,
    /// Scale code, value and band of each score (none for a refusal).
    pub scores: Vec<(&'static str, f64, Option<&'static str>)>,
}

/// A tenant's outcome records completed in `[from, to)`, with their scores recomputed: audited
/// as an export naming everyone in it.
pub async fn export(
    s: Services<'_>,
    caller: &Caller<'_>,
    org: OrgId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ExportRow>, Failure> {
    if let Actor::User(u) = caller.actor
        && u.org_id != org
    {
        return Err(Failure::NotFound);
    }
    let records = s.store.outcomes_between(org, from, to).await?;
    let entry = caller.entry(AuditEntry {
        org_id: Some(org),
        reason: Some(format!("outcome records {from} to {to}")),
        ..AuditEntry::new(s.clock.now(), AuditAction::Export, "outcomes")
    });
    s.audit.record(vec![entry.listing(records.iter().map(|r| r.person_id))]).await?;
    Ok(records
        .into_iter()
        .map(|r| {
            let scores = r.scores().iter().map(|x| (x.scale.code, x.value, x.band())).collect();
            ExportRow { record: r, scores }
        })
        .collect())
}
