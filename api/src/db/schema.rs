//! The diesel schema, written once with types both backends share (ids are UUID text,
//! times are Unix milliseconds or microseconds).

diesel::table! {
    server_settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    areas (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        level -> Text,
        parent_id -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        role -> Text,
        area_id -> Nullable<Text>,
        password_hash -> Text,
        disabled -> Bool,
        created_at -> BigInt,
        username_key -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        family_id -> Text,
        user_id -> Text,
        expires_at -> BigInt,
        used -> Bool,
        revoked -> Bool,
        created_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    login_attempts (id) {
        id -> Text,
        username_key -> Text,
        client_key -> Text,
        at -> BigInt,
    }
}

diesel::table! {
    streets (id) {
        id -> Text,
        ward_id -> Text,
        code -> Text,
        name -> Text,
        last_seq -> BigInt,
        restored_seq -> BigInt,
        seq_floor -> BigInt,
        max_hlc -> Nullable<Text>,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Text,
        name -> Text,
        area_id -> Text,
        target_ratio -> Double,
        starts_on -> Text,
        deadline -> Text,
        timezone -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    assignments (id) {
        id -> Text,
        campaign_id -> Text,
        street_id -> Text,
        volunteer_id -> Text,
        created_at -> BigInt,
        deleted_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    records (id) {
        id -> Text,
        kind -> Text,
        street_id -> Text,
        ward_id -> Text,
        household_id -> Nullable<Text>,
        campaign_id -> Nullable<Text>,
        volunteer_id -> Nullable<Text>,
        seq -> BigInt,
        state -> Text,
        deleted -> Bool,
        house_number -> Nullable<Text>,
        outcome -> Nullable<Text>,
        visited_at -> Nullable<Text>,
        visited_at_us -> Nullable<BigInt>,
        review -> Nullable<Text>,
        first_device -> Nullable<Text>,
        conflict -> Bool,
        updated_at -> BigInt,
    }
}

diesel::table! {
    history (id) {
        id -> BigInt,
        record_id -> Text,
        hlc -> Text,
        entries -> Text,
        device_id -> Text,
        user_id -> Text,
        received_at -> BigInt,
    }
}

diesel::table! {
    ward_totals (ward_id) {
        ward_id -> Text,
        households_total -> BigInt,
    }
}

diesel::table! {
    ward_coverage (campaign_id, ward_id) {
        campaign_id -> Text,
        ward_id -> Text,
        households_attempted -> BigInt,
        households_reached -> BigInt,
        smartphone_users -> BigInt,
        app_users -> BigInt,
        last_visit_at -> Nullable<Text>,
        last_visit_at_us -> Nullable<BigInt>,
    }
}

diesel::table! {
    web_sessions (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        csrf_token -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::joinable!(streets -> areas (ward_id));
diesel::joinable!(users -> areas (area_id));
diesel::joinable!(assignments -> streets (street_id));
diesel::joinable!(assignments -> campaigns (campaign_id));
diesel::joinable!(records -> streets (street_id));

diesel::allow_tables_to_appear_in_same_query!(
    server_settings,
    areas,
    users,
    refresh_tokens,
    streets,
    campaigns,
    assignments,
    records,
    history,
    ward_totals,
    ward_coverage,
);
