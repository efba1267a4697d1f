//! What a row of a register import changes: a party's changes less what it already has, a new
//! party's draft from a row, and how a grant differs from a row.

use crate::error::{DomainError, FieldError};
use crate::registry::grants::{self, GrantRow};
use crate::registry::parties::{self, Changes, PartyRow, RiskTier};

/// `c` without the fields `row` already has; `None` when nothing is left.
pub fn without_same(mut c: Changes, row: &PartyRow) -> Option<Changes> {
    fn drop_same<T: PartialEq>(field: &mut Option<T>, current: &T) {
        if field.as_ref() == Some(current) {
            *field = None;
        }
    }
    drop_same(&mut c.kind, &row.kind);
    drop_same(&mut c.legal_name, &row.legal_name);
    if c.country.is_some() && c.country == row.country {
        c.country = None;
    }
    if let Some(l) = &c.data_locations
        && l.len() == row.data_locations.len()
        && l.iter().all(|x| row.data_locations.contains(x))
    {
        c.data_locations = None;
    }
    drop_same(&mut c.privacy_policy_url, &row.privacy_policy_url);
    drop_same(&mut c.contact_email, &row.contact_email);
    drop_same(&mut c.contract_reference, &row.contract_reference);
    drop_same(&mut c.risk_tier, &row.risk_tier);
    drop_same(&mut c.next_review_due, &row.next_review_due);
    drop_same(&mut c.external_ref, &row.external_ref);
    drop_same(&mut c.declared_purposes, &row.declared_purposes.0);
    drop_same(&mut c.declared_categories, &row.declared_categories.0);
    let f = &mut c.facts;
    if f.principal_place_of_business.is_some()
        && f.principal_place_of_business == row.principal_place_of_business
    {
        f.principal_place_of_business = None;
    }
    drop_same(&mut f.ownership, &row.ownership.0);
    drop_same(&mut f.us_dsp_covered, &row.us_dsp_covered);
    drop_same(&mut f.pipl_restricted, &row.pipl_restricted);
    drop_same(&mut f.dpf_certified_until, &row.dpf_certified_until);
    let nothing = c.kind.is_none()
        && c.legal_name.is_none()
        && c.country.is_none()
        && c.data_locations.is_none()
        && c.privacy_policy_url.is_none()
        && c.contact_email.is_none()
        && c.contract_reference.is_none()
        && c.risk_tier.is_none()
        && c.next_review_due.is_none()
        && c.external_ref.is_none()
        && c.declared_purposes.is_none()
        && c.declared_categories.is_none()
        && f.principal_place_of_business.is_none()
        && f.ownership.is_none()
        && f.us_dsp_covered.is_none()
        && f.pipl_restricted.is_none()
        && f.dpf_certified_until.is_none();
    (!nothing).then_some(c)
}

/// A new party from a row's fields: every field a registration needs, or each one missing.
pub fn into_draft(c: Changes) -> Result<parties::Draft, DomainError> {
    let locations = c.data_locations.filter(|l| !l.is_empty());
    match (
        c.kind,
        c.legal_name,
        c.country,
        locations,
        c.privacy_policy_url,
        c.contact_email,
    ) {
        (
            Some(kind),
            Some(legal_name),
            Some(country),
            Some(data_locations),
            Some(url),
            Some(email),
        ) => Ok(parties::Draft {
            kind,
            legal_name,
            country,
            data_locations,
            privacy_policy_url: url,
            contact_email: email,
            contract_reference: c.contract_reference.flatten(),
            risk_tier: c.risk_tier.unwrap_or(RiskTier::Medium),
            next_review_due: c.next_review_due.flatten(),
            external_ref: c.external_ref.flatten(),
            declared_purposes: c.declared_purposes.unwrap_or_default(),
            declared_categories: c.declared_categories.unwrap_or_default(),
            facts: c.facts,
        }),
        (kind, name, country, locations, url, email) => {
            let missing = [
                ("kind", kind.is_none()),
                ("legal_name", name.is_none()),
                ("country", country.is_none()),
                ("data_locations", locations.is_none()),
                ("privacy_policy_url", url.is_none()),
                ("contact_email", email.is_none()),
            ];
            Err(DomainError::Invalid(
                missing
                    .into_iter()
                    .filter(|(_, m)| *m)
                    .map(|(f, _)| FieldError::new(f, "is required for a new party"))
                    .collect(),
            ))
        }
    }
}

fn same_set<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

fn same_instant(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            crate::time::parse(a).is_some() && crate::time::parse(a) == crate::time::parse(b)
        }
        _ => false,
    }
}

/// The fields in which grant `g` differs from the row's `d`; a row without `valid_from` does not
/// compare it (a new grant would start now).
pub fn grant_differences(g: &GrantRow, d: &grants::Draft) -> Vec<&'static str> {
    let mut out = Vec::new();
    if g.service != d.service {
        out.push("service");
    }
    if !same_set(&g.categories.0, &d.categories) {
        out.push("categories");
    }
    if !same_set(&g.allowed_regions.0, &d.allowed_regions) {
        out.push("allowed_regions");
    }
    if g.legal_basis != d.legal_basis {
        out.push("legal_basis");
    }
    if d.valid_from.is_some() && !same_instant(Some(&g.valid_from), d.valid_from.as_deref()) {
        out.push("valid_from");
    }
    if !same_instant(g.valid_until.as_deref(), d.valid_until.as_deref()) {
        out.push("valid_until");
    }
    if !same_set(&g.agreements.0, &d.agreements) {
        out.push("grant_agreements");
    }
    if !same_set(&g.exemptions.0, &d.exemptions) {
        out.push("grant_exemptions");
    }
    if g.pipia_reference != d.pipia_reference {
        out.push("pipia_reference");
    }
    if g.separate_consent != d.separate_consent {
        out.push("separate_consent");
    }
    out
}
