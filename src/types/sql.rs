//! Text in and out of each backend, for the stored types' `ToSql`/`FromSql`.

use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

/// SQLite's raw value, named once.
pub type SqliteValue<'a> = <Sqlite as diesel::backend::Backend>::RawValue<'a>;

pub fn to_pg<'b>(text: &'b str, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
    <str as ToSql<Text, Pg>>::to_sql(text, out)
}

pub fn to_sqlite<'b>(text: &'b str, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
    <str as ToSql<Text, Sqlite>>::to_sql(text, out)
}

pub fn from_pg(bytes: PgValue<'_>) -> deserialize::Result<String> {
    <String as FromSql<Text, Pg>>::from_sql(bytes)
}

pub fn from_sqlite(bytes: SqliteValue<'_>) -> deserialize::Result<String> {
    <String as FromSql<Text, Sqlite>>::from_sql(bytes)
}
