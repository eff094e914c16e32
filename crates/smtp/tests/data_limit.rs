//! The process-wide limit on DATA phases received at once (memory: each may hold a 50 MB
//! message). In its own test binary because the limit is a static: tests sharing a process
//! with this one would see their DATA deferred while it holds every slot.

mod common;

use common::*;

/// The crate's `MAX_CONCURRENT_DATA`.
const MAX_CONCURRENT_DATA: usize = 16;

#[tokio::test]
async fn data_beyond_the_concurrent_limit_is_deferred_until_a_slot_frees() {
    let world = world().await;
    let services = services(&world, None);
    let mut receiving = Vec::new();
    for n in 0..MAX_CONCURRENT_DATA {
        let mut c = connect(services.clone()).await;
        c.cmd("EHLO mx.remote.test").await;
        assert_code(&c.cmd(&format!("MAIL FROM:<sender{n}@remote.test>")).await, "250 2.1.0");
        assert_code(&c.cmd("RCPT TO:<ana@example.org>").await, "250 2.1.5");
        assert_code(&c.cmd("DATA").await, "354");
        // Part of a message, so this session stays in its DATA phase.
        c.send(format!("Subject: message {n}\r\n\r\n").as_bytes()).await;
        receiving.push(c);
    }
    let mut late = connect(services.clone()).await;
    late.cmd("EHLO mx.remote.test").await;
    assert_code(&late.cmd("MAIL FROM:<late@remote.test>").await, "250 2.1.0");
    assert_code(&late.cmd("RCPT TO:<bob@example.org>").await, "250 2.1.5");
    assert_eq!(late.cmd("DATA").await, "452 4.3.1 Insufficient system resources, try later");
    // Refused before 354: the client's transaction is intact and it may simply retry.
    assert_code(&late.cmd("NOOP").await, "250 2.0.0");

    let mut first = receiving.remove(0);
    first.send(b"body\r\n.\r\n").await;
    assert_code(&first.reply().await, "250 2.0.0");
    // The slot is given back before the 250 is written, so DATA now gets its 354.
    assert_code(&late.cmd("DATA").await, "354");
    late.send(b"Subject: late\r\n\r\n.\r\n").await;
    assert_code(&late.reply().await, "250 2.0.0");

    for mut c in receiving {
        c.send(b"body\r\n.\r\n").await;
        assert_code(&c.reply().await, "250 2.0.0");
    }
    assert_eq!(inbox(&world, world.ana).await.len(), MAX_CONCURRENT_DATA);
    assert_eq!(inbox(&world, world.bob).await.len(), 1);
}
