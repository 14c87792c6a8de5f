//! The job queue and the notification outbox, on both backends.

use chrono::Duration;
use linkwork::mailer::LogMailer;
use linkwork::worker::{LEASE, Worker};
use linkwork_domain::ids::MessageId;
use linkwork_domain::jobs::NewJob;
use linkwork_domain::notifications::{DELIVER_MESSAGE_JOB, DeliveryError, Mailer, MessageStatus, OutboxMessage};
use linkwork_domain::ports::*;
use linkwork_domain::{Clock, FixedClock};
use linkwork_storage::SqlStore;
use linkwork_testkit::{TestDb, db_test, test_epoch};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn message(clock: &dyn Clock) -> OutboxMessage {
    OutboxMessage {
        id: MessageId::new(),
        org_id: None,
        channel: "email".into(),
        recipient: "amy@example.nhs.uk".into(),
        subject: "Your linkwork invitation".into(),
        body: "Follow the link to set your password.".into(),
        status: MessageStatus::Pending,
        created_at: clock.now(),
        sent_at: None,
    }
}

/// A mailer that fails a set number of times, then succeeds.
struct Flaky {
    failures_left: AtomicUsize,
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl Mailer for Flaky {
    async fn deliver(&self, _: &OutboxMessage) -> Result<MessageStatus, DeliveryError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.failures_left.load(Ordering::SeqCst) > 0 {
            self.failures_left.fetch_sub(1, Ordering::SeqCst);
            return Err(DeliveryError::Transient("SMTP server said 451 try later".into()));
        }
        Ok(MessageStatus::Sent)
    }
}

/// A mailer whose every answer is final: the address cannot take mail.
struct Refusing {
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl Mailer for Refusing {
    async fn deliver(&self, _: &OutboxMessage) -> Result<MessageStatus, DeliveryError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(DeliveryError::Permanent("SMTP server said 550 no such mailbox".into()))
    }
}

fn worker(store: &SqlStore, clock: Arc<FixedClock>, mailer: Arc<dyn Mailer>, name: &str) -> Worker {
    Worker {
        store: Arc::new(store.clone()),
        clock,
        mailer,
        sms: Arc::new(linkwork::mailer::LogSms),
        name: name.into(),
        nudge_days: 14,
        public_url: "http://localhost:8080".into(),
    }
}

db_test!(outbox_message_is_delivered_once, |db: TestDb| async move {
    let clock = Arc::new(FixedClock::new(test_epoch()));
    let msg = message(clock.as_ref());
    db.store.enqueue_message(&msg).await.unwrap();
    assert_eq!(db.store.job_counts().await.unwrap().queued, 1, "the delivery job is written with the message");
    let w = worker(&db.store, clock.clone(), Arc::new(LogMailer), "w1");
    assert!(w.run_once().await.unwrap());
    assert!(!w.run_once().await.unwrap(), "nothing left");
    let stored = db.store.get_message(msg.id).await.unwrap();
    assert_eq!(stored.status, MessageStatus::Logged);
    assert_eq!(stored.sent_at, Some(clock.now()));
    assert_eq!(db.store.all_messages(10).await.unwrap(), vec![stored]);
    let counts = db.store.job_counts().await.unwrap();
    assert_eq!((counts.queued, counts.done, counts.dead), (0, 1, 0));
});

db_test!(failures_back_off_then_succeed, |db: TestDb| async move {
    let clock = Arc::new(FixedClock::new(test_epoch()));
    let msg = message(clock.as_ref());
    db.store.enqueue_message(&msg).await.unwrap();
    let flaky = Arc::new(Flaky { failures_left: AtomicUsize::new(2), calls: AtomicUsize::new(0) });
    let w = worker(&db.store, clock.clone(), flaky.clone(), "w1");
    assert!(w.run_once().await.unwrap());
    assert!(!w.run_once().await.unwrap(), "a failed job waits for its retry time");
    clock.advance(Duration::seconds(31));
    assert!(w.run_once().await.unwrap());
    clock.advance(Duration::seconds(31));
    assert!(!w.run_once().await.unwrap(), "the second retry waits longer (60 s)");
    clock.advance(Duration::seconds(30));
    assert!(w.run_once().await.unwrap());
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 3);
    assert_eq!(db.store.get_message(msg.id).await.unwrap().status, MessageStatus::Sent);
});

db_test!(exhausted_jobs_die_and_mark_the_message_failed, |db: TestDb| async move {
    let clock = Arc::new(FixedClock::new(test_epoch()));
    let msg = message(clock.as_ref());
    db.store.enqueue_message(&msg).await.unwrap();
    let flaky = Arc::new(Flaky { failures_left: AtomicUsize::new(100), calls: AtomicUsize::new(0) });
    let w = worker(&db.store, clock.clone(), flaky.clone(), "w1");
    for _ in 0..20 {
        w.run_once().await.unwrap();
        clock.advance(Duration::hours(2));
    }
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 8, "outbox deliveries get eight attempts");
    assert_eq!(db.store.job_counts().await.unwrap().dead, 1);
    assert_eq!(db.store.get_message(msg.id).await.unwrap().status, MessageStatus::Failed);
});

db_test!(a_permanent_failure_is_given_up_at_once_and_never_retried, |db: TestDb| async move {
    let clock = Arc::new(FixedClock::new(test_epoch()));
    let msg = message(clock.as_ref());
    db.store.enqueue_message(&msg).await.unwrap();
    let refusing = Arc::new(Refusing { calls: AtomicUsize::new(0) });
    let w = worker(&db.store, clock.clone(), refusing.clone(), "w1");
    assert!(w.run_once().await.unwrap());
    for _ in 0..5 {
        clock.advance(Duration::hours(2));
        assert!(!w.run_once().await.unwrap(), "nothing to retry");
    }
    assert_eq!(refusing.calls.load(Ordering::SeqCst), 1, "one attempt: trying again cannot succeed");
    let counts = db.store.job_counts().await.unwrap();
    assert_eq!((counts.queued, counts.dead), (0, 1));
    assert_eq!(db.store.get_message(msg.id).await.unwrap().status, MessageStatus::Failed);
});

db_test!(dedupe_keys_and_unknown_kinds, |db: TestDb| async move {
    let clock = Arc::new(FixedClock::new(test_epoch()));
    let job = NewJob::now("mystery", "{}".into(), clock.now()).dedupe("once");
    assert!(db.store.enqueue_job(&job).await.unwrap());
    assert!(!db.store.enqueue_job(&job).await.unwrap(), "same dedupe key: not enqueued twice");
    assert!(db.store.enqueue_job(&NewJob::now("mystery", "{}".into(), clock.now())).await.unwrap());
    let w = worker(&db.store, clock.clone(), Arc::new(LogMailer), "w1");
    assert!(w.run_once().await.unwrap());
    assert_eq!(db.store.job_counts().await.unwrap().queued, 2, "an unhandled kind is retried, not lost");
});

db_test!(a_lease_protects_a_job_until_it_runs_out, |db: TestDb| async move {
    let clock = Arc::new(FixedClock::new(test_epoch()));
    db.store.enqueue_job(&NewJob::now(DELIVER_MESSAGE_JOB, "{}".into(), clock.now())).await.unwrap();
    let first = db.store.claim_job("a", clock.now(), LEASE).await.unwrap().unwrap();
    assert_eq!(first.attempts, 1);
    assert!(db.store.claim_job("b", clock.now(), LEASE).await.unwrap().is_none(), "held by a");
    clock.advance(LEASE + Duration::seconds(1));
    let again = db.store.claim_job("b", clock.now(), LEASE).await.unwrap().unwrap();
    assert_eq!(again.id, first.id, "worker a died: b takes the job over");
    assert_eq!(again.attempts, 2);
    db.store.complete_job(again.id, clock.now()).await.unwrap();
    assert_eq!(db.store.job_counts().await.unwrap().done, 1);
});

db_test!(concurrent_workers_never_share_a_job, |db: TestDb| async move {
    let clock = Arc::new(FixedClock::new(test_epoch()));
    for i in 0..40 {
        db.store.enqueue_job(&NewJob::now("k", format!("{{\"n\":{i}}}"), clock.now())).await.unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..4 {
        let store = db.store.clone();
        let now = clock.now();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(job) = store.claim_job(&format!("w{w}"), now, LEASE).await.unwrap() {
                mine.push(job.id);
            }
            mine
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for t in tasks {
        for id in t.await.unwrap() {
            total += 1;
            assert!(seen.insert(id), "job {id} was claimed twice");
        }
    }
    assert_eq!(total, 40);
});

/// A minimal SMTP server on loopback that accepts one message and hands over its DATA.
async fn smtp_sink() -> (u16, tokio::sync::oneshot::Receiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let (r, mut w) = sock.into_split();
        let mut lines = BufReader::new(r).lines();
        w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
        let mut data = String::new();
        let mut in_data = false;
        let mut tx = Some(tx);
        while let Ok(Some(line)) = lines.next_line().await {
            if in_data {
                if line == "." {
                    in_data = false;
                    w.write_all(b"250 queued\r\n").await.unwrap();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(std::mem::take(&mut data));
                    }
                } else {
                    data.push_str(&line);
                    data.push('\n');
                }
                continue;
            }
            let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                "DATA" => {
                    in_data = true;
                    b"354 go ahead\r\n"
                }
                "QUIT" => {
                    w.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => b"250 ok\r\n",
            };
            w.write_all(reply).await.unwrap();
        }
    });
    (port, rx)
}

db_test!(email_goes_out_through_smtp_when_configured, |db: TestDb| async move {
    let (port, received) = smtp_sink().await;
    let mailer =
        linkwork::mailer::SmtpMailer::new(&format!("smtp://127.0.0.1:{port}"), "linkwork@test.nhs.uk").unwrap();
    let clock = Arc::new(FixedClock::new(test_epoch()));
    let msg = message(clock.as_ref());
    db.store.enqueue_message(&msg).await.unwrap();
    let w = worker(&db.store, clock.clone(), Arc::new(mailer), "w1");
    assert!(w.run_once().await.unwrap());
    let data = tokio::time::timeout(std::time::Duration::from_secs(10), received).await.unwrap().unwrap();
    assert!(data.contains("Subject: Your linkwork invitation"), "{data}");
    assert!(data.contains("To: amy@example.nhs.uk") && data.contains("From: linkwork@test.nhs.uk"), "{data}");
    assert!(data.contains("Follow the link to set your password."));
    assert_eq!(db.store.get_message(msg.id).await.unwrap().status, MessageStatus::Sent);
});

db_test!(an_unreachable_mail_server_means_retry_not_loss, |db: TestDb| async move {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port(); // bound, then dropped
    let mailer =
        linkwork::mailer::SmtpMailer::new(&format!("smtp://127.0.0.1:{closed}"), "linkwork@test.nhs.uk").unwrap();
    let clock = Arc::new(FixedClock::new(test_epoch()));
    let msg = message(clock.as_ref());
    db.store.enqueue_message(&msg).await.unwrap();
    let w = worker(&db.store, clock.clone(), Arc::new(mailer), "w1");
    assert!(w.run_once().await.unwrap());
    assert_eq!(db.store.get_message(msg.id).await.unwrap().status, MessageStatus::Pending);
    assert_eq!(db.store.job_counts().await.unwrap().queued, 1, "kept for a retry");
});

#[tokio::test]
async fn bad_smtp_settings_are_explained() {
    let e = linkwork::mailer::SmtpMailer::new("ftp://nope", "a@b.test").err().unwrap();
    assert!(e.contains("the SMTP URL is not valid"), "{e}");
    let e = linkwork::mailer::SmtpMailer::new("smtp://127.0.0.1:25", "not an address").err().unwrap();
    assert!(e.contains("LINKWORK_SMTP_FROM"), "{e}");
}

db_test!(the_worker_sweeps_expired_sessions, |db: TestDb| async move {
    use linkwork_domain::access::accounts::SessionRecord;
    let clock = Arc::new(FixedClock::new(test_epoch()));
    for (id, mins) in [("old", -1), ("live", 30)] {
        let rec = SessionRecord {
            id: id.into(),
            user_id: None,
            data: "{}".into(),
            expires_at: clock.now() + Duration::minutes(mins),
        };
        db.store.save_session(&rec).await.unwrap();
    }
    let w = worker(&db.store, clock.clone(), Arc::new(LogMailer), "w1");
    assert_eq!(w.sweep().await.unwrap(), 1);
    assert!(db.store.load_session("live", clock.now()).await.unwrap().is_some());
});
