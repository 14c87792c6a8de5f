//! Bootstrapping from the command line: organisations and user accounts. Usable in scripts: a
//! password comes on standard input, never as an argument.

use anyhow::{Context, bail};
use linkwork_domain::Clock;
use linkwork_domain::access::accounts::{Role, RoleGrant, User};
use linkwork_domain::access::audit::{AuditAction, AuditEntry, Direct, GENESIS, verify_chain};
use linkwork_domain::access::organisations::Organisation;
use linkwork_domain::ids::{OrgId, UserId};
use linkwork_domain::ports::{Created, Store, StoreError};
use linkwork_domain::usecases::access::{NewOrganisation, create_organisation};
use linkwork_domain::usecases::{Caller, Failure, Services};
use linkwork_domain::values::Email;
use linkwork_storage::SqlStore;

/// Look an organisation up by ODS code or name, with a sentence when there is none.
pub async fn find_org(store: &dyn Store, key: &str) -> anyhow::Result<Organisation> {
    match store.find_org(key).await {
        Ok(o) => Ok(o),
        Err(StoreError::NotFound) => {
            bail!("no organisation has the ODS code or name {key:?}; see `linkwork org list`")
        }
        Err(e) => Err(e.into()),
    }
}

/// `linkwork org create`: the operator's way in to the one use case the API also calls
/// (`usecases::access::create_organisation`); the parent is named by ODS code or name. Audited.
pub async fn create_org(
    store: &dyn Store,
    clock: &dyn Clock,
    name: &str,
    kind: &str,
    ods: Option<&str>,
    parent: Option<&str>,
) -> anyhow::Result<Organisation> {
    let parent_id = match parent {
        Some(p) => Some(find_org(store, p).await?.id),
        None => None,
    };
    let input =
        NewOrganisation { name: name.to_owned(), kind: kind.to_owned(), ods_code: ods.map(str::to_owned), parent_id };
    let services = Services { store, audit: &Direct(store), clock };
    match create_organisation(services, &Caller::operator(), &input, None).await {
        Ok(Created::New(o) | Created::Replayed(o)) => Ok(o),
        Err(Failure::Invalid(errors)) => {
            bail!("{}", errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join("; "))
        }
        Err(Failure::Conflict(_)) => bail!("an organisation with this name or ODS code already exists"),
        Err(e) => Err(e.into()),
    }
}

/// `linkwork outcomes list`: each instrument, how it is scored and whether it can be offered.
pub async fn list_instruments(store: &dyn Store) -> anyhow::Result<String> {
    use linkwork_domain::outcomes::{Licence, instruments::ALL};
    let loaded = store.loaded_wordings().await?;
    let mut out = vec![];
    for s in ALL {
        let languages: Vec<&str> = loaded.iter().filter(|(i, _)| *i == s.instrument).map(|(_, l)| l.as_str()).collect();
        let state = match s.licence {
            Licence::Free { .. } if languages.is_empty() => "offered (wording shipped, English)".to_owned(),
            Licence::Free { .. } => format!("offered (wording shipped; also loaded: {})", languages.join(", ")),
            Licence::Registration { .. } if languages.is_empty() => {
                "NOT offered until its wording is loaded (linkwork outcomes load-wording FILE)".to_owned()
            }
            Licence::Registration { .. } => format!("offered (wording loaded: {})", languages.join(", ")),
            Licence::Proprietary { .. } => "totals imported only".to_owned(),
        };
        out.push(format!(
            "{:<15} {}: {}\n                {}",
            s.instrument.as_str(),
            s.instrument.label(),
            state,
            s.source
        ));
    }
    Ok(out.join("\n"))
}

/// `linkwork outcomes load-wording FILE`: checked against the declaration, audited.
pub async fn load_wording(store: &dyn Store, clock: &dyn Clock, file: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let services = Services { store, audit: &Direct(store), clock };
    match linkwork_domain::usecases::outcomes::load_wording(services, &Caller::operator(), &text).await {
        Ok(w) => Ok(format!(
            "Loaded the {} wording of {}: {} items. It can be offered from now on.",
            w.language,
            w.instrument.label(),
            w.items.len()
        )),
        Err(Failure::Invalid(errors)) => {
            bail!(
                "{} was not loaded: {}",
                file.display(),
                errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join("; ")
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// `linkwork user create`.
pub async fn create_user(
    store: &dyn Store,
    clock: &dyn Clock,
    email: &str,
    name: Option<&str>,
    roles: &[String],
    org: &str,
    password: &str,
) -> anyhow::Result<User> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("{e}"))?;
    let org = find_org(store, org).await?;
    if roles.is_empty() {
        bail!("give at least one --role");
    }
    let roles = roles
        .iter()
        .map(|r| r.parse::<Role>().map(|role| RoleGrant { org_id: org.id, role }))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    linkwork_web::access::passwords::check_new_password(password).map_err(anyhow::Error::msg)?;
    let hash =
        linkwork_web::access::passwords::hash(password).map_err(anyhow::Error::msg).context("hashing the password")?;
    let display_name =
        name.map_or_else(|| email.as_str().split('@').next().unwrap_or("user").to_owned(), str::to_owned);
    let user = User {
        id: UserId::new(),
        org_id: org.id,
        email,
        display_name,
        password_hash: hash,
        disabled: false,
        is_demo: false,
        roles,
        created_at: clock.now(),
        session_generation: 0,
    };
    match store.create_user(&user).await {
        Ok(()) => Ok(user),
        Err(StoreError::Conflict(_)) => {
            bail!("a user with the email {} already exists", user.email)
        }
        Err(e) => Err(e.into()),
    }
}

/// `linkwork user disable`: the account can no longer sign in, and its sessions end now.
pub async fn disable_user(store: &dyn Store, email: &str) -> anyhow::Result<u64> {
    let user = match store.find_user_by_email(email).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => {
            bail!("no user has the email {email:?}; see `linkwork user list`")
        }
        Err(e) => return Err(e.into()),
    };
    store.set_user_disabled(user.id, true).await?;
    Ok(store.delete_user_sessions(user.id).await?)
}

/// Record an administrative act done from the command line (the actor is the operator's shell).
pub async fn audit_cli(
    store: &dyn Store,
    clock: &dyn Clock,
    action: AuditAction,
    record_type: &str,
    record_id: String,
    org: Option<OrgId>,
) -> anyhow::Result<()> {
    let entry = AuditEntry {
        actor: "command line".into(),
        org_id: org,
        record_id: Some(record_id),
        ..AuditEntry::new(clock.now(), action, record_type)
    };
    store.append_audit(&[entry]).await.context("writing the audit trail")?;
    Ok(())
}

/// What `linkwork audit verify` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    Intact {
        events: i64,
        last_hash: String,
    },
    Broken(linkwork_domain::access::audit::BrokenLink),
    /// The chain holds, but it is shorter than (or differs from) the latest anchor.
    Cut(String),
}

/// Verify the chain, then check it against the latest anchor kept outside the database.
pub async fn verify_anchored(store: &dyn Store, anchors: &crate::audit_anchor::Anchors) -> anyhow::Result<Verified> {
    let verified = verify_audit(store).await?;
    let Verified::Intact { events, .. } = &verified else { return Ok(verified) };
    if let Some(anchor) = anchors.latest()? {
        let at = store.audit_after(anchor.seq - 1, 1).await?.into_iter().find(|e| e.seq == anchor.seq).map(|e| e.hash);
        if let Err(why) = anchor.check(*events, at.as_deref()) {
            return Ok(Verified::Cut(why));
        }
    }
    Ok(verified)
}

/// Walk the whole audit trail in order, checking every link.
pub async fn verify_audit(store: &dyn Store) -> anyhow::Result<Verified> {
    let (mut seq, mut hash) = (0_i64, GENESIS.to_owned());
    loop {
        let page = store.audit_after(seq, 5000).await?;
        if page.is_empty() {
            return Ok(Verified::Intact { events: seq, last_hash: hash });
        }
        match verify_chain(&page, seq, &hash) {
            Ok((s, h)) => (seq, hash) = (s, h),
            Err(broken) => return Ok(Verified::Broken(broken)),
        }
    }
}

/// The data folder's files a backup carries beside the database: the audit trail's anchors and
/// their key (without them, a restored trail cannot show its end was not cut).
const CARRIED: &[&str] = &[crate::audit_anchor::LOG, crate::audit_anchor::KEY];

/// `linkwork backup DEST`: a new folder with a checked copy of the database and the anchors.
pub async fn backup(store: &SqlStore, data: &std::path::Path, dest: &std::path::Path) -> anyhow::Result<String> {
    if dest.exists() && std::fs::read_dir(dest).map(|mut d| d.next().is_some()).unwrap_or(true) {
        bail!("{} is not empty: back up into a new folder", dest.display());
    }
    std::fs::create_dir_all(dest).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dest.display()))?;
    // The anchors first: every anchor copied is then at or before the database's copy, so the
    // restored trail reaches its latest anchor.
    for f in CARRIED {
        let from = data.join(f);
        if from.exists() {
            std::fs::copy(&from, dest.join(f)).map_err(|e| anyhow::anyhow!("cannot copy {}: {e}", from.display()))?;
        }
    }
    let report = store.backup_to(&dest.join("linkwork.db")).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(format!(
        "Backed up {} tables ({} bytes) to {} in {} ms; the copy passed its integrity check.",
        report.tables,
        report.bytes,
        dest.display(),
        report.millis
    ))
}

/// `linkwork restore SRC`: only into a data folder without a database.
pub async fn restore(
    location: &linkwork_storage::DatabaseLocation,
    data: &std::path::Path,
    src: &std::path::Path,
) -> anyhow::Result<String> {
    let started = std::time::Instant::now();
    let linkwork_storage::DatabaseLocation::SqliteFile(target) = location else {
        bail!("linkwork restores SQLite backups only: restore PostgreSQL with pg_restore into an empty database");
    };
    if target.exists() {
        bail!("{} already holds a database: restore into an empty data folder (--data)", data.display());
    }
    let copy = src.join("linkwork.db");
    if !copy.exists() {
        bail!("{} holds no linkwork.db: name a folder made by linkwork backup", src.display());
    }
    linkwork_storage::backup::check_file(&copy)
        .await
        .map_err(|e| anyhow::anyhow!("the backup fails its integrity check ({e}): it cannot be restored"))?;
    std::fs::create_dir_all(data)?;
    for f in CARRIED {
        if data.join(f).exists() {
            bail!("{} already holds {f}: restore into an empty data folder", data.display());
        }
    }
    std::fs::copy(&copy, target)?;
    for f in CARRIED {
        if src.join(f).exists() {
            std::fs::copy(src.join(f), data.join(f))?;
        }
    }
    Ok(format!("Restored {} into {} in {} ms.", src.display(), data.display(), started.elapsed().as_millis()))
}
