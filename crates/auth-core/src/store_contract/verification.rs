//! The [`RecoveryStore::confirm_email`](auth_domain::RecoveryStore::confirm_email) contract:
//! verification and email-change tokens, the pending address, and messages the server sends on
//! its own (not counted toward the per-account limits).

use auth_domain::{
    Email, EmailTokenHash, Limit, MailLimits, NewEmailToken, Store, StoreError, TokenPurpose, User,
    UserChanges, now,
};
use chrono::{DateTime, TimeDelta, Utc};

use super::new_user;

fn email(raw: &str) -> Email {
    Email::parse(raw).expect("test emails are valid")
}

fn user_with_email(store: &dyn Store, name: &str) -> User {
    let mut user = new_user(name);
    user.email = Some(email(&format!("{name}@example.com")));
    store.create_user(user).unwrap()
}

fn token(
    user: &User,
    digest: &str,
    purpose: TokenPurpose,
    to: &str,
    at: DateTime<Utc>,
) -> NewEmailToken {
    NewEmailToken {
        hash: EmailTokenHash::new(digest),
        user: user.id,
        purpose,
        email: email(to),
        created_at: at,
        expires_at: at + TimeDelta::hours(24),
    }
}

fn current(store: &dyn Store, user: &User) -> User {
    store.user_by_id(user.id).unwrap().unwrap()
}

fn not_found(result: Result<auth_domain::EmailConfirmed, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound))
}

/// A verification token marks the address it was sent to verified, once; its purpose and the
/// address before are reported; other users are untouched; an expired one changes nothing.
pub fn a_verification_token_verifies_its_address_once(store: &dyn Store) {
    let alice = user_with_email(store, "alice");
    let bob = user_with_email(store, "bob");
    let at = now();
    let verification = TokenPurpose::EmailVerification;
    store
        .issue_email_token(
            &token(&alice, "v1", verification, "Alice@example.com", at),
            Limit::Uncounted,
        )
        .unwrap();
    let mut expired = token(&bob, "v2", verification, "bob@example.com", at);
    expired.expires_at = at + TimeDelta::seconds(1);
    store.issue_email_token(&expired, Limit::Uncounted).unwrap();

    assert!(not_found(store.confirm_email(
        &EmailTokenHash::new("v2"),
        at + TimeDelta::seconds(1)
    )));
    assert!(!current(store, &bob).email_verified);

    let confirmed = store
        .confirm_email(&EmailTokenHash::new("v1"), at + TimeDelta::seconds(2))
        .unwrap();
    assert_eq!(confirmed.purpose, verification);
    assert!(confirmed.user.email_verified);
    assert_eq!(confirmed.user.email, alice.email);
    assert_eq!(confirmed.previous_email, alice.email);
    assert!(!confirmed.previous_verified);
    assert_eq!(current(store, &alice), confirmed.user);
    assert_eq!(store.email_token(&EmailTokenHash::new("v1")).unwrap(), None);
    assert!(not_found(
        store.confirm_email(&EmailTokenHash::new("v1"), at)
    ));
    assert!(not_found(
        store.confirm_email(&EmailTokenHash::new("unknown"), at)
    ));
    assert!(!current(store, &bob).email_verified);
}

/// A verification token for an address the account no longer has changes nothing.
pub fn a_verification_token_for_a_replaced_address_changes_nothing(store: &dyn Store) {
    let alice = user_with_email(store, "alice");
    let at = now();
    store
        .issue_email_token(
            &token(
                &alice,
                "v1",
                TokenPurpose::EmailVerification,
                "alice@example.com",
                at,
            ),
            Limit::Uncounted,
        )
        .unwrap();
    let mut changes = UserChanges::at(at);
    changes.email = Some(Some(email("other@example.com")));
    store.update_user(alice.id, &changes).unwrap();
    assert!(not_found(
        store.confirm_email(&EmailTokenHash::new("v1"), at)
    ));
    assert!(!current(store, &alice).email_verified);
}

/// An email-change token makes its address pending; redeeming it makes the address the
/// account's, verified, no longer pending, and voids the user's other email tokens; a newer
/// change voids the older one's token, and a change of address made otherwise drops the
/// pending one.
pub fn an_email_change_is_pending_until_its_token_is_redeemed(store: &dyn Store) {
    let alice = user_with_email(store, "alice");
    let at = now();
    let change = TokenPurpose::EmailChange;
    store
        .issue_email_token(
            &token(&alice, "c1", change, "first@example.com", at),
            Limit::Uncounted,
        )
        .unwrap();
    assert_eq!(
        current(store, &alice).pending_email,
        Some(email("first@example.com"))
    );
    assert_eq!(current(store, &alice).email, alice.email);
    store
        .issue_email_token(
            &token(&alice, "c2", change, "second@example.com", at),
            Limit::Uncounted,
        )
        .unwrap();
    assert_eq!(
        current(store, &alice).pending_email,
        Some(email("second@example.com"))
    );
    assert!(not_found(
        store.confirm_email(&EmailTokenHash::new("c1"), at)
    ));
    store
        .issue_email_token(
            &token(
                &alice,
                "r1",
                TokenPurpose::PasswordReset,
                "alice@example.com",
                at,
            ),
            Limit::CountOnly,
        )
        .unwrap();

    let later = at + TimeDelta::seconds(5);
    let confirmed = store
        .confirm_email(&EmailTokenHash::new("c2"), later)
        .unwrap();
    assert_eq!(confirmed.purpose, change);
    assert_eq!(confirmed.previous_email, alice.email);
    assert_eq!(confirmed.user.email, Some(email("second@example.com")));
    assert!(confirmed.user.email_verified);
    assert_eq!(confirmed.user.pending_email, None);
    assert_eq!(confirmed.user.updated_at, later);
    assert_eq!(current(store, &alice), confirmed.user);
    // Every email token of the user went with it, the reset link to the old address too.
    assert_eq!(store.email_token(&EmailTokenHash::new("r1")).unwrap(), None);
    assert!(not_found(
        store.confirm_email(&EmailTokenHash::new("c2"), later)
    ));
    assert_eq!(
        store
            .user_by_email(&email("SECOND@example.com"))
            .unwrap()
            .map(|u| u.id),
        Some(alice.id)
    );

    // A change made otherwise (mail off, an admin) drops a pending one, and its token.
    store
        .issue_email_token(
            &token(&alice, "c3", change, "third@example.com", later),
            Limit::Uncounted,
        )
        .unwrap();
    let mut changes = UserChanges::at(later);
    changes.email = Some(None);
    let updated = store.update_user(alice.id, &changes).unwrap();
    assert_eq!(updated.pending_email, None);
    assert_eq!(current(store, &alice).pending_email, None);
    assert!(not_found(
        store.confirm_email(&EmailTokenHash::new("c3"), later)
    ));
}

/// Redeeming a change to an address another account took meanwhile is a conflict, and
/// changes nothing.
pub fn an_email_change_to_a_taken_address_conflicts(store: &dyn Store) {
    let alice = user_with_email(store, "alice");
    let at = now();
    store
        .issue_email_token(
            &token(
                &alice,
                "c1",
                TokenPurpose::EmailChange,
                "shared@example.com",
                at,
            ),
            Limit::Uncounted,
        )
        .unwrap();
    let mut bob = new_user("bob");
    bob.email = Some(email("Shared@Example.com"));
    store.create_user(bob).unwrap();
    assert!(matches!(
        store.confirm_email(&EmailTokenHash::new("c1"), at),
        Err(StoreError::Conflict(auth_domain::Conflict::Email))
    ));
    let after = current(store, &alice);
    assert_eq!(after.email, alice.email);
    assert_eq!(after.pending_email, Some(email("shared@example.com")));
}

/// Messages the server sends on its own neither count toward the per-account limits nor are
/// refused by them.
pub fn uncounted_tokens_neither_count_nor_are_refused(store: &dyn Store) {
    let alice = user_with_email(store, "alice");
    let limits = MailLimits {
        min_interval: TimeDelta::seconds(60),
        max_per_hour: 1,
    };
    let at = now();
    let purpose = TokenPurpose::EmailVerification;
    for i in 0..3 {
        assert!(
            store
                .issue_email_token(
                    &token(&alice, &format!("u{i}"), purpose, "alice@example.com", at),
                    Limit::Uncounted,
                )
                .unwrap()
        );
    }
    assert!(
        store
            .issue_email_token(
                &token(&alice, "w1", purpose, "alice@example.com", at),
                Limit::Within(limits),
            )
            .unwrap()
    );
    assert!(
        !store
            .issue_email_token(
                &token(&alice, "w2", purpose, "alice@example.com", at),
                Limit::Within(limits),
            )
            .unwrap()
    );
    assert!(
        store
            .issue_email_token(
                &token(&alice, "u9", purpose, "alice@example.com", at),
                Limit::Uncounted,
            )
            .unwrap()
    );
}
