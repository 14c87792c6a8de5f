//! Each table's columns and their values, written once ([`Table`]), and the one way rows are
//! inserted ([`Insert`]): a single insert is a bulk insert of one row, so the two cannot
//! disagree about which columns are written. Every `values` implementation destructures its
//! record without `..`, so a field added to a domain type and not stored fails to compile.
//!
//! SQLite takes chunked multi-row `VALUES`; PostgreSQL one `UNNEST` statement of column arrays
//! per table (parsing thousands of bound `VALUES` is what makes bulk loads slow there), with the
//! array types taken from the values themselves.

use crate::map_err;
use chrono::{DateTime, NaiveDate, Utc};
use linkwork_domain::ports::StoreResult;
use uuid::Uuid;

/// One stored value, typed as both backends bind it. `None` is SQL `NULL`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Uuid(Option<Uuid>),
    Text(Option<String>),
    Date(Option<NaiveDate>),
    Time(Option<DateTime<Utc>>),
    Int(Option<i32>),
    Bool(Option<bool>),
}

impl Value {
    pub fn uuid(v: impl Into<Option<Uuid>>) -> Self {
        Value::Uuid(v.into())
    }
    pub fn text(v: impl Into<String>) -> Self {
        Value::Text(Some(v.into()))
    }
    pub fn opt_text(v: Option<impl Into<String>>) -> Self {
        Value::Text(v.map(Into::into))
    }
    pub fn date(v: impl Into<Option<NaiveDate>>) -> Self {
        Value::Date(v.into())
    }
    pub fn time(v: impl Into<Option<DateTime<Utc>>>) -> Self {
        Value::Time(v.into())
    }
    pub fn int(v: i32) -> Self {
        Value::Int(Some(v))
    }
    pub fn bool(v: bool) -> Self {
        Value::Bool(Some(v))
    }

    /// The PostgreSQL array type `UNNEST` takes this value's column as.
    fn pg_array(&self) -> &'static str {
        match self {
            Value::Uuid(_) => "uuid[]",
            Value::Text(_) => "text[]",
            Value::Date(_) => "date[]",
            Value::Time(_) => "timestamptz[]",
            Value::Int(_) => "int4[]",
            Value::Bool(_) => "boolean[]",
        }
    }
}

/// A record stored as one row of `TABLE`: its columns, and its values in the same order.
pub(crate) trait Table: Sync {
    const TABLE: &'static str;
    const COLUMNS: &'static [&'static str];
    fn values(&self) -> Vec<Value>;
}

/// Rows per multi-row `INSERT` on SQLite: well under its 32,766 bound parameters for the widest
/// table.
const SQLITE_ROWS: usize = 250;

/// Insert rows through a connection (a transaction's, or one from the pool).
pub(crate) trait Insert {
    fn insert<T: Table>(&mut self, rows: &[T]) -> impl Future<Output = StoreResult<()>> + Send {
        self.insert_then(rows, "")
    }
    /// Insert the rows that break no unique constraint; skip the others (a rule's "once only"
    /// kept by the database, where the first writer wins).
    fn insert_missing<T: Table>(&mut self, rows: &[T]) -> impl Future<Output = StoreResult<()>> + Send {
        self.insert_then(rows, " ON CONFLICT DO NOTHING")
    }
    /// The `INSERT`, with `tail` after its rows.
    fn insert_then<T: Table>(&mut self, rows: &[T], tail: &'static str)
    -> impl Future<Output = StoreResult<()>> + Send;
}

fn statement<T: Table>() -> String {
    format!("INSERT INTO {} ({}) ", T::TABLE, T::COLUMNS.join(", "))
}

fn checked<T: Table>(row: &T) -> Vec<Value> {
    let values = row.values();
    debug_assert_eq!(values.len(), T::COLUMNS.len(), "{}: one value per column", T::TABLE);
    values
}

impl Insert for sqlx::SqliteConnection {
    async fn insert_then<T: Table>(&mut self, rows: &[T], tail: &'static str) -> StoreResult<()> {
        for chunk in rows.chunks(SQLITE_ROWS) {
            let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(statement::<T>());
            qb.push_values(chunk, |mut b, row| {
                for v in checked(row) {
                    match v {
                        Value::Uuid(x) => b.push_bind(x),
                        Value::Text(x) => b.push_bind(x),
                        Value::Date(x) => b.push_bind(x),
                        Value::Time(x) => b.push_bind(x),
                        Value::Int(x) => b.push_bind(x),
                        Value::Bool(x) => b.push_bind(x),
                    };
                }
            });
            qb.push(tail);
            qb.build().execute(&mut *self).await.map_err(map_err)?;
        }
        Ok(())
    }
}

/// One column's values across every row, as a typed PostgreSQL array.
enum Array {
    Uuid(Vec<Option<Uuid>>),
    Text(Vec<Option<String>>),
    Date(Vec<Option<NaiveDate>>),
    Time(Vec<Option<DateTime<Utc>>>),
    Int(Vec<Option<i32>>),
    Bool(Vec<Option<bool>>),
}

impl Array {
    fn of(first: &Value, n: usize) -> Self {
        match first {
            Value::Uuid(_) => Array::Uuid(Vec::with_capacity(n)),
            Value::Text(_) => Array::Text(Vec::with_capacity(n)),
            Value::Date(_) => Array::Date(Vec::with_capacity(n)),
            Value::Time(_) => Array::Time(Vec::with_capacity(n)),
            Value::Int(_) => Array::Int(Vec::with_capacity(n)),
            Value::Bool(_) => Array::Bool(Vec::with_capacity(n)),
        }
    }

    fn push(&mut self, v: Value) {
        match (self, v) {
            (Array::Uuid(a), Value::Uuid(x)) => a.push(x),
            (Array::Text(a), Value::Text(x)) => a.push(x),
            (Array::Date(a), Value::Date(x)) => a.push(x),
            (Array::Time(a), Value::Time(x)) => a.push(x),
            (Array::Int(a), Value::Int(x)) => a.push(x),
            (Array::Bool(a), Value::Bool(x)) => a.push(x),
            _ => unreachable!("a column's values all have one type: Table::values builds them the same way per row"),
        }
    }
}

impl Insert for sqlx::PgConnection {
    async fn insert_then<T: Table>(&mut self, rows: &[T], tail: &'static str) -> StoreResult<()> {
        let values: Vec<Vec<Value>> = rows.iter().map(checked).collect();
        let Some(first) = values.first() else { return Ok(()) };
        let types: Vec<&str> = first.iter().map(Value::pg_array).collect();
        let mut columns: Vec<Array> = first.iter().map(|v| Array::of(v, rows.len())).collect();
        for row in values {
            for (column, v) in columns.iter_mut().zip(row) {
                column.push(v);
            }
        }
        let params = types.iter().enumerate().map(|(i, t)| format!("${}::{t}", i + 1)).collect::<Vec<_>>().join(", ");
        let sql = format!("{}SELECT * FROM UNNEST({params}){tail}", statement::<T>());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for column in columns {
            q = match column {
                Array::Uuid(a) => q.bind(a),
                Array::Text(a) => q.bind(a),
                Array::Date(a) => q.bind(a),
                Array::Time(a) => q.bind(a),
                Array::Int(a) => q.bind(a),
                Array::Bool(a) => q.bind(a),
            };
        }
        q.execute(&mut *self).await.map(|_| ()).map_err(map_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Two;
    impl Table for Two {
        const TABLE: &'static str = "t";
        const COLUMNS: &'static [&'static str] = &["a", "b"];
        fn values(&self) -> Vec<Value> {
            vec![Value::int(1), Value::opt_text(None::<String>)]
        }
    }

    #[test]
    fn the_statement_names_every_column_once() {
        assert_eq!(statement::<Two>(), "INSERT INTO t (a, b) ");
        assert_eq!(Value::Text(None).pg_array(), "text[]");
    }
}
