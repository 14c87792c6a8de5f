//! Anchors of the audit trail, kept in the data folder beside (not inside) the database.
//!
//! `audit-anchors.log` holds one line per anchor, `seq hash at mac`, appended and synced; the MAC
//! key is `audit-anchor.key` (created on first use, readable by its owner only) or the file
//! named by `LINKWORK_AUDIT_KEY_FILE`. `linkwork serve` anchors the head every ten minutes and
//! when it stops, `linkwork audit anchor` on demand, and `linkwork audit verify` after every
//! successful check; each anchor is also written to the log. Verification then fails when the
//! trail ends before the latest anchor or its anchored event changed (`domain::audit::Anchor`).

use anyhow::Context;
use linkwork_domain::Clock;
use linkwork_domain::access::audit::Anchor;
use linkwork_domain::ports::Store;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const LOG: &str = "audit-anchors.log";
pub const KEY: &str = "audit-anchor.key";

/// The anchor log and its key.
pub struct Anchors {
    log: PathBuf,
    key: Vec<u8>,
}

impl Anchors {
    /// Open the data folder's anchors, creating the key on first use. `key_file` overrides the
    /// key's place (a secret kept elsewhere, so a copy of the data folder cannot forge anchors).
    pub fn open(data_dir: &Path, key_file: Option<&Path>) -> anyhow::Result<Anchors> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data folder {}", data_dir.display()))?;
        let key_path = key_file.map_or_else(|| data_dir.join(KEY), Path::to_path_buf);
        if !key_path.exists() {
            if key_file.is_some() {
                anyhow::bail!("the audit anchor key file {} does not exist", key_path.display());
            }
            let fresh = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
            write_private(&key_path, fresh.as_bytes())?;
        }
        let key = std::fs::read(&key_path)
            .with_context(|| format!("cannot read the audit anchor key {}", key_path.display()))?;
        let key = String::from_utf8_lossy(&key).trim().as_bytes().to_vec();
        if key.len() < 16 {
            anyhow::bail!("the audit anchor key {} is too short (at least 16 characters)", key_path.display());
        }
        Ok(Anchors { log: data_dir.join(LOG), key })
    }

    /// Every anchor recorded, oldest first. A line whose MAC does not match is an error: the
    /// anchors themselves were altered.
    pub fn all(&self) -> anyhow::Result<Vec<Anchor>> {
        let text = match std::fs::read_to_string(&self.log) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", self.log.display())),
        };
        let mut out = vec![];
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let bad = || anyhow::anyhow!("line {} of {} is not an anchor linkwork wrote", n + 1, self.log.display());
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [seq, hash, at, mac] = parts.as_slice() else { return Err(bad()) };
            let anchor = Anchor {
                seq: seq.parse().map_err(|_| bad())?,
                hash: (*hash).to_owned(),
                at: chrono::DateTime::parse_from_rfc3339(at).map_err(|_| bad())?.to_utc(),
                mac: (*mac).to_owned(),
            };
            if !anchor.is_signed_by(&self.key) {
                return Err(bad());
            }
            out.push(anchor);
        }
        Ok(out)
    }

    /// The anchor with the highest sequence number.
    pub fn latest(&self) -> anyhow::Result<Option<Anchor>> {
        Ok(self.all()?.into_iter().max_by_key(|a| a.seq))
    }

    /// Anchor the trail's current head, unless the latest anchor already holds it. Returns the
    /// anchor written.
    pub async fn record(&self, store: &dyn Store, clock: &dyn Clock) -> anyhow::Result<Option<Anchor>> {
        let Some((seq, hash)) = store.audit_head().await? else { return Ok(None) };
        if self.latest()?.is_some_and(|a| a.seq == seq && a.hash == hash) {
            return Ok(None);
        }
        let a = Anchor::new(&self.key, seq, &hash, clock.now());
        let line =
            format!("{} {} {} {}\n", a.seq, a.hash, a.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true), a.mac);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("cannot write {}", self.log.display()))?;
        f.write_all(line.as_bytes())?;
        f.sync_all()?;
        tracing::info!(seq = a.seq, hash = %a.hash, "audit trail anchored");
        Ok(Some(a))
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot create {}", path.display()))
}
