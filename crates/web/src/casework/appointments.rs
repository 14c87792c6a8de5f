//! Appointments and their reminders; attending one records the contact.

use crate::AppError;
use crate::forms::{Field, FormData};
use axum::extract::Path;
use axum::response::Response;
use chrono::{NaiveDate, NaiveDateTime};
use linkwork_domain::casework::coding::codes_for_contact;
use linkwork_domain::casework::{
    Appointment, AppointmentStatus, Contact, ContactLocation, ContactMode, REMINDER_BEFORE, parse_date, parse_number,
};
use linkwork_domain::ids::{AppointmentId, ContactId};
use linkwork_domain::jobs::NewJob;
use linkwork_domain::uktime::UkTime;

use super::{EpisodeCtx, EpisodeForm, OpenEpisode, back_to, changed, created};
use linkwork_domain::notifications::APPOINTMENT_REMINDER_JOB;

const APPOINTMENT_FORM: EpisodeForm = EpisodeForm { title: "Book an appointment", step: "appointment", submit: "Book" };

fn appointment_fields(defaults: &linkwork_domain::casework::TeamSettings, tomorrow: NaiveDate) -> Vec<Field> {
    vec![
        Field::of("date", "day", "Date").value(tomorrow.format("%Y-%m-%d").to_string()),
        Field::of("time", "time", "Time").value("10:00").hint("24-hour clock, UK time"),
        Field::of("number", "minutes", "Minutes").value(defaults.default_minutes.to_string()),
        Field::of("radios", "mode", "How").options(ContactMode::options()).value(defaults.default_mode.as_str()),
        Field::of("radios", "location", "Where")
            .options(ContactLocation::options())
            .value(defaults.default_location.as_str()),
        Field::of("checkbox", "remind", "Send a reminder the day before, by the person's chosen way of contact")
            .value("yes"),
    ]
}

pub(crate) async fn appointment_page(OpenEpisode(cx): OpenEpisode) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, episode: e, person: p, .. } = cx.viewed().await?;
    let settings = state.store.team_settings(user.org_id, e.team_id).await?;
    let tomorrow = state.clock.now().uk_date() + chrono::Duration::days(1);
    APPOINTMENT_FORM.page(&user, &e, &p, appointment_fields(&settings, tomorrow)).respond()
}

pub(crate) async fn add_appointment(OpenEpisode(cx): OpenEpisode, f: FormData) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, source, episode: e, person: p } = cx;
    let settings = state.store.team_settings(user.org_id, e.team_id).await?;
    let now = state.clock.now();
    let mut page =
        APPOINTMENT_FORM.page(&user, &e, &p, appointment_fields(&settings, now.uk_date() + chrono::Duration::days(1)));
    f.refill(&mut page.fields);
    let day = parse_date(&f.get("day"), "date");
    let time = chrono::NaiveTime::parse_from_str(f.get("time").trim(), "%H:%M").map_err(|_| ());
    let minutes = parse_number(&f.get("minutes"), 5, 480, "length in minutes");
    let mode = f.get("mode").parse::<ContactMode>();
    let location = f.get("location").parse::<ContactLocation>();
    if let Err(err) = &day {
        page.error("day", err.0.clone());
    }
    if time.is_err() {
        page.error("time", "Enter the time like 14:30");
    }
    for (name, err) in
        [("minutes", minutes.as_ref().err()), ("mode", mode.as_ref().err()), ("location", location.as_ref().err())]
    {
        if let Some(err) = err {
            page.error(name, err.0.clone());
        }
    }
    // Times are typed in UK local time; stored in UTC.
    let starts_at = match (&day, &time) {
        (Ok(d), Ok(t)) => linkwork_domain::uktime::from_uk(NaiveDateTime::new(*d, *t)),
        _ => None,
    };
    if starts_at.is_some_and(|s| s <= now) {
        page.error("day", "The appointment must be in the future: record a contact for one that has happened");
    }
    let (Some(starts_at), Ok(minutes), Ok(mode), Ok(location), true) =
        (starts_at, minutes, mode, location, page.errors.is_empty())
    else {
        return page.respond();
    };
    let remind = f.checked("remind");
    let a = Appointment {
        id: AppointmentId::new(),
        org_id: user.org_id,
        episode_id: e.id,
        person_id: p.id,
        worker_id: Some(user.id),
        starts_at,
        minutes,
        mode,
        location,
        status: AppointmentStatus::Booked,
        remind,
        created_at: now,
    };
    let reminder = remind.then(|| NewJob {
        kind: APPOINTMENT_REMINDER_JOB.into(),
        payload: serde_json::json!({ "org_id": user.org_id, "appointment_id": a.id }).to_string(),
        run_at: (starts_at - REMINDER_BEFORE).max(now),
        max_attempts: 5,
        dedupe_key: Some(format!("reminder:{}", a.id)),
    });
    state.store.add_appointment(&a, reminder.as_ref()).await?;
    state.audit(vec![created(&state, &user, &source, p.id, "appointment", a.id.to_string())]).await?;
    Ok(back_to(&p))
}

pub(crate) async fn appointment_status(
    OpenEpisode(cx): OpenEpisode,
    Path((_, aid)): Path<(String, String)>,
    f: FormData,
) -> Result<Response, AppError> {
    let EpisodeCtx { state, user, source, episode: e, person: p } = cx;
    let aid = aid.parse::<AppointmentId>().map_err(|_| AppError::NotFound)?;
    let appt = state.store.get_appointment(user.org_id, aid).await?;
    if appt.episode_id != e.id {
        return Err(AppError::NotFound);
    }
    let status = f
        .get("status")
        .parse::<AppointmentStatus>()
        .map_err(|_| AppError::BadRequest("Choose what happened.".into()))?;
    state.store.set_appointment_status(user.org_id, e.id, aid, status).await?;
    // Attending is a contact: record it with the appointment's details, so nothing is typed twice.
    if status == AppointmentStatus::Attended {
        let c = Contact {
            id: ContactId::new(),
            org_id: user.org_id,
            episode_id: e.id,
            worker_id: Some(user.id),
            happened_on: appt.starts_at.uk_date(),
            happened_at: Some(appt.starts_at),
            minutes: appt.minutes,
            mode: appt.mode,
            location: appt.location,
            present: String::new(),
            notes: "Attended a booked appointment".into(),
            outside_usual: false,
            created_at: state.clock.now(),
        };
        let codes = codes_for_contact(&c, &e, Some(user.id));
        state.store.add_contact(&c, None, &codes).await?;
    }
    let mut entry = changed(&state, &user, &source, p.id, "appointment", aid.to_string());
    entry.reason = Some(status.as_str().into());
    state.audit(vec![entry]).await?;
    Ok(back_to(&p))
}
