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
use linkwork_domain::ids::OrgId;
use linkwork_domain::intake::FieldError;
use linkwork_domain::ports::{Conflict, Created, IdempotencyKey, StoreError};
use linkwork_domain::usecases::{self, Caller, Failure};
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

/// Every field's problem, as one problem document.
fn invalid(errors: Vec<FieldError>) -> Problem {
    errors
        .into_iter()
        .fold(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", "Some fields are not valid"), |p, e| {
            p.field(e.field, e.message)
        })
}

/// A use case's failure as a problem document; `duplicate` says what a uniqueness conflict means
/// for this resource.
fn failure(f: Failure, duplicate: &str) -> Problem {
    match f {
        Failure::Invalid(errors) => invalid(errors),
        Failure::Conflict(Conflict::Unique(_)) => {
            Problem::new(StatusCode::CONFLICT, "conflict", "Already exists").detail(duplicate.to_owned())
        }
        Failure::Conflict(c) => StoreError::Conflict(c).into(),
        Failure::NotFound => Problem::not_found(),
        Failure::Store(e) => Problem::internal(e),
        Failure::Audit(e) => Problem::internal(e),
    }
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
    // The JSON face's own concern: the parent's id as text. Everything else is the use case's.
    let parent_id = match input.parent_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.parse::<OrgId>() {
            Ok(id) => Some(id),
            Err(_) => {
                return Err(invalid(vec![FieldError {
                    field: "parent_id",
                    message: "Give the parent organisation's id".into(),
                }]));
            }
        },
    };
    let new =
        usecases::access::NewOrganisation { name: input.name, kind: input.kind, ods_code: input.ods_code, parent_id };
    let created =
        usecases::access::create_organisation(state.services(), &Caller::user(&user, source), &new, idem.as_ref())
            .await
            .map_err(|f| failure(f, "An organisation with this name or ODS code already exists."))?;
    Ok(created_response(created, |o| (format!("/api/v1/organisations/{}", o.id), json!(o))))
}

/// 201 with the created record and its address; a replay (the same idempotency key and request)
/// answers the same and says so in `Idempotent-Replayed`.
fn created_response<T>(created: Created<T>, show: impl FnOnce(&T) -> (String, serde_json::Value)) -> Response {
    let (record, replayed) = match created {
        Created::New(r) => (r, false),
        Created::Replayed(r) => (r, true),
    };
    let (location, body) = show(&record);
    let mut resp = (StatusCode::CREATED, [(header::LOCATION, location)], Json(body)).into_response();
    if replayed {
        resp.headers_mut().insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
    }
    resp
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
    let raw: linkwork_domain::intake::RawReferral = json_body(&headers, &body)?;
    let idem = idempotency_key(&headers, format!("user:{}", user.id), "POST /api/v1/referrals", &body)?;
    let created =
        usecases::intake::take_referral(state.services(), &Caller::user(&user, source), &raw, None, idem.as_ref())
            .await
            .map_err(|f| failure(f, "This referral already exists."))?;
    Ok(created_response(created, |r| {
        (
            format!("/api/v1/referrals/{}", r.id),
            json!({
                "id": r.id,
                "status": r.status.as_str(),
                "received_at": r.received_at,
                "person_id": r.person_id,
                "team_id": r.team_id,
            }),
        )
    }))
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
    let org_kinds: Vec<&str> =
        linkwork_domain::access::organisations::OrgKind::ALL.iter().map(|k| k.as_str()).collect();
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
                        "properties": { "name": { "type": "string" }, "kind": { "enum": org_kinds }, "ods_code": { "type": "string" }, "parent_id": { "type": "string", "format": "uuid" } }
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
