# -*- coding: utf-8 -*-
"""Drive a STOMP server with Stompy (PyPI stompy 0.2.9, Python 2 only) on Jython 2.7.4.

Stompy's setup.py and modules are Python 2 (`except socket.timeout, exc:`), and no CPython 2 is
in a registry CI reaches, so this driver is Python 2.7 and runs on Jython (Maven Central
org.python:jython-standalone 2.7.4), with the sdist unpacked on python.path
(interop/setup.sh stompy). Same cases and assertions as stomppy_driver.py; it uses
`stompy.stomp.Stomp`, the protocol class under `stompy.simple.Client`.

Usage: java -Dpython.path=STOMPY_DIR -jar jython-standalone-2.7.4.jar stompy_driver.py --port N
       [--host 127.0.0.1] [--login L --passcode P] [--vhost /] [--versions 1.0,1.1,1.2]
       [--cases a,b] [--nack-dlq /queue/ActiveMQ.DLQ] [--auth-login L --auth-passcode P]
durable_restart asks the harness to kill and restart the broker: it prints a JSON line
{"control": "restart", ...} and waits for "restarted" on stdin (see interop/lib/restart.mjs).
Prints one JSON object per line: {"client": "stompy", ...}. Exits 1 when any case fails.
Every case of every version runs in this one process (Jython takes seconds to start).

Stompy 0.2.9's limits (library, not peer), kept visible:
  - It speaks STOMP 1.0 only: its CONNECT has no accept-version header and no way to add one,
    so the 1.1 and 1.2 rows are `unsupported`, and so are 1.1's features on 1.0
    (client-individual, NACK, heart-beats).
  - It reads a frame up to the first NUL byte (`Frame._getline`, one byte per recv) whatever its
    content-length: a body with NULs is cut, so `binary` is `unsupported`.
  - `Stomp.send()` always asks for a receipt, of its own making (`SESSION-RANDOM`, overwriting
    one the caller gives), and blocks until the next non-MESSAGE frame: the receipt case checks
    that frame's receipt-id against the id Stompy wrote.
  - Every blocking read (CONNECT's CONNECTED, the RECEIPT a frame asked for) waits for ever: no
    timeout, and in Jython neither shutdown() nor a socket timeout wakes it (Stompy resets the
    socket's blocking mode on each read). The driver makes each such call on a daemon thread
    and waits for it with a deadline.
  - Its non-blocking read (`Stomp.poll()`, `Client.get_nowait()`) raises
    UnknownBrokerResponseError("empty reply") when no byte is waiting, not None or Empty as
    documented, and raises the same on end-of-stream: the driver polls with a deadline and
    treats "empty reply" as "nothing yet".
  - `stompy.simple.Client` loses the transaction: `_make_conf` writes the transaction header
    into the caller's `conf` (None by default: TypeError) after copying it, so a SEND inside
    `Client.begin()` carries none. The driver uses `Stomp.begin/send/commit/abort` with explicit
    `transaction` headers.
  - `Stomp.disconnect()` reads the RECEIPT, drops it and closes the socket itself, so whether
    the broker closes after its RECEIPT cannot be seen through it: the disconnect case sends
    DISCONNECT through Stompy's `Frame` (`build_frame` + `send_frame`, which returns the
    RECEIPT) and then reads the socket itself for end-of-stream.
  - It adds an `x-client: LOCAL-ADDRESS` header to every frame it writes; brokers ignore it.
Peers: RabbitMQ holds back the RECEIPT of a transactional SEND until COMMIT and sends none after
ABORT, so Stompy's SEND inside a transaction that will be aborted never returns: `transaction`
fails there with "no RECEIPT for SEND", which run.mjs lists as RabbitMQ's peer limit.
"""
from __future__ import print_function

import argparse
import json
import socket
import sys
import threading
import time
import traceback
import uuid

from stompy.frame import BrokerErrorResponse, UnknownBrokerResponseError
from stompy.stomp import Stomp

TIMEOUT = 5.0
# The login case's bound on a refused login (our broker delays a login after a failure).
LOGIN_WAIT = 10.0
# How often the driver polls Stompy's non-blocking read while it waits for a MESSAGE.
POLL_EVERY = 0.05
CASES = ["connect", "text_and_headers", "binary", "client_individual", "client_cumulative",
         "nack", "transaction", "receipt", "topic", "heartbeat", "login", "durable_restart",
         "disconnect"]
# durable_restart: persistent messages sent, of which the first DELIVERED_BEFORE are delivered
# (not acknowledged) before the broker is killed.
DURABLE_COUNT = 20
DELIVERED_BEFORE = 5
RESTART_WAIT = 60.0
ONLY_10 = ("Stompy 0.2.9 speaks STOMP 1.0 only: its CONNECT has no accept-version header "
           "(and no way to add one)")


class Unsupported(Exception):
    """A case the client or the setup cannot run; the message says why."""


class Timeout(Exception):
    """A bounded wait ran out."""


def bounded(call, what, wait=TIMEOUT):
    """call() on a daemon thread, waited for at most `wait` s: Stompy's blocking reads have no
    timeout of their own. A call still blocked is abandoned (with its connection)."""
    out = {}

    def run():
        try:
            out["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            out["error"] = exc
    t = threading.Thread(target=run, name="stompy-call")
    t.daemon = True
    t.start()
    t.join(wait)
    if t.isAlive():
        raise Timeout("no %s within %s s" % (what, wait))
    if "error" in out:
        raise out["error"]
    return out.get("value")


def request_broker_restart(client, version):
    """The durable_restart handshake with run.mjs (interop/lib/restart.mjs)."""
    print(json.dumps({"control": "restart", "client": client, "version": version}))
    sys.stdout.flush()
    line = bounded(sys.stdin.readline, "answer to the restart request", RESTART_WAIT)
    if line == "":
        raise AssertionError("stdin closed: no harness to restart the broker")
    if line.strip() != "restarted":
        raise AssertionError("broker not restarted: %s" % line.strip())


def only_10(version):
    if version != "1.0":
        raise Unsupported(ONLY_10)


class Conn(object):
    """One Stompy connection (STOMP 1.0)."""

    def __init__(self, args, login=None, passcode=None, wait=TIMEOUT):
        if login is None:
            login, passcode = args.login, args.passcode
        self.stomp = Stomp(args.host, args.port)
        self.closed = False
        try:
            bounded(lambda: self.stomp.connect(username=login, password=passcode), "CONNECTED", wait)
        except BaseException:
            self.destroy()
            raise
        # Stompy keeps the CONNECTED frame's headers as the "session".
        self.connected = self.stomp.frame.session

    def send(self, dest, body, headers=None):
        """SEND (Stompy always asks for a receipt and waits for it): the reply frame and the
        receipt id Stompy wrote."""
        conf = dict(headers or {})
        conf.update(destination=dest, body=body)
        reply = bounded(lambda: self.stomp.send(conf), "RECEIPT for SEND")
        return reply, self.stomp.frame.headers.get("receipt")

    def subscribe(self, dest, ack, receipt=None):
        conf = {"destination": dest, "ack": ack}
        if receipt:
            # A frame with a receipt header makes Stompy wait for the reply.
            conf["receipt"] = receipt
            bounded(lambda: self.stomp.subscribe(conf), "RECEIPT for SUBSCRIBE")
        else:
            self.stomp.subscribe(conf)

    def poll(self, wait):
        """The next MESSAGE within `wait` s, or None."""
        deadline = time.time() + wait
        while True:
            try:
                f = self.stomp.poll()
            except UnknownBrokerResponseError as exc:
                # Stompy's "nothing waiting" (and end-of-stream): see the module docstring.
                if str(exc) != "empty reply":
                    raise
                f = None
            if f is not None:
                return f
            if time.time() >= deadline:
                return None
            time.sleep(POLL_EVERY)

    def next(self, wait=TIMEOUT):
        f = self.poll(wait)
        if f is None:
            raise Timeout("no MESSAGE within %s s" % wait)
        return f

    def ack(self, f):
        self.stomp.ack(f)

    def close(self):
        """DISCONNECT with a receipt (Stompy waits for the RECEIPT), then Stompy closes."""
        if self.closed:
            return
        try:
            bounded(lambda: self.stomp.disconnect({"receipt": "bye-%s" % uuid.uuid4().hex}),
                    "RECEIPT for DISCONNECT")
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        self.destroy()

    def destroy(self):
        self.closed = True
        try:
            self.stomp.sock.close()
        except Exception:  # noqa: BLE001 - already closed
            pass


class Driver(object):
    def __init__(self, args):
        self.args = args
        self.failed = False

    def open(self, track, login=None, passcode=None, wait=TIMEOUT):
        return track(Conn(self.args, login, passcode, wait))

    def report(self, version, case, status, detail=""):
        if status == "fail":
            self.failed = True
        print(json.dumps({"client": "stompy", "version": version, "case": case,
                          "status": status, "detail": detail}))
        sys.stdout.flush()

    def run(self, version, case):
        conns = []

        def track(c):
            conns.append(c)
            return c
        try:
            only_10(version)
            detail = getattr(self, "case_" + case)(track)
            self.report(version, case, "pass", detail)
        except Unsupported as exc:
            self.report(version, case, "unsupported", str(exc) or "STOMP 1.0 has no such feature")
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none is fatal
            self.report(version, case, "fail", "%s: %s | %s" % (
                type(exc).__name__, exc, traceback.format_exc().splitlines()[-3:]))
        finally:
            for c in conns:
                c.destroy()

    # --- cases (STOMP 1.0: run() settles 1.1 and 1.2) --------------------------------------

    def case_connect(self, track):
        c = self.open(track)
        got = c.connected.get("version", "1.0")
        server = c.connected.get("server")
        c.close()
        # STOMP 1.0's CONNECTED has no version header; a server may send version:1.0.
        assert got == "1.0", "CONNECTED version %r to a 1.0 CONNECT" % got
        return "CONNECTED version %s, server %s" % (got, server)

    def case_text_and_headers(self, track):
        dest = "/queue/stompy_text_%s" % uuid.uuid4().hex
        text = u"héllo wörld".encode("utf-8")
        c = self.open(track)
        c.subscribe(dest, "auto")
        c.send(dest, text, {"x-custom": "v1", "x-other": "two words"})
        m = c.next()
        c.close()
        assert m.body == text, repr(m.body)
        assert m.headers.get("x-custom") == "v1", m.headers
        assert m.headers.get("x-other") == "two words", m.headers
        assert m.headers.get("destination") == dest, m.headers
        assert m.headers.get("message-id"), m.headers
        return "body and custom headers delivered"

    def case_binary(self, track):
        raise Unsupported("Stompy reads a frame up to its first NUL byte whatever its "
                          "content-length: no bodies with NULs")

    def case_client_individual(self, track):
        raise Unsupported()

    def case_client_cumulative(self, track):
        dest = "/queue/stompy_cl_%s" % uuid.uuid4().hex
        c = self.open(track)
        c.subscribe(dest, "client")
        for i in range(3):
            c.send(dest, "m%d" % i)
        frames = [c.next() for _ in range(3)]
        order = ",".join(f.body for f in frames)
        assert order == "m0,m1,m2", order
        c.ack(frames[2])  # acknowledges all three
        c.close()
        c2 = self.open(track)
        c2.subscribe(dest, "client")
        left = c2.poll(0.5)
        c2.close()
        assert left is None, "cumulative ACK left %r unacked" % left.body
        return "one ACK acknowledged all earlier messages"

    def case_nack(self, track):
        raise Unsupported()

    def case_transaction(self, track):
        dest = "/queue/stompy_tx_%s" % uuid.uuid4().hex
        c = self.open(track)
        c.subscribe(dest, "auto")
        s = c.stomp
        s.begin({"transaction": "tx1"})
        c.send(dest, "aborted", {"transaction": "tx1"})
        s.abort({"transaction": "tx1"})
        s.begin({"transaction": "tx2"})
        c.send(dest, "committed", {"transaction": "tx2"})
        early = c.poll(0.3)
        s.commit({"transaction": "tx2"})
        m = early or c.next()
        extra = c.poll(0.3)
        c.close()
        assert early is None, "a transactional SEND was delivered before COMMIT"
        assert m.body == "committed", m.body
        assert extra is None, "an aborted SEND was delivered: %r" % extra.body
        return "ABORT discarded, COMMIT delivered"

    def case_receipt(self, track):
        dest = "/queue/stompy_rcpt_%s" % uuid.uuid4().hex
        c = self.open(track)
        r, rid = c.send(dest, "x")
        c.close()
        assert r is not None and r.command == "RECEIPT", "SEND answered with %r" % r
        assert rid and r.headers.get("receipt-id") == rid, "receipt %r, RECEIPT %r" % (rid, r.headers)
        return "RECEIPT for SEND (receipt-id %s)" % rid

    def case_topic(self, track):
        dest = "/topic/stompy_%s" % uuid.uuid4().hex
        a = self.open(track)
        b = self.open(track)
        a.subscribe(dest, "auto")
        b.subscribe(dest, "auto", receipt="sub-b")
        a.send(dest, "fan")  # its RECEIPT comes after a's SUBSCRIBE was handled
        fa, fb = a.next(), b.next()
        a.close()
        b.close()
        assert fa.body == "fan" and fb.body == "fan", (fa.body, fb.body)
        return "both subscribers received"

    def case_heartbeat(self, track):
        raise Unsupported("STOMP 1.0 has no heart-beating")

    def case_login(self, track):
        # A wrong passcode is refused (an ERROR or a closed socket instead of CONNECTED, within
        # LOGIN_WAIT), then the right credentials connect. Wrong first: our broker slows the
        # next login after a failure, and a success resets that.
        login = self.args.auth_login or self.args.login
        passcode = self.args.auth_passcode if self.args.auth_login else self.args.passcode
        if login is None:
            raise Unsupported("no credentials given: the server under test runs without logins")
        try:
            self.open(track, login, passcode + "-wrong", LOGIN_WAIT)
            refused = None
        except Timeout:
            raise
        except (BrokerErrorResponse, UnknownBrokerResponseError, socket.error) as exc:
            refused = "%s: %s" % (type(exc).__name__, exc)
        assert refused is not None, "CONNECTED with a wrong passcode"
        c = self.open(track, login, passcode, LOGIN_WAIT)
        got = c.connected.get("version", "1.0")
        c.close()
        assert got == "1.0", "CONNECTED version %r to a 1.0 CONNECT" % got
        return "wrong passcode refused (%s); %s connected" % (refused[:120], login)

    def case_durable_restart(self, track):
        # Persistent messages confirmed by RECEIPTs survive a broker crash (SIGKILL by run.mjs)
        # and a restart on the same data directory: all come back, in order, and those delivered
        # (unacknowledged) before the crash with redelivered:true.
        dest = "/queue/stompy_durable_%s" % uuid.uuid4().hex
        c = self.open(track)
        for i in range(DURABLE_COUNT):
            r, rid = c.send(dest, "d%d" % i, {"persistent": "true"})
            assert r is not None and r.headers.get("receipt-id") == rid, (rid, r and r.headers)
        c.subscribe(dest, "client")
        for i in range(DELIVERED_BEFORE):
            m = c.next()
            assert m.body == "d%d" % i, "before the restart got %r, wanted d%d" % (m.body, i)
        request_broker_restart("stompy", "1.0")
        c.destroy()
        c2 = self.open(track)
        c2.subscribe(dest, "client")
        got = [c2.next() for _ in range(DURABLE_COUNT)]
        c2.ack(got[-1])
        extra = c2.poll(0.3)
        c2.close()
        order = [m.body for m in got]
        assert order == ["d%d" % i for i in range(DURABLE_COUNT)], "after the restart: %s" % order
        assert extra is None, "more than %d messages: %r" % (DURABLE_COUNT, extra.body)
        missing = [m.body for m in got[:DELIVERED_BEFORE] if m.headers.get("redelivered") != "true"]
        assert not missing, "without redelivered:true: %s" % missing
        flagged = sum(1 for m in got if m.headers.get("redelivered") == "true")
        return ("%d persistent messages back in order after SIGKILL + restart; the %d delivered "
                "before with redelivered:true (%d flagged in all)" % (DURABLE_COUNT, DELIVERED_BEFORE, flagged))

    def case_disconnect(self, track):
        # DISCONNECT with a receipt through Stompy's Frame (Stomp.disconnect() would close the
        # socket itself), the RECEIPT, then the broker must close (end-of-stream) first.
        c = self.open(track)
        rid = "bye-%s" % uuid.uuid4().hex
        frame = c.stomp.frame
        frame.build_frame({"command": "DISCONNECT", "headers": {"receipt": rid}})
        r = bounded(lambda: frame.send_frame(frame.as_string()), "RECEIPT for DISCONNECT")
        assert r is not None and r.command == "RECEIPT", "DISCONNECT answered with %r" % r
        assert r.headers.get("receipt-id") == rid, r.headers
        sock = c.stomp.sock
        sock.settimeout(TIMEOUT)
        closed, extra = False, ""
        try:
            while True:
                b = sock.recv(1)
                if b == "":
                    closed = True
                    break
                if b not in "\r\n":  # EOLs after a frame's NUL are allowed
                    extra += b
                    break
        except socket.timeout:
            pass
        c.destroy()
        assert not extra, "a frame after the RECEIPT"
        assert closed, "the broker did not close the connection within %s s of its RECEIPT" % TIMEOUT
        return "RECEIPT (receipt-id %s) for DISCONNECT, then the broker closed the connection" % rid


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--login", default=None)
    parser.add_argument("--passcode", default=None)
    parser.add_argument("--vhost", default=None)  # STOMP 1.0 has no host header: unused
    parser.add_argument("--versions", default="1.0,1.1,1.2")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--nack-dlq", default=None)  # no NACK in 1.0: unused
    parser.add_argument("--auth-login", default=None, help="the login case's user (default --login)")
    parser.add_argument("--auth-passcode", default=None)
    args = parser.parse_args()
    driver = Driver(args)
    for version in args.versions.split(","):
        for case in args.cases.split(","):
            driver.run(version, case)
    sys.exit(1 if driver.failed else 0)


if __name__ == "__main__":
    main()
