"""What the benchmark scripts share: a server of their own on loopback (a fresh data folder,
one domain and its administrator), and a signed-in session of the web client."""

import http.client
import os
import re
import subprocess
import tempfile
import urllib.parse


class Server:
    """`facteur serve` on a fresh data folder with `domain` and the mailbox `admin`."""

    def __init__(self, binary, prefix, domain, admin, password):
        self.binary = binary
        self.process = None
        self.ports = {}
        self.data = tempfile.mkdtemp(prefix=prefix)
        self.admin("domain", "add", domain)
        self.admin("user", "add", admin, "--password-stdin", stdin=password + "\n")

    def admin(self, *args, stdin=None):
        return subprocess.run([self.binary, "admin", "--data", self.data, *args], input=stdin, check=True,
                              capture_output=True, text=True)

    def start(self, listeners=("http",)):
        """Starts it with these listeners on loopback (the others off); mail for other servers
        goes to a closed port, where it waits in the queue."""
        env = dict(os.environ, FACTEUR_SENDER_CHECKS="false", FACTEUR_LOG="warn", FACTEUR_RELAY="127.0.0.1:9")
        names = ["http", "smtp", "imap", "imaps", "submission", "submissions"]
        arguments = []
        for name in names:
            arguments += [f"--{name}", "127.0.0.1:0" if name in listeners else "off"]
        self.process = subprocess.Popen([self.binary, "serve", "--data", self.data, *arguments],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
        for line in self.process.stdout:
            match = re.match(r"facteur: (\w+) listening on 127\.0\.0\.1:(\d+)", line)
            if match:
                self.ports[match.group(1)] = int(match.group(2))
            if line.startswith("facteur: ready"):
                break
        self.port = self.ports.get("http")

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait()
            self.process = None


def web_session(port, user, password):
    """Signs in as `user` through the login server function; returns (connection, cookie)."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    body = urllib.parse.urlencode({"email": user, "password": password})
    connection.request("POST", "/api/login", body, {"Content-Type": "application/x-www-form-urlencoded",
                                                    "Origin": f"http://127.0.0.1:{port}"})
    response = connection.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    return connection, cookie
