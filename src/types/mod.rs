//! Values parsed at the edge: a `CountryCode`, `CategoryKey` or `ServiceKey` can only hold a
//! valid value, and the register's closed sets (statuses, kinds, tiers, regions) are enums.
//! Each is stored as text through diesel's `ToSql`/`FromSql`, so a stored value that does not
//! parse is a deserialisation error that surfaces (a 500 on a read, a cut export), never a
//! silent default.

mod country;
mod dsp;
pub mod hints;
pub mod keys;
mod list;
pub mod sql;

pub use country::{Countries, CountryCode, Region};
pub use dsp::DspClass;
pub use keys::{CategoryKey, ServiceKey};
pub use list::List;

/// Implements text storage for a type with `fn as_str(&self) -> &str` and
/// `fn parse(&str) -> Option<Self>`, on both backends and on the connection that spans them.
macro_rules! stored_as_text {
    ($ty:ty) => {
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                $crate::types::sql::to_pg(self.as_str(), out)
            }
        }
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                $crate::types::sql::to_sqlite(self.as_str(), out)
            }
        }
        impl diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value((diesel::sql_types::Text, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = $crate::types::sql::from_pg(bytes)?;
                $crate::types::parsed::<$ty>(&text, <$ty>::parse(&text))
            }
        }
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $ty {
            fn from_sql(
                bytes: $crate::types::sql::SqliteValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let text = $crate::types::sql::from_sqlite(bytes)?;
                $crate::types::parsed::<$ty>(&text, <$ty>::parse(&text))
            }
        }
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $crate::db::MultiBackend>
            for $ty
        {
            fn from_sql(
                bytes: <$crate::db::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                bytes.from_sql::<Self, diesel::sql_types::Text>()
            }
        }
    };
}
pub(crate) use stored_as_text;

/// Declares a closed set stored and serialised as snake-case text, with `as_str`, `parse`, and
/// its storage. The doc comments of the variants become the OpenAPI descriptions.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
            utoipa::ToSchema, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The accepted values, for messages: `a, b or c`.
            pub fn choices() -> String {
                $crate::types::choices(Self::ALL.iter().map(|v| v.as_str()))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $crate::types::stored_as_text!($name);
    };
}
pub(crate) use text_enum;

/// A stored text that parsed, or the deserialisation error that names it.
pub fn parsed<T>(text: &str, value: Option<T>) -> diesel::deserialize::Result<T> {
    value.ok_or_else(|| {
        format!(
            "stored value {text:?} is not a valid {}",
            std::any::type_name::<T>()
        )
        .into()
    })
}

/// `a`, `a or b`, `a, b or c`.
pub fn choices<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let values: Vec<&str> = values.collect();
    match values.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}
