//! RFC 9162 inclusion and consistency proofs over the stored log.

use serde::Serialize;
use utoipa::ToSchema;

use super::merkle::{self, Hash};
use super::signing::{Checkpoint, LedgerKeys};
use super::store::{checkpoint_at, entry_at, head, latest_checkpoint};
use super::tiles::{self, proofs::FromTiles};
use super::{Entry, Row, action, chain, checkpoints};
use crate::auth::{Principal, Role};
use crate::db::DbConn;
use crate::error::DomainError;

/// An RFC 9162 inclusion proof.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"seq": 150, "leaf_index": 149, "tree_size": 152,
    "leaf_hash": "f228afd103258c401a013c6b98b1fac17b00f29603233e53cd21077e0a4e97e5",
    "audit_path": ["65e485e66d5539c00797c9a473a43a6b0501394a4847048c5043f2e83fa80cdd",
        "5b591e3cd496a8bf39c53c81505acc2de7e9cb4343d8285f54a406635cdd4a47",
        "dcdd300336d909385b34b6e0e9f589b58a618ec6c4ea6863340c42846a9800dd",
        "f08d3e94e22e918519539d0bfaa229ae37a1ecdd099449b07430232f7fcce234",
        "6dd224ed6043e6ed67e0b36aa9537b47064e77d14085adc8c8d4dc1f70dd53bb"],
    "root_hash": "caf5b49e54c53ede743ced457c645f927f12f54817438ff613f06a1e5f50c41b",
    "checkpoint": {"size": 152, "root_hash": "caf5b49e54c53ede743ced457c645f927f12f54817438ff613f06a1e5f50c41b",
        "signed_at": "2026-12-03T13:38:04.000000Z", "key_id": "637fe87fd97ebee5", "signature": "3q2+7w…", "cosignatures": []},
    "entry": {"seq": 150, "at": "2026-12-03T13:38:03.090728Z", "actor": {"roles": ["procurement"], "sub": "bob"},
        "action": "grant.approved", "subject": "grant:01a23c20-5aab-7317-8175-ddf62358548b",
        "change": {"id": "01a23c20-5aab-7317-8175-ddf62358548b", "status": "active", "approved_by": "bob", "…": "…"},
        "prev_hash": "5da76617f362831ed2d9754837cbf2beb7d9c84cfd1b412c765506a9f5628cda",
        "hash": "43c7e02e55c178e84a…"}}))]
pub struct InclusionProof {
    /// The entry proven.
    pub seq: i64,
    /// `seq - 1`.
    pub leaf_index: i64,
    /// The size of the tree it is proven in.
    pub tree_size: i64,
    /// `SHA-256(0x00 || JCS(entry without hash))`, hex.
    pub leaf_hash: String,
    /// The sibling hashes from the leaf up, hex.
    pub audit_path: Vec<String>,
    /// The root of that tree, hex: compare it with a checkpoint you kept, never trust it alone.
    pub root_hash: String,
    /// The signed checkpoint of `tree_size`, when one was issued.
    pub checkpoint: Option<Checkpoint>,
    /// The entry itself, to recompute its leaf hash.
    pub entry: Entry,
}

/// An RFC 9162 consistency proof.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"from": 100, "to": 152,
    "from_root": "0711ff37002078a5b8bb926be5d515412334973037a71b76203c7951bdad0a68",
    "to_root": "caf5b49e54c53ede743ced457c645f927f12f54817438ff613f06a1e5f50c41b",
    "proof": ["2d5573fc017d60a32e43c89bebe1bd716bea987588a03714002ec89811df1340",
        "afb357eb991c1ae21988837ef6f1def41468d8a3dd75c67b520dadae170eeace",
        "e68619cdb198974e7f10a1a3a41191744c1265af6b762a66b85fae42b951f683",
        "cc81b34fa89531c1b41e2d156c88f97dd993b42ba9629eec17f65ab98be1da5c",
        "9ea3a84563e90ed0823144d44110fd348c85f6ac0c9a38021cdc8ed0a778df78",
        "4042335ee8e182b2607ec13f03c953a44835da63c4616502f050df4522f5b339",
        "00b8c1c0ba24262f1c8241949793a706ad22a2324f090e47f9311d1d159127dc"]}))]
pub struct ConsistencyProof {
    /// The smaller tree size.
    pub from: i64,
    /// The larger tree size.
    pub to: i64,
    /// The root of the smaller tree, hex (compare it with the checkpoint you kept).
    pub from_root: String,
    /// The root of the larger tree, hex.
    pub to_root: String,
    /// The proof hashes, hex.
    pub proof: Vec<String>,
}

fn hexes(p: &[Hash]) -> Vec<String> {
    p.iter().map(hex::encode).collect()
}

/// Whether `principal` may see entry `row`: admins and auditors any; counsel every decision and
/// disclosure; a service its own decisions.
fn may_read(principal: &Principal, row: &Row) -> bool {
    let decision = row.action == action::DECISION_RECORDED;
    let own = decision
        && serde_json::from_str::<serde_json::Value>(&row.actor)
            .is_ok_and(|a| a["sub"] == principal.sub.as_str());
    let counsel = principal.has(Role::Legal)
        && (decision
            || row.subject.starts_with("legal_request:")
            || row.subject.starts_with("incident:"));
    principal.has(Role::Admin) || principal.has(Role::Auditor) || own || counsel
}

/// The inclusion proof of entry `seq` in the tree of `size` entries, by default the latest
/// checkpoint's (signed first when the head moved). Built from the stored tiles, O(log n)
/// hashes; the entry's leaf is re-hashed from its content and must be the one the tiles hold.
/// Call inside a write transaction: it may sign a checkpoint.
pub fn inclusion(
    conn: &mut DbConn,
    keys: &LedgerKeys,
    principal: &Principal,
    seq: i64,
    size: Option<i64>,
) -> Result<InclusionProof, DomainError> {
    if seq < 1 {
        return Err(DomainError::NotFound);
    }
    let (head, _, _) = head(conn)?;
    let row: Row = entry_at(conn, seq)?.ok_or(DomainError::NotFound)?;
    if !may_read(principal, &row) {
        return Err(DomainError::NotFound);
    }
    let (size, signed) = match size {
        Some(n) => {
            if n < seq || n > head {
                return Err(DomainError::field(
                    "size",
                    "must be at least seq and at most the ledger's size",
                ));
            }
            tiled_up_to(conn, keys, n)?;
            (n, checkpoint_at(conn, n)?)
        }
        None => {
            let cp = checkpoints::issue(conn, keys)?;
            (cp.size, Some(cp))
        }
    };
    let leaf = chain::leaf_bytes(&row)
        .map(|b| merkle::leaf_hash(&b))
        .ok_or_else(|| altered(seq))?;
    let mut tree = FromTiles::new(tiles::store::Db(conn));
    if tree.leaf(seq as u64 - 1)? != leaf {
        return Err(altered(seq));
    }
    let (index, n) = (seq as u64 - 1, size as u64);
    Ok(InclusionProof {
        seq,
        leaf_index: seq - 1,
        tree_size: size,
        leaf_hash: hex::encode(leaf),
        audit_path: hexes(&tiles::proofs::inclusion(&mut tree, index, 0, n)?),
        root_hash: hex::encode(tiles::proofs::tree_hash(&mut tree, 0, n)?),
        checkpoint: signed,
        entry: row.entry()?,
    })
}

fn altered(seq: i64) -> DomainError {
    DomainError::LedgerIntegrity(format!(
        "entry {seq} no longer matches the leaf hash signed for it"
    ))
}

/// Makes sure the tiles hold the first `size` entries, signing a checkpoint of the head first
/// when they do not (what is not signed is not tiled).
fn tiled_up_to(conn: &mut DbConn, keys: &LedgerKeys, size: i64) -> Result<(), DomainError> {
    let signed = latest_checkpoint(conn)?.map_or(0, |c| c.size);
    if size > signed {
        checkpoints::issue(conn, keys)?;
    }
    Ok(())
}

/// The consistency proof between the trees of `from` and `to` entries (`1 ≤ from ≤ to`), from
/// the stored tiles. Call inside a write transaction: it may sign a checkpoint.
pub fn consistency(
    conn: &mut DbConn,
    keys: &LedgerKeys,
    from: i64,
    to: i64,
) -> Result<ConsistencyProof, DomainError> {
    let (head, _, _) = head(conn)?;
    if to > head {
        return Err(DomainError::field(
            "to",
            "must be at most the ledger's size",
        ));
    }
    tiled_up_to(conn, keys, to)?;
    let mut tree = FromTiles::new(tiles::store::Db(conn));
    let (m, n) = (from as u64, to as u64);
    Ok(ConsistencyProof {
        from,
        to,
        from_root: hex::encode(tiles::proofs::tree_hash(&mut tree, 0, m)?),
        to_root: hex::encode(tiles::proofs::tree_hash(&mut tree, 0, n)?),
        proof: hexes(&tiles::proofs::consistency(&mut tree, m, n)?),
    })
}
