//! `facteur admin` and `facteur serve` start-up, against the real binary and data folder.

mod common;

use std::process::Command;

use common::imap::*;
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

/// Issue 18 (A2, A4, A5): a mailbox disabled and enabled (checked by IMAP logins), deleted or
/// turned into an alias only with --yes after being told what goes, an alias turned back into
/// a mailbox, targets replaced, postmaster@ redirected, a mailbox renamed.
#[test]
fn admin_commands_disable_delete_and_turn_mailboxes_into_aliases() {
    let srv = TestServer::start();
    let login = |user: &str| {
        let mut imap = Imap::connect_tls(&srv);
        imap.cmd(&format!("LOGIN {user} \"{PASSWORD}\"")).0
    };
    srv.admin_ok(&["user", "disable", "bob@example.org"]);
    assert!(srv.admin_ok(&["user", "list"]).contains("bob@example.org\t0 bytes used\tquota unlimited\tdisabled"));
    assert!(login("bob@example.org").contains("NO [AUTHENTICATIONFAILED]"));
    srv.deliver("bob@example.org", b"Subject: still received\r\n\r\nyes\r\n");
    srv.admin_ok(&["user", "enable", "bob@example.org"]);
    assert!(login("bob@example.org").contains("OK"));
    let last_admin = srv.admin(&["user", "disable", "ana@example.org"]);
    assert!(stderr(&last_admin).contains("last administrator"), "{}", stderr(&last_admin));

    // Told first, done with --yes.
    let asked = srv.admin(&["user", "to-alias", "bob@example.org", "ana@example.org"]);
    assert!(stderr(&asked).contains("bob@example.org holds 1 message(s)"), "{}", stderr(&asked));
    assert!(login("bob@example.org").contains("OK"), "nothing changed");
    let done = srv.admin_ok(&["user", "to-alias", "bob@example.org", "ana@example.org", "--yes"]);
    assert!(done.contains("bob@example.org is now an alias (1 message(s) deleted)"), "{done}");
    assert_eq!(srv.admin_ok(&["alias", "list"]), "bob@example.org\tana@example.org\n");
    srv.admin_ok(&["alias", "set", "bob@example.org", "friend@elsewhere.test", "ana@example.org"]);
    assert_eq!(srv.admin_ok(&["alias", "list"]), "bob@example.org\tana@example.org friend@elsewhere.test\n");
    let unknown = srv.admin(&["alias", "set", "bob@example.org", "ghost@example.org"]);
    assert!(stderr(&unknown).contains("ghost@example.org"), "{}", stderr(&unknown));
    let created = srv.admin_ok(&["alias", "to-mailbox", "bob@example.org"]);
    assert!(created.contains("bob@example.org is now a mailbox"), "{created}");
    assert_eq!(srv.admin_ok(&["alias", "list"]), "");

    // postmaster@ redirected, then back to the default.
    srv.admin_ok(&["alias", "set", "postmaster@example.org", "bob@example.org"]);
    assert_eq!(srv.admin_ok(&["alias", "list"]), "postmaster@example.org\tbob@example.org\n");
    srv.admin_ok(&["alias", "remove", "postmaster@example.org"]);

    // Renamed, the old address kept as an alias to the new one.
    let renamed = srv.admin_ok(&["user", "rename", "bob@example.org", "robert@example.org", "--keep-old"]);
    assert!(
        renamed.contains("bob@example.org is now robert@example.org; bob@example.org is now an alias"),
        "{renamed}"
    );
    assert_eq!(srv.admin_ok(&["alias", "list"]), "bob@example.org\trobert@example.org\n");
    assert!(!srv.admin(&["user", "rename", "robert@example.org", "ana@example.org"]).status.success(), "taken");

    assert!(!srv.admin(&["user", "delete", "robert@example.org"]).status.success(), "needs --yes");
    assert!(srv.admin_ok(&["user", "delete", "robert@example.org", "--yes"]).contains("deleted with its 0 message(s)"));
    assert_eq!(srv.admin_ok(&["user", "list"]).lines().count(), 1);
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

/// Issue 18 (A11, A7): groups of a domain's mailboxes from the command line, and a domain
/// removed with its lists and groups once its mailboxes are gone.
#[test]
fn admin_commands_manage_groups_and_a_domain_goes_with_its_lists_and_groups() {
    let srv = TestServer::start();
    srv.admin_ok(&["group", "create", "example.org", "Bureau", "--description", "Le bureau"]);
    assert!(!srv.admin(&["group", "create", "example.org", "bureau"]).status.success(), "names are unique");
    srv.admin_ok(&["group", "add", "example.org", "Bureau", "ana@example.org", "--admin"]);
    srv.admin_ok(&["group", "add", "example.org", "bureau", "bob@example.org"]);
    let outside = srv.admin(&["group", "add", "example.org", "Bureau", "zoe@example.net"]);
    assert!(stderr(&outside).contains("zoe@example.net"), "{}", stderr(&outside));
    let shown = srv.admin_ok(&["group", "show", "example.org", "Bureau"]);
    assert!(shown.ends_with("ana@example.org\tadmin\nbob@example.org\n"), "{shown}");
    assert_eq!(srv.admin_ok(&["group", "list", "example.org"]), "Bureau\t2 member(s)\tLe bureau\n");
    srv.admin_ok(&["group", "remove", "example.org", "Bureau", "bob@example.org"]);
    srv.admin_ok(&["group", "rename", "example.org", "Bureau", "Conseil"]);
    assert_eq!(srv.admin_ok(&["group", "list", "example.org"]), "Conseil\t1 member(s)\tLe bureau\n");
    srv.admin_ok(&["group", "delete", "example.org", "Conseil"]);
    assert_eq!(srv.admin_ok(&["group", "list", "example.org"]), "");

    srv.admin_ok(&["domain", "add", "other.test"]);
    srv.admin_ok(&["list", "create", "club@other.test", "--kind", "discussion"]);
    srv.admin_ok(&["group", "create", "other.test", "Bureau"]);
    assert!(!srv.admin(&["user", "add", "club@other.test"]).status.success(), "the list's address is taken");
    srv.admin_ok(&["domain", "remove", "other.test"]);
    assert!(!srv.admin_ok(&["domain", "list"]).contains("other.test"));
}
