//! Organisations and teams, with idempotent creation for the API.

use crate::access::rows::{OrgRow, TeamRow};
use crate::{BeginWrite, SqlStore, idempotent_replay, map_err, on_db, remember_idempotency};
use linkwork_domain::access::organisations::{Organisation, Team};
use linkwork_domain::ids::OrgId;
use linkwork_domain::ports::{Created, IdempotencyKey, OrgStore, StoreResult};
use uuid::Uuid;

const ORG_COLUMNS: &str = "SELECT id, name, kind, ods_code, parent_id, created_at FROM organisations";

#[async_trait::async_trait]
impl OrgStore for SqlStore {
    async fn create_org(
        &self,
        org: &Organisation,
        idem: Option<&IdempotencyKey>,
    ) -> StoreResult<Created<Organisation>> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            if let Some(id) = match idem {
                Some(k) => idempotent_replay!(tx, k),
                None => None,
            } {
                let row: OrgRow = sqlx::query_as(sqlx::AssertSqlSafe(format!("{ORG_COLUMNS} WHERE id = $1")))
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?;
                return Ok(Created::Replayed(row.try_into()?));
            }
            sqlx::query(
                "INSERT INTO organisations (id, name, kind, ods_code, parent_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(org.id.0)
            .bind(&org.name)
            .bind(org.kind.as_str())
            .bind(org.ods_code.as_ref().map(|c| c.as_str().to_owned()))
            .bind(org.parent_id.map(|p| p.0))
            .bind(org.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if let Some(k) = idem {
                remember_idempotency!(tx, k, "organisation", org.id.0, org.created_at);
            }
            tx.commit().await.map_err(map_err)?;
            Ok(Created::New(org.clone()))
        })
    }

    async fn get_org(&self, id: OrgId) -> StoreResult<Organisation> {
        let row: OrgRow = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!("{ORG_COLUMNS} WHERE id = $1")))
            .bind(id.0)
            .fetch_one(pool)
            .await
            .map_err(map_err)?);
        row.try_into()
    }

    async fn find_org(&self, ods_or_name: &str) -> StoreResult<Organisation> {
        let key = ods_or_name.trim();
        let row: OrgRow = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{ORG_COLUMNS} WHERE ods_code = upper($1) OR name = $1 ORDER BY CASE WHEN ods_code = upper($1) THEN 0 ELSE 1 END LIMIT 1"
        )))
        .bind(key)
        .fetch_one(pool)
        .await
        .map_err(map_err)?);
        row.try_into()
    }

    async fn list_orgs(&self) -> StoreResult<Vec<Organisation>> {
        let rows: Vec<OrgRow> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!("{ORG_COLUMNS} ORDER BY kind, name")))
            .fetch_all(pool)
            .await
            .map_err(map_err)?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn child_orgs(&self, parent: OrgId) -> StoreResult<Vec<Organisation>> {
        let rows: Vec<OrgRow> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!("{ORG_COLUMNS} WHERE parent_id = $1 ORDER BY name")))
            .bind(parent.0)
            .fetch_all(pool)
            .await
            .map_err(map_err)?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn create_team(&self, team: &Team) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query("INSERT INTO teams (id, org_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(team.id.0)
            .bind(team.org_id.0)
            .bind(&team.name)
            .bind(team.created_at)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(map_err))
    }

    async fn list_teams(&self, org: OrgId) -> StoreResult<Vec<Team>> {
        let rows: Vec<TeamRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, org_id, name, created_at FROM teams WHERE org_id = $1 ORDER BY name",
        )
        .bind(org.0)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn add_team_member(
        &self,
        team: linkwork_domain::ids::TeamId,
        user: linkwork_domain::ids::UserId,
    ) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(team.0)
            .bind(user.0)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(map_err))
    }

    async fn user_teams(&self, user: linkwork_domain::ids::UserId) -> StoreResult<Vec<linkwork_domain::ids::TeamId>> {
        let ids: Vec<Uuid> = on_db!(&self.db, pool => sqlx::query_scalar("SELECT team_id FROM team_members WHERE user_id = $1")
            .bind(user.0)
            .fetch_all(pool)
            .await
            .map_err(map_err)?);
        Ok(ids.into_iter().map(Into::into).collect())
    }
}
