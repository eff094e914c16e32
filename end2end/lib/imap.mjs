// Python's imaplib, logged in over IMAPS to the test server, for checking from a real IMAP
// client what the web client did (and for doing what an IMAP client would).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/** Helpers every script may call: the flags of a folder's messages by subject, and the names
 * a LIST or LSUB command returns. */
const PRELUDE = `
def flags_by_subject(folder):
    typ, data = imap.select(folder)
    if int(data[0]) == 0:
        return {}
    typ, data = imap.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    found = {}
    for item in data:
        if isinstance(item, tuple):
            subject = item[1].decode().strip().removeprefix("Subject: ")
            found[subject] = item[0].decode().split("FLAGS (")[1].split(")")[0]
    return found
def names(command):
    typ, data = command('""', "*")
    return sorted(line.decode().rsplit(' "/" ', 1)[1].strip('"') for line in data if line)
`;

/** Runs `code` in Python with `imap` logged in as `user` ({ address, password }) to `server`
 * over IMAPS; returns what it printed, as JSON. */
export function imap(server, user, code) {
  const script = `
import imaplib, json, ssl, sys
context = ssl.create_default_context(cafile=sys.argv[2])
imap = imaplib.IMAP4_SSL("localhost", int(sys.argv[1]), ssl_context=context)
imap.login(sys.argv[3], sys.argv[4])
${PRELUDE}
${code}
imap.logout()
`;
  const result = spawnSync('python3', ['-c', script, String(server.imapsPort), server.certPath, user.address, user.password], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, `imaplib failed:\n${result.stderr}`);
  return JSON.parse(result.stdout);
}
