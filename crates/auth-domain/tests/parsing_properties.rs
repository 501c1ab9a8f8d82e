//! Parsers never panic on any input, and what they accept obeys the rules.

use auth_domain::{Email, NewPassword, Password, Username};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn username_parse_never_panics_and_accepts_only_the_rules(raw in any::<String>()) {
        if let Ok(name) = Username::parse(&raw) {
            prop_assert_eq!(name.as_str(), raw.as_str());
            prop_assert!((3..=32).contains(&raw.len()));
            prop_assert!(raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)));
            prop_assert_eq!(name.normalized(), raw.to_ascii_lowercase());
        }
    }

    #[test]
    fn username_accepts_every_valid_name(raw in "[A-Za-z0-9_.-]{3,32}") {
        prop_assert!(Username::parse(&raw).is_ok());
    }

    #[test]
    fn email_parse_never_panics_and_accepts_only_one_at(raw in any::<String>()) {
        if let Ok(email) = Email::parse(&raw) {
            prop_assert!(raw.len() <= 254);
            prop_assert_eq!(raw.matches('@').count(), 1);
            prop_assert!(raw.is_ascii());
            prop_assert_eq!(email.as_str(), raw.as_str());
        }
    }

    #[test]
    fn email_parse_survives_email_shaped_noise(raw in "[a-z.+%_-]{0,70}@[a-z0-9.-]{0,70}") {
        let _ = Email::parse(&raw);
    }

    #[test]
    fn new_password_never_panics_and_enforces_bcrypt_limits(raw in any::<String>(), min in 0usize..20) {
        if let Ok(password) = NewPassword::parse(raw.clone(), min) {
            prop_assert!(raw.len() <= 72);
            prop_assert!(raw.chars().count() >= min);
            prop_assert!(!raw.contains('\0'));
            prop_assert!(password.as_password().fits_bcrypt());
        }
        prop_assert_eq!(format!("{:?}", Password::new(raw)), "Password([redacted])");
    }
}
