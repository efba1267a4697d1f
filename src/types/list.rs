//! Lists stored as a JSON array in one text column.

use serde::{Serialize, de::DeserializeOwned};

/// A list column: written as a JSON array, and read back only if every item parses.
#[derive(Debug, Clone, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct List<T>(pub Vec<T>);

impl<T: Serialize + DeserializeOwned> List<T> {
    pub fn parse(text: &str) -> Option<List<T>> {
        serde_json::from_str(text).ok().map(List)
    }

    /// The JSON text stored.
    pub fn to_text(&self) -> String {
        // A list of strings or string-like values always serialises.
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".into())
    }
}

impl<T> std::ops::Deref for List<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<T> From<Vec<T>> for List<T> {
    fn from(v: Vec<T>) -> Self {
        List(v)
    }
}

impl<T> diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for List<T>
where
    T: Serialize + DeserializeOwned + std::fmt::Debug,
{
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
    ) -> diesel::serialize::Result {
        use std::io::Write;
        out.write_all(self.to_text().as_bytes())?;
        Ok(diesel::serialize::IsNull::No)
    }
}

impl<T> diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for List<T>
where
    T: Serialize + DeserializeOwned + std::fmt::Debug,
{
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
    ) -> diesel::serialize::Result {
        out.set_value(self.to_text());
        Ok(diesel::serialize::IsNull::No)
    }
}

impl<T> diesel::serialize::ToSql<diesel::sql_types::Text, crate::db::MultiBackend> for List<T>
where
    T: Serialize + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
{
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, crate::db::MultiBackend>,
    ) -> diesel::serialize::Result {
        out.set_value((diesel::sql_types::Text, self));
        Ok(diesel::serialize::IsNull::No)
    }
}

impl<T> diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for List<T>
where
    T: Serialize + DeserializeOwned,
{
    fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
        let text = super::sql::from_pg(bytes)?;
        super::parsed(&text, List::parse(&text))
    }
}

impl<T> diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for List<T>
where
    T: Serialize + DeserializeOwned,
{
    fn from_sql(bytes: super::sql::SqliteValue<'_>) -> diesel::deserialize::Result<Self> {
        let text = super::sql::from_sqlite(bytes)?;
        super::parsed(&text, List::parse(&text))
    }
}

impl<T> diesel::deserialize::FromSql<diesel::sql_types::Text, crate::db::MultiBackend> for List<T>
where
    T: Serialize + DeserializeOwned,
{
    fn from_sql(
        bytes: <crate::db::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> diesel::deserialize::Result<Self> {
        bytes.from_sql::<Self, diesel::sql_types::Text>()
    }
}

impl<T: Serialize> Serialize for List<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for List<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<T>::deserialize(d).map(List)
    }
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Vec::new())
    }
}
