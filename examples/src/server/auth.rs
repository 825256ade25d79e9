//! Access tokens: HS256 JWTs (the kind Supabase issues) naming a project and
//! a role, verified with the configured secret before a connection opens.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use velocity_sync::Role;

/// What a token claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The project the token opens.
    pub project_id: String,
    /// `editor`, `agent` or `viewer`.
    pub role: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Who (a user or service id); informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

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
}

impl AuthError {
    /// The HTTP status to refuse with: 401 when the token cannot be trusted,
    /// 403 when it is valid but does not open this project.
    pub fn status(&self) -> u16 {
        match self {
            Self::WrongProject { .. } | Self::UnknownRole { .. } => 403,
            Self::BadSignature | Self::Expired | Self::Malformed { .. } | Self::Missing => 401,
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
        }
    }
}

/// Verifies `token` for `project` with `secret`; returns the role it grants.
///
/// # Errors
/// An [`AuthError`] naming why the token is refused.
pub fn verify(token: &str, secret: &[u8], project: Uuid) -> Result<Role, AuthError> {
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
    match claims.role.as_str() {
        "editor" => Ok(Role::Editor),
        "agent" => Ok(Role::Agent),
        "viewer" => Ok(Role::Viewer),
        other => Err(AuthError::UnknownRole {
            role: other.chars().take(40).collect(),
        }),
    }
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

    fn claims(project: Uuid, role: &str, exp: u64) -> Claims {
        Claims {
            project_id: project.to_string(),
            role: role.to_owned(),
            exp,
            sub: None,
        }
    }

    const FAR: u64 = 4_000_000_000;

    #[test]
    fn each_refusal_has_its_code_and_status() {
        let project = Uuid::from_u128(1);
        let good = sign(&claims(project, "agent", FAR), b"s").unwrap();
        assert_eq!(verify(&good, b"s", project), Ok(Role::Agent));
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
        assert_eq!(
            AuthError::Missing.to_string(),
            "no token: pass ?token= or Authorization: Bearer"
        );
    }
}
