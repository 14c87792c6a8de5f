//! Referring someone: the referral form (practice staff and other agencies), finding the person a referral is about, and the referrer's own list.

use crate::access::auth::CurrentUser;
use crate::forms::{Field, FormData, FormExtras, FormPage};
use crate::pages::Nav;
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::organisations::{OrgKind, referral_tenant};
use linkwork_domain::casework::NeedDomain;
use linkwork_domain::ids::OrgId;
use linkwork_domain::intake::RawReferral;
use linkwork_domain::intake::referrals::{
    DeclineReason, RedirectTarget, Referral, ReferralSource, ReferralStatus, Urgency,
};
use linkwork_domain::people::{ContactChannel, Ethnicity, Gender};
use linkwork_domain::uktime::UkTime;
use linkwork_domain::usecases::{self, Caller, Failure};

/// Raw referral fields from a submitted form.
pub(crate) fn raw_from_form(f: &FormData) -> RawReferral {
    RawReferral {
        nhs_number: f.get("nhs_number"),
        given_name: f.get("given_name"),
        family_name: f.get("family_name"),
        date_of_birth: f.get("date_of_birth"),
        address: f.get("address"),
        postcode: f.get("postcode"),
        phone: f.get("phone"),
        email: f.get("email"),
        contact_by: f.get("contact_by"),
        language: f.get("language"),
        interpreter: f.checked("interpreter"),
        gender: f.get("gender"),
        ethnicity: f.get("ethnicity"),
        reason: f.get("reason"),
        needs: f.all("needs"),
        urgency: f.get("urgency"),
        consent: f.checked("consent"),
        tried: f.get("tried"),
        source: f.get("source"),
        referrer_name: f.get("referrer_name"),
        team_id: f.get("team_id"),
        practice_id: f.get("practice_id"),
    }
}

/// The GP practices of a tenant PCN, for the "GP practice" choice.
pub(crate) async fn practice_options(state: &AppState, tenant: OrgId) -> Result<Vec<(String, String)>, AppError> {
    Ok(std::iter::once((String::new(), "Not known".to_owned()))
        .chain(
            state
                .store
                .child_orgs(tenant)
                .await?
                .into_iter()
                .filter(|o| o.kind == OrgKind::Practice)
                .map(|o| (o.id.to_string(), o.name)),
        )
        .collect())
}

pub(super) fn person_fields(self_referral: bool) -> Vec<Field> {
    let you = |pro: &'static str, me: &'static str| if self_referral { me } else { pro };
    vec![
        Field::new("given_name", you("First name", "Your first name"), "text", "off"),
        Field::new("family_name", you("Last name", "Your last name"), "text", "off"),
        Field::of("date", "date_of_birth", you("Date of birth", "Your date of birth")).hint("For example, 31 3 1958"),
        Field::of("text", "nhs_number", "NHS number (if known)").hint("10 digits, like 943 476 5919"),
        Field::of("textarea", "address", you("Address", "Your address")),
        if self_referral {
            Field::of("text", "postcode", "Your postcode")
                .hint("Needed: it tells us which service covers where you live")
        } else {
            Field::of("text", "postcode", "Postcode")
        },
        Field::of("tel", "phone", you("Phone number", "Your phone number")),
        Field::of("email", "email", you("Email address", "Your email address")),
        Field::of("radios", "contact_by", you("How the person prefers to be contacted", "How should we contact you?"))
            .options(ContactChannel::options())
            .value("phone"),
        Field::of("text", "language", "Preferred language").value("English"),
        Field::of("checkbox", "interpreter", "An interpreter is needed"),
    ]
}

pub(super) fn referral_fields(self_referral: bool) -> Vec<Field> {
    let mut fields = vec![
        Field::of(
            "textarea",
            "reason",
            if self_referral { "What would you like help with?" } else { "Reason for referral" },
        )
        .hint("In a few words: what is going on, and what might help"),
        Field::of("checkboxes", "needs", "What is it about?")
            .hint("Choose all that apply")
            .options(NeedDomain::options()),
        Field::of("radios", "urgency", "How soon").options(Urgency::options()).value("routine"),
        Field::of("textarea", "tried", "What has been tried already (optional)"),
    ];
    if !self_referral {
        fields.push(Field::of("select", "source", "Who is referring").options(ReferralSource::options()).value("gp"));
        fields.push(Field::of("text", "referrer_name", "Your name, role and contact (optional)"));
        fields.push(
            Field::of("checkbox", "consent", "The person agrees to be referred to social prescribing")
                .hint("Social prescribing is voluntary: refer only with the person's agreement"),
        );
    }
    fields
}

pub(super) fn equality_fields() -> Vec<Field> {
    vec![
        Field::of("select", "gender", "Gender").options(Gender::options()),
        Field::of("select", "ethnicity", "Ethnic group").options(Ethnicity::options()),
    ]
}

pub(super) async fn team_options(state: &AppState, tenant: OrgId) -> Result<Vec<(String, String)>, AppError> {
    Ok(std::iter::once((String::new(), "Any team (decided at triage)".to_owned()))
        .chain(state.store.list_teams(tenant).await?.into_iter().map(|t| (t.id.to_string(), t.name)))
        .collect())
}

pub(super) async fn referral_form(state: &AppState, user: &User) -> Result<FormPage, AppError> {
    let home = state.store.get_org(user.org_id).await?;
    let tenant = referral_tenant(&home);
    let mut fields = person_fields(false);
    fields.extend(referral_fields(false));
    // An agency's staff refer as the local authority, housing, or another agency, not as a GP.
    if home.kind == OrgKind::Agency
        && let Some(source) = fields.iter_mut().find(|f| f.name == "source")
    {
        source.value = linkwork_domain::intake::referrals::ReferralSource::LocalAuthority.as_str().to_owned();
    }
    fields.extend(equality_fields());
    let mut team = Field::of("select", "team_id", "Team");
    team.options = team_options(state, tenant).await?;
    fields.push(team);
    let mut practice = Field::of("select", "practice_id", "The person's GP practice");
    practice.options = practice_options(state, tenant).await?;
    // A practice's own staff refer their own patients, usually.
    if practice.options.iter().any(|(id, _)| *id == user.org_id.to_string()) {
        practice.value = user.org_id.to_string();
    }
    fields.push(practice);
    // What a referrer needs to give in under a minute comes first; the rest is folded away.
    const FIRST: &[&str] = &[
        "given_name",
        "family_name",
        "date_of_birth",
        "nhs_number",
        "postcode",
        "phone",
        "practice_id",
        "reason",
        "needs",
        "urgency",
        "source",
        "consent",
    ];
    let (mut first, more): (Vec<Field>, Vec<Field>) = fields.into_iter().partition(|f| FIRST.contains(&f.name));
    first.sort_by_key(|f| FIRST.iter().position(|n| *n == f.name));
    Ok(FormPage {
        nav: Nav::for_user(user),
        title: "Refer someone to social prescribing",
        intro: vec![
            "A link worker will contact the person. Only the name, date of birth, reason and the person's agreement are required.",
        ],
        action: "/referrals/new".into(),
        submit: "Send referral",
        fields: first,
        errors: vec![],
        extras: FormExtras {
            back: Some("/referrals".into()),
            more,
            more_label: "More about the person (optional)",
            ..FormExtras::default()
        },
    })
}

pub(crate) async fn new_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Response, AppError> {
    referral_form(&state, &user).await?.respond()
}

/// Save a validated referral, audited. A professional's referral joins the person already known
/// by its NHS number; a self-referral always brings a new record (its identity is unverified, so
/// a typed NHS number is flagged as a possible duplicate for a worker to merge, never trusted).
pub(crate) async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    form: FormData,
) -> Result<Response, AppError> {
    let raw = raw_from_form(&form);
    match usecases::intake::take_referral(state.services(), &Caller::user(&user, source), &raw, None, None).await {
        Ok(_) => Ok(Redirect::to("/referrals?sent=1").into_response()),
        Err(Failure::Invalid(errors)) => {
            let mut page = referral_form(&state, &user).await?;
            page.refill(&form);
            page.field_errors(errors);
            page.respond()
        }
        Err(f) => Err(f.into()),
    }
}

pub(super) struct MadeRow {
    name: String,
    received: String,
    status: &'static str,
    decision: String,
    /// The message back, once the episode is discharged.
    summary: Option<String>,
}

/// Where a referral stands, as its referrer sees it: waiting, accepted, in progress (the link
/// worker has met the person), discharged (with the summary), declined or redirected (with why).
async fn where_it_stands(
    state: &AppState,
    r: &Referral,
    episodes: &mut std::collections::HashMap<linkwork_domain::ids::PersonId, Vec<linkwork_domain::casework::Episode>>,
) -> Result<(&'static str, String, Option<String>), AppError> {
    if r.status != ReferralStatus::Accepted {
        let status = if r.status == ReferralStatus::Received { "Waiting for triage" } else { r.status.label() };
        return Ok((status, decision_label(r), None));
    }
    if let std::collections::hash_map::Entry::Vacant(slot) = episodes.entry(r.person_id) {
        slot.insert(state.store.person_episodes(r.org_id, r.person_id).await?);
    }
    // The episode it opened, or the one it joined (accepted while the person was already supported).
    let list = &episodes[&r.person_id];
    let episode = list
        .iter()
        .find(|e| e.referral_id == r.id)
        .or_else(|| list.iter().filter(|e| r.decided_at.is_none_or(|d| e.opened_at <= d)).max_by_key(|e| e.opened_at));
    Ok(match episode {
        Some(e) if !e.is_open() => (
            "Discharged",
            e.closed_at.map(|c| format!("On {}", c.uk().format("%d %b %Y"))).unwrap_or_default(),
            Some(format!("/episodes/{}/summary", e.id)),
        ),
        Some(e) if !state.store.contacts(r.org_id, e.id).await?.is_empty() => {
            ("In progress", "The link worker is working with the person".into(), None)
        }
        _ => ("Accepted", "Waiting for a first contact".into(), None),
    })
}

#[derive(Template)]
#[template(path = "intake/my_referrals.html")]
pub(super) struct MyReferralsPage {
    nav: Nav,
    sent: bool,
    rows: Vec<MadeRow>,
}

pub(super) fn decision_label(r: &Referral) -> String {
    let reason = r.decision_reason.as_deref().unwrap_or_default();
    match r.status {
        ReferralStatus::Declined => reason.parse::<DeclineReason>().map(|d| d.label().to_owned()).unwrap_or_default(),
        ReferralStatus::Redirected => {
            reason.parse::<RedirectTarget>().map(|d| format!("To: {}", d.label())).unwrap_or_default()
        }
        _ => String::new(),
    }
}

/// A referrer's own referrals and where each stands; nothing else of the caseload.
pub(crate) async fn mine(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Result<Response, AppError> {
    let made = state.store.referrals_made_by(user.id, 200).await?;
    state
        .audit(vec![crate::people::listed(&state, &user, &source, "my_referrals", made.iter().map(|(_, p)| p.id))])
        .await?;
    let mut episodes = std::collections::HashMap::new();
    let mut rows = Vec::with_capacity(made.len());
    for (r, p) in &made {
        let (status, decision, summary) = where_it_stands(&state, r, &mut episodes).await?;
        rows.push(MadeRow {
            name: p.full_name(),
            received: r.received_at.uk().format("%d %b %Y").to_string(),
            status,
            decision,
            summary,
        });
    }
    let sent = q.as_deref().is_some_and(|q| q.contains("sent=1"));
    Ok(Html(MyReferralsPage { nav: Nav::for_user(&user), sent, rows }.render()?).into_response())
}
