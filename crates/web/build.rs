//! Make sure the pinned front-end packages (package.json / package-lock.json at the workspace
//! root) are installed, then tell the crate where they are so it can embed their compiled `dist`
//! files. Nothing third-party is copied into the repository.

use std::path::PathBuf;
use std::process::Command;

const NEEDED: &[&str] = &[
    "nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css",
    "nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.js",
    "htmx.org/dist/htmx.min.js",
];

fn main() -> Result<(), String> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let root = manifest.join("../..").canonicalize().map_err(|e| e.to_string())?;
    let modules = root.join("node_modules");
    println!("cargo:rerun-if-changed={}", root.join("package-lock.json").display());
    for n in NEEDED {
        println!("cargo:rerun-if-changed={}", modules.join(n).display());
    }
    if NEEDED.iter().any(|n| !modules.join(n).exists()) {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&root)
            .status()
            .map_err(|e| format!("the NHS.UK frontend is not installed and `npm ci` could not run ({e}); install Node.js and npm, then run `npm ci` in {}", root.display()))?;
        if !status.success() {
            return Err(format!("`npm ci` failed in {}; run it by hand to see why", root.display()));
        }
    }
    println!("cargo:rustc-env=LINKWORK_NODE_MODULES={}", modules.display());
    Ok(())
}
