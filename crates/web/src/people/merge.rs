//! Merging duplicate records of one person.

use crate::AppError;
use crate::forms::{Field, FormData, FormPage};
use crate::people::PersonCtx;
use crate::people::{authorise, viewed};
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use linkwork_domain::access::accounts::User;
use linkwork_domain::people::{Person, likely_duplicate};
use linkwork_domain::ports::StoreError;

use crate::casework::{changed, form};

/// Confirming a merge: both records side by side, and what will happen.
fn merge_form(user: &User, kept: &Person, merged: &Person) -> FormPage {
    let mut page = form(
        user,
        kept,
        "Merge duplicate records",
        format!("/people/{}/merge/{}", kept.id, merged.id),
        "Merge the records",
        vec![Field::of("checkbox", "confirm", "I have checked these are the same person")],
    );
    let describe = |p: &Person| {
        format!(
            "{}, born {}, NHS number {}, {}",
            p.full_name(),
            p.date_of_birth.format("%d %b %Y"),
            p.nhs_number.as_ref().map(|n| n.formatted()).unwrap_or_else(|| "not known".into()),
            p.postcode.as_ref().map(|c| c.to_string()).unwrap_or_else(|| "no postcode".into())
        )
    };
    page.extras.summary = vec![("Keep".into(), describe(kept)), ("Merge into it".into(), describe(merged))];
    page.extras.notices = vec![
        "The second record's referrals, episodes, appointments and codes move to the first. The second record is kept, marked as merged, and the merge is in the audit trail.".into(),
    ];
    page
}

pub(crate) async fn merge_page(cx: PersonCtx, Path((_, other)): Path<(String, String)>) -> Result<Response, AppError> {
    // (caseload or break glass), or a merge would open a protected record without either.
    let PersonCtx { state, user, source, session, person: kept } = cx;
    let merged = authorise(&state, &user, &session, &other).await?;
    if likely_duplicate(&kept, &merged).is_none() {
        return Err(AppError::NotFound);
    }
    state
        .audit(vec![
            viewed(&state, &user, &source, kept.id, "merge"),
            viewed(&state, &user, &source, merged.id, "merge"),
        ])
        .await?;
    merge_form(&user, &kept, &merged).respond()
}

pub(crate) async fn merge(
    cx: PersonCtx,
    Path((_, other)): Path<(String, String)>,
    f: FormData,
) -> Result<Response, AppError> {
    let PersonCtx { state, user, source, session, person: kept } = cx;
    let merged = authorise(&state, &user, &session, &other).await?;
    if likely_duplicate(&kept, &merged).is_none() {
        return Err(AppError::NotFound);
    }
    let mut page = merge_form(&user, &kept, &merged);
    if !f.checked("confirm") {
        page.error("confirm", "Confirm you have checked these are the same person");
        return page.respond();
    }
    match state.store.merge_people(user.org_id, kept.id, merged.id).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            page.error("confirm", "Both records have an open episode: discharge one before merging");
            return page.respond();
        }
        Err(e) => return Err(e.into()),
    }
    let mut a = changed(&state, &user, &source, kept.id, "person_merge", kept.id.to_string());
    a.reason = Some(format!("merged record {} into this one", merged.id));
    let mut b = changed(&state, &user, &source, merged.id, "person_merge", merged.id.to_string());
    b.reason = Some(format!("merged into record {}", kept.id));
    state.audit(vec![a, b]).await?;
    Ok(crate::pages::after(&format!("/people/{}", kept.id), "merged").into_response())
}
