//! The C test programs in `tests/c/`, compiled with the system C compiler
//! against the committed header and this crate's libraries, run under
//! AddressSanitizer, LeakSanitizer and UBSan: any failed check, memory error
//! or leak fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// `target/<profile>/deps`, where `cargo test` builds this crate's cdylib
/// and staticlib next to the test executables (`cargo build` copies them
/// one level up, but the test run must not depend on an earlier build).
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().to_path_buf()
}

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Compiles `tests/c/<name>.c` with `flags` and returns the executable.
fn compile(name: &str, variant: &str, flags: &[&str], link: &[&str]) -> PathBuf {
    let out_dir = lib_dir().join("c-tests");
    std::fs::create_dir_all(&out_dir).unwrap();
    let exe = out_dir.join(format!("{name}-{variant}"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let output = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g"])
        .args(flags)
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg(crate_dir().join(format!("tests/c/{name}.c")))
        .arg("-o")
        .arg(&exe)
        .args(link)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc:?}: {e}"));
    assert!(
        output.status.success(),
        "compiling {name}.c failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    exe
}

/// Runs a compiled test program and checks it reported no failure.
fn run(exe: &Path, args: &[&Path]) -> String {
    let output = Command::new(exe)
        .args(args)
        .env(
            "ASAN_OPTIONS",
            "detect_leaks=1:abort_on_error=0:halt_on_error=1",
        )
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(" 0 failed") && !stderr.contains("Sanitizer"),
        "{} failed ({}):\n{stdout}\n{stderr}",
        exe.display(),
        output.status
    );
    stdout
}

fn sanitized(name: &str) -> PathBuf {
    let dir = lib_dir();
    let rpath = format!("-Wl,-rpath,{}", dir.display());
    compile(
        name,
        "asan",
        &[
            "-fsanitize=address,undefined",
            "-fno-omit-frame-pointer",
            "-fno-sanitize-recover=all",
        ],
        &["-L", dir.to_str().unwrap(), "-lvelocity_sync_ffi", &rpath],
    )
}

#[test]
fn c_client_server_exchange_is_clean_under_sanitizers() {
    let stdout = run(&sanitized("exchange"), &[]);
    assert!(stdout.contains("c exchange:"), "{stdout}");
}

#[test]
fn c_program_links_the_static_library() {
    let lib = lib_dir().join("libvelocity_sync_ffi.a");
    let exe = compile(
        "exchange",
        "static",
        &[],
        &[lib.to_str().unwrap(), "-lpthread", "-ldl", "-lm"],
    );
    run(&exe, &[]);
}

#[test]
fn c_conformance_vectors_match_byte_for_byte() {
    let vectors = crate_dir().join("../conformance/vectors.json");
    let stdout = run(&sanitized("conformance"), &[&vectors]);
    assert!(stdout.contains("c conformance:"), "{stdout}");
}

#[test]
fn the_sanitizer_set_up_reports_a_leaked_buffer() {
    let output = Command::new(sanitized("leak"))
        .env("ASAN_OPTIONS", "detect_leaks=1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a leaked VsBuf went unnoticed");
    assert!(
        stderr.contains("LeakSanitizer") && stderr.contains("leak.c"),
        "{stderr}"
    );
}
