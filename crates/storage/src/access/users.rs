//! User accounts and their role grants.

use crate::access::rows::{RoleRow, UserRow};
use crate::{BeginWrite, SqlStore, map_err, on_db};
use linkwork_domain::access::accounts::{RoleGrant, User};
use linkwork_domain::ids::UserId;
use linkwork_domain::ports::{StoreError, StoreResult, UserStore};

const USER_COLUMNS: &str = "SELECT id, org_id, email, display_name, password_hash, disabled, is_demo, created_at, session_generation FROM users";

impl SqlStore {
    /// Attach the role grants to a user row.
    async fn with_roles(&self, row: UserRow) -> StoreResult<User> {
        let roles: Vec<RoleRow> = on_db!(&self.db, pool => sqlx::query_as("SELECT user_id, org_id, role FROM user_roles WHERE user_id = $1 ORDER BY role")
            .bind(row.id)
            .fetch_all(pool)
            .await
            .map_err(map_err)?);
        row.into_user(roles)
    }
}

#[async_trait::async_trait]
impl UserStore for SqlStore {
    async fn create_user(&self, user: &User) -> StoreResult<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await.map_err(map_err)?;
            sqlx::query(
                "INSERT INTO users (id, org_id, email, display_name, password_hash, disabled, is_demo, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(user.id.0)
            .bind(user.org_id.0)
            .bind(user.email.as_str())
            .bind(&user.display_name)
            .bind(&user.password_hash)
            .bind(user.disabled)
            .bind(user.is_demo)
            .bind(user.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            for g in &user.roles {
                sqlx::query("INSERT INTO user_roles (user_id, org_id, role) VALUES ($1, $2, $3)")
                    .bind(user.id.0)
                    .bind(g.org_id.0)
                    .bind(g.role.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            tx.commit().await.map_err(map_err)
        })
    }

    async fn get_user(&self, id: UserId) -> StoreResult<User> {
        let row: UserRow = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!("{USER_COLUMNS} WHERE id = $1")))
            .bind(id.0)
            .fetch_one(pool)
            .await
            .map_err(map_err)?);
        self.with_roles(row).await
    }

    async fn find_user_by_email(&self, email: &str) -> StoreResult<User> {
        let email = email.trim().to_lowercase();
        let row: UserRow = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!("{USER_COLUMNS} WHERE email = $1")))
            .bind(email)
            .fetch_one(pool)
            .await
            .map_err(map_err)?);
        self.with_roles(row).await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let rows: Vec<UserRow> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!("{USER_COLUMNS} ORDER BY email")))
            .fetch_all(pool)
            .await
            .map_err(map_err)?);
        let roles: Vec<RoleRow> = on_db!(&self.db, pool => sqlx::query_as("SELECT user_id, org_id, role FROM user_roles ORDER BY role")
            .fetch_all(pool)
            .await
            .map_err(map_err)?);
        attach_roles(rows, roles)
    }

    async fn list_org_users(&self, org: linkwork_domain::ids::OrgId) -> StoreResult<Vec<User>> {
        let rows: Vec<UserRow> = on_db!(&self.db, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!("{USER_COLUMNS} WHERE org_id = $1 ORDER BY display_name, email")))
            .bind(org.0)
            .fetch_all(pool)
            .await
            .map_err(map_err)?);
        let roles: Vec<RoleRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT r.user_id, r.org_id, r.role FROM user_roles r JOIN users u ON u.id = r.user_id WHERE u.org_id = $1 ORDER BY r.role",
        )
        .bind(org.0)
        .fetch_all(pool)
        .await
        .map_err(map_err)?);
        attach_roles(rows, roles)
    }

    async fn email_on_answer(&self, id: UserId) -> StoreResult<bool> {
        let on: Option<bool> = on_db!(&self.db, pool => sqlx::query_scalar("SELECT email_on_answer FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_optional(pool)
            .await
            .map_err(map_err)?);
        on.ok_or(StoreError::NotFound)
    }

    async fn set_email_on_answer(&self, id: UserId, on: bool) -> StoreResult<()> {
        let n = on_db!(&self.db, pool => sqlx::query("UPDATE users SET email_on_answer = $1 WHERE id = $2")
            .bind(on)
            .bind(id.0)
            .execute(pool)
            .await
            .map_err(map_err)?
            .rows_affected());
        if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn set_user_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()> {
        let done = on_db!(&self.db, pool => sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(disabled)
            .bind(id.0)
            .execute(pool)
            .await
            .map_err(map_err)?
            .rows_affected());
        if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn add_role(&self, user: UserId, grant: RoleGrant) -> StoreResult<()> {
        on_db!(&self.db, pool => sqlx::query("INSERT INTO user_roles (user_id, org_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(user.0)
            .bind(grant.org_id.0)
            .bind(grant.role.as_str())
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(map_err))
    }
}

/// Pair users with their role grants, loaded in one query rather than one per user.
fn attach_roles(rows: Vec<UserRow>, roles: Vec<RoleRow>) -> StoreResult<Vec<User>> {
    let mut by_user: std::collections::HashMap<uuid::Uuid, Vec<RoleRow>> = std::collections::HashMap::new();
    for r in roles {
        by_user.entry(r.user_id).or_default().push(r);
    }
    rows.into_iter()
        .map(|u| {
            let grants = by_user.remove(&u.id).unwrap_or_default();
            u.into_user(grants)
        })
        .collect()
}
