#!/usr/bin/env bash
# Starts the machine's PostgreSQL 15 cluster and makes the role the tests use (idempotent).
set -euo pipefail
version=15
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
  pg_createcluster "$version" main
fi
if ! pg_lsclusters -h | awk '$1=="'$version'" && $2=="main" {print $4}' | grep -q online; then
  pg_ctlcluster "$version" main start
fi
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q -h 127.0.0.1 -p 5432" && break
  sleep 1
done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='vr'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE vr LOGIN CREATEDB PASSWORD 'vr'\""
echo "PostgreSQL $version is up on 127.0.0.1:5432 (role vr)"
