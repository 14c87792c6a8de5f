//! The community directory.

use super::StoreResult;
use crate::directory::oruk;
use crate::directory::{Claim, DirectoryQuery, Hit, Listing, ListingChange, ProblemReport};
use crate::ids::{ClaimId, ReportId, ServiceId};
use crate::ids::{OrgId, UserId};
use chrono::{DateTime, Utc};

/// One import's worth of directory records, written in one transaction (each record was
/// checked on its own before; a record that failed is not here).
#[derive(Clone, Debug, Default)]
pub struct DirectoryBatch {
    pub organizations: Vec<oruk::Organization>,
    pub taxonomies: Vec<oruk::Taxonomy>,
    pub terms: Vec<oruk::TaxonomyTerm>,
    pub services: Vec<oruk::ServiceEntry>,
    /// Organisations that linkwork tenants manage (demo data and claims made elsewhere).
    pub owners: Vec<(uuid::Uuid, OrgId)>,
    /// The tenant whose directory staff look after the batch's organisations, when the import
    /// names one (`linkwork import oruk --steward`, the demo's PCNs).
    pub steward: Option<OrgId>,
    /// Capacity to set on new services (imports leave it alone; the demo varies it).
    pub capacities: Vec<(uuid::Uuid, crate::directory::Capacity)>,
    /// Where the records came from (a file name or a feed's base URL).
    pub source: String,
    pub at: DateTime<Utc>,
}

/// What an import wrote: new and updated records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub created: i64,
    pub updated: i64,
    /// Records identical to what the directory already held (a re-run of the same feed).
    pub unchanged: i64,
}

/// A postcode centroid, with the deprivation decile of its area when known.
#[derive(Clone, Debug, PartialEq)]
pub struct PostcodePoint {
    pub postcode: String,
    pub latitude: f64,
    pub longitude: f64,
    pub lsoa: Option<String>,
}

/// The community directory as people read it: search, listings, places, taxonomies and
/// postcodes (not person-identifiable).
#[async_trait::async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Which of these taxonomy term ids the directory holds.
    async fn known_terms(&self, ids: &[uuid::Uuid]) -> StoreResult<Vec<uuid::Uuid>>;
    async fn count_services(&self) -> StoreResult<i64>;
    async fn get_listing(&self, id: ServiceId) -> StoreResult<Listing>;
    /// Search: relevance to the words, then name; with a point, nearest first within the radius
    /// (of the `NEAREST_CANDIDATES` nearest matches).
    async fn search_directory(&self, q: &DirectoryQuery, offset: i64, limit: i64) -> StoreResult<(Vec<Hit>, i64)>;
    /// The places of these services (service-at-location documents with their locations).
    async fn service_places(&self, ids: &[ServiceId]) -> StoreResult<Vec<(ServiceId, oruk::ServiceAtLocation)>>;
    /// Service-at-locations of services matching the query (the public API's list).
    async fn search_places(
        &self,
        q: &DirectoryQuery,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<(ServiceId, oruk::ServiceAtLocation)>, i64)>;
    async fn get_place(&self, id: uuid::Uuid) -> StoreResult<(ServiceId, oruk::ServiceAtLocation)>;
    async fn directory_orgs(&self, ids: &[uuid::Uuid]) -> StoreResult<Vec<(oruk::Organization, Option<OrgId>)>>;
    async fn taxonomies(&self, offset: i64, limit: i64) -> StoreResult<(Vec<oruk::Taxonomy>, i64)>;
    async fn get_taxonomy(&self, id: uuid::Uuid) -> StoreResult<oruk::Taxonomy>;
    async fn taxonomy_terms(
        &self,
        taxonomy: Option<uuid::Uuid>,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<oruk::TaxonomyTerm>, i64)>;
    async fn get_taxonomy_term(&self, id: uuid::Uuid) -> StoreResult<oruk::TaxonomyTerm>;
    /// A postcode's centroid and deprivation decile; for an unknown full postcode, the mean of
    /// its district's known postcodes (no decile).
    async fn locate_postcode(&self, postcode: &str) -> StoreResult<Option<((f64, f64), Option<i16>)>>;
}

/// Writing the directory from feeds: records upserted by id, postcode centroids, feeds to keep in
/// sync.
#[async_trait::async_trait]
pub trait DirectoryImportStore: Send + Sync {
    /// Insert or update (by id) organisations, taxonomies, terms and services. A service's
    /// places, openings, terms and search words are replaced with the record's; its capacity,
    /// owner and trust fields are kept. Each changed service gets a history line.
    async fn upsert_directory(&self, batch: &DirectoryBatch) -> StoreResult<ImportCounts>;
    /// Load postcode centroids (replacing any with the same postcode) and LSOA deciles.
    async fn import_postcodes(&self, points: &[PostcodePoint], deciles: &[(String, i16)]) -> StoreResult<()>;
    /// Remember a feed to keep in sync, and when it last was.
    async fn save_feed(&self, url: &str, synced_at: Option<DateTime<Utc>>, result: &str) -> StoreResult<()>;
    async fn feeds(&self) -> StoreResult<Vec<(String, Option<DateTime<Utc>>)>>;
}

/// Keeping the directory right: edits with their history, review reminders, problem reports and
/// claims, each looked after by the listing's steward.
#[async_trait::async_trait]
pub trait TrustStore: Send + Sync {
    /// Save an edit (`listing.version` is the version edited; a stale one is a conflict).
    async fn update_listing(&self, listing: &Listing, change: &ListingChange) -> StoreResult<Listing>;
    async fn listing_history(&self, id: ServiceId, limit: i64) -> StoreResult<Vec<ListingChange>>;
    /// Listings past their review date that have not been reminded since it passed.
    async fn listings_due_review(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Listing>>;
    async fn mark_review_reminded(&self, id: ServiceId, at: DateTime<Utc>) -> StoreResult<()>;
    async fn add_report(&self, report: &ProblemReport) -> StoreResult<()>;
    /// Open reports on listings stewarded by one of `stewards`, oldest first, with the
    /// service's name.
    async fn open_reports(&self, stewards: &[OrgId], limit: i64) -> StoreResult<Vec<(ProblemReport, String)>>;
    async fn service_reports(&self, id: ServiceId) -> StoreResult<Vec<ProblemReport>>;
    /// Resolve an open report on a listing stewarded by one of `stewards`; `NotFound` if it is
    /// not open or not theirs.
    async fn resolve_report(
        &self,
        id: ReportId,
        stewards: &[OrgId],
        by: UserId,
        at: DateTime<Utc>,
        resolution: &str,
    ) -> StoreResult<()>;
    async fn add_claim(&self, claim: &Claim) -> StoreResult<()>;
    /// Open claims on organisations stewarded by one of `stewards`.
    async fn open_claims(&self, stewards: &[OrgId]) -> StoreResult<Vec<Claim>>;
    /// A claim on an organisation stewarded by one of `stewards` (`NotFound` otherwise).
    async fn get_claim(&self, id: ClaimId, stewards: &[OrgId]) -> StoreResult<Claim>;
    /// Decide an open claim; approving makes `owner` manage the organisation's listings, and is
    /// a `Conflict::AlreadyManaged` if someone already manages them.
    async fn decide_claim(&self, id: ClaimId, owner: Option<OrgId>, by: UserId, at: DateTime<Utc>) -> StoreResult<()>;
}
