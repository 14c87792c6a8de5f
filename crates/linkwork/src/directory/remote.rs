//! Live feeds: paging an Open Referral UK API within a size budget, and keeping remembered feeds in sync.

use super::feed::Feed;
use super::feed::ImportReport;
use super::feed::Kind;
use super::feed::RecordProblem;
use super::feed::id_of;
use super::import::import;
use anyhow::bail;
use linkwork_domain::Clock;
use linkwork_domain::ports::Store;
use serde_json::Value;

/// Pages of a live API are fetched this many records at a time.
pub(super) const PAGE: usize = 100;

/// The largest JSON file an import reads (a bigger feed comes in pages, or as CSV).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// The largest single answer from a live feed.
pub(super) const MAX_ANSWER_BYTES: u64 = 16 * 1024 * 1024;
/// The most a live feed may send in all, so a hostile or broken feed cannot exhaust memory.
pub const MAX_FEED_BYTES: u64 = 512 * 1024 * 1024;

pub(super) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .user_agent(concat!("linkwork/", env!("CARGO_PKG_VERSION"), " (Open Referral UK import)"))
        .build()
        .into()
}

/// What is left of a live feed's allowance ([`MAX_FEED_BYTES`]).
pub(super) struct Budget(u64);

pub(super) fn get_json(agent: &ureq::Agent, url: &str, budget: &mut Budget) -> Result<Value, String> {
    if budget.0 == 0 {
        return Err(format!("the feed sent more than {} MiB in all: import stopped", MAX_FEED_BYTES / (1024 * 1024)));
    }
    let mut resp = agent.get(url).header("Accept", "application/json").call().map_err(|e| e.to_string())?;
    let text = resp
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES.min(budget.0))
        .read_to_string()
        .map_err(|e| e.to_string())?;
    budget.0 = budget.0.saturating_sub(u64::try_from(text.len()).unwrap_or(u64::MAX));
    serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))
}

/// Walk every page of a list endpoint, calling `each` with every item.
pub(super) fn pages(
    agent: &ureq::Agent,
    first: &str,
    budget: &mut Budget,
    mut each: impl FnMut(Value),
) -> Result<(), String> {
    let join = if first.contains('?') { '&' } else { '?' };
    for page in 1..=100_000 {
        let body = get_json(agent, &format!("{first}{join}page={page}&per_page={PAGE}"), budget)?;
        let Some(items) = body.get("contents").and_then(Value::as_array) else {
            return Err(format!("{first}: no page envelope (contents) in the answer"));
        };
        let n = items.len();
        for item in items {
            each(item.clone());
        }
        let last = body.get("last_page").and_then(Value::as_bool).unwrap_or(n < PAGE);
        if last || n == 0 {
            break;
        }
    }
    Ok(())
}

/// Read a live Open Referral UK API: taxonomy terms, then every page of `/services` (only those
/// changed since `since`, when syncing), then each service in full from `/services/{id}` (the
/// list form leaves out places, times and categories). Blocking: call it off the async runtime.
/// A list page that fails stops the fetch (nothing is written); a service that fails is one
/// problem and the rest go on.
pub fn fetch_feed(
    base: &str,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<(Feed, Vec<RecordProblem>)> {
    let base = base.trim().trim_end_matches('/');
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        bail!("the feed's address must start https:// (or http://): {base}");
    }
    let agent = agent();
    let mut budget = Budget(MAX_FEED_BYTES);
    let mut feed = Feed::default();
    let mut problems = Vec::new();
    if let Err(e) = pages(&agent, &format!("{base}/taxonomy_terms"), &mut budget, |t| {
        feed.records.push((format!("{base}/taxonomy_terms"), Kind::Term, t))
    }) {
        problems.push(RecordProblem {
            place: format!("{base}/taxonomy_terms"),
            id: String::new(),
            message: format!("taxonomy terms not read: {e}"),
        });
    }
    let mut ids = Vec::new();
    let list = match since {
        Some(t) => format!("{base}/services?modified_after={}", t.format("%Y-%m-%dT%H:%M:%SZ")),
        None => format!("{base}/services"),
    };
    pages(&agent, &list, &mut budget, |s| ids.push(id_of(&s)))
        .map_err(|e| anyhow::anyhow!("could not read {list}: {e}"))?;
    for id in ids {
        let url = format!("{base}/services/{id}");
        if budget.0 == 0 {
            bail!("the feed sent more than {} MiB in all: nothing was imported", MAX_FEED_BYTES / (1024 * 1024));
        }
        match get_json(&agent, &url, &mut budget) {
            Ok(doc) => feed.records.push((url, Kind::Service, doc)),
            Err(e) => problems.push(RecordProblem { place: url, id, message: e }),
        }
    }
    Ok((feed, problems))
}

/// Import from a live API; `since` limits it to services changed after that time (a sync).
pub async fn import_url(
    store: &dyn Store,
    clock: &dyn Clock,
    base: &str,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<ImportReport> {
    let url = base.trim().trim_end_matches('/').to_owned();
    let fetch_url = url.clone();
    let (feed, problems) = tokio::task::spawn_blocking(move || fetch_feed(&fetch_url, since)).await??;
    let mut report = import(store, clock, feed, &url).await?;
    report.errors.extend(problems);
    Ok(report)
}

/// Sync every remembered feed whose last sync is older than `every`: services changed since the
/// last sync (from when it started, so nothing changed during it is missed).
pub async fn sync_feeds(store: &dyn Store, clock: &dyn Clock, every: chrono::Duration) -> anyhow::Result<usize> {
    let mut synced = 0;
    for (url, last) in store.feeds().await? {
        let started = clock.now();
        if last.is_some_and(|t| started - t < every) {
            continue;
        }
        match import_url(store, clock, &url, last).await {
            Ok(r) => {
                let summary = format!(
                    "{} new, {} updated, {} unchanged, {} not imported",
                    r.counts.created,
                    r.counts.updated,
                    r.counts.unchanged,
                    r.errors.len()
                );
                tracing::info!(feed = %url, %summary, "directory feed synced");
                store.save_feed(&url, Some(started), &summary).await?;
                synced += 1;
            }
            Err(e) => {
                tracing::warn!(feed = %url, cause = %e, "directory feed sync failed; will retry");
                store.save_feed(&url, None, &format!("failed: {e}")).await?;
            }
        }
    }
    Ok(synced)
}
