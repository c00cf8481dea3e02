"""bench/http/app.py - the gunicorn side of the HTTP benchmark
(bench/README.md, "HTTP servers"): the same two kinds as forkboard-server.

    POST /v1/tasks/noop    200, empty body
    POST /v1/tasks/sha256  200, hex sha256 of the body + "\\n" (hashlib)

    gunicorn -w 2 -k sync -b 127.0.0.1:PORT --chdir bench/http app:app
"""
import hashlib


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if environ.get("REQUEST_METHOD") != "POST":
        start_response("405 Method Not Allowed",
                       [("Allow", "POST"), ("Content-Length", "0")])
        return [b""]
    n = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(n) if n > 0 else b""
    if path == "/v1/tasks/noop":
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", "0")])
        return [b""]
    if path == "/v1/tasks/sha256":
        out = (hashlib.sha256(body).hexdigest() + "\n").encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(out)))])
        return [out]
    out = b"kinds: noop sha256\n"
    start_response("404 Not Found", [("Content-Type", "text/plain"),
                                     ("Content-Length", str(len(out)))])
    return [out]
