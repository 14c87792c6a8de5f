//! Every route of the application, each with the permission it needs. The router is built from
//! this table and nothing else, so a route cannot exist without a rule; the guard checks the rule
//! before the handler runs, and tests walk the table route by route, role by role.

use crate::access::auth::{NoUser, session_user};
use crate::access::{account, admin, auth, notifications, subject_access, two_factor};
use crate::casework::{codes, summary, team};
use crate::directory::oruk;
use crate::intake::{self as referrals, import};
use crate::{
    AppError, AppState, Problem, api, assets, casework, client_address, connections, directory, outcomes, pages, people,
};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::audit::{AuditAction, AuditEntry};
use linkwork_domain::access::permissions::{Permission, granted};

/// A route's method, path and rule: what the tests enumerate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub permission: Permission,
}

pub(crate) struct Route {
    spec: RouteSpec,
    handler: MethodRouter<AppState>,
}

fn route(method: Method, path: &'static str, permission: Permission, handler: MethodRouter<AppState>) -> Route {
    Route { spec: RouteSpec { method, path, permission }, handler }
}

fn all() -> Vec<Route> {
    use Permission::*;
    let mut routes = vec![
        route(Method::GET, "/", Public, get(pages::start)),
        route(Method::GET, "/sign-in", Public, get(auth::sign_in_page)),
        route(Method::POST, "/sign-in", Public, post(auth::sign_in)),
        route(Method::POST, "/sign-out", SignedIn, post(auth::sign_out)),
        // The second step of signing in: public routes whose handlers need a pending session.
        route(Method::GET, "/sign-in/code", Public, get(two_factor::code_page)),
        route(Method::POST, "/sign-in/code", Public, post(two_factor::submit_code)),
        route(Method::GET, "/two-factor/setup", Public, get(two_factor::setup)),
        route(Method::POST, "/two-factor/setup", Public, post(two_factor::confirm_setup)),
        route(Method::GET, "/account/reset", Public, get(account::reset_page)),
        // Notifications are about referrals a worker makes to services: casework roles.
        route(Method::GET, "/account/notifications", RecordCasework, get(notifications::page)),
        route(Method::POST, "/account/notifications", RecordCasework, post(notifications::save)),
        route(Method::POST, "/account/reset", Public, post(account::request_reset)),
        route(Method::GET, "/account/set-password", Public, get(account::set_password_page)),
        route(Method::POST, "/account/set-password", Public, post(account::set_password)),
        route(Method::GET, "/home", SignedIn, get(pages::home)),
        route(Method::GET, "/directory", ViewDirectory, get(directory::search)),
        route(Method::GET, "/directory/services/{id}", ViewDirectory, get(directory::service)),
        route(Method::GET, "/directory/services/{id}/report", Public, get(directory::report_page)),
        route(Method::POST, "/directory/services/{id}/report", Public, post(directory::report)),
        route(Method::GET, "/directory/services/{id}/edit", EditListings, get(directory::edit_page)),
        route(Method::POST, "/directory/services/{id}/edit", EditListings, post(directory::edit)),
        route(Method::GET, "/directory/organizations/{id}/claim", Public, get(directory::claim_page)),
        route(Method::POST, "/directory/organizations/{id}/claim", Public, post(directory::claim)),
        route(Method::GET, "/directory/reports", ManageDirectory, get(directory::reports)),
        route(Method::POST, "/directory/reports/{id}/resolve", ManageDirectory, post(directory::resolve)),
        route(Method::POST, "/directory/claims/{id}", ManageDirectory, post(directory::decide_claim)),
        route(Method::GET, "/people/{id}/connect/{service}", RecordCasework, get(connections::connect_page)),
        route(Method::POST, "/people/{id}/connect/{service}", RecordCasework, post(connections::connect)),
        route(Method::POST, "/people/{id}/unmet", RecordCasework, post(connections::unmet)),
        route(Method::GET, "/team/unmet", SuperviseTeam, get(connections::unmet_report)),
        route(Method::POST, "/connections/{id}/cancel", RecordCasework, post(connections::cancel)),
        route(Method::GET, "/partner", AnswerReferrals, get(connections::inbox)),
        route(Method::GET, "/partner/referrals/{id}", AnswerReferrals, get(connections::referral_page)),
        route(Method::POST, "/partner/referrals/{id}", AnswerReferrals, post(connections::update_referral)),
        route(Method::GET, "/openreferral", Public, get(oruk::root)),
        route(Method::GET, "/openreferral/", Public, get(oruk::root)),
        route(Method::GET, "/openreferral/openapi.json", Public, get(oruk::openapi)),
        route(Method::GET, "/openreferral/services", Public, get(oruk::services)),
        route(Method::GET, "/openreferral/services/{id}", Public, get(oruk::service)),
        route(Method::GET, "/openreferral/service_at_locations", Public, get(oruk::service_at_locations)),
        route(Method::GET, "/openreferral/service_at_locations/{id}", Public, get(oruk::service_at_location)),
        route(Method::GET, "/openreferral/taxonomies", Public, get(oruk::taxonomies)),
        route(Method::GET, "/openreferral/taxonomies/{id}", Public, get(oruk::taxonomy)),
        route(Method::GET, "/openreferral/taxonomy_terms", Public, get(oruk::taxonomy_terms)),
        route(Method::GET, "/openreferral/taxonomy_terms/{id}", Public, get(oruk::taxonomy_term)),
        route(Method::GET, "/caseload", ViewCaseload, get(casework::caseload)),
        route(Method::GET, "/people/search", RecordCasework, get(people::search_page)),
        route(Method::POST, "/people/search", RecordCasework, post(people::search)),
        route(Method::GET, "/people/{id}", ViewCaseload, get(people::person)),
        route(Method::POST, "/people/{id}/break-glass", ViewCaseload, post(people::break_glass)),
        route(Method::GET, "/people/{id}/details", RecordCasework, get(people::details_page)),
        route(Method::POST, "/people/{id}/details", RecordCasework, post(people::save_details)),
        route(Method::POST, "/people/{id}/flags", RecordCasework, post(people::flag)),
        // The address bookmarked before flags had kinds: the safeguarding flag.
        route(Method::POST, "/people/{id}/safeguarding", RecordCasework, post(people::flag)),
        route(Method::GET, "/people/{id}/merge/{other}", RecordCasework, get(people::merge_page)),
        route(Method::POST, "/people/{id}/merge/{other}", RecordCasework, post(people::merge)),
        route(Method::GET, "/episodes/{id}/need", RecordCasework, get(casework::need_page)),
        route(Method::POST, "/episodes/{id}/need", RecordCasework, post(casework::add_need)),
        route(Method::GET, "/episodes/{id}/goal", RecordCasework, get(casework::goal_page)),
        route(Method::POST, "/episodes/{id}/goal", RecordCasework, post(casework::add_goal)),
        route(Method::GET, "/goals/{id}/review", RecordCasework, get(casework::review_page)),
        route(Method::POST, "/goals/{id}/review", RecordCasework, post(casework::review_goal)),
        route(Method::GET, "/episodes/{id}/contact", RecordCasework, get(casework::contact_page)),
        route(Method::POST, "/episodes/{id}/contact", RecordCasework, post(casework::add_contact)),
        route(Method::GET, "/episodes/{id}/holding", RecordCasework, get(casework::holding_page)),
        route(Method::POST, "/episodes/{id}/holding", RecordCasework, post(casework::start_holding)),
        route(Method::POST, "/episodes/{id}/holding/{holding}/end", RecordCasework, post(casework::end_holding)),
        route(Method::GET, "/episodes/{id}/appointment", RecordCasework, get(casework::appointment_page)),
        route(Method::POST, "/episodes/{id}/appointment", RecordCasework, post(casework::add_appointment)),
        route(
            Method::POST,
            "/episodes/{id}/appointments/{appointment}/status",
            RecordCasework,
            post(casework::appointment_status),
        ),
        route(Method::GET, "/episodes/{id}/barrier", RecordCasework, get(casework::barrier_page)),
        route(Method::POST, "/episodes/{id}/barrier", RecordCasework, post(casework::add_barrier)),
        route(Method::GET, "/episodes/{id}/work", RecordCasework, get(casework::episode_page)),
        route(Method::POST, "/episodes/{id}/work", RecordCasework, post(casework::save_episode)),
        route(Method::GET, "/episodes/{id}/discharge", RecordCasework, get(casework::discharge_page)),
        route(Method::POST, "/episodes/{id}/discharge", RecordCasework, post(casework::discharge)),
        // Reopening takes a closed episode (EpisodeCtx, not OpenEpisode) under the same rule.
        route(Method::GET, "/episodes/{id}/reopen", RecordCasework, get(casework::reopen_page)),
        route(Method::POST, "/episodes/{id}/reopen", RecordCasework, post(casework::reopen)),
        route(Method::GET, "/episodes/{id}/outcomes/new", RecordCasework, get(outcomes::new_page)),
        route(Method::POST, "/episodes/{id}/outcomes", RecordCasework, post(outcomes::record)),
        route(Method::GET, "/episodes/{id}/outcomes/import", RecordCasework, get(outcomes::import_page)),
        route(Method::POST, "/episodes/{id}/outcomes/import", RecordCasework, post(outcomes::import_total)),
        route(Method::GET, "/episodes/{id}/outcomes/link", RecordCasework, get(outcomes::send_link_page)),
        route(Method::POST, "/episodes/{id}/outcomes/link", RecordCasework, post(outcomes::send_link)),
        // The person answers a questionnaire link without an account: the token is the key.
        route(Method::GET, "/q/{token}", Public, get(outcomes::link_page)),
        route(Method::POST, "/q/{token}", Public, post(outcomes::answer_link)),
        route(Method::GET, "/outcomes", ViewCaseload, get(outcomes::coverage)),
        route(Method::GET, "/outcomes/export.csv", SuperviseTeam, get(outcomes::export)),
        route(Method::GET, "/episodes/{id}/plan.pdf", RecordCasework, get(summary::plan_pdf)),
        // The referrer reads the summary of their own referral; workers under the caseload rule.
        route(Method::GET, "/episodes/{id}/summary", MakeReferral, get(summary::page)),
        route(Method::GET, "/episodes/{id}/summary.pdf", MakeReferral, get(summary::pdf)),
        route(Method::GET, "/episodes/{id}/summary.json", MakeReferral, get(summary::json)),
        route(Method::GET, "/referrals", MakeReferral, get(referrals::mine)),
        route(Method::GET, "/referrals/new", MakeReferral, get(referrals::new_page)),
        route(Method::POST, "/referrals/new", MakeReferral, post(referrals::create)),
        route(Method::GET, "/self-referral", Public, get(referrals::self_page)),
        route(Method::POST, "/self-referral", Public, post(referrals::self_submit)),
        route(Method::GET, "/triage", Triage, get(referrals::waiting)),
        route(Method::GET, "/codes", Triage, get(codes::page)),
        route(Method::GET, "/codes.csv", Triage, get(codes::csv)),
        route(Method::GET, "/referrals/import", Triage, get(import::page)),
        route(Method::GET, "/referrals/import/template.csv", Triage, get(import::template_csv)),
        route(Method::POST, "/referrals/import", Triage, post(import::upload)),
        route(Method::GET, "/referrals/{id}/triage", Triage, get(referrals::triage_page)),
        route(Method::POST, "/referrals/{id}/triage", Triage, post(referrals::triage)),
        route(Method::GET, "/team", ManageTeam, get(team::overview)),
        route(Method::GET, "/teams/{id}/settings", ManageTeam, get(team::settings_page)),
        route(Method::POST, "/teams/{id}/settings", ManageTeam, post(team::save_settings)),
        route(Method::GET, "/profile", RecordCasework, get(team::my_profile)),
        route(Method::GET, "/team/profiles/{id}", SuperviseTeam, get(team::member_profile)),
        route(Method::GET, "/admin/messages", ViewNotifications, get(pages::messages)),
        route(Method::GET, "/admin/audit", ViewAudit, get(admin::audit)),
        route(Method::POST, "/admin/audit", ViewAudit, post(admin::audit_search)),
        // Subject access: a person search for that purpose only, and the whole report.
        route(Method::GET, "/admin/subject-access", ViewAudit, get(subject_access::lookup_page)),
        route(Method::POST, "/admin/subject-access", ViewAudit, post(subject_access::lookup)),
        route(Method::GET, "/admin/subject-access/{id}", ViewAudit, get(subject_access::report)),
        route(Method::GET, "/admin/subject-access/{id}/report.csv", ViewAudit, get(subject_access::report_csv)),
        route(Method::GET, "/admin/users", ManageUsers, get(admin::users)),
        route(Method::GET, "/admin/users/invite", ManageUsers, get(admin::invite_page)),
        route(Method::POST, "/admin/users/invite", ManageUsers, post(admin::invite)),
        route(Method::POST, "/admin/users/unlock", ManageUsers, post(admin::unlock)),
        route(Method::POST, "/admin/users/revoke-sessions", ManageUsers, post(admin::revoke_sessions)),
        route(Method::POST, "/admin/users/reset-two-factor", ManageUsers, post(admin::reset_two_factor)),
        route(Method::GET, "/health", Public, get(api::health)),
        route(Method::GET, "/api/v1", Public, get(api::root)),
        route(Method::GET, "/api/v1/organisations", ViewOrganisations, get(api::list_organisations)),
        route(Method::POST, "/api/v1/organisations", ManageOrganisations, post(api::create_organisation)),
        route(Method::GET, "/api/v1/openapi.json", Public, get(api::openapi)),
        route(Method::POST, "/api/v1/referrals", MakeReferral, post(api::create_referral)),
        route(Method::GET, "/api/v1/referrals/{id}", MakeReferral, get(api::get_referral)),
    ];
    routes.extend(assets::routes().into_iter().map(|(path, h)| route(Method::GET, path, Public, h)));
    routes
}

/// The route table, for tests and documentation.
pub fn table() -> Vec<RouteSpec> {
    all().into_iter().map(|r| r.spec).collect()
}

/// The signed-in user, put in the request by the guard for handlers to take.
#[derive(Clone)]
pub(crate) struct Authenticated(pub User);

/// Check the route's rule before its handler runs.
async fn guard(State((state, permission)): State<(AppState, Permission)>, req: Request, next: Next) -> Response {
    if permission == Permission::Public {
        return next.run(req).await;
    }
    let api = crate::pages::is_json_face(req.uri().path());
    let (mut parts, body) = req.into_parts();
    match session_user(&mut parts, &state).await {
        Ok(user) if granted(&user, permission) => {
            parts.extensions.insert(Authenticated(user));
            next.run(Request::from_parts(parts, body)).await
        }
        Ok(user) => {
            tracing::info!(user = %user.id, ?permission, path = %parts.uri.path(), "access refused");
            let entry = AuditEntry {
                record_id: Some(format!("{} {}", parts.method, parts.uri.path())),
                source: client_address(&parts, &state.config.trusted_proxies),
                ..AuditEntry::new(state.clock.now(), AuditAction::AccessDenied, "route").by(&user)
            };
            match state.audit(vec![entry]).await {
                Err(e) if api => Problem::internal(e).into_response(),
                Err(e) => e.into_response(),
                Ok(()) if api => Problem::forbidden().into_response(),
                Ok(()) => AppError::Forbidden.into_response(),
            }
        }
        Err(NoUser::NotSignedIn) if api => Problem::unauthorized().into_response(),
        Err(NoUser::NotSignedIn) => Redirect::to("/sign-in").into_response(),
        Err(NoUser::Fault(e)) if api => Problem::internal(e).into_response(),
        Err(NoUser::Fault(e)) => AppError::Internal(e).into_response(),
    }
}

/// The router: every route from the table behind its guard.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    let mut router = Router::new();
    for r in all() {
        let layer = from_fn_with_state((state.clone(), r.spec.permission), guard);
        router = router.route(r.spec.path, r.handler.route_layer(layer));
    }
    router
}
