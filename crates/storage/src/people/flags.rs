//! A person's flags on both backends: each change kept, the flag as it stands on the person.

use crate::access::rows::corrupt;
use crate::table::{Insert, Table, Value};
use crate::{BeginWrite, SqlStore, map_err, on_db};
use chrono::{DateTime, Utc};
use linkwork_domain::StoreError;
use linkwork_domain::ids::{OrgId, PersonId};
use linkwork_domain::people::{FlagChange, FlagKind};
use linkwork_domain::ports::StoreResult;
use uuid::Uuid;

pub(super) async fn change(store: &SqlStore, c: &FlagChange) -> StoreResult<()> {
    // The column is one of three fixed names, chosen by the kind: never from input.
    let column = match c.kind {
        FlagKind::Safeguarding => "safeguarding",
        FlagKind::LoneWorking => "lone_working",
        FlagKind::StaffRisk => "staff_risk",
    };
    let update = format!("UPDATE people SET {column} = $1, version = version + 1 WHERE org_id = $2 AND id = $3");
    on_db!(&store.db, pool => {
        let mut tx = pool.begin_write().await.map_err(map_err)?;
        let n = sqlx::query(sqlx::AssertSqlSafe(update))
            .bind(c.text.as_deref())
            .bind(c.org_id.0)
            .bind(c.person_id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.insert(std::slice::from_ref(c)).await?;
        tx.commit().await.map_err(map_err)
    })
}

pub(super) async fn history(store: &SqlStore, org: OrgId, person: PersonId) -> StoreResult<Vec<FlagChange>> {
    let rows: Vec<FlagRow> = on_db!(&store.db, pool => sqlx::query_as(
        "SELECT id, org_id, person_id, kind, action, text, at, by_user FROM person_flags \
         WHERE org_id = $1 AND person_id = $2 ORDER BY at, id",
    )
    .bind(org.0)
    .bind(person.0)
    .fetch_all(pool)
    .await
    .map_err(map_err)?);
    rows.into_iter().map(TryInto::try_into).collect()
}

impl Table for FlagChange {
    const TABLE: &'static str = "person_flags";
    const COLUMNS: &'static [&'static str] = &["id", "org_id", "person_id", "kind", "action", "text", "at", "by_user"];
    fn values(&self) -> Vec<Value> {
        let FlagChange { id, org_id, person_id, kind, action, text, at, by } = self;
        vec![
            Value::uuid(id.0),
            Value::uuid(org_id.0),
            Value::uuid(person_id.0),
            Value::text(kind.as_str()),
            Value::text(action.as_str()),
            Value::opt_text(text.as_deref()),
            Value::time(*at),
            Value::uuid(by.map(|u| u.0)),
        ]
    }
}

#[derive(sqlx::FromRow)]
struct FlagRow {
    id: Uuid,
    org_id: Uuid,
    person_id: Uuid,
    kind: String,
    action: String,
    text: Option<String>,
    at: DateTime<Utc>,
    by_user: Option<Uuid>,
}

impl TryFrom<FlagRow> for FlagChange {
    type Error = StoreError;
    fn try_from(r: FlagRow) -> Result<Self, StoreError> {
        Ok(FlagChange {
            id: r.id.into(),
            org_id: r.org_id.into(),
            person_id: r.person_id.into(),
            kind: r.kind.parse().map_err(|e| corrupt("flag kind", e))?,
            action: r.action.parse().map_err(|e| corrupt("flag action", e))?,
            text: r.text,
            at: r.at,
            by: r.by_user.map(Into::into),
        })
    }
}
