//! Configuration: one struct, built from defaults, then `LINKWORK_*` environment variables, then
//! command-line flags (clap reads both, flags winning). Secrets can come from files
//! (`LINKWORK_DATABASE_URL_FILE`) so they stay out of process listings and shell history, and the
//! `Debug` output redacts them.

use clap::Args;
use linkwork_storage::{DatabaseLocation, redact_url};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Settings shared by every command.
#[derive(Args, Clone)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LINKWORK_LISTEN", default_value = "127.0.0.1:8080", global = true)]
    pub listen: String,

    /// Data folder: holds the embedded SQLite database (and backups taken before migrations).
    #[arg(long = "data", env = "LINKWORK_DATA", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// PostgreSQL URL (postgres://USER:PASSWORD@HOST:5432/DB). Without it, SQLite in the data folder.
    #[arg(long, env = "LINKWORK_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// A file holding the database URL (for secrets managers). Used when --database-url is not given.
    #[arg(long, env = "LINKWORK_DATABASE_URL_FILE", global = true)]
    pub database_url_file: Option<PathBuf>,

    /// The address people use to reach linkwork, e.g. https://linkwork.example.nhs.uk. When it is
    /// https, cookies are marked Secure and HSTS is sent; its origin is trusted for form posts.
    #[arg(long, env = "LINKWORK_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Reverse proxies in front of linkwork (IP addresses, comma-separated). Only their
    /// X-Forwarded-For header is believed, for throttling and the audit trail.
    #[arg(long = "trusted-proxy", env = "LINKWORK_TRUSTED_PROXIES", value_delimiter = ',', global = true)]
    pub trusted_proxies: Vec<String>,

    /// SMTP server for email (smtps://USER:PASSWORD@HOST:465). Without it, email goes to the log.
    #[arg(long, env = "LINKWORK_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// A file holding the SMTP URL. Used when --smtp-url is not given.
    #[arg(long, env = "LINKWORK_SMTP_URL_FILE", global = true)]
    pub smtp_url_file: Option<PathBuf>,

    /// The sender address for email.
    #[arg(long, env = "LINKWORK_SMTP_FROM", default_value = "linkwork@localhost", global = true)]
    pub smtp_from: String,

    /// Send text messages (appointment reminders) through this email-to-SMS gateway domain: a
    /// text to 07700 900123 is emailed to 447700900123@DOMAIN. Without it, texts go to the log.
    #[arg(long, env = "LINKWORK_SMS_EMAIL_GATEWAY", global = true)]
    pub sms_email_gateway: Option<String>,

    /// Days a referral to a voluntary service may wait for an answer before the service is
    /// reminded; as many again and it is marked not answered for the link worker.
    #[arg(long, env = "LINKWORK_REFERRAL_NUDGE_DAYS", default_value_t = linkwork_domain::connections::DEFAULT_NUDGE_DAYS, global = true)]
    pub referral_nudge_days: i64,

    /// Log format: text or json.
    #[arg(long, env = "LINKWORK_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: String,

    /// The key that signs the audit trail's anchors (at least 16 characters). Without it, a
    /// key is created in the data folder; keeping it elsewhere means a copy of the data folder
    /// cannot forge anchors.
    #[arg(long, env = "LINKWORK_AUDIT_KEY_FILE", global = true)]
    pub audit_key_file: Option<PathBuf>,
}

impl Config {
    /// The audit trail's anchors in the data folder.
    pub fn anchors(&self) -> anyhow::Result<crate::audit_anchor::Anchors> {
        crate::audit_anchor::Anchors::open(&self.data_dir, self.audit_key_file.as_deref())
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_deref().map(redact_url))
            .field("database_url_file", &self.database_url_file)
            .field("public_url", &self.public_url)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("smtp_url_file", &self.smtp_url_file)
            .field("smtp_from", &self.smtp_from)
            .field("sms_email_gateway", &self.sms_email_gateway)
            .field("referral_nudge_days", &self.referral_nudge_days)
            .field("audit_key_file", &self.audit_key_file)
            .field("log_format", &self.log_format)
            .finish()
    }
}

impl Config {
    /// Where the database is: the URL (flag, env or file) or the SQLite file in the data folder.
    pub fn database(&self) -> anyhow::Result<DatabaseLocation> {
        if let Some(url) = self.database_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            return Ok(DatabaseLocation::Url(url.to_owned()));
        }
        if let Some(file) = &self.database_url_file {
            let url = std::fs::read_to_string(file).map_err(|e| {
                anyhow::anyhow!("cannot read the database URL file {} ({e}); check the path given by --database-url-file or LINKWORK_DATABASE_URL_FILE", file.display())
            })?;
            return Ok(DatabaseLocation::Url(url.trim().to_owned()));
        }
        Ok(DatabaseLocation::SqliteFile(self.data_dir.join("linkwork.db")))
    }

    /// How email is delivered: SMTP when configured, otherwise the log.
    pub fn mailer(&self) -> anyhow::Result<std::sync::Arc<dyn linkwork_domain::notifications::Mailer>> {
        let url = match (&self.smtp_url, &self.smtp_url_file) {
            (Some(u), _) if !u.trim().is_empty() => Some(u.trim().to_owned()),
            (_, Some(file)) => Some(std::fs::read_to_string(file).map(|s| s.trim().to_owned()).map_err(|e| {
                anyhow::anyhow!(
                    "cannot read the SMTP URL file {} ({e}); check --smtp-url-file or LINKWORK_SMTP_URL_FILE",
                    file.display()
                )
            })?),
            _ => None,
        };
        Ok(match url {
            Some(u) => {
                std::sync::Arc::new(crate::mailer::SmtpMailer::new(&u, &self.smtp_from).map_err(anyhow::Error::msg)?)
            }
            None => std::sync::Arc::new(crate::mailer::LogMailer),
        })
    }

    /// How text messages are delivered: through the email-to-SMS gateway when configured (by
    /// the given mailer), otherwise the log.
    pub fn sms(
        &self,
        mailer: std::sync::Arc<dyn linkwork_domain::notifications::Mailer>,
    ) -> std::sync::Arc<dyn linkwork_domain::notifications::SmsSender> {
        match self.sms_email_gateway.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(domain) => std::sync::Arc::new(crate::mailer::EmailGatewaySms { mailer, domain: domain.to_owned() }),
            None => std::sync::Arc::new(crate::mailer::LogSms),
        }
    }

    /// The listen address, parsed.
    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen.parse().map_err(|_| {
            anyhow::anyhow!("the listen address {:?} is not valid; use HOST:PORT, like 127.0.0.1:8080", self.listen)
        })
    }

    /// The web layer's settings.
    pub fn web(&self) -> anyhow::Result<linkwork_web::WebConfig> {
        let mut web = linkwork_web::WebConfig::default();
        for p in self.trusted_proxies.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
            web.trusted_proxies.push(p.parse().map_err(|_| {
                anyhow::anyhow!("the trusted proxy {p:?} is not an IP address; list proxies like 10.0.0.5,10.0.0.6")
            })?);
        }
        if let Some(url) = &self.public_url {
            let url = url.trim_end_matches('/');
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                anyhow::bail!("the public URL {url:?} must start with https:// (or http:// for local testing)");
            }
            web.secure_cookies = url.starts_with("https://");
            web.trusted_origins.push(url.to_owned());
            web.public_url = url.to_owned();
        } else {
            web.public_url = format!("http://{}", self.listen);
        }
        Ok(web)
    }
}

/// The documented defaults, printed by `linkwork config example`.
pub const EXAMPLE: &str = r#"# linkwork configuration. Every setting is an environment variable (shown here with its
# default) and a command-line flag of the same name (--listen, --data, ...). Flags win.

# Address to listen on.
LINKWORK_LISTEN=127.0.0.1:8080

# Data folder for the embedded SQLite database and the backups taken before migrations.
LINKWORK_DATA=./data

# PostgreSQL instead of SQLite, for multi-site deployments (several linkwork instances may share
# one server). Prefer LINKWORK_DATABASE_URL_FILE to keep the password out of the environment.
# LINKWORK_DATABASE_URL=postgres://linkwork:PASSWORD@db.internal:5432/linkwork
# LINKWORK_DATABASE_URL_FILE=/run/secrets/linkwork-database-url

# The address people use. With https, cookies are Secure and HSTS is sent.
# LINKWORK_PUBLIC_URL=https://linkwork.example.nhs.uk

# Email. Without an SMTP server, messages are written to the log and listed for administrators.
# LINKWORK_SMTP_URL=smtps://USER:PASSWORD@smtp.example.nhs.uk:465
# LINKWORK_SMTP_URL_FILE=/run/secrets/linkwork-smtp-url
LINKWORK_SMTP_FROM=linkwork@localhost

# Text messages (appointment reminders) through an email-to-SMS gateway, using the mail server
# above. Without it, text messages are written to the log and listed for administrators.
# LINKWORK_SMS_EMAIL_GATEWAY=sms.example.com
# Days before an unanswered referral to a service reminds it (then marks it not answered).
# LINKWORK_REFERRAL_NUDGE_DAYS=14

# Reverse proxies in front of linkwork; only their X-Forwarded-For is believed.
# LINKWORK_TRUSTED_PROXIES=10.0.0.5,10.0.0.6

# The key signing the audit trail's anchors (the head of the trail recorded in the data folder's
# audit-anchors.log, so deleting the last events is detected). Created in the data folder if
# not given; keep it elsewhere so a copy of the data folder cannot forge anchors.
# LINKWORK_AUDIT_KEY_FILE=/run/secrets/linkwork-audit-key

# Log format: text or json. Log verbosity: RUST_LOG (default info).
LINKWORK_LOG_FORMAT=text
"#;
