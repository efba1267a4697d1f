// @generated automatically by Diesel CLI.

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
    }
}

diesel::joinable!(grants -> parties (party_id));
diesel::joinable!(grants -> services (service));

diesel::allow_tables_to_appear_in_same_query!(
    checkpoints,
    grants,
    ledger,
    ledger_head,
    parties,
    services,
    sharing_requests,
    taxonomy_categories,
    taxonomy_purposes,
);
