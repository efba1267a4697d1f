//! The gates of a legal-process request, at their edges.

use super::*;

fn facts<'a>(stored: &'a [String]) -> Facts<'a> {
    Facts {
        authority_country: "US",
        authority_kind: AuthorityKind::Court,
        instrument: Instrument::Subpoena,
        data_stored_in: stored,
        exporter_country: None,
        data_origin_country: None,
        approval_reference: None,
        agreement_reference: None,
        chapter_v_ground: None,
    }
}

fn codes(f: &Facts<'_>) -> Vec<LegalReasonCode> {
    judge(f, RuleSet::current())
        .into_iter()
        .map(|r| r.code)
        .collect()
}

#[test]
fn prc_stored_data_needs_approval_for_every_foreign_authority_but_not_a_domestic_one() {
    let cn = vec!["CN".to_owned()];
    let sg = vec!["SG".to_owned()];
    let prc = vec![LegalReasonCode::PrcApprovalMissing];
    assert_eq!(codes(&facts(&cn)), prc);
    for kind in [AuthorityKind::LawEnforcement, AuthorityKind::Regulator] {
        assert_eq!(
            codes(&Facts {
                authority_kind: kind,
                ..facts(&cn)
            }),
            prc
        );
    }
    // Both sides of each edge: the authority's country, its kind, the storage, approval.
    for country in ["HK", "MO", "TW", "SG"] {
        assert_eq!(
            codes(&Facts {
                authority_country: country,
                ..facts(&cn)
            }),
            prc
        );
    }
    assert!(
        codes(&Facts {
            authority_country: "CN",
            ..facts(&cn)
        })
        .is_empty()
    );
    assert!(
        codes(&Facts {
            authority_kind: AuthorityKind::Other,
            ..facts(&cn)
        })
        .is_empty()
    );
    assert!(codes(&facts(&sg)).is_empty());
    assert!(
        codes(&Facts {
            approval_reference: Some("MPS-2026-1"),
            ..facts(&cn)
        })
        .is_empty()
    );
    let both = vec!["SG".to_owned(), "CN".to_owned()];
    assert_eq!(codes(&facts(&both)), prc);
    assert_eq!(judge(&facts(&cn), RuleSet::current())[0].rule, PRC_RULE);
}

#[test]
fn eea_data_for_an_authority_outside_the_eea_needs_an_agreement_or_a_chapter_v_ground() {
    let ie = vec!["IE".to_owned()];
    let art48 = vec![LegalReasonCode::InternationalAgreementMissing];
    let origin = Facts {
        data_origin_country: Some("DE"),
        ..facts(&ie)
    };
    assert_eq!(codes(&origin), art48);
    let exporter = Facts {
        exporter_country: Some("FR"),
        ..facts(&ie)
    };
    assert_eq!(codes(&exporter), art48);
    // Neither EEA origin nor an EEA exporter: Art. 48 does not apply.
    assert!(
        codes(&Facts {
            data_origin_country: Some("CH"),
            ..facts(&ie)
        })
        .is_empty()
    );
    // An authority inside the EEA is not foreign to it.
    assert!(
        codes(&Facts {
            authority_country: "NL",
            ..origin
        })
        .is_empty()
    );
    assert!(
        codes(&Facts {
            agreement_reference: Some("EU-US MLAT"),
            ..origin
        })
        .is_empty()
    );
    assert!(
        codes(&Facts {
            instrument: Instrument::Mlat,
            ..origin
        })
        .is_empty()
    );
    for ground in ChapterVGround::ALL {
        assert!(
            codes(&Facts {
                chapter_v_ground: Some(*ground),
                ..origin
            })
            .is_empty()
        );
    }
    assert_eq!(judge(&origin, RuleSet::current())[0].rule, ART48_RULE);
}

#[test]
fn both_gates_are_reported_at_once() {
    let cn = vec!["CN".to_owned()];
    let f = Facts {
        data_origin_country: Some("DE"),
        ..facts(&cn)
    };
    assert_eq!(
        codes(&f),
        vec![
            LegalReasonCode::PrcApprovalMissing,
            LegalReasonCode::InternationalAgreementMissing
        ]
    );
}
