//! [`Ignore`]: the parts of the root the agent does not own.

use velocity_sync::FilePath;

/// Top-level directories left alone by default: installed packages, build
/// output and caches of the usual dev servers, version control, and the
/// agent's own state directory.
pub const DEFAULT_IGNORED: &[&str] = &[
    ".velocity-sync",
    "node_modules",
    ".git",
    "dist",
    "build",
    ".next",
    ".nuxt",
    ".svelte-kit",
    ".vite",
    ".turbo",
    ".cache",
    "coverage",
];

/// Paths the agent neither writes, removes, nor reports as drift: a rule
/// `name` covers `name` and everything below it, at the top of the root
/// (`dist`) or at any depth when written `**/name` (`**/node_modules`).
#[derive(Debug, Clone)]
pub struct Ignore {
    top: Vec<String>,
    anywhere: Vec<String>,
}

impl Default for Ignore {
    fn default() -> Self {
        Self::new(DEFAULT_IGNORED.iter().copied())
    }
}

impl Ignore {
    /// Rules from `rules` (trailing `/` allowed).
    ///
    /// ```
    /// use velocity_sync::FilePath;
    /// use velocity_sync_agent::Ignore;
    /// let ignore = Ignore::new(["dist", "**/node_modules/"]);
    /// let path = |p| FilePath::parse(p).unwrap();
    /// assert!(ignore.rule_for(&path("dist/index.js")).is_some());
    /// assert!(ignore.rule_for(&path("packages/a/node_modules/x.js")).is_some());
    /// assert!(ignore.rule_for(&path("src/dist/x.ts")).is_none());
    /// ```
    pub fn new<'a>(rules: impl IntoIterator<Item = &'a str>) -> Self {
        let mut top = Vec::new();
        let mut anywhere = Vec::new();
        for rule in rules {
            let rule = rule.trim().trim_end_matches('/');
            if let Some(name) = rule.strip_prefix("**/") {
                anywhere.push(name.to_owned());
            } else if !rule.is_empty() {
                top.push(rule.to_owned());
            }
        }
        Self { top, anywhere }
    }

    /// The default rules plus `extra`.
    pub fn with_defaults<'a>(extra: impl IntoIterator<Item = &'a str>) -> Self {
        Self::new(DEFAULT_IGNORED.iter().copied().chain(extra))
    }

    /// The rule that covers `path`, if any.
    pub fn rule_for(&self, path: &FilePath) -> Option<String> {
        self.rule_for_str(path.as_str())
    }

    /// Like [`rule_for`](Self::rule_for), for a relative path with `/`.
    pub fn rule_for_str(&self, path: &str) -> Option<String> {
        for rule in &self.top {
            if path
                .strip_prefix(rule.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            {
                return Some(rule.clone());
            }
        }
        for name in &self.anywhere {
            if path.split('/').any(|segment| segment == name) {
                return Some(format!("**/{name}"));
            }
        }
        None
    }
}
