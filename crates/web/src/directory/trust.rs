//! Keeping the directory right: anyone reports a problem; staff resolve reports and decide claims.

use super::listing::service_id;
use super::stewardship::stewardship;
use crate::access::auth::CurrentUser;
use crate::forms::{Field, FormData, FormExtras, FormPage};
use crate::pages::{Nav, html};
use crate::{AppError, AppState, ClientAddress};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::access::organisations::{OrgKind, Organisation};
use linkwork_domain::directory::oruk::{self};
use linkwork_domain::directory::{Claim, Listing, ProblemKind, ProblemReport};
use linkwork_domain::ids::{ClaimId, OrgId, ReportId};
use linkwork_domain::ports::StoreError;
use linkwork_domain::uktime::UkTime;

pub(super) fn report_form(l: &Listing) -> FormPage {
    FormPage {
        nav: Nav::anonymous(),
        title: "Report a problem with this listing",
        intro: vec![
            "Tell us what is wrong and the people who look after the directory will check it. You do not need an account.",
        ],
        action: format!("/directory/services/{}/report", l.id),
        submit: "Send report",
        fields: vec![
            Field::of("radios", "kind", "What is wrong?").options(ProblemKind::options()),
            Field::of("textarea", "details", "Tell us more")
                .hint("For example the right phone number, or when it closed."),
            Field::of("email", "reporter", "Your email address (optional)").hint("Only if you would like us to reply."),
        ],
        errors: vec![],
        extras: FormExtras {
            honeypot: true,
            summary: vec![("Service".into(), l.name.clone()), ("Run by".into(), l.organization_name.clone())],
            back: Some(format!("/directory/services/{}", l.id)),
            ..Default::default()
        },
    }
}

pub(crate) async fn report_page(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, AppError> {
    let l = state.store.get_listing(service_id(&id)?).await?;
    report_form(&l).respond()
}

pub(crate) async fn report(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    data: FormData,
) -> Result<Response, AppError> {
    let l = state.store.get_listing(service_id(&id)?).await?;
    if !data.get("website").is_empty() {
        // A bot filled the hidden field: say thanks, keep nothing.
        return crate::forms::MessagePage::new("Thank you", "Your report has been sent.")
            .respond(axum::http::StatusCode::OK);
    }
    let key = format!("report:{}", source.as_deref().unwrap_or("unknown"));
    if !state.throttle_public(&key).await? {
        return Err(AppError::TooMany);
    }
    let mut page = report_form(&l);
    page.refill(&data);
    let kind = data.get("kind").parse::<ProblemKind>();
    if kind.is_err() {
        page.error("kind", "Choose what is wrong");
    }
    let details = data.get("details").trim().to_owned();
    if details.is_empty() {
        page.error("details", "Tell us more about the problem");
    } else if details.chars().count() > 2000 {
        page.error("details", "Keep it to 2,000 characters");
    }
    let reporter = Some(data.get("reporter").trim().to_owned()).filter(|r| !r.is_empty());
    if let Some(r) = &reporter
        && (r.len() > 200 || !r.contains('@'))
    {
        page.error("reporter", "Enter an email address like name@example.org, or leave it empty");
    }
    let (Ok(kind), true) = (kind, page.errors.is_empty()) else { return page.respond() };
    state
        .store
        .add_report(&ProblemReport {
            id: ReportId::new(),
            service_id: l.id,
            kind,
            details,
            reporter,
            reported_at: state.clock.now(),
            resolved_at: None,
            resolved_by: None,
            resolution: None,
        })
        .await?;
    crate::forms::MessagePage::new("Thank you", "Your report has been sent. The directory team will check the listing.")
        .respond(axum::http::StatusCode::OK)
}

#[derive(Template)]
#[template(path = "directory/reports.html")]
pub(super) struct ReportsPage {
    nav: Nav,
    reports: Vec<(String, String, String, &'static str, String, String)>,
    claims: Vec<(String, String, String, String, String, String)>,
}

/// `GET /directory/reports`: open problem reports and claims, for directory staff.
pub(crate) async fn reports(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Response, AppError> {
    let stewards = stewardship(&state, &user).await?;
    let reports = state
        .store
        .open_reports(&stewards, 200)
        .await?
        .into_iter()
        .map(|(r, name)| {
            (
                r.id.to_string(),
                r.service_id.to_string(),
                name,
                r.kind.label(),
                r.details,
                r.reported_at.uk().format("%d %b %Y").to_string(),
            )
        })
        .collect();
    let claims = state
        .store
        .open_claims(&stewards)
        .await?
        .into_iter()
        .map(|c| (c.id.to_string(), c.organization_name, c.name, c.email, c.role, c.evidence))
        .collect();
    html(&ReportsPage { nav: Nav::for_user(&user), reports, claims })
}

/// `POST /directory/reports/{id}/resolve`.
/// An audit entry for a directory staff decision (no person's data: the record is the report or
/// the claim).
pub(super) fn staff_act(
    state: &AppState,
    user: &User,
    source: &Option<String>,
    what: &str,
    id: String,
    reason: String,
) -> AuditEntry {
    AuditEntry {
        record_id: Some(id),
        reason: Some(reason),
        source: source.clone(),
        ..AuditEntry::new(state.clock.now(), AuditAction::Update, what).by(user)
    }
}

pub(crate) async fn resolve(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    data: FormData,
) -> Result<Response, AppError> {
    let id = id.parse::<ReportId>().map_err(|_| AppError::NotFound)?;
    let resolution = data.get("resolution").trim().chars().take(1000).collect::<String>();
    let resolution = if resolution.is_empty() { "Checked and resolved".to_owned() } else { resolution };
    let stewards = stewardship(&state, &user).await?;
    state.store.resolve_report(id, &stewards, user.id, state.clock.now(), &resolution).await?;
    state.audit(vec![staff_act(&state, &user, &source, "service_report", id.to_string(), "resolved".into())]).await?;
    Ok(Redirect::to("/directory/reports").into_response())
}

pub(super) fn claim_form(org: &oruk::Organization) -> FormPage {
    FormPage {
        nav: Nav::anonymous(),
        title: "Manage your organisation's listings",
        intro: vec![
            "Tell us who you are. Once the directory team has checked, you will get an invitation to sign in and keep your listings, capacity and contact details up to date, and to answer referrals from link workers.",
        ],
        action: format!("/directory/organizations/{}/claim", org.id),
        submit: "Send request",
        fields: vec![
            Field::new("name", "Your name", "text", "name"),
            Field::new("email", "Your work email address", "email", "email"),
            Field::of("text", "role", "Your role in the organisation"),
            Field::of("textarea", "evidence", "How can we check?")
                .hint("For example your charity number, or a colleague we can call."),
        ],
        errors: vec![],
        extras: FormExtras {
            honeypot: true,
            summary: vec![("Organisation".into(), org.name.clone())],
            ..Default::default()
        },
    }
}

pub(super) async fn directory_org(state: &AppState, id: &str) -> Result<(oruk::Organization, Option<OrgId>), AppError> {
    let id = uuid::Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    state.store.directory_orgs(&[id]).await?.into_iter().next().ok_or(AppError::NotFound)
}

/// An organisation someone already manages cannot be claimed (the claim would be a takeover):
/// say so, and where to go instead.
pub(super) fn already_managed(org: &oruk::Organization) -> Result<Response, AppError> {
    crate::forms::MessagePage {
        nav: Nav::anonymous(),
        title: "This organisation's listings are already managed",
        paragraphs: vec![
            format!("{} already keeps its own listings in linkwork, so it cannot be claimed.", org.name).into(),
            "If you work there, ask a colleague who manages the listings to add you. If something in a listing is wrong, report a problem from the listing.".into(),
        ],
        link: Some(("/", "Back to the start")),
    }
    .respond(axum::http::StatusCode::CONFLICT)
}

pub(crate) async fn claim_page(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, AppError> {
    let (org, owner) = directory_org(&state, &id).await?;
    if owner.is_some() {
        return already_managed(&org);
    }
    claim_form(&org).respond()
}

pub(crate) async fn claim(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    data: FormData,
) -> Result<Response, AppError> {
    let (org, owner) = directory_org(&state, &id).await?;
    if owner.is_some() {
        return already_managed(&org);
    }
    let thanks = || {
        crate::forms::MessagePage::new(
            "Request sent",
            "Thank you. The directory team will check your request and email you.",
        )
        .respond(axum::http::StatusCode::OK)
    };
    if !data.get("website").is_empty() {
        return thanks();
    }
    if !state.throttle_public(&format!("claim:{}", source.as_deref().unwrap_or("unknown"))).await? {
        return Err(AppError::TooMany);
    }
    let mut page = claim_form(&org);
    page.refill(&data);
    let [name, email, role, evidence] = ["name", "email", "role", "evidence"].map(|f| data.get(f).trim().to_owned());
    if name.is_empty() || name.len() > 200 {
        page.error("name", "Enter your name");
    }
    if linkwork_domain::values::Email::parse(&email).is_err() {
        page.error("email", "Enter an email address like name@example.org");
    }
    if role.is_empty() || role.len() > 200 {
        page.error("role", "Enter your role");
    }
    if evidence.is_empty() || evidence.len() > 2000 {
        page.error("evidence", "Tell us how we can check (up to 2,000 characters)");
    }
    if !page.errors.is_empty() {
        return page.respond();
    }
    state
        .store
        .add_claim(&Claim {
            id: ClaimId::new(),
            organization_id: org.id,
            organization_name: org.name,
            name,
            email,
            role,
            evidence,
            requested_at: state.clock.now(),
            decided_at: None,
            decided_by: None,
            approved: None,
        })
        .await?;
    thanks()
}

/// `POST /directory/claims/{id}`: approve (the organisation becomes a linkwork VCSE organisation
/// managing its listings, and the claimant is invited as its partner) or decline.
pub(crate) async fn decide_claim(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddress(source): ClientAddress,
    Path(id): Path<String>,
    data: FormData,
) -> Result<Response, AppError> {
    let id = id.parse::<ClaimId>().map_err(|_| AppError::NotFound)?;
    // Only staff of the organisation's steward see or decide its claims.
    let stewards = stewardship(&state, &user).await?;
    let claim = state.store.get_claim(id, &stewards).await?;
    let now = state.clock.now();
    if data.get("decision") != "approve" {
        state.store.decide_claim(id, None, user.id, now).await?;
        state
            .audit(vec![staff_act(&state, &user, &source, "directory_claim", id.to_string(), "declined".into())])
            .await?;
        return Ok(Redirect::to("/directory/reports").into_response());
    }
    if claim.email.trim().eq_ignore_ascii_case(user.email.as_str()) {
        return Err(AppError::BadRequest(
            "You cannot approve a claim that names you: another member of the directory team must check it.".into(),
        ));
    }
    // Approval invites a new account; it never adds a role to an account someone already has,
    // which would hand that account the organisation's inbox without its holder's say.
    match state.store.find_user_by_email(&claim.email).await {
        Ok(_) => {
            return Err(AppError::BadRequest(
                "That email address already has a linkwork account. Ask the claimant for a work address that has no account yet, or decline the claim.".into(),
            ));
        }
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let (_, owner) = directory_org(&state, &claim.organization_id.to_string()).await?;
    if owner.is_some() {
        return Err(AppError::BadRequest(
            "Someone already manages this organisation's listings: decline the claim.".into(),
        ));
    }
    // The directory organisation becomes a tenant with the same id.
    let org = Organisation {
        id: OrgId(claim.organization_id),
        name: claim.organization_name.clone(),
        kind: OrgKind::Vcse,
        ods_code: None,
        parent_id: None,
        created_at: now,
    };
    match state.store.create_org(&org, None).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => {
            let renamed =
                Organisation { name: format!("{} ({})", org.name, &claim.organization_id.to_string()[..8]), ..org };
            state.store.create_org(&renamed, None).await?;
        }
        Err(e) => return Err(e.into()),
    }
    let owner = OrgId(claim.organization_id);
    match state.store.decide_claim(id, Some(owner), user.id, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(AppError::BadRequest(
                "Someone already manages this organisation's listings: decline the claim.".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    state.audit(vec![staff_act(&state, &user, &source, "directory_claim", id.to_string(), "approved".into())]).await?;
    crate::access::admin::invite_partner(&state, &user, &source, owner, &claim.name, &claim.email).await?;
    Ok(Redirect::to("/directory/reports").into_response())
}
