//! The JSON API under `/api/v1`. Errors are RFC 9457 problem details. Create requests accept an
//! `Idempotency-Key` header: the key and the created record are committed in one transaction,
//! so a retried request (even after the server died before answering) never creates twice.

use crate::access::auth::ApiUser;
use crate::{AppState, ClientAddress, Problem};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::access::organisations::{OrgKind, Organisation, parse_name};
use linkwork_domain::ids::OrgId;
use linkwork_domain::ports::{Created, IdempotencyKey, StoreError};
use linkwork_domain::values::OdsCode;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

pub(crate) async fn root() -> Json<serde_json::Value> {
    Json(json!({
        "name": "linkwork",
        "version": env!("CARGO_PKG_VERSION"),
        "links": {
            "openapi": "/api/v1/openapi.json",
            "organisations": "/api/v1/organisations",
            "referrals": "/api/v1/referrals",
            "health": "/health"
        }
    }))
}

/// `GET /health`: the process is up and the database answers.
pub async fn health(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(json!({"status": "ok", "database": state.store.backend()})).into_response(),
        Err(e) => {
            tracing::error!(cause = %e, "health check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable"}))).into_response()
        }
    }
}

pub(crate) async fn list_organisations(
    State(state): State<AppState>,
    ApiUser(_): ApiUser,
) -> Result<Response, Problem> {
    let orgs = state.store.list_orgs().await?;
    Ok(Json(json!({ "items": orgs })).into_response())
}

/// Parse a JSON body, insisting on the JSON content type.
pub fn json_body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, Problem> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if !is_json {
        return Err(Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Send JSON")
            .detail("Set Content-Type: application/json."));
    }
    serde_json::from_slice(body).map_err(|e| {
        Problem::new(StatusCode::BAD_REQUEST, "malformed-json", "The request body is not valid JSON for this request")
            .detail(e.to_string())
    })
}

/// The `Idempotency-Key` header, scoped to the caller and bound to this exact request.
pub fn idempotency_key(
    headers: &HeaderMap,
    scope: String,
    route: &str,
    body: &Bytes,
) -> Result<Option<IdempotencyKey>, Problem> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= 255).ok_or_else(|| {
        Problem::new(StatusCode::BAD_REQUEST, "bad-idempotency-key", "Invalid Idempotency-Key")
            .detail("Use 1 to 255 visible ASCII characters, such as a UUID.")
    })?;
    let mut h = Sha256::new();
    h.update(route.as_bytes());
    h.update([0]);
    h.update(body);
    let request_hash = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(Some(IdempotencyKey { scope, key: key.to_owned(), request_hash }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewOrganisation {
    name: String,
    kind: String,
    #[serde(default)]
    ods_code: Option<String>,
    #[serde(default)]
    parent_id: Option<String>,
}

pub(crate) async fn create_organisation(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let input: NewOrganisation = json_body(&headers, &body)?;
    let idem = idempotency_key(&headers, format!("user:{}", user.id), "POST /api/v1/organisations", &body)?;

    let mut invalid = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", "Some fields are not valid");
    let name = match parse_name(&input.name) {
        Ok(n) => Some(n),
        Err(e) => {
            invalid = invalid.field("name", e.0);
            None
        }
    };
    let kind = match input.kind.parse::<OrgKind>() {
        Ok(k) => Some(k),
        Err(e) => {
            invalid = invalid.field("kind", e);
            None
        }
    };
    let ods_code = match input.ods_code.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(OdsCode::parse) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            invalid = invalid.field("ods_code", e.0);
            None
        }
        None => None,
    };
    let parent = match input.parent_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.parse::<OrgId>() {
            Err(_) => {
                invalid = invalid.field("parent_id", "Give the parent organisation's id");
                None
            }
            Ok(id) => match state.store.get_org(id).await {
                Ok(p) => Some(p),
                Err(StoreError::NotFound) => {
                    invalid = invalid.field("parent_id", "No organisation has this id");
                    None
                }
                Err(e) => return Err(e.into()),
            },
        },
    };
    if let Some(Err(e)) = kind.map(|k| k.check_parent(parent.as_ref().map(|p| p.kind)))
        && invalid.errors.iter().all(|f| f.field != "parent_id")
    {
        invalid = invalid.field("parent_id", e);
    }
    // An administrator adds organisations inside their own tenant only: under their own
    // organisation or one below it. Top-level organisations and other tenants' belong to the
    // operator (`linkwork org create`).
    if invalid.errors.iter().all(|f| f.field != "parent_id") {
        let inside = match &parent {
            Some(p) => crate::access::organisations::is_within(&state, p, user.org_id).await?,
            None => false,
        };
        if !inside {
            invalid = invalid.field("parent_id", "Give your own organisation, or one below it, as the parent");
        }
    }
    let (Some(name), Some(kind), true) = (name, kind, invalid.errors.is_empty()) else {
        return Err(invalid);
    };
    let org = Organisation {
        id: OrgId::new(),
        name,
        kind,
        ods_code,
        parent_id: parent.map(|p| p.id),
        created_at: state.clock.now(),
    };
    let (org, replayed) = match state.store.create_org(&org, idem.as_ref()).await {
        Ok(Created::New(o)) => (o, false),
        Ok(Created::Replayed(o)) => (o, true),
        Err(StoreError::Conflict(rule)) if rule == "idempotency_keys.request" => {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency-Key reused",
            )
            .detail("This key was already used for a different request. Use a new key for a new request."));
        }
        Err(StoreError::Conflict(_)) => {
            return Err(Problem::new(StatusCode::CONFLICT, "conflict", "Already exists")
                .detail("An organisation with this name or ODS code already exists."));
        }
        Err(e) => return Err(e.into()),
    };
    // Every acknowledged create is audited: a retry completes the event if the first attempt
    // committed the record but died before its audit write.
    if !replayed || !state.store.audited(AuditAction::Create, "organisation", &org.id.to_string()).await? {
        let entry = AuditEntry {
            record_id: Some(org.id.to_string()),
            source,
            reason: replayed.then(|| "recorded when the request was retried".to_owned()),
            ..AuditEntry::new(state.clock.now(), AuditAction::Create, "organisation").by(&user)
        };
        state.audit(vec![entry]).await?;
    }
    let location = format!("/api/v1/organisations/{}", org.id);
    let mut resp = (StatusCode::CREATED, [(header::LOCATION, location)], Json(org)).into_response();
    if replayed {
        resp.headers_mut().insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
    }
    Ok(resp)
}

/// `POST /api/v1/referrals`: a referral from another system, validated exactly as the form is.
/// The sender's organisation decides the tenant (a practice refers to its PCN). Idempotent
/// with an `Idempotency-Key`.
pub(crate) async fn create_referral(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ClientAddress(source): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    use linkwork_domain::intake::{Channel, RawReferral, parse_referral};
    let raw: RawReferral = json_body(&headers, &body)?;
    let idem = idempotency_key(&headers, format!("user:{}", user.id), "POST /api/v1/referrals", &body)?;
    let tenant = linkwork_domain::access::organisations::referral_tenant(&state.store.get_org(user.org_id).await?);
    let mut invalid = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", "Some fields are not valid");
    let team = if raw.team_id.trim().is_empty() {
        None
    } else {
        let teams = state.store.list_teams(tenant).await?;
        match raw
            .team_id
            .trim()
            .parse::<linkwork_domain::ids::TeamId>()
            .ok()
            .filter(|t| teams.iter().any(|x| x.id == *t))
        {
            Some(t) => Some(t),
            None => {
                invalid = invalid.field("team_id", "No team of the receiving service has this id");
                None
            }
        }
    };
    if !raw.practice_id.trim().is_empty()
        && !crate::intake::practice_options(&state, tenant).await?.iter().any(|(id, _)| *id == raw.practice_id.trim())
    {
        invalid = invalid.field("practice_id", "No GP practice of the receiving service has this id");
    }
    let mut intake = match parse_referral(&raw, tenant, state.clock.now(), Channel::Professional) {
        Ok(i) if invalid.errors.is_empty() => i,
        Ok(_) => return Err(invalid),
        Err(errors) => {
            for e in errors {
                invalid = invalid.field(e.field, e.message);
            }
            return Err(invalid);
        }
    };
    intake.referral.team_id = team;
    intake.referral.referred_by = Some(user.id);
    let new_person = crate::intake::resolve_person(state.store.as_ref(), &mut intake).await?;
    let (referral, replayed) =
        match state.store.create_referral(new_person.as_ref(), &intake.referral, idem.as_ref()).await {
            Ok(Created::New(r)) => (r, false),
            Ok(Created::Replayed(r)) => (r, true),
            Err(StoreError::Conflict(rule)) if rule == "idempotency_keys.request" => {
                return Err(Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency-key-reused",
                    "Idempotency-Key reused",
                )
                .detail("This key was already used for a different request. Use a new key for a new request."));
            }
            Err(e) => return Err(e.into()),
        };
    // Every acknowledged create is audited: a retry completes the event if the first attempt
    // committed the referral but died before its audit write.
    if !replayed || !state.store.audited(AuditAction::Create, "referral", &referral.id.to_string()).await? {
        let entry = AuditEntry {
            record_id: Some(referral.id.to_string()),
            person_id: Some(referral.person_id),
            source,
            reason: replayed.then(|| "recorded when the request was retried".to_owned()),
            ..AuditEntry {
                org_id: Some(tenant),
                ..AuditEntry::new(state.clock.now(), AuditAction::Create, "referral").by(&user)
            }
        };
        state.audit(vec![entry]).await?;
    }
    let body = json!({
        "id": referral.id,
        "status": referral.status.as_str(),
        "received_at": referral.received_at,
        "person_id": referral.person_id,
        "team_id": referral.team_id,
    });
    let mut resp =
        (StatusCode::CREATED, [(header::LOCATION, format!("/api/v1/referrals/{}", referral.id))], Json(body))
            .into_response();
    if replayed {
        resp.headers_mut().insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
    }
    Ok(resp)
}

/// `GET /api/v1/referrals/{id}`: where a referral stands. The referrer who sent it may read it;
/// so may link workers and managers of the receiving organisation.
pub(crate) async fn get_referral(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ClientAddress(source): ClientAddress,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, Problem> {
    let id = id.parse::<linkwork_domain::ids::ReferralId>().map_err(|_| Problem::not_found())?;
    let tenant = linkwork_domain::access::organisations::referral_tenant(&state.store.get_org(user.org_id).await?);
    let r = state.store.get_referral(tenant, id).await?;
    let worker = tenant == user.org_id
        && linkwork_domain::access::permissions::granted(
            &user,
            linkwork_domain::access::permissions::Permission::Triage,
        );
    if r.referred_by != Some(user.id) && !worker {
        return Err(Problem::not_found());
    }
    let entry = AuditEntry {
        record_id: Some(r.id.to_string()),
        person_id: Some(r.person_id),
        source,
        ..AuditEntry::new(state.clock.now(), AuditAction::View, "referral").by(&user)
    };
    state.audit(vec![entry]).await?;
    Ok(Json(json!({
        "id": r.id,
        "status": r.status.as_str(),
        "received_at": r.received_at,
        "decided_at": r.decided_at,
        "decision_reason": r.decision_reason,
        "team_id": r.team_id,
    }))
    .into_response())
}

/// `GET /api/v1/openapi.json`: the API described, with every coded value taken from the domain's
/// vocabularies so the description cannot drift from what the server accepts.
pub(crate) async fn openapi() -> Json<serde_json::Value> {
    use linkwork_domain::casework::NeedDomain;
    use linkwork_domain::intake::referrals::{ReferralSource, Urgency};
    use linkwork_domain::people::{ContactChannel, Ethnicity, Gender};
    fn codes(options: Vec<(&'static str, &'static str)>) -> Vec<&'static str> {
        options.into_iter().map(|(c, _)| c).collect()
    }
    let problem = json!({ "$ref": "#/components/schemas/Problem" });
    let problem_response =
        |d: &str| json!({ "description": d, "content": { "application/problem+json": { "schema": problem } } });
    Json(json!({
        "openapi": "3.1.0",
        "info": {
            "title": "linkwork API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Social prescribing referrals and organisations. Sign in first (session cookie); errors are RFC 9457 problem details. Creates accept an Idempotency-Key header.",
            "license": { "name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later" }
        },
        "paths": {
            "/health": { "get": { "summary": "Liveness and database reachability", "responses": { "200": { "description": "Up" }, "503": { "description": "Database unavailable" } } } },
            "/api/v1/organisations": {
                "get": { "summary": "List organisations", "responses": { "200": { "description": "Organisations" }, "401": problem_response("Not signed in") } },
                "post": {
                    "summary": "Create an organisation (administrators)",
                    "parameters": [{ "$ref": "#/components/parameters/IdempotencyKey" }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "additionalProperties": false, "required": ["name", "kind"],
                        "properties": { "name": { "type": "string" }, "kind": { "enum": ["icb", "pcn", "practice", "vcse"] }, "ods_code": { "type": "string" }, "parent_id": { "type": "string", "format": "uuid" } }
                    } } } },
                    "responses": { "201": { "description": "Created" }, "409": problem_response("Already exists"), "422": problem_response("Invalid fields") }
                }
            },
            "/api/v1/referrals": {
                "post": {
                    "summary": "Refer a person to social prescribing",
                    "description": "Validated exactly as the referral form. A known NHS number links the referral to the existing person. The person's consent to be referred is required.",
                    "parameters": [{ "$ref": "#/components/parameters/IdempotencyKey" }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Referral" } } } },
                    "responses": {
                        "201": { "description": "Received, waiting for triage", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ReferralStatus" } } } },
                        "401": problem_response("Not signed in"),
                        "403": problem_response("Not allowed to refer"),
                        "415": problem_response("Not JSON"),
                        "422": problem_response("Invalid fields, each named in errors[]")
                    }
                }
            },
            "/api/v1/referrals/{id}": {
                "get": {
                    "summary": "Where a referral stands (its referrer, or the receiving team)",
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }],
                    "responses": { "200": { "description": "Status", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ReferralStatus" } } } }, "404": problem_response("Not found") }
                }
            }
        },
        "components": {
            "parameters": {
                "IdempotencyKey": { "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string", "maxLength": 255 }, "description": "Retrying with the same key and body returns the first result without creating twice." }
            },
            "schemas": {
                "Referral": {
                    "type": "object", "additionalProperties": false,
                    "required": ["given_name", "family_name", "date_of_birth", "reason", "consent"],
                    "properties": {
                        "nhs_number": { "type": "string", "description": "10 digits with a valid modulus-11 check digit" },
                        "given_name": { "type": "string", "maxLength": 100 },
                        "family_name": { "type": "string", "maxLength": 100 },
                        "date_of_birth": { "type": "string", "description": "YYYY-MM-DD or DD/MM/YYYY" },
                        "address": { "type": "string" },
                        "postcode": { "type": "string" },
                        "phone": { "type": "string" },
                        "email": { "type": "string" },
                        "contact_by": { "enum": codes(ContactChannel::options()) },
                        "language": { "type": "string" },
                        "interpreter": { "type": "boolean" },
                        "gender": { "enum": codes(Gender::options()) },
                        "ethnicity": { "enum": codes(Ethnicity::options()), "description": "NHS ethnic category code" },
                        "reason": { "type": "string", "minLength": 3, "maxLength": 2000 },
                        "needs": { "type": "array", "items": { "enum": codes(NeedDomain::options()) } },
                        "urgency": { "enum": codes(Urgency::options()) },
                        "consent": { "type": "boolean", "const": true },
                        "tried": { "type": "string" },
                        "source": { "enum": ReferralSource::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>() },
                        "referrer_name": { "type": "string" },
                        "team_id": { "type": "string", "format": "uuid" },
                        "practice_id": { "type": "string", "format": "uuid", "description": "The person's GP practice, one of the receiving PCN's practices" }
                    }
                },
                "ReferralStatus": {
                    "type": "object",
                    "properties": { "id": { "type": "string", "format": "uuid" }, "status": { "enum": ["received", "accepted", "declined", "redirected"] }, "received_at": { "type": "string", "format": "date-time" } }
                },
                "Problem": {
                    "type": "object",
                    "properties": { "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" }, "detail": { "type": "string" },
                        "errors": { "type": "array", "items": { "type": "object", "properties": { "field": { "type": "string" }, "message": { "type": "string" } } } } }
                }
            }
        }
    }))
}
