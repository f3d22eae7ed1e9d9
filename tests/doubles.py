"""tests/doubles.py: the plumbing the loopback test doubles share.

tests/k8s_double.py (the Kubernetes API server) and tests/prow_double.py
(Prow) each serve one loopback listener, HTTPS when given a certificate,
and a plain-HTTP control listener beside it; both say where they listen
in DIR/port and DIR/admin_port.  What they answer is theirs; what is
here says nothing on the wire that either of them would not.

Python 3 standard library only.  The doubles import it from their own
directory, as automake runs them from the build directory.
"""

import http.server
import json
import os
import socket
import ssl
import sys
import threading
import time

# A hung request or handshake is released after this long even if the
# test forgets to clear the fault, so no thread outlives a test run.
HANG_MAX_SECONDS = 120
LOOPBACK = "127.0.0.1"


def write_atomic(path, text):
    """A reader polling for path sees it whole or not at all."""
    with open(path + ".tmp", "w") as fh:
        fh.write(text)
    os.rename(path + ".tmp", path)


def add_common_args(ap, tls_required):
    """--dir, --token-file, --cert, --key, --port and --admin-port."""
    ap.add_argument("--dir", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--cert", required=tls_required)
    ap.add_argument("--key", required=tls_required)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--admin-port", type=int, default=0)


def tls_context(cert, key):
    """What a Go server offers by default, less HTTP/2: the doubles speak
    HTTP/1.1 only, so ALPN must not let a client choose h2."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def read_token(path):
    """The token in path, re-read on every call so that a test can rotate
    it, or None if it cannot be read."""
    try:
        with open(path) as fh:
            return fh.read().strip()
    except OSError:
        return None


def bearer(header):
    """The token of an Authorization header, or "" if it has none."""
    if header and header.startswith("Bearer "):
        return header[len("Bearer "):].strip()
    return ""


class Faults:
    """What the test asked for, changed through the control listener.  A
    double lists its faults and their values when cleared in DEFAULTS; a
    "hang" fault blocks requests until it is cleared (wait_unhung)."""

    DEFAULTS = {}

    def __init__(self):
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.v = dict(self.DEFAULTS)

    def check(self, k, val):
        """Raises ValueError if val cannot be fault k's value."""

    def get(self, k):
        with self.lock:
            return self.v[k]

    def update(self, d):
        """Sets the given fields (KeyError for an unknown one); returns
        them all."""
        with self.lock:
            for k, val in d.items():
                if k not in self.DEFAULTS:
                    raise KeyError(k)
                self.check(k, val)
                self.v[k] = val
            self.changed.notify_all()
            return dict(self.v)

    def take(self, key):
        """True, once per unit, while the counter key is positive."""
        with self.lock:
            if self.v[key] > 0:
                self.v[key] -= 1
                return True
            return False

    def wait_unhung(self, kind=None):
        """Blocks while "hang" is set (to kind, when given), for
        HANG_MAX_SECONDS at most."""
        end = time.monotonic() + HANG_MAX_SECONDS
        with self.lock:
            while (self.v["hang"] if kind is None else
                   self.v["hang"] == kind):
                left = end - time.monotonic()
                if left <= 0:
                    return
                self.changed.wait(left)


class Hung(Exception):
    """The handler must close the connection without an answer."""


class Handler(http.server.BaseHTTPRequestHandler):
    """The served listener's handler: HTTP/1.1 with keep-alive, a log line
    per request on stderr.  A subclass sets server_version and defines
    _serve; its do_METHOD calls serve."""

    protocol_version = "HTTP/1.1"
    sys_version = ""

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))

    def hung(self):
        """Called when a request was held by the hang fault."""

    def serve(self, *args):
        """_serve(*args); on Hung, or a client gone, the connection closes
        without an answer."""
        try:
            self._serve(*args)
        except Hung:
            self.hung()
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    """The served listener: a thread per connection, each accepted socket
    wrapped in TLS when ctx is given (in that thread, so a slow or hung
    handshake holds up no one else)."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, addr, handler, ctx):
        super().__init__(addr, handler)
        self.ctx = ctx

    def accepted(self):
        """Called first for each connection: False drops it unanswered."""
        return True

    def tls_failed(self):
        """Called when a handshake fails (the connection is dropped)."""

    def finish_request(self, request, client_address):
        if not self.accepted():
            return
        request.settimeout(60)
        # Go's net package sets TCP_NODELAY on every connection, so the
        # real server never waits on a delayed ACK between the header and
        # the body segment of a response; neither may the double.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ctx is None:
            return super().finish_request(request, client_address)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            self.tls_failed()
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass


class AdminHandler(http.server.BaseHTTPRequestHandler):
    """The control listener's handler: quiet, JSON in and out.
    self.server.main is the served listener's Server."""

    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, obj):
        data = json.dumps(obj, indent=1).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def raw_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def body(self):
        """The request's JSON ({} if empty); ValueError if not JSON."""
        return json.loads(self.raw_body() or b"{}")


class AdminServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, handler, main):
        super().__init__(addr, handler)
        self.main = main


def run(name, directory, main, admin):
    """Serves admin in a thread and main in this one until interrupted,
    once DIR/admin_port and then DIR/port say where (a test waits for
    port)."""
    threading.Thread(target=admin.serve_forever, daemon=True).start()
    write_atomic(os.path.join(directory, "admin_port"),
                 "%d\n" % admin.server_port)
    write_atomic(os.path.join(directory, "port"), "%d\n" % main.server_port)
    sys.stderr.write("%s double: %s://%s:%d, control http://%s:%d\n" %
                     (name, "https" if main.ctx else "http", LOOPBACK,
                      main.server_port, LOOPBACK, admin.server_port))
    try:
        main.serve_forever()
    except KeyboardInterrupt:
        pass
