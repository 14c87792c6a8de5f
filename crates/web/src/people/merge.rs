//! Merging duplicate records of one person: every detail that differs is shown and the worker
//! chooses which value survives, and which record; when both records have an open episode, the
//! worker chooses to combine them or close the other as a duplicate.

use crate::AppError;
use crate::forms::{Field, FormData, FormPage};
use crate::people::PersonCtx;
use crate::people::{authorise, viewed};
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::organisations::OrgKind;
use linkwork_domain::ids::OrgId;
use linkwork_domain::people::{Person, likely_duplicate};
use linkwork_domain::ports::{Conflict, MergePlan, OpenEpisodes, StoreError};
use linkwork_domain::usecases::Failure;
use linkwork_domain::usecases::people::{differences, survivor_with};

use crate::casework::{changed, form};

fn describe(p: &Person) -> String {
    format!(
        "{}, born {}, NHS number {}",
        p.full_name(),
        p.date_of_birth.format("%d %b %Y"),
        p.nhs_number.as_ref().map(|n| n.formatted()).unwrap_or_else(|| "not known".into()),
    )
}

/// Confirming a merge: which record stays, each differing detail to choose, and what happens
/// to open episodes.
fn merge_form(
    user: &User,
    first: &Person,
    second: &Person,
    practices: &[(OrgId, String)],
    both_open: bool,
) -> FormPage {
    let mut survivor = Field::of("radios", "survivor", "Which record stays").value("first");
    survivor.options = vec![
        ("first".into(), format!("This record: {}", describe(first))),
        ("second".into(), format!("The other record: {}", describe(second))),
    ];
    let mut fields = vec![survivor];
    for d in differences(first, second, practices) {
        let mut f = Field::of("radios", d.field, d.label)
            .value(if d.first == "Not recorded" { "second" } else { "first" })
            .hint("The records differ: choose the value to keep");
        f.options = vec![("first".into(), d.first.clone()), ("second".into(), d.second.clone())];
        if d.both {
            f.options.push(("both".into(), format!("Both: {} or {}", d.first, d.second)));
        }
        fields.push(f);
    }
    if both_open {
        let mut e = Field::of("radios", "open_episodes", "Both records have an open episode")
            .hint("Combining moves the other episode's contacts, needs, goals, holding, appointments and connections into the one that stays");
        e.options = vec![
            ("combine".into(), "Combine the two episodes into one".into()),
            ("close".into(), "Close the other episode as a duplicate (no summary is sent)".into()),
        ];
        fields.push(e);
    }
    fields.push(Field::of("checkbox", "confirm", "I have checked these are the same person"));
    let mut page = form(
        user,
        first,
        "Merge duplicate records",
        format!("/people/{}/merge/{}", first.id, second.id),
        "Merge the records",
        fields,
    );
    page.extras.notices = vec![
        "Everything recorded about the other record (referrals, episodes, appointments, codes, connections, flags) moves to the one that stays. The other record is kept, marked as merged, with its own details as they were, and the merge is in the audit trail.".into(),
    ];
    page
}

async fn practices(state: &crate::AppState, org: OrgId) -> Result<Vec<(OrgId, String)>, AppError> {
    Ok(state
        .store
        .child_orgs(org)
        .await?
        .into_iter()
        .filter(|o| o.kind == OrgKind::Practice)
        .map(|o| (o.id, o.name))
        .collect())
}

async fn both_open(state: &crate::AppState, a: &Person, b: &Person) -> Result<bool, AppError> {
    for p in [a, b] {
        if !state.store.person_episodes(p.org_id, p.id).await?.iter().any(|e| e.is_open()) {
            return Ok(false);
        }
    }
    Ok(true)
}

pub(crate) async fn merge_page(cx: PersonCtx, Path((_, other)): Path<(String, String)>) -> Result<Response, AppError> {
    // (caseload or break glass), or a merge would open a protected record without either.
    let PersonCtx { state, user, source, session, person: first } = cx;
    let second = authorise(&state, &user, &session, &other).await?;
    if likely_duplicate(&first, &second).is_none() {
        return Err(AppError::NotFound);
    }
    state
        .audit(vec![
            viewed(&state, &user, &source, first.id, "merge"),
            viewed(&state, &user, &source, second.id, "merge"),
        ])
        .await?;
    let practices = practices(&state, user.org_id).await?;
    merge_form(&user, &first, &second, &practices, both_open(&state, &first, &second).await?).respond()
}

pub(crate) async fn merge(
    cx: PersonCtx,
    Path((_, other)): Path<(String, String)>,
    f: FormData,
) -> Result<Response, AppError> {
    let PersonCtx { state, user, source, session, person: first } = cx;
    let second = authorise(&state, &user, &session, &other).await?;
    if likely_duplicate(&first, &second).is_none() {
        return Err(AppError::NotFound);
    }
    let both = both_open(&state, &first, &second).await?;
    let mut page = merge_form(&user, &first, &second, &practices(&state, user.org_id).await?, both);
    f.refill(&mut page.fields);
    let survivor_is_first = match f.get("survivor").as_str() {
        "first" => true,
        "second" => false,
        _ => {
            page.error("survivor", "Choose which record stays");
            true
        }
    };
    let open_episodes = match (both, f.get("open_episodes").as_str()) {
        (false, _) => None,
        (true, "combine") => Some(OpenEpisodes::Combine),
        (true, "close") => Some(OpenEpisodes::CloseOther),
        (true, _) => {
            page.error("open_episodes", "Choose whether to combine the episodes or close the other one");
            None
        }
    };
    if !f.checked("confirm") {
        page.error("confirm", "Confirm you have checked these are the same person");
    }
    let kept = match survivor_with(&first, &second, survivor_is_first, |field| f.get(field)) {
        Ok(k) => Some(k),
        Err(Failure::Invalid(errors)) => {
            page.field_errors(errors);
            None
        }
        Err(e) => return Err(e.into()),
    };
    let Some(kept) = kept.filter(|_| page.errors.is_empty()) else { return page.respond() };
    let merged = if survivor_is_first { &second } else { &first };
    let plan = MergePlan { kept: kept.clone(), merged: merged.id, open_episodes, at: state.clock.now() };
    match state.store.merge_people(&plan).await {
        Ok(()) => {}
        Err(StoreError::Conflict(Conflict::BothEpisodesOpen)) => {
            page.error("confirm", "Both records have an open episode now: choose what happens to them");
            return page.respond();
        }
        Err(StoreError::Conflict(_)) => return page.conflict("these records"),
        Err(e) => return Err(e.into()),
    }
    let mut a = changed(&state, &user, &source, kept.id, "person_merge", kept.id.to_string());
    a.reason = Some(format!(
        "merged record {} into this one{}",
        merged.id,
        match open_episodes {
            Some(OpenEpisodes::Combine) => "; open episodes combined",
            Some(OpenEpisodes::CloseOther) => "; the other open episode closed as a duplicate",
            None => "",
        }
    ));
    let mut b = changed(&state, &user, &source, merged.id, "person_merge", merged.id.to_string());
    b.reason = Some(format!("merged into record {}", kept.id));
    state.audit(vec![a, b]).await?;
    Ok(crate::pages::after(&format!("/people/{}", kept.id), "merged").into_response())
}
