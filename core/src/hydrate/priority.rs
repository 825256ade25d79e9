//! How early a dev server needs a file: the order a hydration sends in.

use serde::{Deserialize, Serialize};

use crate::path::FilePath;

/// How early a file is needed: lower is earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// `package.json`, lockfiles, `.npmrc`/`.nvmrc`: what `npm install` reads.
    Install,
    /// `index.html`, bundler/framework/TypeScript/CSS configs, `.env` files:
    /// what the dev server reads at start.
    Config,
    /// Entry modules (`src/main.tsx`, `app/layout.tsx`, `pages/_app.tsx`, …).
    Entry,
    /// Sources, styles and public assets.
    Source,
    /// Everything else.
    Rest,
}

/// The [`Priority`] of a path, from its name alone (documented table in the
/// variants).
pub fn priority(path: &FilePath) -> Priority {
    let name = path.file_name();
    let depth = path.depth();
    let stem = name.split('.').next().unwrap_or(name);
    let top = depth == 1;
    if top
        && matches!(
            name,
            "package.json"
                | "package-lock.json"
                | "npm-shrinkwrap.json"
                | "yarn.lock"
                | "pnpm-lock.yaml"
                | "pnpm-workspace.yaml"
                | "bun.lockb"
                | "bun.lock"
                | ".npmrc"
                | ".nvmrc"
                | ".yarnrc.yml"
        )
    {
        return Priority::Install;
    }
    let config_stems = [
        "vite", "next", "nuxt", "svelte", "astro", "remix", "webpack", "rollup", "postcss",
        "tailwind", "babel", "vitest", "tsconfig", "jsconfig",
    ];
    if top
        && (name == "index.html"
            || name.starts_with(".env")
            || name.starts_with("tsconfig")
            || config_stems.contains(&stem) && name.contains(".config.")
            || name == "jsconfig.json"
            || name == ".babelrc")
    {
        return Priority::Config;
    }
    let parent = path.parent();
    let parent = parent.as_ref().map_or("", FilePath::as_str);
    let entry_dirs = ["src", "app", "pages", "src/app", "src/pages", "src/routes"];
    let entry_stems = [
        "main",
        "index",
        "App",
        "app",
        "layout",
        "page",
        "_app",
        "_document",
        "root",
        "+layout",
        "+page",
    ];
    let script = matches!(
        path.extension(),
        Some("ts" | "tsx" | "js" | "jsx" | "mjs" | "cjs" | "vue" | "svelte" | "astro")
    );
    if script && entry_dirs.contains(&parent) && entry_stems.contains(&stem) {
        return Priority::Entry;
    }
    let first = path.segments().next().unwrap_or("");
    if matches!(
        first,
        "src" | "app" | "pages" | "public" | "components" | "lib" | "styles" | "assets"
    ) {
        return Priority::Source;
    }
    Priority::Rest
}
