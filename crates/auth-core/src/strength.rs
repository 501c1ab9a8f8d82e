//! Password strength, judged by zxcvbn (a maintained estimator, not a home-made list), knowing
//! the username and email so that a password made of them is judged weak.

use auth_domain::NewPassword;

/// Why a password is too guessable, with what would be accepted, or `None` if it is strong
/// enough. `min_score` is zxcvbn's 0–4 scale (3: about 10^10 guesses); 0 accepts everything.
pub(crate) fn weakness(password: &NewPassword, min_score: u8, context: &[&str]) -> Option<String> {
    if min_score == 0 {
        return None;
    }
    let estimate = zxcvbn::zxcvbn(password.as_password().expose(), context);
    let score = u8::from(estimate.score());
    if score >= min_score {
        return None;
    }
    let mut detail =
        format!("password is too easy to guess (strength {score} of 4, {min_score} needed)");
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            detail.push_str(&format!(": {warning}"));
        }
        let suggestions: Vec<String> = feedback
            .suggestions()
            .iter()
            .map(ToString::to_string)
            .collect();
        if !suggestions.is_empty() {
            detail.push_str(&format!(". {}", suggestions.join(" ")));
        }
    }
    detail.push_str(" A passphrase of four or more unrelated words works well.");
    Some(detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weak(password: &str, context: &[&str]) -> Option<String> {
        weakness(&NewPassword::parse(password, 8).unwrap(), 3, context)
    }

    #[test]
    fn common_and_patterned_passwords_are_weak_with_a_reason() {
        for password in [
            "password",
            "password123",
            "qwertyuiop",
            "aaaaaaaaaa",
            "12345678",
        ] {
            let reason = weak(password, &[]).unwrap_or_else(|| panic!("{password} accepted"));
            assert!(reason.contains("too easy to guess"), "{reason}");
        }
    }

    #[test]
    fn the_username_and_email_count_against_a_password() {
        assert!(weak("zebulon-the-great", &[]).is_none());
        assert!(weak("zebulon-the-great", &["zebulon-the-great"]).is_some());
    }

    #[test]
    fn long_unrelated_passphrases_pass_and_zero_disables_the_check() {
        assert!(weak("correct horse battery", &[]).is_none());
        assert!(weak("violet tugboat quarry lemon", &[]).is_none());
        let any = NewPassword::parse("password", 8).unwrap();
        assert_eq!(weakness(&any, 0, &[]), None);
    }
}
