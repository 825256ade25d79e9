//! The claims of an access token, as every participant reads them.
//!
//! The server verifies a token's signature (`velocity-sync-server`'s `auth`
//! module); a participant only needs to learn from its own token which
//! protocol client id to say `sync:hello` as. Both read the same [`Claims`]
//! layout, defined here once.
//!
//! # Claim layout
//!
//! ```json
//! {
//!   "sub": "6f1c…",
//!   "role": "authenticated",
//!   "aud": "authenticated",
//!   "exp": 1795000000,
//!   "project_id": "9a7c1a52-…",
//!   "sync_role": "editor",
//!   "client_id": 42
//! }
//! ```
//!
//! - `role`: `editor`, `agent` or `viewer`; or Supabase's `authenticated`,
//!   with the role in `sync_role`;
//! - `client_id`: the one `sync:hello` client id the token may speak as;
//! - unknown claims (`aud`, `iat`, …) are ignored.
//!
//! # Example
//! ```
//! use velocity_sync::token::peek_client_id;
//! // header.payload.signature; the payload is {"client_id":42} in base64url.
//! let token = "eyJhbGciOiJIUzI1NiJ9.eyJjbGllbnRfaWQiOjQyfQ.c2ln";
//! assert_eq!(peek_client_id(token), Some(42));
//! assert_eq!(peek_client_id("not a token"), None);
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// What a token claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The project the token opens.
    pub project_id: String,
    /// `editor`, `agent` or `viewer`; or Supabase's `authenticated`, with
    /// the role in [`sync_role`](Self::sync_role).
    pub role: String,
    /// The role when `role` is Supabase's `authenticated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_role: Option<String>,
    /// The protocol client id the token may say `sync:hello` as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<u64>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Who (a user or service id); informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

/// Only the claim a participant reads from its own token.
#[derive(Deserialize)]
struct ClientIdOnly {
    client_id: Option<u64>,
}

/// The `client_id` a JWT binds, read WITHOUT checking its signature: a
/// participant learns from its own token which id to say `sync:hello` as,
/// and the server verifies the token. `None` for a token that is not a JWT,
/// whose payload is not JSON, or that names no client.
#[must_use]
pub fn peek_client_id(token: &str) -> Option<u64> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let json = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<ClientIdOnly>(&json)
        .ok()?
        .client_id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "eyJhbGciOiJIUzI1NiJ9.{}.c2ln",
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn the_client_id_is_read_from_the_payload() {
        assert_eq!(
            peek_client_id(&jwt(r#"{"client_id":7,"aud":"x"}"#)),
            Some(7)
        );
    }

    #[test]
    fn tokens_without_a_client_or_not_jwts_name_none() {
        assert_eq!(peek_client_id(&jwt(r#"{"role":"editor"}"#)), None);
        assert_eq!(peek_client_id(&jwt("not json")), None);
        assert_eq!(peek_client_id("a.b"), None);
        assert_eq!(peek_client_id("a.b.c.d"), None);
        assert_eq!(peek_client_id(""), None);
        assert_eq!(peek_client_id(&jwt(r#"{"client_id":-1}"#)), None);
    }

    #[test]
    fn claims_round_trip_without_empty_options() {
        let claims = Claims {
            project_id: "p".into(),
            role: "agent".into(),
            sync_role: None,
            client_id: Some(3),
            exp: 10,
            sub: None,
        };
        let json = serde_json::to_string(&claims).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"project_id":"p","role":"agent","client_id":3,"exp":10}"#
        );
        assert_eq!(serde_json::from_str::<Claims>(&json).ok(), Some(claims));
    }
}
