#!/usr/bin/env bash
# src/schema.rs is what `diesel print-schema` says of the migrations, on SQLite and on
# PostgreSQL alike (PostgreSQL's own names for the same types, Int8 and Int4, are read as BigInt
# and Integer). Needs the PostgreSQL of .ci/postgres.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v diesel >/dev/null || cargo install -q diesel_cli --version 2.3.4 --locked \
    --no-default-features --features "postgres sqlite-bundled"
work=$(mktemp -d)
db="vr_schema_$$"
trap 'rm -rf "$work"; su postgres -c "psql -qc \"DROP DATABASE IF EXISTS $db\"" >/dev/null 2>&1 || true' EXIT

diesel migration run --database-url "$work/s.db" --migration-dir migrations/sqlite >/dev/null
diesel print-schema --database-url "$work/s.db" > "$work/sqlite.rs"
diff -u src/schema.rs "$work/sqlite.rs" && echo "schema.rs matches the SQLite migrations"

su postgres -c "psql -qc \"CREATE DATABASE $db OWNER vr\""
url="postgres://vr:vr@127.0.0.1:5432/$db"
diesel migration run --database-url "$url" --migration-dir migrations/postgres >/dev/null
diesel print-schema --database-url "$url" | sed -e 's/\bInt8\b/BigInt/g' -e 's/\bInt4\b/Integer/g' -e 's/\bBytea\b/Binary/g' > "$work/pg.rs"
diff -u src/schema.rs "$work/pg.rs" && echo "schema.rs matches the PostgreSQL migrations"
