//! Make sure the pinned front-end packages (package.json / package-lock.json at the workspace
//! root) are installed, then tell the crate where they are so it can embed their compiled `dist`
//! files. Nothing third-party is copied into the repository.

use std::path::PathBuf;
use std::process::Command;

const NEEDED: &[&str] =
    &["nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css", "nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.js"];

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
    // The stylesheet names the Frutiger web fonts on assets.nhs.uk. Our Content-Security-Policy
    // allows fonts from 'self' only, so the browser would refuse them (an error in the console
    // on every page) and fall back to Arial anyway: leave those @font-face rules out.
    let css_path = modules.join("nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css");
    let css = std::fs::read_to_string(&css_path).map_err(|e| format!("reading {}: {e}", css_path.display()))?;
    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    std::fs::write(out.join("nhsuk-frontend.min.css"), without_remote_fonts(&css)).map_err(|e| e.to_string())?;
    Ok(())
}

/// `css` without the `@font-face` rules that load fonts from another site.
fn without_remote_fonts(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("@font-face{") {
        let Some(len) = rest[start..].find('}') else { break };
        let rule = &rest[start..=start + len];
        out.push_str(&rest[..start]);
        if !rule.contains("url(https://") && !rule.contains("url(http://") {
            out.push_str(rule);
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}
