//! docs/tcp-close.md and the README's picture are generated from real captures
//! by docs/generate.sh: they must match what synack prints now.

use std::process::Command;

#[test]
fn generated_docs_are_up_to_date() {
    let out = Command::new("bash")
        .arg("docs/generate.sh")
        .arg("--check")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SYNACK", env!("CARGO_BIN_EXE_synack"))
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "docs drifted from the tool; run docs/generate.sh\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
