//! `facteur admin` and `facteur serve` start-up, against the real binary and data folder.

mod common;

use std::process::Command;

use common::*;

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn admin_commands_manage_domains_users_and_aliases() {
    let srv = TestServer::start();
    assert!(srv.admin_ok(&["domain", "list"]).starts_with("example.org\t2 mailbox(es)"));
    // A1, K6: the records to publish, for a host given or mail.DOMAIN.
    let zone = srv.admin_ok(&["domain", "dns", "Example.org", "--host", "mx.example.org"]);
    assert!(zone.contains("example.org.\t3600\tIN\tMX\t10 mx.example.org.\n"), "{zone}");
    assert!(zone.contains("_submission._tcp.example.org.\t3600\tIN\tSRV\t0 1 587 mx.example.org.\n"), "{zone}");
    let zone = srv.admin_ok(&["domain", "dns", "example.org"]);
    assert!(zone.contains("IN\tMX\t10 mail.example.org.\n"), "{zone}");
    assert!(!srv.admin(&["domain", "dns", "example.net"]).status.success(), "not one of ours");
    let created = srv.admin_ok(&["user", "add", "carl@example.org", "--quota-mb", "10"]);
    assert!(created.contains("mailbox carl@example.org created"), "{created}");
    let password = created.lines().find_map(|l| l.strip_prefix("password: ")).expect("generated password");
    assert_eq!(password.len(), 20);
    let users = srv.admin_ok(&["user", "list"]);
    assert_eq!(users.lines().count(), 3);
    assert!(users.contains("ana@example.org\t0 bytes used\tquota unlimited\tadmin"), "{users}");
    assert!(users.contains("carl@example.org\t0 bytes used\tquota 10 MB\n"), "{users}");

    srv.admin_ok(&["alias", "add", "team@example.org", "ana@example.org", "bob@example.org"]);
    assert_eq!(srv.admin_ok(&["alias", "list"]), "team@example.org\tana@example.org bob@example.org\n");
    srv.admin_ok(&["alias", "remove", "team@example.org"]);
    assert_eq!(srv.admin_ok(&["alias", "list"]), "");

    srv.admin_ok(&["domain", "add", "other.test"]);
    srv.admin_ok(&["domain", "remove", "other.test"]);
    srv.admin_ok(&["domain", "postmaster", "example.org", "bob@example.org"]);
    assert!(srv.admin_ok(&["domain", "list"]).contains("postmaster: bob@example.org"));
}

#[test]
fn admin_refuses_bad_input_with_clear_errors() {
    let srv = TestServer::start();
    for (args, expected) in [
        (&["user", "add", "x@unknown.test"][..], "domain unknown.test"),
        (&["user", "add", "ana@example.org"][..], "already exists"),
        (&["user", "add", "not-an-address"][..], "has no @"),
        (&["user", "add", "a..b@example.org"][..], "misplaced dot"),
        (&["domain", "add", "example.org"][..], "already exists"),
        (&["domain", "add", "bad_domain!"][..], "invalid domain"),
        (&["domain", "remove", "example.org"][..], "still has 2 mailbox"),
        (&["domain", "remove", "nowhere.test"][..], "not found"),
        (&["alias", "add", "bob@example.org", "ana@example.org"][..], "already exists"),
        (&["alias", "add", "postmaster@example.org", "ana@example.org"][..], "reserved"),
        (&["alias", "remove", "nobody@example.org"][..], "not found"),
        (&["user", "passwd", "nobody@example.org"][..], "not found"),
    ] {
        let output = srv.admin(args);
        assert!(!output.status.success(), "{args:?} should fail");
        assert!(stderr(&output).contains(expected), "{args:?}: {}", stderr(&output));
    }
    let short = srv.admin_with_stdin(&["user", "passwd", "ana@example.org", "--password-stdin"], b"short\n");
    assert!(!short.status.success());
    assert!(stderr(&short).contains("at least 8 characters"), "{}", stderr(&short));
    // Nothing above changed what was there.
    assert_eq!(srv.admin_ok(&["user", "list"]).lines().count(), 2);
    assert_eq!(srv.admin_ok(&["domain", "list"]).lines().count(), 1);
}

#[test]
fn first_run_explains_then_creates_the_admin_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // With no mailbox and nothing asked, `serve` says how to create one; `--http off` etc. keep
    // the run short: we only read the start-up lines, then stop the process.
    let run = |envs: &[(&str, &str)]| {
        let mut command = Command::new(facteur_bin());
        command.args(["serve", "--data"]).arg(&data);
        command.args(["--http", "127.0.0.1:0", "--smtp", "off", "--imap", "off", "--imaps", "off"]);
        command.args(["--submission", "off", "--submissions", "off"]);
        command.env_remove("FACTEUR_ADMIN_ADDRESS").env_remove("FACTEUR_ADMIN_PASSWORD");
        for (k, v) in envs {
            command.env(k, v);
        }
        let mut child =
            command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null()).spawn().unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut lines = String::new();
        loop {
            let mut line = String::new();
            if std::io::BufRead::read_line(&mut stdout, &mut line).unwrap() == 0 || line.starts_with("facteur: open ") {
                break;
            }
            lines.push_str(&line);
        }
        child.kill().unwrap();
        child.wait().unwrap();
        lines
    };
    let first = run(&[]);
    assert!(first.contains("no mailbox yet"), "{first}");
    assert!(first.contains("domain add example.org"), "{first}");
    let second = run(&[("FACTEUR_ADMIN_ADDRESS", "boss@org.test"), ("FACTEUR_ADMIN_PASSWORD", "a long password")]);
    assert!(second.contains("created the first administrator boss@org.test"), "{second}");
    let third = run(&[("FACTEUR_ADMIN_ADDRESS", "other@org.test")]);
    assert!(!third.contains("created"), "only an empty data folder gets a first admin: {third}");
    let users =
        Command::new(facteur_bin()).args(["admin", "--data"]).arg(&data).args(["user", "list"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&users.stdout).lines().count(), 1);
}

#[test]
fn a_config_file_sets_listeners_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("facteur.toml");
    std::fs::write(&config, "http = \"not an address\"\n").unwrap();
    let output = Command::new(facteur_bin()).args(["serve", "--config"]).arg(&config).output().unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--http"), "{}", stderr(&output));
}
