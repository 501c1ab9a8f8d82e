//! Imports' contract: an imported user is created with the record of its import, in one
//! transaction; a registered user has none; bringing over a hash changed in the source is a
//! password change (the generation moves on, sessions and keys end) in which the record
//! follows, and is refused once the password was changed here.

use auth_domain::{
    Conflict, CredentialGeneration, PasswordChange, PasswordHash, SessionRevocation, Store,
    StoreError, now,
};

use super::{new_api_key, new_session, new_user};

/// An imported user has a record (the hash as imported, generation 0, the creation time); a
/// registered one has none; a taken name conflicts and records nothing; deleting the user
/// removes its record.
pub fn imported_users_are_recorded_with_their_hash(store: &dyn Store) {
    let imported = store.import_user(new_user("dave"), false).unwrap();
    let record = store.user_import(imported.id).unwrap().unwrap();
    assert_eq!(record.user, imported.id);
    assert_eq!(record.password_hash, imported.password_hash);
    assert_eq!(record.generation, CredentialGeneration(0));
    assert_eq!(record.imported_at, imported.created_at);
    assert_eq!(
        store.user_by_id(imported.id).unwrap(),
        Some(imported.clone())
    );

    let registered = store.create_user(new_user("erin")).unwrap();
    assert_eq!(store.user_import(registered.id).unwrap(), None);
    let squatted = new_user("ERIN");
    let id = squatted.id;
    assert!(matches!(
        store.import_user(squatted, false),
        Err(StoreError::Conflict(Conflict::Username))
    ));
    assert_eq!(store.user_by_id(id).unwrap(), None);
    assert_eq!(store.user_import(id).unwrap(), None);

    store.delete_user(imported.id).unwrap();
    assert_eq!(store.user_import(imported.id).unwrap(), None);
}

/// Bringing over a new hash: the password changes as `change_password` changes it (every
/// session and key ends, the generation moves on) and the record takes the new hash and
/// generation. Once the password was changed here, the recorded generation is stale and the
/// update is refused with nothing changed; a user that was not imported is not found.
pub fn imported_hashes_are_updated_as_password_changes(store: &dyn Store) {
    let dave = store.import_user(new_user("dave"), false).unwrap();
    let session = store.create_session(new_session(dave.id)).unwrap();
    store
        .create_api_key(new_api_key(dave.id, "impt0001"))
        .unwrap();
    let record = store.user_import(dave.id).unwrap().unwrap();
    let update = PasswordChange {
        user: dave.id,
        expected: record.generation,
        new_hash: PasswordHash::new("$2b$04$changed-in-the-old-app"),
        sessions: SessionRevocation::All,
        at: now(),
    };
    let changed = store.update_imported_password(&update).unwrap();
    assert_eq!(changed.ended_sessions, vec![session.id]);
    assert_eq!(changed.revoked_api_keys.len(), 1);
    assert_eq!(changed.user.password_hash, update.new_hash);
    assert_eq!(changed.user.credential_generation, CredentialGeneration(1));
    let record = store.user_import(dave.id).unwrap().unwrap();
    assert_eq!(record.password_hash, update.new_hash);
    assert_eq!(record.generation, CredentialGeneration(1));
    assert_eq!(record.imported_at, update.at);
    let (session, _) = store.session_with_user(session.id).unwrap().unwrap();
    assert!(session.revoked_at.is_some());

    // The user changes the password here: the record's generation is stale.
    let here = PasswordChange {
        expected: CredentialGeneration(1),
        new_hash: PasswordHash::new("$2b$04$changed-here"),
        at: now(),
        ..update.clone()
    };
    store.change_password(&here).unwrap();
    let again = PasswordChange {
        expected: record.generation,
        new_hash: PasswordHash::new("$2b$04$changed-in-the-old-app-again"),
        at: now(),
        ..update.clone()
    };
    assert!(matches!(
        store.update_imported_password(&again),
        Err(StoreError::CredentialsChanged)
    ));
    let user = store.user_by_id(dave.id).unwrap().unwrap();
    assert_eq!(user.password_hash, here.new_hash);
    assert_eq!(store.user_import(dave.id).unwrap(), Some(record));

    // Not imported: not found, and the password is left alone.
    let erin = store.create_user(new_user("erin")).unwrap();
    let not_imported = PasswordChange {
        user: erin.id,
        expected: erin.credential_generation,
        ..again
    };
    assert!(matches!(
        store.update_imported_password(&not_imported),
        Err(StoreError::NotFound)
    ));
    let erin_now = store.user_by_id(erin.id).unwrap().unwrap();
    assert_eq!(erin_now.password_hash, erin.password_hash);
    assert_eq!(erin_now.credential_generation, erin.credential_generation);
}
