//! The two backends' schemas agree beyond names: each column's type (as the class both drivers
//! bind it by), its default, every foreign key and every unique constraint. A migration written
//! for one backend and not the other, or with a different default, fails here.

use linkwork_storage::{Db, SqlStore};
use linkwork_testkit::{Backend, TestDb};
use std::collections::{BTreeMap, BTreeSet};

/// The class of a column's type as both drivers bind it: a UUID is a BLOB on SQLite and a
/// `uuid` on PostgreSQL, a timestamp RFC 3339 TEXT and a `timestamptz`, a boolean an INTEGER
/// and a `boolean`. Anything else unknown is kept as it is, so it shows in a failure.
fn class(pg_type: &str) -> String {
    match pg_type {
        "uuid" | "bytea" => "BLOB",
        "text" | "character varying" | "timestamp with time zone" | "date" | "jsonb" | "json" => "TEXT",
        "integer" | "bigint" | "smallint" | "boolean" => "INTEGER",
        "double precision" | "real" | "numeric" => "REAL",
        other => other,
    }
    .to_owned()
}

/// A default as written by either backend, normalised: casts dropped, booleans as 0 and 1, the
/// current time as `now`.
fn default(d: Option<String>) -> Option<String> {
    let d = d?;
    let mut s = d.trim().to_owned();
    while let Some(i) = s.rfind("::") {
        // PostgreSQL writes `'x'::text`; the cast is not part of the value.
        if s[i + 2..].chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '_' || c == '[' || c == ']') {
            s.truncate(i);
        } else {
            break;
        }
    }
    let s = s.trim_matches(|c| c == '(' || c == ')').to_lowercase();
    Some(match s.as_str() {
        "false" => "0".into(),
        "true" => "1".into(),
        "now" | "current_timestamp" => "now".into(),
        _ => s,
    })
}

type Columns = BTreeMap<(String, String), (String, Option<String>)>;

async fn columns(store: &SqlStore) -> Columns {
    let rows: Vec<(String, String, String, Option<String>)> = match store.db() {
        Db::Sqlite(pool) => sqlx::query_as(
            "SELECT m.name, p.name, upper(p.type), p.dflt_value FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        Db::Postgres(pool) => sqlx::query_as(
            "SELECT table_name::text, column_name::text, data_type::text, column_default::text \
             FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
        )
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(t, c, ty, d): (String, String, String, Option<String>)| (t, c, class(&ty), d))
        .collect(),
    };
    rows.into_iter().map(|(t, c, ty, d)| ((t, c), (ty, default(d)))).collect()
}

/// (table, column, referenced table, referenced column) for every foreign key.
async fn foreign_keys(store: &SqlStore) -> BTreeSet<(String, String, String, String)> {
    match store.db() {
        Db::Sqlite(pool) => sqlx::query_as(
            "SELECT m.name, f.\"from\", f.\"table\", f.\"to\" FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        Db::Postgres(pool) => sqlx::query_as(
            "SELECT cl.relname::text, a.attname::text, rcl.relname::text, ra.attname::text FROM pg_constraint c \
             JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_class rcl ON rcl.oid = c.confrelid \
             JOIN LATERAL unnest(c.conkey, c.confkey) AS k(col, rcol) ON true \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col \
             JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.rcol \
             WHERE c.contype = 'f' AND cl.relnamespace = current_schema()::regnamespace",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
    }
    .into_iter()
    .collect()
}

/// (table, the columns in order of name) of every unique constraint or unique index other than
/// the primary key.
async fn uniques(store: &SqlStore) -> BTreeSet<(String, Vec<String>)> {
    let rows: Vec<(String, String, String)> = match store.db() {
        Db::Sqlite(pool) => sqlx::query_as(
            "SELECT m.name, il.name, ii.name FROM sqlite_master m JOIN pragma_index_list(m.name) il \
             JOIN pragma_index_info(il.name) ii WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
             AND m.name <> '_sqlx_migrations' AND il.\"unique\" = 1 AND il.origin <> 'pk'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        Db::Postgres(pool) => sqlx::query_as(
            "SELECT t.relname::text, i.relname::text, a.attname::text FROM pg_index x \
             JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey) \
             WHERE x.indisunique AND NOT x.indisprimary AND t.relnamespace = current_schema()::regnamespace \
             AND t.relname <> '_sqlx_migrations'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
    };
    let mut by_index: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (table, index, column) in rows {
        by_index.entry((table, index)).or_default().push(column);
    }
    by_index
        .into_iter()
        .map(|((table, _), mut cols)| {
            cols.sort();
            (table, cols)
        })
        .collect()
}

fn differences<K: Ord + std::fmt::Debug + Clone, V: PartialEq + std::fmt::Debug>(
    a: &BTreeMap<K, V>,
    b: &BTreeMap<K, V>,
) -> Vec<String> {
    let mut out = vec![];
    for (k, v) in a {
        match b.get(k) {
            Some(w) if w == v => {}
            Some(w) => out.push(format!("{k:?}: SQLite {v:?}, PostgreSQL {w:?}")),
            None => out.push(format!("{k:?}: only in SQLite")),
        }
    }
    for k in b.keys().filter(|k| !a.contains_key(k)) {
        out.push(format!("{k:?}: only in PostgreSQL"));
    }
    out
}

#[tokio::test]
async fn both_backends_agree_on_types_defaults_foreign_keys_and_unique_constraints() {
    let Some(pg) = TestDb::new(Backend::Postgres).await else { return };
    let lite = TestDb::new(Backend::Sqlite).await.unwrap();
    let (a, b) = (columns(&lite.store).await, columns(&pg.store).await);
    assert!(a.len() > 60, "schema read back: {a:?}");
    let diff = differences(&a, &b);
    assert!(diff.is_empty(), "columns differ:\n{}", diff.join("\n"));

    let (fa, fb) = (foreign_keys(&lite.store).await, foreign_keys(&pg.store).await);
    assert!(fa.len() > 20, "foreign keys read back: {fa:?}");
    assert_eq!(
        (fa.difference(&fb).collect::<Vec<_>>(), fb.difference(&fa).collect::<Vec<_>>()),
        (vec![], vec![]),
        "foreign keys: (only SQLite, only PostgreSQL)"
    );

    let (ua, ub) = (uniques(&lite.store).await, uniques(&pg.store).await);
    assert!(ua.len() > 5, "unique constraints read back: {ua:?}");
    assert_eq!(
        (ua.difference(&ub).collect::<Vec<_>>(), ub.difference(&ua).collect::<Vec<_>>()),
        (vec![], vec![]),
        "unique constraints: (only SQLite, only PostgreSQL)"
    );
}
