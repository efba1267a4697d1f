# Fills a migrated SQLite register with 100,000 trusted parties and 1,000,000 grants (bench/scale.sh).
import sqlite3, json, random, time
random.seed(1)
db = sqlite3.connect(__import__('sys').argv[1])
t = '2026-11-29T00:00:00.000000Z'
scopes = ["user.contact","user.contact.email","user.name","user.financial","user.payment","user.unique_id","user.account","user.location.precise","user.demographic","user.device"]
db.execute('BEGIN')
for s in range(10):
    db.execute("insert into services values (?,?,?,?,?,?,?,?)", (f"svc-{s}", f"svc-{s}", "", json.dumps(["marketing"]), 1, t, t, 1))
parties = []
for p in range(100_000):
    pid = f"p{p:06d}"
    db.execute("insert into parties (id,kind,legal_name,country,region,data_locations,privacy_policy_url,contact_email,contract_reference,risk_tier,next_review_due,status,status_reason,external_ref,declared_purposes,declared_categories,deleted_upstream,created_by,created_at,updated_at,version) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (pid, "third_party", f"Vendor {p}", "US", "US", '["US"]', "https://v.example/p", "a@v.example", None, "medium", None, "trusted", None, None, "[]", "[]", 0, "loader", t, t, 1))
    for g in range(10):
        db.execute("insert into grants values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (f"g{p:06d}{g}", pid, f"svc-{random.randrange(10)}", json.dumps(random.sample(scopes, 2)), '["US","PRC"]', "none", None, t, None, "active", None, None, "loader", t, t, 1))
db.execute('COMMIT')
print(db.execute('select count(*) from grants').fetchone())
