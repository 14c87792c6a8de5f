//! Casework on both backends: episodes and everything recorded in them.

mod episodes;
mod records;
mod rows;
mod sent;
mod tables;

/// On PostgreSQL (`$lock`), lock a person's row for the rest of the transaction `$tx`: the rules
/// that allow one open episode per person check, then write, under it. A macro because the
/// transaction's type differs per backend.
macro_rules! lock_person {
    ($tx:expr, $lock:expr, $org:expr, $person:expr) => {
        if $lock {
            sqlx::query("SELECT id FROM people WHERE org_id = $1 AND id = $2 FOR UPDATE")
                .bind($org.0)
                .bind($person.0)
                .fetch_optional(&mut *$tx)
                .await
                .map_err($crate::map_err)?;
        }
    };
}
pub(crate) use lock_person;
