//! Fair shares of DATA phases (issue 12, defect 3): one client holding DATA phases open does
//! not stop anyone else's mail, and many honest parallel sessions from one sender all get
//! through. In its own test binary because the budget is the process's (a static): other tests
//! sharing a process would see its effects.

mod common;

use common::*;

/// The crate's `MAX_DATA_PER_CLIENT`.
const MAX_DATA_PER_CLIENT: usize = 16;

async fn start_data(
    services: &std::sync::Arc<smtp::SmtpServices>,
    ip: &str,
    n: usize,
) -> Client<tokio::io::DuplexStream> {
    let mut c = connect_from(services.clone(), ip).await;
    c.cmd("EHLO mx.remote.test").await;
    assert_code(&c.cmd(&format!("MAIL FROM:<sender{n}@remote.test>")).await, "250 2.1.0");
    assert_code(&c.cmd("RCPT TO:<ana@example.org>").await, "250 2.1.5");
    c
}

/// 16 sessions that send DATA and then nothing once made every other sender get 452.
#[tokio::test]
async fn issue_12_silent_data_phases_of_one_client_do_not_stop_the_others() {
    let world = world().await;
    let services = services(&world, None);
    let mut stalled = Vec::new();
    for n in 0..MAX_DATA_PER_CLIENT {
        let mut c = start_data(&services, "192.0.2.66", n).await;
        assert_code(&c.cmd("DATA").await, "354");
        c.send(format!("Subject: stalled {n}\r\n\r\n").as_bytes()).await;
        stalled.push(c);
    }
    // Someone else's mail goes through at once.
    let mut honest = connect_from(services.clone(), "198.51.100.5").await;
    honest.cmd("EHLO mx.honest.test").await;
    assert_code(&honest.cmd("MAIL FROM:<someone@honest.test>").await, "250 2.1.0");
    assert_code(&honest.cmd("RCPT TO:<bob@example.org>").await, "250 2.1.5");
    assert_code(&honest.cmd("DATA").await, "354");
    honest.send(b"Subject: hello\r\n\r\nhi\r\n.\r\n").await;
    assert_code(&honest.reply().await, "250 2.0.0");

    // The stalling client's next DATA waits for one of its own phases to end (and would be
    // deferred with 452 if none did in time: see `data_budget`'s tests, in virtual time).
    let mut late = start_data(&services, "192.0.2.66", 99).await;
    let late_data = tokio::spawn(async move {
        let reply = late.cmd("DATA").await;
        (late, reply)
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!late_data.is_finished(), "DATA past the client's share waits");
    for mut c in stalled {
        c.send(b"body\r\n.\r\n").await;
        assert_code(&c.reply().await, "250 2.0.0");
    }
    let (mut late, reply) = late_data.await.expect("late task");
    assert_code(&reply, "354");
    late.send(b"Subject: late\r\n\r\n.\r\n").await;
    assert_code(&late.reply().await, "250 2.0.0");
    assert_eq!(inbox(&world, world.ana).await.len(), MAX_DATA_PER_CLIENT + 1);
    assert_eq!(inbox(&world, world.bob).await.len(), 1);
}

/// With 24 honest parallel senders, 137 of 240 messages once got 452. Sessions past the
/// client's share now wait for a phase of their own instead.
#[tokio::test]
async fn issue_12_honest_parallel_sessions_of_one_client_all_get_through() {
    let world = world().await;
    let services = services(&world, None);
    let n_sessions = MAX_DATA_PER_CLIENT + 8;
    let mut sessions = Vec::new();
    for n in 0..n_sessions {
        sessions.push(start_data(&services, "203.0.113.20", n).await);
    }
    // Every session asks for DATA at once, and those that got their 354 hold their phase
    // until the client's share is in use; the others wait for their 354 meanwhile (they once
    // got 452 at once).
    let (go, _) = tokio::sync::watch::channel(false);
    let (started, mut n_started) = tokio::sync::mpsc::unbounded_channel();
    let mut senders = Vec::new();
    for (n, mut c) in sessions.into_iter().enumerate() {
        let (mut go, started) = (go.subscribe(), started.clone());
        senders.push(tokio::spawn(async move {
            let reply = c.cmd("DATA").await;
            started.send(()).expect("the test listens");
            assert_code(&reply, "354");
            go.wait_for(|go| *go).await.expect("the test says go");
            c.send(format!("Subject: parallel {n}\r\n\r\nbody\r\n.\r\n").as_bytes()).await;
            c.reply().await
        }));
    }
    for _ in 0..MAX_DATA_PER_CLIENT {
        n_started.recv().await.expect("a session started its DATA phase");
    }
    go.send(true).expect("senders listen");
    for sender in senders {
        assert_code(&sender.await.expect("sender task"), "250 2.0.0");
    }
    assert_eq!(inbox(&world, world.ana).await.len(), n_sessions);
}
