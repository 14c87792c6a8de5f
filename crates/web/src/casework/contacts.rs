//! Contacts with the person, filled in from the team's usual length, way and place.

use crate::AppError;
use crate::forms::{Field, FormData};
use axum::response::Response;
use chrono::NaiveDate;
use linkwork_domain::casework::coding::codes_for_contact;
use linkwork_domain::casework::{Contact, ContactLocation, ContactMode, check_due, parse_date, parse_number};
use linkwork_domain::ids::ContactId;
use linkwork_domain::people::optional_text;
use linkwork_domain::uktime::{UkTime, from_uk};
use linkwork_domain::values::InvalidValue;

use super::{EpisodeCtx, EpisodeForm, OpenEpisode, back_to, created};

const CONTACT_FORM: EpisodeForm = EpisodeForm { title: "Record a contact", step: "contact", submit: "Save contact" };

fn contact_fields(defaults: &linkwork_domain::casework::TeamSettings, today: NaiveDate) -> Vec<Field> {
    vec![
        Field::of("date", "happened_on", "Date").value(today.format("%Y-%m-%d").to_string()),
        Field::of("time", "happened_at", "Time (optional)").hint("When it started, on the 24-hour clock in UK time, like 14:30"),
        Field::of("number", "minutes", "Minutes").value(defaults.default_minutes.to_string()),
        Field::of("radios", "mode", "How").options(ContactMode::options()).value(defaults.default_mode.as_str()),
        Field::of("radios", "location", "Where").options(ContactLocation::options()).value(defaults.default_location.as_str()),
        Field::of("text", "present", "Who else was there (optional)"),
        Field::of("textarea", "notes", "Notes (optional)"),
        Field::of("checkbox", "outside_usual", "Outside the team's usual criteria")
            .hint("Longer, more often or somewhere other than usual: a choice made for this person, recorded so it can be discussed"),
        Field::of("date", "follow_up_on", "Follow up by").value((today + chrono::Duration::days(i64::from(defaults.follow_up_days))).format("%Y-%m-%d").to_string()),
    ]
}

pub(crate) async fn contact_page(OpenEpisode(cx): OpenEpisode) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, episode: e, person: p, .. } = cx.viewed().await?;
    let settings = state.store.team_settings(user.org_id, e.team_id).await?;
    let mut page = CONTACT_FORM.page(&user, &e, &p, contact_fields(&settings, state.clock.now().uk_date()));
    page.intro = vec!["The team's usual length, way and place are filled in: change what was different."];
    page.respond()
}

pub(crate) async fn add_contact(OpenEpisode(cx): OpenEpisode, f: FormData) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, source, episode: e, person: p } = cx;
    let settings = state.store.team_settings(user.org_id, e.team_id).await?;
    let now = state.clock.now();
    let today = now.uk_date();
    let mut page = CONTACT_FORM.page(&user, &e, &p, contact_fields(&settings, today));
    f.refill(&mut page.fields);
    let happened = page.take(
        "happened_on",
        parse_date(&f.get("happened_on"), "date of the contact").and_then(|d| {
            if d > today {
                Err(InvalidValue("The date of a contact cannot be in the future: book an appointment instead".into()))
            } else {
                e.check_happened(d, today, "date of the contact")
            }
        }),
    );
    let at = page.take(
        "happened_at",
        match (f.get("happened_at").trim(), happened) {
            ("", _) => Ok(None),
            (time, day) => match (chrono::NaiveTime::parse_from_str(time, "%H:%M"), day) {
                (Err(_), _) => Err(InvalidValue("Enter the time like 14:30, or leave it empty".into())),
                (Ok(_), None) => Ok(None),
                (Ok(t), Some(d)) => match from_uk(chrono::NaiveDateTime::new(d, t)) {
                    Some(at) if at > now => Err(InvalidValue("The time of a contact cannot be in the future".into())),
                    Some(at) => Ok(Some(at)),
                    None => Err(InvalidValue("That time does not exist in the UK on that day (the clocks go forward): enter the time shown on the clock".into())),
                },
            },
        },
    );
    let minutes = page.take("minutes", parse_number(&f.get("minutes"), 1, 600, "length in minutes"));
    let mode = page.take("mode", f.get("mode").parse::<ContactMode>());
    let location = page.take("location", f.get("location").parse::<ContactLocation>());
    let present = page.take("present", optional_text(&f.get("present"), 200, "who was there"));
    let notes = page.take("notes", optional_text(&f.get("notes"), 5000, "notes"));
    let follow = page.take(
        "follow_up_on",
        match f.get("follow_up_on").trim() {
            "" => Ok(None),
            day => {
                parse_date(day, "follow-up date").and_then(|d| check_due(d, today, None, "follow-up date")).map(Some)
            }
        },
    );
    let (
        Some(happened_on),
        Some(happened_at),
        Some(minutes),
        Some(mode),
        Some(location),
        Some(present),
        Some(notes),
        Some(follow),
    ) = (happened, at, minutes, mode, location, present, notes, follow)
    else {
        return page.respond();
    };
    let so_far = state.store.contacts(user.org_id, e.id).await?.len();
    let outside_usual = f.checked("outside_usual") || !settings.outside_usual(minutes, location, so_far).is_empty();
    let c = Contact {
        id: ContactId::new(),
        org_id: user.org_id,
        episode_id: e.id,
        worker_id: Some(user.id),
        happened_on,
        happened_at,
        minutes,
        mode,
        location,
        present: present.unwrap_or_default(),
        notes: notes.unwrap_or_default(),
        outside_usual,
        created_at: now,
    };
    let codes = codes_for_contact(&c, &e, Some(user.id));
    state.store.add_contact(&c, follow, &codes).await?;
    state.audit(vec![created(&state, &user, &source, p.id, "contact", c.id.to_string())]).await?;
    Ok(back_to(&p))
}
