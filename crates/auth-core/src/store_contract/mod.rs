//! The store contract: the behaviour every [`Store`](auth_domain::Store) implementation must
//! have.
//!
//! Each function checks one behaviour against a fresh, empty store and panics when it is not
//! met; they are grouped by store trait (users with the admin rules, sessions with refresh
//! rotation, API keys, audit, login throttling, pruning, second factors, account recovery; the listing of users has
//! its own file, and so has the credential generation that password changes, disabling and a
//! second factor turned on move).
//! [`store_contract_tests!`](crate::store_contract_tests) turns the whole list into `#[test]`s;
//! this workspace runs it against [`MemoryStore`](crate::MemoryStore), SQLite and PostgreSQL,
//! and a custom store can run it too:
//!
//! ```text
//! // The expression is evaluated once per test; `None` skips the test.
//! auth_core::store_contract_tests!(Some(Box::new(MyStore::new())));
//!
//! // Outer attributes in front apply to every generated test.
//! auth_core::store_contract_tests!(
//!     #[cfg_attr(not(my_db_tests), ignore = "set MY_DB_URL to run")]
//!     MyStore::from_env()
//! );
//! ```

mod api_keys;
mod audit;
mod credentials;
mod imports;
mod login_throttle;
mod mfa;
mod prune;
mod recovery;
mod sessions;
mod status;
mod user_listing;
mod users;

pub use api_keys::*;
pub use audit::*;
pub use credentials::*;
pub use imports::*;
pub use login_throttle::*;
pub use mfa::*;
pub use prune::*;
pub use recovery::*;
pub use sessions::*;
pub use status::*;
pub use user_listing::*;
pub use users::*;

use auth_domain::{
    ApiKey, ApiKeyId, ClientInfo, CredentialGeneration, NewApiKey, NewSession, NewUser,
    PasswordHash, RefreshTokenHash, Role, Session, SessionId, UserId, Username, now,
};
use chrono::TimeDelta;

/// Generates one `#[test]` per contract behaviour.
///
/// `$fixture` is an expression evaluated in each test, giving `Option<F>` where `F` dereferences
/// to an empty store; `None` skips the test (the fixture should say why, e.g. that no PostgreSQL
/// URL was configured). Outer attributes written before the expression are put on every
/// generated test, after `#[test]`:
///
/// ```text
/// auth_core::store_contract_tests!(Some(Box::new(MyStore::new())));
/// auth_core::store_contract_tests!(#[ignore = "slow"] Some(Box::new(MyStore::new())));
/// ```
#[macro_export]
macro_rules! store_contract_tests {
    // Internal: collects the leading attributes one at a time (a repetition of attributes
    // followed by an expression would be ambiguous, as an expression may start with `#[`).
    (@attrs [$($attrs:tt)*] #[$attr:meta] $($rest:tt)+) => {
        $crate::store_contract_tests!(@attrs [$($attrs)* #[$attr]] $($rest)+);
    };
    (@attrs $attrs:tt $fixture:expr) => {
        $crate::store_contract_tests!(@each $attrs $fixture;
            creates_and_finds_users,
            usernames_are_unique_without_regard_to_case,
            emails_are_unique_without_regard_to_case,
            update_changes_only_the_given_fields,
            update_to_a_taken_username_or_email_conflicts,
            update_of_an_unknown_user_is_not_found,
            times_round_trip_to_the_microsecond,
            sessions_are_found_with_their_user,
            sessions_need_an_existing_user,
            revoking_a_session_keeps_its_first_end_time,
            revoking_user_sessions_can_spare_one,
            concurrent_registrations_of_one_name_yield_one_user,
            ping_answers,
            user_sessions_are_listed_newest_first,
            rotation_replaces_the_token_and_renews_the_session,
            a_token_rotated_within_the_grace_period_rotates_again,
            reuse_after_the_grace_period_revokes_the_session,
            unknown_tokens_and_ended_sessions_do_not_rotate,
            concurrent_rotations_of_one_token_keep_one_session,
            sessions_without_a_refresh_token_cannot_be_refreshed,
            the_last_active_admin_cannot_be_demoted_disabled_or_deleted,
            concurrent_demotions_of_the_last_two_admins_leave_one,
            deleting_a_user_removes_their_sessions_and_keys,
            users_are_listed_filtered_and_paged,
            user_prefixes_match_exactly_at_their_bounds,
            users_are_paged_after_a_cursor,
            api_keys_are_found_by_prefix_with_their_user,
            api_keys_are_revoked_only_by_their_owner,
            audit_events_are_filtered_by_user_and_time,
            audit_events_are_paged_after_a_cursor,
            login_attempts_lock_a_username_and_success_clears_them,
            concurrent_login_attempts_never_pass_the_limit,
            quiet_failure_counts_decay,
            password_hash_upgrades_never_undo_a_change,
            revoking_an_api_key_ends_the_sessions_opened_with_it,
            revoking_all_of_a_users_api_keys_spares_other_users,
            pruning_removes_what_is_past_its_use_and_keeps_the_rest,
            pruning_removes_expired_email_tokens_and_old_mail_requests,
            totp_enrolments_are_pending_until_enabled_with_their_secret,
            totp_enrolment_needs_an_existing_user,
            totp_steps_are_used_once_and_in_order,
            recovery_codes_work_once_for_their_user,
            removing_totp_takes_its_codes_challenges_and_flag,
            mfa_challenges_are_single_use_and_die_after_too_many_failures,
            expired_challenges_are_forgotten_when_new_ones_are_made,
            deleting_a_user_removes_their_second_factor,
            a_password_change_ends_what_the_old_password_gave,
            a_password_change_checked_at_an_old_generation_changes_nothing,
            what_a_check_produced_is_stored_only_at_the_users_generation,
            nothing_checked_before_a_concurrent_password_change_survives_it,
            disabling_a_user_ends_their_sessions_keys_and_challenges,
            enabling_totp_ends_the_other_sessions_and_marks_the_kept_one,
            withdrawn_attempts_neither_count_nor_clear_earlier_failures,
            concurrent_first_attempts_are_counted_not_locked,
            status_entries_are_random_distinct_and_need_live_claims,
            ending_sessions_and_changing_claims_revoke_their_entries,
            status_entries_spill_over_and_are_reused_after_expiry,
            imported_users_are_recorded_with_their_hash,
            imported_hashes_are_updated_as_password_changes,
            users_are_found_by_email_without_regard_to_case,
            email_tokens_are_found_by_digest_and_a_newer_one_voids_the_older,
            requested_messages_are_limited_per_account,
            concurrent_requests_for_one_account_issue_one_token,
            a_reset_redeems_its_token_once_and_ends_everything,
            expired_foreign_and_voided_reset_tokens_change_nothing,
            a_reset_verifies_only_the_address_its_token_was_sent_to,
            concurrent_resets_with_one_token_change_the_password_once,
            deleting_a_user_removes_their_email_tokens,
        );
    };
    // Internal: one test per name, each given the attributes (kept as one token tree here so
    // that they can be repeated inside the repetition over names).
    (@each $attrs:tt $fixture:expr; $($name:ident),* $(,)?) => {
        $(
            $crate::store_contract_tests!(@one $attrs $fixture; $name);
        )*
    };
    (@one [$(#[$attr:meta])*] $fixture:expr; $name:ident) => {
        #[test]
        $(#[$attr])*
        fn $name() {
            if let Some(fixture) = $fixture {
                $crate::store_contract::$name(&*fixture);
            }
        }
    };
    (#[$attr:meta] $($rest:tt)+) => {
        $crate::store_contract_tests!(@attrs [#[$attr]] $($rest)+);
    };
    ($fixture:expr) => {
        $crate::store_contract_tests!(@attrs [] $fixture);
    };
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        id: UserId::new(),
        username: Username::parse(name).expect("test usernames are valid"),
        email: None,
        password_hash: PasswordHash::new(format!("$2b$04$hash-of-{name}")),
        role: Role::User,
        created_at: now(),
    }
}

fn new_session(user: UserId) -> NewSession {
    let at = now();
    NewSession {
        session: Session {
            id: SessionId::new(),
            user_id: user,
            created_at: at,
            last_used_at: at,
            idle_expires_at: at + TimeDelta::days(14),
            expires_at: at + TimeDelta::days(90),
            revoked_at: None,
            client: ClientInfo {
                ip: Some("203.0.113.7".into()),
                user_agent: Some("contract-test/1.0".into()),
                origin: None,
            },
            api_key: None,
            mfa: false,
        },
        refresh_token_hash: Some(RefreshTokenHash::new(format!(
            "digest-{}",
            SessionId::new()
        ))),
        generation: CredentialGeneration::default(),
    }
}

fn new_api_key(user: UserId, prefix: &str) -> NewApiKey {
    NewApiKey {
        key: ApiKey {
            id: ApiKeyId::new(),
            user_id: user,
            name: format!("key {prefix}"),
            prefix: prefix.to_owned(),
            created_at: now(),
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
        },
        key_hash: format!("hash-of-{prefix}"),
        generation: CredentialGeneration::default(),
    }
}
