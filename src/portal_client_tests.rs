//! The portal client's wire types and revocation hashes.

use super::*;

#[test]
fn revoked_cards_are_recognised_by_salted_hash() {
    // An entry as the portal sends it: SHA-256 of the salt followed by the user id.
    let json = r#"{"salt": "00112233445566778899aabbccddeeff",
        "user_hash": "2a5ffda83c1a15af931e76a21b92d4d5e7e25801b32c37c6a4d06aa596b2e0b5",
        "issued_before": 1800000000}"#;
    let sent: Revocation = serde_json::from_str(json).unwrap();
    let revoked = vec![sent, Revocation::new("ffee", "stu-omar", 1_800_000_000)];
    assert!(is_revoked(&revoked, "stu-ben", 1_799_999_999));
    assert!(is_revoked(&revoked, "stu-omar", 1_700_000_000));
    // A card printed after the revocation, and other pupils, pass.
    assert!(!is_revoked(&revoked, "stu-ben", 1_800_000_000));
    assert!(!is_revoked(&revoked, "stu-maya", 1_700_000_000));
    assert!(!is_revoked(&revoked, "stu-be", 1_700_000_000));
    // The wire form carries no user id.
    let text = serde_json::to_string(&revoked).unwrap();
    assert!(!text.contains("stu-"), "{text}");
    // A config cached from an older portal (plain ids) loads, and its entries match nothing.
    let old: KioskConfig = serde_json::from_str(
        r#"{"school_id": "sch-1", "revoked": [{"user_id": "stu-ben", "issued_before": 9}]}"#,
    )
    .unwrap();
    assert_eq!(old.school_id, "sch-1");
    assert!(!is_revoked(&old.revoked, "stu-ben", 1));
}

#[test]
fn salted_hash_is_sha256_of_salt_then_id() {
    // SHA-256("abc"), the FIPS 180-2 example: salt "a" followed by the id "bc".
    assert_eq!(
        salted_hash("a", "bc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn api_errors_keep_code_and_extras() {
    let body = br#"{"error":{"code":"wrong_pin","message":"Wrong PIN","attempts_left":2}}"#;
    assert_eq!(
        api_error(401, body),
        PortalError::Api {
            status: 401,
            code: "wrong_pin".into(),
            message: "Wrong PIN".into(),
            attempts_left: Some(2),
            retry_after_secs: None
        }
    );
    assert!(matches!(
        api_error(502, b"<html>"),
        PortalError::Unreachable(_)
    ));
    assert!(matches!(api_error(400, b""), PortalError::Protocol(_)));
}

#[test]
fn path_segments_are_encoded() {
    assert_eq!(url_segment("math-1"), "math-1");
    assert_eq!(url_segment("a/b c"), "a%2Fb%20c");
}

#[test]
fn urls_must_be_http() {
    let sleep: Sleeper = Arc::new(|_| Box::pin(async {}));
    let e = HttpPortal::new(
        "ftp://x",
        Zeroizing::new(String::new()),
        sleep,
        RetryPolicy::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("http://"), "{e}");
}

#[test]
fn debug_prints_no_token_credential_or_launch_url() {
    let session: SessionReply = serde_json::from_str(
        r#"{"token":"tok-SECRET-1","expires_at":5,"user":{"id":"stu-1","role":"student"}}"#,
    )
    .unwrap();
    let enrol: EnrollReply =
        serde_json::from_str(r#"{"kiosk_id":"k1","credential":"cred-SECRET-2"}"#).unwrap();
    let launch: LaunchReply =
        serde_json::from_str(r#"{"url":"https://portal/v1/launch/SECRET-3"}"#).unwrap();
    let printed = format!("{session:?} {enrol:?} {launch:?}");
    for secret in ["SECRET-1", "SECRET-2", "SECRET-3"] {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
    assert!(
        printed.contains("stu-1") && printed.contains("k1"),
        "{printed}"
    );
}

/// A portal one version newer may add fields anywhere in its replies: every reply the kiosk
/// reads still parses, and what it knows keeps its meaning.
#[test]
fn replies_with_fields_this_kiosk_does_not_know_still_parse() {
    let session: SessionReply = serde_json::from_str(
        r##"{"token": "qcs_1", "expires_at": 1800003600, "new_top": [1, 2],
            "user": {"id": "stu-1", "display_name": "Maya Lopez", "given_name": "Maya",
                     "role": "student", "new_user_field": true,
                     "avatar": {"initial": "M", "color": "#1565C0", "new_avatar_field": "x"}},
            "apps": [{"id": "clever", "name": "Clever", "icon": "clever", "color": "#1464FF",
                      "new_app_field": {"a": 1}}],
            "second_factor_used": true,
            "sign_in": {"acs_url": "https://acs.example", "saml_response": "PHNhbWw+",
                        "email": "maya@school.example", "password": "p", "new_handoff": 1}}"##,
    )
    .unwrap();
    assert_eq!(session.user.given_name, "Maya");
    assert_eq!(session.user.avatar.color, "#1565C0");
    assert_eq!(session.apps[0].id, "clever");
    assert!(session.second_factor_used);
    assert_eq!(
        session.sign_in.as_ref().unwrap().email,
        "maya@school.example"
    );

    let config: KioskConfig = serde_json::from_str(
        r#"{"kiosk_id": "kio-1", "name": "LAB-1", "school_id": "sch-lincoln",
            "trust": [{"public": "qcpk1:fb069f58f0340ed17a2ab208f48b16e3bbc79a014ab22f069b26aca3df8db464",
                       "name": "k", "new_key_field": "x"}],
            "revoked": [{"salt": "00", "user_hash": "ab", "issued_before": 5, "new_rev": 1}],
            "idle_timeout_secs": 90, "clock_skew_secs": 300, "server_time": 1800000000,
            "demo": false, "new_config_field": {"nested": []}}"#,
    )
    .unwrap();
    assert_eq!(config.school_id, "sch-lincoln");
    assert_eq!(config.trust.len(), 1);
    assert_eq!(config.revoked[0].issued_before, 5);
    assert_eq!(config.idle_timeout_secs, Some(90));

    let enrolled: EnrollReply = serde_json::from_str(
        r#"{"kiosk_id": "kio-1", "name": "LAB-1", "credential": "qck_x", "school_id": "sch-1",
            "trust": [], "new_enrol_field": 1}"#,
    )
    .unwrap();
    assert_eq!(enrolled.kiosk_id, "kio-1");

    let launch: LaunchReply = serde_json::from_str(
        r#"{"url": "https://portal/v1/launch/qcl_1", "expires_at": 60, "new_launch": "x"}"#,
    )
    .unwrap();
    assert_eq!(launch.expires_at, 60);

    assert_eq!(
        api_error(
            403,
            br#"{"error": {"code": "user_erased", "message": "erased", "erased_at": 1, "more": {}}, "trace": "t"}"#
        )
        .code(),
        Some("user_erased")
    );
    // None of the reply types may refuse fields it does not know.
    assert!(!include_str!("portal_client.rs").contains(concat!("deny_unknown", "_fields")));
}
