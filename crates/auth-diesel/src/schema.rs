// Hand-written to match migrations/; the contract tests fail if the two drift apart.

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        username_normalized -> Text,
        email -> Nullable<Text>,
        email_normalized -> Nullable<Text>,
        password_hash -> Text,
        role -> Text,
        is_active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        mfa_enabled -> Bool,
        credential_generation -> BigInt,
        email_verified -> Bool,
        pending_email -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        idle_expires_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        user_agent -> Nullable<Text>,
        ip -> Nullable<Text>,
        api_key_id -> Nullable<Text>,
        mfa -> Bool,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        issued_at -> Timestamp,
        superseded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        at -> Timestamp,
        action -> Text,
        outcome -> Text,
        actor_id -> Nullable<Text>,
        target_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    login_throttles (username_normalized) {
        username_normalized -> Text,
        failures -> Integer,
        locked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    mfa_totp (user_id) {
        user_id -> Text,
        secret -> Text,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        last_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    mfa_recovery_codes (user_id, code_hash) {
        user_id -> Text,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mfa_challenges (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        access_ttl_secs -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        failures -> Integer,
        credential_generation -> BigInt,
    }
}

diesel::table! {
    user_imports (user_id) {
        user_id -> Text,
        password_hash -> Text,
        credential_generation -> BigInt,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    email_tokens (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        purpose -> Text,
        email -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    mail_requests (id) {
        id -> Text,
        user_id -> Text,
        requested_at -> Timestamp,
    }
}

diesel::table! {
    status_list_entries (list_id, idx) {
        list_id -> Integer,
        idx -> BigInt,
        session_id -> Text,
        user_id -> Text,
        role -> Text,
        username -> Text,
        expires_at -> Timestamp,
        status -> SmallInt,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(user_imports -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    refresh_tokens,
    api_keys,
    audit_events,
    login_throttles,
    mfa_totp,
    mfa_recovery_codes,
    mfa_challenges,
    user_imports,
    email_tokens,
    mail_requests,
    status_list_entries
);
