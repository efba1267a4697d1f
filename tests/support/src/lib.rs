//! What the tests and the benchmark share: a loopback HTTP/1.1 client for server processes,
//! and PostgreSQL databases of their own for each test or node.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use serde_json::Value;

pub mod receiver;

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One HTTP/1.1 exchange on loopback; `None` when nothing answers.
pub fn call(
    port: u16,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
    extra: &[(&str, &str)],
) -> Option<(u16, Value)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n",
        payload.len()
    );
    if body.is_some() {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(payload.as_bytes()).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let status = text.get(9..12)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// The PostgreSQL the tests run on: `TEST_DATABASE_URL`, when set and not empty.
pub fn test_database_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// `base` with its database name replaced by `db` (query parameters kept).
pub fn url_with_db(base: &str, db: &str) -> String {
    let (head, tail) = match base.find('?') {
        Some(i) => (&base[..i], &base[i..]),
        None => (base, ""),
    };
    let cut = head
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or(head.len());
    format!("{}/{db}{tail}", &head[..cut])
}

/// The same URL with its host and port replaced by 127.0.0.1:`port`.
pub fn via_port(url: &str, port: u16) -> String {
    let start = url.find('@').map_or("postgres://".len(), |i| i + 1);
    let end = url[start..].find('/').map_or(url.len(), |i| start + i);
    format!("{}127.0.0.1:{port}{}", &url[..start], &url[end..])
}

/// A database of its own on PostgreSQL, dropped (with its connections) at the end.
pub struct Database {
    admin: String,
    pub name: String,
    /// Where to connect to it.
    pub url: String,
}

impl Database {
    /// Creates `<prefix>_<random>` through the administrative URL `admin`.
    pub fn create(admin: &str, prefix: &str) -> Database {
        use diesel::{Connection, RunQueryDsl};
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut conn = diesel::PgConnection::establish(admin).expect("PostgreSQL reachable");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .expect("CREATE DATABASE");
        Database {
            admin: admin.to_owned(),
            url: url_with_db(admin, &name),
            name,
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        use diesel::{Connection, RunQueryDsl};
        if let Ok(mut conn) = diesel::PgConnection::establish(&self.admin) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_their_credentials_and_parameters() {
        assert_eq!(
            url_with_db("postgres://vr:vr@db:5432/postgres?sslmode=disable", "t1"),
            "postgres://vr:vr@db:5432/t1?sslmode=disable"
        );
        assert_eq!(
            via_port("postgres://vr:vr@db:5432/t1", 6000),
            "postgres://vr:vr@127.0.0.1:6000/t1"
        );
    }
}
