//! Shared test helpers: an HTTP client that drives the router in-process and keeps the session
//! cookie, and quick fixtures.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use linkwork_domain::Clock;
use linkwork_domain::access::accounts::User;
use linkwork_domain::access::organisations::Organisation;
use linkwork_domain::ports::Store;
use tower::ServiceExt;

pub const PASSWORD: &str = "kettle orbit lantern";

/// A response, read in full.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Drives the app's router with `oneshot`, carrying the session cookie like a browser.
pub struct Client {
    pub router: axum::Router,
    pub cookie: Option<String>,
    /// The client's address, as the server would see it (for per-address rules).
    pub address: Option<std::net::SocketAddr>,
}

impl Client {
    pub fn new(router: &axum::Router) -> Self {
        Self { router: router.clone(), cookie: None, address: None }
    }

    pub async fn send(&mut self, mut req: Request<Body>) -> Resp {
        if let Some(c) = &self.cookie {
            req.headers_mut().insert("cookie", format!("linkwork_session={c}").parse().unwrap());
        }
        if let Some(a) = self.address {
            req.extensions_mut().insert(axum::extract::ConnectInfo(a));
        }
        let res = self.router.clone().oneshot(req).await.unwrap();
        for sc in res.headers().get_all("set-cookie") {
            let sc = sc.to_str().unwrap();
            if let Some(rest) = sc.strip_prefix("linkwork_session=") {
                let value = rest.split(';').next().unwrap_or("");
                let removed = value.is_empty() || sc.contains("Max-Age=0");
                self.cookie = if removed { None } else { Some(value.to_owned()) };
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 10 * 1024 * 1024).await.unwrap();
        Resp { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    pub async fn post_form(&mut self, path: &str, form: &str) -> Resp {
        let req = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(form.to_owned()))
            .unwrap();
        self.send(req).await
    }

    pub async fn post_json(&mut self, path: &str, json: &str, extra: &[(&str, &str)]) -> Resp {
        let mut b = Request::post(path).header("content-type", "application/json");
        for (k, v) in extra {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::from(json.to_owned())).unwrap()).await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Resp {
        let form = format!("email={}&password={}", urlencode(email), urlencode(password));
        self.post_form("/sign-in", &form).await
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An ICB → PCN pair, the PCN being the usual tenant. Two-factor sign-in is turned off for it so
/// tests about other things can sign in with a password; `two_factor.rs` tests it turned on.
pub async fn pcn(store: &dyn Store, clock: &dyn Clock, name: &str) -> Organisation {
    let icb_name = format!("{name} ICB");
    let icb = linkwork::admin::create_org(store, clock, &icb_name, "icb", None, None).await.unwrap();
    let pcn = linkwork::admin::create_org(store, clock, name, "pcn", None, Some(&icb.name)).await.unwrap();
    store.set_org_requires_two_factor(pcn.id, false).await.unwrap();
    pcn
}

/// A user with the test password.
pub async fn user(store: &dyn Store, clock: &dyn Clock, org: &Organisation, email: &str, roles: &[&str]) -> User {
    let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
    linkwork::admin::create_user(store, clock, email, None, &roles, &org.name, PASSWORD).await.unwrap()
}
