// A tiny SMTP client (RFC 5321) over node:net, enough to seed mail into a test server the way
// the world does: EHLO, MAIL, RCPT, DATA with dot-stuffing, QUIT.
import { connect } from 'node:net';

/** Sends `message` (a string with CRLF line ends) from `from` to `to` via 127.0.0.1:`port`. */
export async function sendMail({ port, from, to, message }) {
  const session = await openSmtp(port);
  await session.send({ from, to, message });
  await session.close();
}

/** An SMTP session on 127.0.0.1:`port` that sends many messages, one after the other:
 * `{ send({ from, to, message }), close() }`. */
export async function openSmtp(port) {
  const socket = connect({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  let buffer = '';
  const waiting = [];
  socket.on('data', (chunk) => {
    buffer += chunk;
    // A reply ends with a line whose fourth character is a space ("250 OK"), not "-".
    for (;;) {
      const match = buffer.match(/^(?:\d{3}-[^\n]*\n)*(\d{3})(?: [^\n]*)?\r?\n/);
      if (!match) break;
      buffer = buffer.slice(match[0].length);
      const next = waiting.shift();
      if (next) next.resolve({ code: Number(match[1]), text: match[0] });
    }
  });
  const closed = new Promise((_, reject) => {
    socket.on('error', (error) => {
      for (const w of waiting.splice(0)) w.reject(error);
      reject(error);
    });
  });
  closed.catch(() => {});
  const reply = () => new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  const expect = async (wantClass, what) => {
    const { code, text } = await reply();
    if (Math.floor(code / 100) !== wantClass) throw new Error(`SMTP ${what}: ${text.trim()}`);
  };
  const command = async (line, wantClass) => {
    const answer = expect(wantClass, line);
    socket.write(`${line}\r\n`);
    await answer;
  };

  await expect(2, 'greeting');
  await command('EHLO end2end.test', 2);
  return {
    async send({ from, to, message }) {
      await command(`MAIL FROM:<${from}>`, 2);
      for (const rcpt of [to].flat()) await command(`RCPT TO:<${rcpt}>`, 2);
      await command('DATA', 3);
      const body = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
      const accepted = expect(2, 'end of data');
      socket.write(`${body.endsWith('\r\n') ? body : `${body}\r\n`}.\r\n`);
      await accepted;
    },
    async close() {
      await command('QUIT', 2);
      socket.end();
    },
  };
}

/** A text/html message whose body is base64-encoded (no line-length or dot worries). */
export function htmlMessage({ from, to, subject, html }) {
  const encoded = Buffer.from(html, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}@end2end.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    encoded,
    '',
  ].join('\r\n');
}

/** A plain text message. */
export function textMessage({ from, to, subject, text }) {
  return [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}@end2end.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    text,
    '',
  ].join('\r\n');
}
