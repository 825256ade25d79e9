//! [`AgentError`]: everything the agent refuses or fails at, with stable codes.

use velocity_sync::PathError;

/// Why the agent refused a path or could not do its work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// A path that is not a strict project path (`..`, absolute, a device
    /// name, a segment over 255 bytes, …); nothing was written.
    #[error("refused path: {0}")]
    Path(#[from] PathError),
    /// A path under an ignored directory (`node_modules/`, `dist/`, `.git/`,
    /// the state directory, `--ignore`): the agent does not own it.
    #[error("path {path:?} is under {rule:?}, which the agent leaves alone")]
    Ignored {
        /// The path.
        path: String,
        /// The ignore rule that matched.
        rule: String,
    },
    /// A directory on the way changed under the agent between its check and
    /// its open (a symlink swapped in): the write was abandoned.
    #[error("directory {path:?} changed while it was being opened (a symlink swapped in?)")]
    Raced {
        /// The directory.
        path: String,
    },
    /// Another file in the same directory has the same portable key
    /// (`README.md` beside `readme.md`, NFC beside NFD): on a case-insensitive
    /// or normalising disk one would overwrite the other.
    #[error("path {path:?} collides with {existing:?} on a case-insensitive disk")]
    Collision {
        /// The path refused.
        path: String,
        /// The name already there.
        existing: String,
    },
    /// A file of the project whose content the client does not hold.
    #[error("no content for {path:?} (hash {hash})")]
    MissingContent {
        /// The path.
        path: String,
        /// The content hash.
        hash: String,
    },
    /// The state file or journal could not be read or written.
    #[error("state file {what}: {message}")]
    State {
        /// Which file.
        what: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The server could not be reached or refused the connection.
    #[error("connection to {url}: {message}")]
    Connect {
        /// The URL (token removed).
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A file system operation failed.
    #[error("{op} {path:?}: {source}")]
    Io {
        /// What the agent was doing.
        op: &'static str,
        /// On which path (relative to the root).
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl AgentError {
    /// The stable code of this error (`agent.*`, or the path's own code).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Path(inner) => inner.code(),
            Self::Ignored { .. } => "agent.ignored",
            Self::Raced { .. } => "agent.raced",
            Self::Collision { .. } => "agent.collision",
            Self::MissingContent { .. } => "agent.missing_content",
            Self::State { .. } => "agent.state",
            Self::Connect { .. } => "agent.connect",
            Self::Io { .. } => "agent.io",
        }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_code_and_names_its_value() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let cases = [
            (
                AgentError::from(velocity_sync::FilePath::parse("../x").unwrap_err()),
                "path.parent_segment",
                "../x",
            ),
            (
                AgentError::Ignored {
                    path: "node_modules/a".into(),
                    rule: "node_modules/".into(),
                },
                "agent.ignored",
                "node_modules/a",
            ),
            (
                AgentError::Raced { path: "src".into() },
                "agent.raced",
                "src",
            ),
            (
                AgentError::Collision {
                    path: "readme.md".into(),
                    existing: "README.md".into(),
                },
                "agent.collision",
                "README.md",
            ),
            (
                AgentError::MissingContent {
                    path: "a".into(),
                    hash: "00".into(),
                },
                "agent.missing_content",
                "\"a\"",
            ),
            (
                AgentError::State {
                    what: "state.json",
                    message: "bad".into(),
                },
                "agent.state",
                "state.json",
            ),
            (
                AgentError::Connect {
                    url: "ws://x".into(),
                    message: "refused".into(),
                },
                "agent.connect",
                "ws://x",
            ),
            (AgentError::io("write", "a.txt", io), "agent.io", "a.txt"),
        ];
        for (error, code, shown) in cases {
            assert_eq!(error.code(), code);
            assert!(error.to_string().contains(shown), "{error}");
        }
    }
}
