//! The JSON API under `/api/v1`. Errors are RFC 9457 problem details. Create requests accept an
//! `Idempotency-Key` header: the key and the created record are committed in one transaction,
//! so a retried request (even after the server died before answering) never creates twice.

use crate::auth::ApiUser;
use crate::{AppState, ClientAddress, Problem};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use linkwork_domain::audit::{AuditAction, AuditEntry};
use linkwork_domain::ids::OrgId;
use linkwork_domain::organisations::{OrgKind, Organisation, parse_name};
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
            "organisations": "/api/v1/organisations",
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
    if !replayed {
        let entry = AuditEntry {
            record_id: Some(org.id.to_string()),
            source,
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
