//! Access tokens: HS256 JWTs (the kind Supabase issues) naming a project, a
//! role and the protocol client id they may speak as, verified with the
//! configured secret before a connection opens.
//!
//! # Claim layout
//!
//! ```json
//! {
//!   "sub": "6f1c…",                 // the user or service (informational)
//!   "role": "authenticated",        // Supabase's database role, or our role
//!   "aud": "authenticated",         // Supabase's audience (not checked)
//!   "exp": 1795000000,
//!   "project_id": "9a7c1a52-…",     // the one project the token opens
//!   "sync_role": "editor",          // editor | agent | viewer
//!   "client_id": 42                 // the sync:hello client id it may use
//! }
//! ```
//!
//! A Supabase access token carries `role: "authenticated"`; a custom access
//! token hook (or the backend minting a short-lived token) adds
//! `project_id`, `sync_role` and `client_id`. Service tokens (agents,
//! containers) may put the role straight into `role` instead. `client_id`
//! binds the WebSocket to one protocol client id: a `sync:hello` naming
//! another id is refused (`auth.wrong_client`), so one participant cannot
//! act as, or evict, another. Tokens without it still open the HTTP
//! endpoints (manifest), but not the protocol (`auth.no_client`).

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use uuid::Uuid;
use velocity_sync::Role;

pub use velocity_sync::token::Claims;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The token's signature does not match the configured secret.
    #[error("token signature is invalid (signed with another secret?)")]
    BadSignature,
    /// The token has expired.
    #[error("token expired; ask for a new one")]
    Expired,
    /// Not a JWT, or claims missing or of the wrong type.
    #[error("token is malformed: {reason}")]
    Malformed {
        /// What the decoder said.
        reason: String,
    },
    /// No token in `?token=` or `Authorization: Bearer`.
    #[error("no token: pass ?token= or Authorization: Bearer")]
    Missing,
    /// The token opens another project.
    #[error("token is for project {token_project}, not {project}")]
    WrongProject {
        /// The project asked for.
        project: Uuid,
        /// The project the token names.
        token_project: String,
    },
    /// A role that is not `editor`, `agent` or `viewer`.
    #[error("token role {role:?} is not editor, agent or viewer")]
    UnknownRole {
        /// The role found.
        role: String,
    },
    /// The token names no `client_id`, which the protocol needs.
    #[error("token has no client_id claim: it cannot open the protocol")]
    NoClient,
    /// `sync:hello` names another client id than the token.
    #[error("token is for client {token_client}, not {hello_client}")]
    WrongClient {
        /// The id in the token.
        token_client: u64,
        /// The id `sync:hello` asked for.
        hello_client: u64,
    },
}

/// What a verified token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The protocol client id it may use, when it names one.
    pub client: Option<u64>,
}

impl Grant {
    /// Checks `hello_client` is the id this token may speak as.
    ///
    /// # Errors
    /// [`AuthError::NoClient`] or [`AuthError::WrongClient`].
    pub fn check_client(&self, hello_client: u64) -> Result<(), AuthError> {
        match self.client {
            None => Err(AuthError::NoClient),
            Some(token_client) if token_client != hello_client => Err(AuthError::WrongClient {
                token_client,
                hello_client,
            }),
            Some(_) => Ok(()),
        }
    }
}

impl AuthError {
    /// The HTTP status to refuse with: 401 when the token cannot be trusted,
    /// 403 when it is valid but does not open this project.
    pub fn status(&self) -> u16 {
        match self {
            Self::WrongProject { .. } | Self::UnknownRole { .. } | Self::WrongClient { .. } => 403,
            Self::BadSignature
            | Self::Expired
            | Self::Malformed { .. }
            | Self::Missing
            | Self::NoClient => 401,
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadSignature => "auth.bad_signature",
            Self::Expired => "auth.expired",
            Self::Malformed { .. } => "auth.malformed",
            Self::Missing => "auth.missing",
            Self::WrongProject { .. } => "auth.wrong_project",
            Self::UnknownRole { .. } => "auth.unknown_role",
            Self::NoClient => "auth.no_client",
            Self::WrongClient { .. } => "auth.wrong_client",
        }
    }
}

/// Verifies `token` for `project` with `secret`; returns what it grants.
///
/// # Errors
/// An [`AuthError`] naming why the token is refused.
pub fn verify(token: &str, secret: &[u8], project: Uuid) -> Result<Grant, AuthError> {
    let mut validation = Validation::new(Algorithm::HS256);
    // Supabase tokens carry `aud: "authenticated"`; the project claim is
    // what scopes ours.
    validation.validate_aud = false;
    validation.leeway = 5;
    let data =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret), &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Malformed {
                    reason: e.to_string(),
                },
            })?;
    let claims = data.claims;
    if Uuid::try_parse(&claims.project_id).ok() != Some(project) {
        return Err(AuthError::WrongProject {
            project,
            token_project: claims.project_id.chars().take(80).collect(),
        });
    }
    let role = match claims.role.as_str() {
        "authenticated" => claims.sync_role.as_deref().unwrap_or(""),
        other => other,
    };
    let role = match role {
        "editor" => Role::Editor,
        "agent" => Role::Agent,
        "viewer" => Role::Viewer,
        other => {
            return Err(AuthError::UnknownRole {
                role: other.chars().take(40).collect(),
            });
        }
    };
    Ok(Grant {
        role,
        client: claims.client_id,
    })
}

/// Signs `claims` with `secret` (tests, tools issuing tokens).
///
/// # Errors
/// When the claims cannot be encoded.
pub fn sign(claims: &Claims, secret: &[u8]) -> Result<String, jsonwebtoken::errors::Error> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn supabase_tokens_carry_the_role_in_sync_role() {
        let project = Uuid::from_u128(3);
        let mut supabase = claims(project, "authenticated", FAR);
        supabase.sub = Some("6f1c8a52-8d0e-4c55-b4b4-5c0f3f2f7f10".to_owned());
        supabase.sync_role = Some("editor".to_owned());
        // Supabase also sets `aud`; an unknown claim is ignored.
        let mut json = serde_json::to_value(&supabase).unwrap();
        json["aud"] = "authenticated".into();
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &json,
            &EncodingKey::from_secret(b"s"),
        )
        .unwrap();
        assert_eq!(verify(&token, b"s", project).unwrap().role, Role::Editor);
        supabase.sync_role = None;
        let plain = sign(&supabase, b"s").unwrap();
        assert_eq!(
            verify(&plain, b"s", project).unwrap_err().code(),
            "auth.unknown_role"
        );
    }

    fn claims(project: Uuid, role: &str, exp: u64) -> Claims {
        Claims {
            project_id: project.to_string(),
            role: role.to_owned(),
            exp,
            sub: None,
            sync_role: None,
            client_id: Some(9),
        }
    }

    const FAR: u64 = 4_000_000_000;

    #[test]
    fn each_refusal_has_its_code_and_status() {
        let project = Uuid::from_u128(1);
        let good = sign(&claims(project, "agent", FAR), b"s").unwrap();
        assert_eq!(
            verify(&good, b"s", project),
            Ok(Grant {
                role: Role::Agent,
                client: Some(9)
            })
        );
        let cases = [
            (verify(&good, b"other", project), "auth.bad_signature", 401),
            (
                verify(
                    &sign(&claims(project, "editor", 1), b"s").unwrap(),
                    b"s",
                    project,
                ),
                "auth.expired",
                401,
            ),
            (verify("not.a.jwt", b"s", project), "auth.malformed", 401),
            (
                verify(&good, b"s", Uuid::from_u128(2)),
                "auth.wrong_project",
                403,
            ),
            (
                verify(
                    &sign(&claims(project, "admin", FAR), b"s").unwrap(),
                    b"s",
                    project,
                ),
                "auth.unknown_role",
                403,
            ),
        ];
        for (result, code, status) in cases {
            let error = result.unwrap_err();
            assert_eq!((error.code(), error.status()), (code, status), "{error}");
        }
        let grant = verify(&good, b"s", project).unwrap();
        assert_eq!(grant.check_client(9), Ok(()));
        let error = grant.check_client(10).unwrap_err();
        assert_eq!((error.code(), error.status()), ("auth.wrong_client", 403));
        let anonymous = Grant {
            role: Role::Editor,
            client: None,
        };
        assert_eq!(
            anonymous.check_client(1).unwrap_err().code(),
            "auth.no_client"
        );
        assert_eq!(
            AuthError::Missing.to_string(),
            "no token: pass ?token= or Authorization: Bearer"
        );
    }
}
