// @generated automatically by Diesel CLI.

diesel::table! {
    agreements (id) {
        id -> Text,
        party_id -> Text,
        exporter -> Text,
        kind -> Text,
        reference -> Text,
        signed_on -> Nullable<Text>,
        valid_from -> Text,
        valid_until -> Nullable<Text>,
        filing_reference -> Nullable<Text>,
        pipia_reference -> Nullable<Text>,
        tia_reference -> Nullable<Text>,
        document_sha256 -> Nullable<Text>,
        status -> Text,
        withdrawn_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Text,
        updated_at -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    checkpoints (size) {
        size -> BigInt,
        root_hash -> Text,
        signed_at -> Text,
        key_id -> Text,
        signature -> Text,
    }
}

diesel::table! {
    cosignatures (checkpoint_size, witness_key) {
        checkpoint_size -> BigInt,
        witness_key -> Text,
        witness -> Text,
        timestamp -> BigInt,
        signature_line -> Text,
        received_at -> Text,
        received_from -> Text,
    }
}

diesel::table! {
    decision_categories (decision_id, category) {
        decision_id -> Text,
        category -> Text,
        party_id -> Text,
        service -> Text,
        subject_country -> Nullable<Text>,
        subject_region -> Text,
        exporter -> Nullable<Text>,
        subject_count -> Nullable<BigInt>,
        decided_at -> Text,
        ledger_seq -> BigInt,
        grant_id -> Nullable<Text>,
        agreements -> Text,
    }
}

diesel::table! {
    entities (key) {
        key -> Text,
        legal_name -> Text,
        country -> Text,
        ciio -> Bool,
        active -> Bool,
        created_at -> Text,
        updated_at -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    grants (id) {
        id -> Text,
        party_id -> Text,
        service -> Text,
        categories -> Text,
        allowed_regions -> Text,
        transfer_mechanism -> Text,
        legal_basis -> Nullable<Text>,
        valid_from -> Text,
        valid_until -> Nullable<Text>,
        status -> Text,
        revoked_reason -> Nullable<Text>,
        revoked_at -> Nullable<Text>,
        created_by -> Text,
        created_at -> Text,
        updated_at -> Text,
        version -> BigInt,
        agreements -> Text,
        exemptions -> Text,
        pipia_reference -> Nullable<Text>,
        separate_consent -> Bool,
        requested_by -> Text,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Text>,
        supersedes -> Nullable<Text>,
        superseded_by -> Nullable<Text>,
    }
}

diesel::table! {
    incident_duties (id) {
        id -> Text,
        incident_id -> Text,
        regime -> Text,
        exporter -> Text,
        addressee -> Text,
        rule -> Text,
        due_at -> Nullable<Text>,
        status -> Text,
        done_at -> Nullable<Text>,
        reference -> Nullable<Text>,
        reason -> Nullable<Text>,
        created_at -> Text,
    }
}

diesel::table! {
    incidents (id) {
        id -> Text,
        party_id -> Text,
        status -> Text,
        body -> Text,
        created_by -> Text,
        idempotency_key -> Nullable<Text>,
        request_hash -> Nullable<Text>,
        version -> BigInt,
    }
}

diesel::table! {
    ledger (seq) {
        seq -> BigInt,
        at -> Text,
        actor -> Text,
        action -> Text,
        subject -> Text,
        change -> Text,
        prev_hash -> Text,
        hash -> Text,
        leaf_hash -> Text,
    }
}

diesel::table! {
    ledger_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
        register_revision -> BigInt,
    }
}

diesel::table! {
    ledger_tiles (level, idx) {
        level -> Integer,
        idx -> BigInt,
        width -> Integer,
        hashes -> Binary,
    }
}

diesel::table! {
    legal_requests (id) {
        id -> Text,
        status -> Text,
        outcome -> Text,
        authority_country -> Text,
        instrument -> Text,
        received_at -> Text,
        body -> Text,
        created_by -> Text,
        idempotency_key -> Nullable<Text>,
        request_hash -> Nullable<Text>,
        version -> BigInt,
    }
}

diesel::table! {
    parties (id) {
        id -> Text,
        kind -> Text,
        legal_name -> Text,
        country -> Nullable<Text>,
        region -> Nullable<Text>,
        data_locations -> Text,
        privacy_policy_url -> Text,
        contact_email -> Text,
        contract_reference -> Nullable<Text>,
        risk_tier -> Text,
        next_review_due -> Nullable<Text>,
        status -> Text,
        status_reason -> Nullable<Text>,
        external_ref -> Nullable<Text>,
        declared_purposes -> Text,
        declared_categories -> Text,
        deleted_upstream -> Bool,
        created_by -> Text,
        created_at -> Text,
        updated_at -> Text,
        version -> BigInt,
        principal_place_of_business -> Nullable<Text>,
        ownership -> Text,
        us_dsp_covered -> Bool,
        us_dsp_covered_by -> Nullable<Text>,
        pipl_restricted -> Bool,
        pipl_restricted_by -> Nullable<Text>,
        dpf_certified_until -> Nullable<Text>,
        status_changed_by -> Nullable<Text>,
        status_changed_at -> Nullable<Text>,
        sub_processors -> Text,
    }
}

diesel::table! {
    services (key) {
        key -> Text,
        name -> Text,
        description -> Text,
        purposes -> Text,
        active -> Bool,
        created_at -> Text,
        updated_at -> Text,
        version -> BigInt,
        entities -> Text,
    }
}

diesel::table! {
    sharing_requests (id) {
        id -> Text,
        service -> Text,
        party_id -> Text,
        outcome -> Text,
        decided_at -> Text,
        ledger_seq -> BigInt,
        body -> Text,
        idempotency_key -> Nullable<Text>,
        request_hash -> Nullable<Text>,
    }
}

diesel::table! {
    taxonomy_categories (key) {
        key -> Text,
        name -> Text,
        description -> Text,
        parent -> Nullable<Text>,
        pii -> Bool,
        linkable -> Bool,
        created_at -> Text,
        pipl_sensitive -> Bool,
        us_dsp_classes -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    taxonomy_purposes (key) {
        key -> Text,
        name -> Text,
        description -> Text,
        parent -> Nullable<Text>,
        prohibited -> Bool,
        created_at -> Text,
        us_dsp_ancillary -> Bool,
        version -> BigInt,
    }
}

diesel::table! {
    transfer_volumes (regime, exporter, party_id, class, period) {
        regime -> Text,
        exporter -> Text,
        party_id -> Text,
        class -> Text,
        period -> Text,
        count -> BigInt,
    }
}

diesel::table! {
    webhook_cursor (name) {
        name -> Text,
        seq -> BigInt,
    }
}

diesel::table! {
    webhook_deliveries (event_id, webhook_id) {
        event_id -> Text,
        webhook_id -> Text,
        attempts -> BigInt,
        next_attempt_at -> Nullable<Text>,
        delivered_at -> Nullable<Text>,
        failed_at -> Nullable<Text>,
        last_status -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        updated_at -> Text,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Text,
        source -> Text,
        event_type -> Text,
        service -> Nullable<Text>,
        occurred_at -> Text,
        payload -> Text,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        event_types -> Text,
        secret -> Text,
        owner -> Text,
        owner_role -> Text,
        active -> Bool,
        created_at -> Text,
        updated_at -> Text,
        version -> BigInt,
    }
}

diesel::joinable!(agreements -> entities (exporter));
diesel::joinable!(agreements -> parties (party_id));
diesel::joinable!(cosignatures -> checkpoints (checkpoint_size));
diesel::joinable!(decision_categories -> sharing_requests (decision_id));
diesel::joinable!(grants -> parties (party_id));
diesel::joinable!(grants -> services (service));
diesel::joinable!(incident_duties -> incidents (incident_id));
diesel::joinable!(incidents -> parties (party_id));

diesel::allow_tables_to_appear_in_same_query!(
    agreements,
    checkpoints,
    cosignatures,
    decision_categories,
    entities,
    grants,
    incident_duties,
    incidents,
    ledger,
    ledger_head,
    ledger_tiles,
    legal_requests,
    parties,
    services,
    sharing_requests,
    taxonomy_categories,
    taxonomy_purposes,
    transfer_volumes,
    webhook_cursor,
    webhook_deliveries,
    webhook_events,
    webhooks,
);
