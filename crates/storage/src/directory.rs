//! Directory services (not person-identifiable).

use crate::rows::ServiceRow;
use crate::{BeginWrite, SqlStore, map_err, on_db};
use linkwork_domain::directory::Service;
use linkwork_domain::ports::{DirectoryStore, StoreResult};

#[async_trait::async_trait]
impl DirectoryStore for SqlStore {
    async fn insert_services(&self, services: &[Service]) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            for chunk in services.chunks(500) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO services (id, org_id, name, description, status, url, email, created_at) ",
                );
                qb.push_values(chunk, |mut b, s| {
                    b.push_bind(s.id.0)
                        .push_bind(s.org_id.0)
                        .push_bind(s.name.clone())
                        .push_bind(s.description.clone())
                        .push_bind(s.status.clone())
                        .push_bind(s.url.clone())
                        .push_bind(s.email.clone())
                        .push_bind(s.created_at);
                });
                qb.build().execute(&mut *tx).await.map_err(map_err)?;
            }
            tx.commit().await.map_err(map_err)
        })
    }

    async fn list_services(&self, limit: i64) -> StoreResult<Vec<Service>> {
        let rows: Vec<ServiceRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, org_id, name, description, status, url, email, created_at FROM services ORDER BY name LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn count_services(&self) -> StoreResult<i64> {
        on_db!(&self.db, pool => sqlx::query_scalar("SELECT count(*) FROM services").fetch_one(pool).await.map_err(map_err))
    }
}
