//! Access tokens: hostile token text is refused with a typed error; a token
//! signed with the secret grants exactly the role and client id it names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uuid::Uuid;
use velocity_sync::Role;
use velocity_sync_server::auth::{Claims, verify, sign};

const SECRET: &[u8] = b"fuzz-secret-0123456789abcdef";
const PROJECT: Uuid = Uuid::from_u128(0x9a7c1a52_8d0e_4c55_b4b4_5c0f3f2f7f10);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // 1. The whole input as a token: never accepted without the secret.
    assert!(verify(text, SECRET, PROJECT).is_err(), "forged token accepted: {text:?}");
    // 2. The input as a role name in a signed token.
    let role = text.split('\n').next().unwrap_or_default();
    let client = u64::from(data.len() as u32);
    let claims = Claims {
        project_id: PROJECT.to_string(),
        role: role.to_owned(),
        sync_role: None,
        client_id: Some(client),
        exp: 4_000_000_000,
        sub: None,
    };
    let token = sign(&claims, SECRET).expect("claims encode");
    let expected = match role {
        "editor" => Some(Role::Editor),
        "agent" => Some(Role::Agent),
        "viewer" => Some(Role::Viewer),
        _ => None,
    };
    let granted = verify(&token, SECRET, PROJECT).ok();
    assert_eq!(granted.as_ref().map(|grant| grant.role), expected);
    if let Some(grant) = granted {
        assert_eq!(grant.client, Some(client));
        assert!(grant.check_client(client).is_ok());
        assert!(grant.check_client(client + 1).is_err());
    }
    assert!(verify(&token, b"another secret", PROJECT).is_err());
});
