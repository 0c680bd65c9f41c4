#!/usr/bin/env python3
"""Drive a STOMP server with stomper (Debian's python3-stomper 0.4) over a plain socket.

stomper builds and parses frames and leaves the transport to its user, so this driver owns the
socket: it writes what stomper builds, cuts the byte stream into frames (content-length or NUL,
skipping heart-beat EOLs) and hands each frame to stomper's parser (`Frame.unpack`). Same cases
and assertions as stomppy_driver.py.

Usage: stomper_driver.py --port N [--host 127.0.0.1] [--login L --passcode P] [--vhost /]
       [--versions 1.0,1.1,1.2] [--cases a,b] [--nack-dlq /queue/ActiveMQ.DLQ]
       [--auth-login L --auth-passcode P]   (the login case's user; default --login/--passcode)
durable_restart asks the harness to kill and restart the broker: it prints a JSON line
{"control": "restart", ...} and waits for "restarted" on stdin (see interop/lib/restart.mjs).
Prints one JSON object per line: {"client": "stomper", ...}. Exits 1 when any case fails.
Run it with Debian's /usr/bin/python3 (it has python3-stomper).

stomper 0.4 limits (library, not peer), kept visible:
  - Frames are str, not bytes, and `unpack_frame` strips every body line and drops NULs and line
    breaks from bodies: a binary body cannot survive it, so `binary` is `unsupported`. Text goes
    over the wire as UTF-8 (the driver encodes what stomper builds).
  - Its stream helper `StompBuffer` only finds a frame's end when the NUL is followed by "\\n"
    (the spec says the NUL *may* be followed by EOLs; our broker sends none), so the driver does
    that framing itself and uses stomper for the frame contents only.
  - Helpers exist for 1.0 (`stomper.stomp_10`) and 1.1 (`stomper`); `connect()` always offers
    accept-version 1.1 only. CONNECT for 1.2, frames with extra headers (custom headers,
    receipts) and 1.2 ACK/NACK (`id` header) are built with stomper's generic `Frame`.
  - Header values are not unescaped (1.1/1.2 `\\c`, `\\n`, `\\\\`) and are stripped; the cases
    use values without those characters, and ids go back exactly as received.
  - No heart-beat support beyond the CONNECT header: the driver sends the EOL beats itself.
  - `disconnect()` builds a malformed frame (no blank line after the headers), which no server
    can finish parsing; the driver builds DISCONNECT with `Frame` instead.
"""
import argparse
import json
import re
import select
import socket
import sys
import threading
import time
import traceback
import uuid

import stomper
import stomper.stomp_10 as stomper10

# Heart-beat period the heartbeat case asks for. 1 s, not less: on a loaded 2-core machine a
# JVM pause or a busy process can delay a beat by a few hundred ms, and a broker that sees a
# client beat late closes the connection (ActiveMQ did, once, with 200 ms).
HEARTBEAT_MS = 1000


TIMEOUT = 5.0
# ActiveMQ dead-letters a NACKed message asynchronously and can stall for seconds (it
# purges inactive destinations every minute): the DLQ wait is longer, and ends as soon as the
# message is there.
DLQ_WAIT = 30.0
CASES = ["connect", "text_and_headers", "binary", "client_individual", "client_cumulative",
         "nack", "transaction", "receipt", "topic", "heartbeat", "login", "durable_restart",
         "disconnect"]
# durable_restart: persistent messages sent, of which the first DELIVERED_BEFORE are delivered
# (not acknowledged) before the broker is killed.
DURABLE_COUNT = 20
DELIVERED_BEFORE = 5
RESTART_WAIT = 60.0


def request_broker_restart(client, version):
    """The durable_restart handshake with run.mjs (interop/lib/restart.mjs)."""
    print(json.dumps({"control": "restart", "client": client, "version": version}), flush=True)
    ready, _, _ = select.select([sys.stdin], [], [], RESTART_WAIT)
    if not ready:
        raise AssertionError("no answer to the restart request within %d s" % RESTART_WAIT)
    line = sys.stdin.readline()
    if line == "":
        raise AssertionError("stdin closed: no harness to restart the broker")
    if line.strip() != "restarted":
        raise AssertionError("broker not restarted: %s" % line.strip())


class Unsupported(Exception):
    pass


def frame(cmd, headers, body=""):
    """A frame built with stomper's generic Frame, as UTF-8 bytes."""
    f = stomper.Frame()
    f.cmd = cmd
    f.headers = dict(headers)
    f.body = body
    return f.pack().encode("utf-8")


class Session:
    def __init__(self, args, version, heartbeat=(0, 0), login=None, passcode=None):
        self.args = args
        self.version = version
        self.sock = socket.create_connection((args.host, args.port), timeout=TIMEOUT)
        self.buf = b""
        self.frames = {}
        self.beats = 0
        self.closed = False
        self.lock = threading.Lock()
        if login is None:
            login, passcode = args.login, args.passcode
        with_login = login is not None
        login, passcode = login or "", passcode or ""
        if version == "1.0":
            self.write(stomper10.connect(login, passcode).encode("utf-8"))
        elif version == "1.1":
            self.write(stomper.connect(login, passcode, args.vhost or args.host, heartbeat).encode("utf-8"))
        else:
            headers = {"accept-version": "1.2", "host": args.vhost or args.host,
                       "heart-beat": "%d,%d" % heartbeat}
            if with_login:
                headers.update(login=login, passcode=passcode)
            self.write(frame("CONNECT", headers))
        self.connected = self.next("CONNECTED")

    def write(self, data):
        with self.lock:
            self.sock.sendall(data)

    def _read_frame(self, deadline):
        """The next frame from the socket, parsed by stomper, or None at the deadline."""
        while True:
            # Heart-beats: EOLs between frames.
            stripped = self.buf.lstrip(b"\r\n")
            self.beats += len(self.buf) - len(stripped)
            self.buf = stripped
            end = self.buf.find(b"\n\n")
            if end >= 0:
                head = self.buf[:end]
                m = re.search(rb"(?:^|\n)content-length:\s*(\d+)", head)
                start = end + 2
                stop = start + int(m.group(1)) if m else self.buf.find(b"\x00", start)
                if stop >= 0 and len(self.buf) > stop:
                    assert self.buf[stop:stop + 1] == b"\x00", "frame not NUL-terminated"
                    raw = self.buf[:stop + 1]
                    self.buf = self.buf[stop + 1:]
                    f = stomper.Frame()
                    f.unpack(raw.decode("utf-8", errors="replace"))
                    return f
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk

    def poll(self, cmd, wait):
        deadline = time.monotonic() + wait
        while True:
            q = self.frames.setdefault(cmd, [])
            if q:
                return q.pop(0)
            f = self._read_frame(deadline)
            if f is None:
                return None
            if f.cmd == "ERROR" and cmd != "ERROR":
                raise RuntimeError("ERROR frame: %s %s" % (f.headers.get("message"), f.body))
            self.frames.setdefault(f.cmd, []).append(f)

    def next(self, cmd="MESSAGE", wait=TIMEOUT):
        f = self.poll(cmd, wait)
        if f is None:
            raise TimeoutError("no %s within %s s" % (cmd, wait))
        return f

    def subscribe(self, dest, sub_id, ack, receipt=None):
        if receipt:
            self.write(frame("SUBSCRIBE", {"destination": dest, "id": sub_id, "ack": ack,
                                           "receipt": receipt}))
        elif self.version == "1.0":
            self.write(stomper10.subscribe(dest, ack).encode("utf-8"))
        else:
            self.write(stomper.subscribe(dest, sub_id, ack).encode("utf-8"))

    def send(self, dest, body, headers=None, transaction=None):
        if headers:
            h = dict(headers, destination=dest)
            if transaction:
                h["transaction"] = transaction
            self.write(frame("SEND", h, body))
        elif self.version == "1.0":
            self.write(stomper10.send(dest, body, transaction).encode("utf-8"))
        else:
            self.write(stomper.send(dest, body, transaction).encode("utf-8"))

    def ack(self, f, nack=False):
        h = f.headers
        if self.version == "1.2":
            self.write(frame("NACK" if nack else "ACK", {"id": h["ack"]}))
        elif self.version == "1.1":
            build = stomper.nack if nack else stomper.ack
            self.write(build(h["message-id"], h["subscription"]).encode("utf-8"))
        else:
            self.write(stomper10.ack(h["message-id"]).encode("utf-8"))

    def begin(self, tx):
        self.write((stomper10 if self.version == "1.0" else stomper).begin(tx).encode("utf-8"))

    def commit(self, tx):
        self.write((stomper10 if self.version == "1.0" else stomper).commit(tx).encode("utf-8"))

    def abort(self, tx):
        self.write((stomper10 if self.version == "1.0" else stomper).abort(tx).encode("utf-8"))

    def close(self):
        """DISCONNECT with a receipt, and wait for the RECEIPT."""
        if self.closed:
            return
        self.closed = True
        try:
            receipt = "bye-%s" % uuid.uuid4().hex
            # Not stomper.disconnect(): it builds "DISCONNECT\nreceipt:ID\n\x00\n", without the
            # blank line that ends the headers, so a server keeps waiting for the end of the
            # frame (and never sends the RECEIPT). stomper's generic Frame builds it right.
            self.write(frame("DISCONNECT", {"receipt": receipt}))
            self.poll("RECEIPT", TIMEOUT)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        self.destroy()

    def destroy(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass


class Driver:
    def __init__(self, args):
        self.args = args
        self.failed = False

    def open(self, version, track, heartbeat=(0, 0), login=None, passcode=None):
        return track(Session(self.args, version, heartbeat, login, passcode))

    def report(self, version, case, status, detail=""):
        if status == "fail":
            self.failed = True
        print(json.dumps({"client": "stomper", "version": version, "case": case,
                          "status": status, "detail": detail}), flush=True)

    def run(self, version, case):
        sessions = []

        def track(s):
            sessions.append(s)
            return s
        try:
            detail = getattr(self, "case_" + case)(version, track)
            self.report(version, case, "pass", detail)
        except Unsupported as exc:
            self.report(version, case, "unsupported", str(exc) or "STOMP %s has no such feature" % version)
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none is fatal
            self.report(version, case, "fail", "%s: %s | %s" % (
                type(exc).__name__, exc, traceback.format_exc().splitlines()[-3:]))
        finally:
            for s in sessions:
                s.destroy()

    # --- cases -----------------------------------------------------------------------------

    def case_connect(self, version, track):
        s = self.open(version, track)
        got = s.connected.headers.get("version", "1.0")
        server = s.connected.headers.get("server")
        s.close()
        assert got == version, "CONNECTED version %r, wanted %r" % (got, version)
        return "CONNECTED version %s, server %s" % (got, server)

    def case_text_and_headers(self, version, track):
        dest = "/queue/stomper_text_%s" % uuid.uuid4().hex
        s = self.open(version, track)
        s.subscribe(dest, "s1", "auto")
        s.send(dest, "héllo wörld", {"x-custom": "v1", "x-other": "two words"})
        m = s.next()
        s.close()
        assert m.body == "héllo wörld", m.body
        assert m.headers.get("x-custom") == "v1", m.headers
        assert m.headers.get("x-other") == "two words", m.headers
        assert m.headers.get("destination") == dest, m.headers
        assert m.headers.get("message-id"), m.headers
        return "body and custom headers delivered"

    def case_binary(self, version, track):
        raise Unsupported("stomper frames are str and unpack_frame drops NULs and line breaks "
                          "from bodies: no binary bodies")

    def case_client_individual(self, version, track):
        if version == "1.0":
            raise Unsupported()
        dest = "/queue/stomper_ci_%s" % uuid.uuid4().hex
        s = self.open(version, track)
        s.subscribe(dest, "s1", "client-individual")
        for i in range(3):
            s.send(dest, "m%d" % i)
        frames = [s.next() for _ in range(3)]
        order = ",".join(f.body for f in frames)
        assert order == "m0,m1,m2", order
        # Ack the first and last only; the middle one must come back after a reconnect.
        s.ack(frames[0])
        s.ack(frames[2])
        s.close()
        s2 = self.open(version, track)
        s2.subscribe(dest, "s1", "client-individual")
        again = s2.next()
        s2.ack(again)
        extra = s2.poll("MESSAGE", 0.3)
        s2.close()
        assert again.body == "m1", "redelivered %r" % again.body
        assert again.headers.get("redelivered") == "true", again.headers
        assert extra is None, "an acked message came back: %r" % extra.body
        return "unacked message redelivered with redelivered:true"

    def case_client_cumulative(self, version, track):
        dest = "/queue/stomper_cl_%s" % uuid.uuid4().hex
        s = self.open(version, track)
        s.subscribe(dest, "s1", "client")
        for i in range(3):
            s.send(dest, "m%d" % i)
        frames = [s.next() for _ in range(3)]
        s.ack(frames[2])  # acknowledges all three
        s.close()
        s2 = self.open(version, track)
        s2.subscribe(dest, "s1", "client")
        left = s2.poll("MESSAGE", 0.5)
        s2.close()
        assert left is None, "cumulative ACK left %r unacked" % left.body
        return "one ACK acknowledged all earlier messages"

    def case_nack(self, version, track):
        # Server-specific outcome (RabbitMQ requeues, ActiveMQ dead-letters): see stomppy_driver.py.
        if version == "1.0":
            raise Unsupported()
        dlq = self.args.nack_dlq
        dest = "/queue/stomper_nack_%s" % uuid.uuid4().hex
        s = self.open(version, track)
        s.subscribe(dest, "s1", "client-individual")
        s.send(dest, "nack-me", {"persistent": "true"} if dlq else None)
        first = s.next()
        s.ack(first, nack=True)
        second = s.poll("MESSAGE", 1.0) if dlq else s.next()
        if second is not None:
            s.ack(second)
            s.close()
            assert second.body == "nack-me" and second.headers.get("redelivered") == "true", second.headers
            return "NACKed message redelivered"
        # The DLQ is shared: acknowledge only our message, leave the others there.
        s.subscribe(dlq, "dlq", "client-individual")
        while True:
            f = s.poll("MESSAGE", DLQ_WAIT)
            assert f is not None, "NACKed message neither redelivered nor found on %s" % dlq
            if f.headers.get("original-destination") == dest:
                s.ack(f)
                s.close()
                assert f.body == "nack-me", f.body
                return "NACKed message dead-lettered to %s (server's choice per spec)" % dlq

    def case_transaction(self, version, track):
        dest = "/queue/stomper_tx_%s" % uuid.uuid4().hex
        s = self.open(version, track)
        s.subscribe(dest, "s1", "auto")
        s.begin("tx1")
        s.send(dest, "aborted", transaction="tx1")
        s.abort("tx1")
        s.begin("tx2")
        s.send(dest, "committed", transaction="tx2")
        early = s.poll("MESSAGE", 0.3)
        s.commit("tx2")
        m = early or s.next()
        extra = s.poll("MESSAGE", 0.3)
        s.close()
        assert early is None, "a transactional SEND was delivered before COMMIT"
        assert m.body == "committed", m.body
        assert extra is None, "an aborted SEND was delivered: %r" % extra.body
        return "ABORT discarded, COMMIT delivered"

    def case_receipt(self, version, track):
        dest = "/queue/stomper_rcpt_%s" % uuid.uuid4().hex
        s = self.open(version, track)
        s.send(dest, "x", {"receipt": "rcpt-1"})
        r = s.next("RECEIPT")
        s.close()
        assert r.headers.get("receipt-id") == "rcpt-1", r.headers
        return "RECEIPT for SEND"

    def case_topic(self, version, track):
        dest = "/topic/stomper_%s" % uuid.uuid4().hex
        a = self.open(version, track)
        b = self.open(version, track)
        a.subscribe(dest, "s1", "auto")
        b.subscribe(dest, "s1", "auto", receipt="sub-b")
        b.next("RECEIPT")
        a.send(dest, "fan", {"receipt": "pub"})
        a.next("RECEIPT")
        fa, fb = a.next(), b.next()
        a.close()
        b.close()
        assert fa.body == "fan" and fb.body == "fan", (fa.body, fb.body)
        return "both subscribers received"

    def case_heartbeat(self, version, track):
        if version == "1.0":
            raise Unsupported()
        s = self.open(version, track, heartbeat=(HEARTBEAT_MS, HEARTBEAT_MS))
        hb = s.connected.headers.get("heart-beat", "0,0")
        sx, sy = (int(x or 0) for x in hb.split(","))
        # stomper does not beat: the driver sends an EOL every max(HEARTBEAT_MS, sy) ms itself.
        stop = threading.Event()

        def beat():
            while not stop.wait(max(HEARTBEAT_MS, sy) / 1000 / 2):
                try:
                    s.write(b"\n")
                except OSError:
                    return
        if sy > 0:
            threading.Thread(target=beat, daemon=True).start()
        every = max(sx, HEARTBEAT_MS) if sx > 0 else 0
        check_beats = 0 < every <= 5000
        before = s.beats
        # Read (counting EOLs) for several intervals; no frame is due.
        # Three periods: ActiveMQ beats only after a whole check period without writes, so its
        # first beat may come almost two periods after CONNECTED.
        s.poll("MESSAGE", max(1.2, (3 * every + 200) / 1000) if check_beats else 1.2)
        beats = s.beats - before
        # A frame round trip proves the session survived.
        s.send("/queue/stomper_hb_%s" % uuid.uuid4().hex, "x", {"receipt": "hb"})
        s.next("RECEIPT")
        stop.set()
        s.close()
        assert hb != "0,0", "server offered no heart-beats: %s" % hb
        if check_beats:
            assert beats > 0, "server offered %s but sent no heart-beat" % hb
        return "heart-beat %s negotiated, connection kept, %d server beats" % (hb, beats)

    def case_login(self, version, track):
        # A wrong passcode is refused (an ERROR or a closed socket instead of CONNECTED, within
        # TIMEOUT), then the right credentials connect. Wrong first: our broker slows the next
        # login after a failure, and a success resets that.
        login = self.args.auth_login or self.args.login
        passcode = self.args.auth_passcode if self.args.auth_login else self.args.passcode
        if login is None:
            raise Unsupported("no credentials given: the server under test runs without logins")
        try:
            self.open(version, track, login=login, passcode=passcode + "-wrong")
            refused = None
        except (RuntimeError, ConnectionError, OSError) as exc:
            if isinstance(exc, TimeoutError):
                raise
            refused = "%s: %s" % (type(exc).__name__, exc)
        assert refused is not None, "CONNECTED with a wrong passcode"
        s = self.open(version, track, login=login, passcode=passcode)
        got = s.connected.headers.get("version", "1.0")
        s.close()
        assert got == version, "CONNECTED version %r, wanted %r" % (got, version)
        return "wrong passcode refused (%s); %s connected" % (refused[:120], login)

    def case_durable_restart(self, version, track):
        # Persistent messages confirmed by RECEIPTs survive a broker crash (SIGKILL by run.mjs)
        # and a restart on the same data directory: all come back, in order, and those delivered
        # (unacknowledged) before the crash with redelivered:true.
        dest = "/queue/stomper_durable_%s" % uuid.uuid4().hex
        s = self.open(version, track)
        for i in range(DURABLE_COUNT):
            s.send(dest, "d%d" % i, {"persistent": "true", "receipt": "p%d" % i})
            r = s.next("RECEIPT")
            assert r.headers.get("receipt-id") == "p%d" % i, r.headers
        s.subscribe(dest, "s1", "client")
        for i in range(DELIVERED_BEFORE):
            m = s.next()
            assert m.body == "d%d" % i, "before the restart got %r, wanted d%d" % (m.body, i)
        request_broker_restart("stomper", version)
        s.destroy()
        s2 = self.open(version, track)
        s2.subscribe(dest, "s1", "client")
        got = [s2.next() for _ in range(DURABLE_COUNT)]
        s2.ack(got[-1])
        extra = s2.poll("MESSAGE", 0.3)
        s2.close()
        order = [m.body for m in got]
        assert order == ["d%d" % i for i in range(DURABLE_COUNT)], "after the restart: %s" % order
        assert extra is None, "more than %d messages: %r" % (DURABLE_COUNT, extra.body)
        missing = [m.body for m in got[:DELIVERED_BEFORE] if m.headers.get("redelivered") != "true"]
        assert not missing, "without redelivered:true: %s" % missing
        flagged = sum(1 for m in got if m.headers.get("redelivered") == "true")
        return ("%d persistent messages back in order after SIGKILL + restart; the %d delivered "
                "before with redelivered:true (%d flagged in all)" % (DURABLE_COUNT, DELIVERED_BEFORE, flagged))

    def case_disconnect(self, version, track):
        # The driver owns the socket: DISCONNECT (built by stomper's Frame) with a receipt, the
        # RECEIPT, then the broker must close (EOF) without the driver closing first.
        s = self.open(version, track)
        rid = "bye-%s" % uuid.uuid4().hex
        s.write(frame("DISCONNECT", {"receipt": rid}))
        r = s.next("RECEIPT")
        assert r.headers.get("receipt-id") == rid, r.headers
        try:
            extra = s.poll("MESSAGE", TIMEOUT)
            closed = False
        except ConnectionError:
            closed, extra = True, None
        s.destroy()
        assert extra is None, "a frame after the RECEIPT"
        assert closed, "the broker did not close the connection after its RECEIPT"
        return "RECEIPT (receipt-id %s) for DISCONNECT, then the broker closed the connection" % rid


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--login", default=None)
    parser.add_argument("--passcode", default=None)
    parser.add_argument("--vhost", default=None)
    parser.add_argument("--versions", default="1.0,1.1,1.2")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--nack-dlq", default=None)
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
