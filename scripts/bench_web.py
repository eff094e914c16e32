"""What the benchmark scripts share to talk to the web client: a signed-in session."""

import http.client
import urllib.parse


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
