#!/usr/bin/env python3
"""Drive a STOMP server with stomp.py (Debian's python3-stomp) and report each behaviour.

Usage: stomppy_driver.py --port N [--host 127.0.0.1] [--login L --passcode P] [--vhost /] [--versions 1.0,1.1,1.2]
       [--cases a,b] [--nack-dlq /queue/ActiveMQ.DLQ] [--auth-login L --auth-passcode P]
--auth-login/--auth-passcode: the login case's user (default --login/--passcode).
durable_restart asks the harness to kill and restart the broker: it prints a JSON line
{"control": "restart", ...} and waits for "restarted" on stdin (see interop/lib/restart.mjs).
Prints one JSON object per line: {"client": "stomp.py", "version": V, "case": NAME,
"status": "pass" | "fail" | "unsupported", "detail": TEXT}. Exits 1 when any case fails.
Run it with Debian's /usr/bin/python3 (it has python3-stomp).
"""
import argparse
import json
import queue
import select
import sys
import threading
import time
import traceback
import uuid

import stomp

# Heart-beat period the heartbeat case asks for. 1 s, not less: on a loaded 2-core machine a
# JVM pause or a busy process can delay a beat by a few hundred ms, and a broker that sees a
# client beat late closes the connection (ActiveMQ did, once, with 200 ms).
HEARTBEAT_MS = 1000


TIMEOUT = 5.0
# ActiveMQ dead-letters a NACKed message asynchronously and can stall for seconds (it
# purges inactive destinations every minute): the DLQ wait is longer, and ends as soon as the
# message is there.
DLQ_WAIT = 30.0
# durable_restart: persistent messages sent, of which the first DELIVERED_BEFORE are delivered
# (not acknowledged) before the broker is killed.
DURABLE_COUNT = 20
DELIVERED_BEFORE = 5
# The login case's bound on a refused login (the broker delays a login after a failure).
LOGIN_WAIT = 10.0
RESTART_WAIT = 60.0


class Unsupported(Exception):
    """A case the client or the setup cannot run; the message says why."""


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


class Collector(stomp.ConnectionListener):
    def __init__(self):
        self.messages = queue.Queue()
        self.receipts = queue.Queue()
        self.errors = queue.Queue()
        self.connected = queue.Queue()
        self.beats = 0
        self.disconnected = threading.Event()

    def on_disconnected(self):
        self.disconnected.set()

    def on_heartbeat(self):
        self.beats += 1

    def on_message(self, frame):
        self.messages.put(frame)

    def on_receipt(self, frame):
        self.receipts.put(frame.headers.get("receipt-id"))

    def on_error(self, frame):
        self.errors.put(frame)

    def on_connected(self, frame):
        self.connected.put(frame)

    def next_message(self, timeout=TIMEOUT):
        return self.messages.get(timeout=timeout)

    def no_message(self, wait=0.3):
        try:
            frame = self.messages.get(timeout=wait)
        except queue.Empty:
            return None
        return frame


CONNECTION = {"1.0": stomp.Connection10, "1.1": stomp.Connection11, "1.2": stomp.Connection12}


class Driver:
    def __init__(self, args):
        self.args = args
        self.failed = False

    def connect(self, version, auto_decode=True, heartbeats=(0, 0), login=None, passcode=None):
        kwargs = {"auto_decode": auto_decode}
        if version != "1.0":
            kwargs["heartbeats"] = heartbeats
            if self.args.vhost:
                kwargs["vhost"] = self.args.vhost
        conn = CONNECTION[version]([(self.args.host, self.args.port)], **kwargs)
        listener = Collector()
        conn.set_listener("collector", listener)
        if login is None:
            login, passcode = self.args.login, self.args.passcode
        conn.connect(login, passcode, wait=True)
        return conn, listener

    def ack(self, conn, version, frame, nack=False):
        h = frame.headers
        fn = conn.nack if nack else conn.ack
        if version == "1.2":
            fn(h["ack"])
        elif version == "1.1":
            fn(h["message-id"], h["subscription"])
        else:
            fn(h["message-id"])

    def report(self, version, case, status, detail=""):
        if status == "fail":
            self.failed = True
        print(json.dumps({"client": "stomp.py", "version": version, "case": case,
                          "status": status, "detail": detail}), flush=True)

    def run(self, version, case, fn):
        try:
            result = fn(version)
            if isinstance(result, Unsupported):
                self.report(version, case, "unsupported", str(result))
            elif result == "unsupported":
                self.report(version, case, "unsupported", "stomp.py or STOMP %s has no such feature" % version)
            else:
                self.report(version, case, "pass", result or "")
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none is fatal
            self.report(version, case, "fail", "%s: %s | %s" % (
                type(exc).__name__, exc, traceback.format_exc().splitlines()[-3:]))

    # --- cases -----------------------------------------------------------------------------

    def case_connect(self, version):
        conn, listener = self.connect(version)
        frame = listener.connected.get(timeout=TIMEOUT)
        got = frame.headers.get("version", "1.0")
        conn.disconnect()
        assert got == version, "CONNECTED version %r, wanted %r" % (got, version)
        return "CONNECTED version %s, server %s" % (got, frame.headers.get("server"))

    def case_text_and_headers(self, version):
        dest = "/queue/py_text_%s" % uuid.uuid4().hex
        conn, listener = self.connect(version)
        conn.subscribe(destination=dest, id="s1", ack="auto")
        conn.send(destination=dest, body="héllo wörld", headers={"x-custom": "v1", "x-other": "two words"})
        frame = listener.next_message()
        conn.disconnect()
        assert frame.body == "héllo wörld", frame.body
        assert frame.headers.get("x-custom") == "v1", frame.headers
        assert frame.headers.get("x-other") == "two words", frame.headers
        assert frame.headers.get("destination") == dest, frame.headers
        assert frame.headers.get("message-id"), frame.headers
        return "body and custom headers delivered"

    def case_binary(self, version):
        dest = "/queue/py_bin_%s" % uuid.uuid4().hex
        conn, listener = self.connect(version, auto_decode=False)
        conn.subscribe(destination=dest, id="s1", ack="auto")
        payload = bytes(range(256)) * 4
        conn.send(destination=dest, body=payload, content_type="application/octet-stream")
        frame = listener.next_message()
        conn.disconnect()
        assert frame.body == payload, "binary body changed (%d bytes back)" % len(frame.body)
        return "1024 bytes with NULs intact"

    def case_client_individual(self, version):
        if version == "1.0":
            return "unsupported"
        dest = "/queue/py_ci_%s" % uuid.uuid4().hex
        conn, listener = self.connect(version)
        conn.subscribe(destination=dest, id="s1", ack="client-individual")
        for i in range(3):
            conn.send(destination=dest, body="m%d" % i)
        frames = [listener.next_message() for _ in range(3)]
        # Ack the first and last only; the middle one must come back after a reconnect.
        self.ack(conn, version, frames[0])
        self.ack(conn, version, frames[2])
        conn.disconnect()
        conn2, listener2 = self.connect(version)
        conn2.subscribe(destination=dest, id="s1", ack="client-individual")
        again = listener2.next_message()
        assert again.body == "m1", "redelivered %r" % again.body
        assert again.headers.get("redelivered") == "true", again.headers
        self.ack(conn2, version, again)
        assert listener2.no_message() is None, "an acked message came back"
        conn2.disconnect()
        return "unacked message redelivered with redelivered:true"

    def case_client_cumulative(self, version):
        dest = "/queue/py_cl_%s" % uuid.uuid4().hex
        conn, listener = self.connect(version)
        conn.subscribe(destination=dest, id="s1", ack="client")
        for i in range(3):
            conn.send(destination=dest, body="m%d" % i)
        frames = [listener.next_message() for _ in range(3)]
        self.ack(conn, version, frames[2])  # acknowledges all three
        conn.disconnect()
        conn2, listener2 = self.connect(version)
        conn2.subscribe(destination=dest, id="s1", ack="client")
        left = listener2.no_message(0.5)
        conn2.disconnect()
        assert left is None, "cumulative ACK left %r unacked" % left.body
        return "one ACK acknowledged all earlier messages"

    def case_nack(self, version):
        # What happens to a NACKed message is server-specific per the spec (redeliver, discard or
        # dead-letter). RabbitMQ requeues it; ActiveMQ Classic moves a persistent message to its
        # DLQ and drops a non-persistent one. With --nack-dlq (run.mjs passes it for ActiveMQ) the
        # message is sent persistent and, when it does not come back, must be on that DLQ.
        if version == "1.0":
            return "unsupported"
        dlq = self.args.nack_dlq
        dest = "/queue/py_nack_%s" % uuid.uuid4().hex
        conn, listener = self.connect(version)
        conn.subscribe(destination=dest, id="s1", ack="client-individual")
        conn.send(destination=dest, body="nack-me", headers={"persistent": "true"} if dlq else {})
        first = listener.next_message()
        self.ack(conn, version, first, nack=True)
        second = listener.no_message(1.0) if dlq else listener.next_message()
        if second is not None:
            self.ack(conn, version, second)
            conn.disconnect()
            assert second.body == "nack-me" and second.headers.get("redelivered") == "true", second.headers
            return "NACKed message redelivered"
        # The DLQ is shared: acknowledge only our message, leave the others there.
        conn.subscribe(destination=dlq, id="dlq", ack="client-individual")
        while True:
            frame = listener.no_message(DLQ_WAIT)
            assert frame is not None, "NACKed message neither redelivered nor found on %s" % dlq
            if frame.headers.get("original-destination") == dest:
                self.ack(conn, version, frame)
                conn.disconnect()
                assert frame.body == "nack-me", frame.body
                return "NACKed message dead-lettered to %s (server's choice per spec)" % dlq

    def case_transaction(self, version):
        dest = "/queue/py_tx_%s" % uuid.uuid4().hex
        conn, listener = self.connect(version)
        conn.subscribe(destination=dest, id="s1", ack="auto")
        tx = conn.begin()
        conn.send(destination=dest, body="aborted", transaction=tx)
        conn.abort(tx)
        tx = conn.begin()
        conn.send(destination=dest, body="committed", transaction=tx)
        early = listener.no_message(0.3)
        conn.commit(tx)
        frame = listener.next_message()
        extra = listener.no_message(0.3)
        conn.disconnect()
        assert early is None, "a transactional SEND was delivered before COMMIT"
        assert frame.body == "committed", frame.body
        assert extra is None, "an aborted SEND was delivered: %r" % extra.body
        return "ABORT discarded, COMMIT delivered"

    def case_receipt(self, version):
        dest = "/queue/py_rcpt_%s" % uuid.uuid4().hex
        conn, listener = self.connect(version)
        conn.send(destination=dest, body="x", receipt="rcpt-1")
        got = listener.receipts.get(timeout=TIMEOUT)
        conn.disconnect(receipt="bye-1")
        assert got == "rcpt-1", got
        return "RECEIPT for SEND"

    def case_topic(self, version):
        dest = "/topic/py_%s" % uuid.uuid4().hex
        a, la = self.connect(version)
        b, lb = self.connect(version)
        a.subscribe(destination=dest, id="s1", ack="auto")
        b.subscribe(destination=dest, id="s1", ack="auto", receipt="sub-b")
        lb.receipts.get(timeout=TIMEOUT)
        a.send(destination=dest, body="fan", receipt="pub")
        la.receipts.get(timeout=TIMEOUT)
        fa, fb = la.next_message(), lb.next_message()
        a.disconnect()
        b.disconnect()
        assert fa.body == "fan" and fb.body == "fan"
        return "both subscribers received"

    def case_heartbeat(self, version):
        if version == "1.0":
            return "unsupported"
        conn, listener = self.connect(version, heartbeats=(HEARTBEAT_MS, HEARTBEAT_MS))
        frame = listener.connected.get(timeout=TIMEOUT)
        hb = frame.headers.get("heart-beat", "0,0")
        sx = int(hb.split(",")[0] or 0)
        # Several intervals: the server must not drop us, and must beat itself (we asked for
        # HEARTBEAT_MS, so a server offering sx > 0 sends something at least every max(sx, HEARTBEAT_MS) ms).
        every = max(sx, HEARTBEAT_MS) if sx > 0 else 0
        check_beats = 0 < every <= 5000
        # Three periods: ActiveMQ beats only after a whole check period without writes, so its
        # first beat may come almost two periods after CONNECTED.
        time.sleep(max(1.2, (3 * every + 200) / 1000) if check_beats else 1.2)
        alive = conn.is_connected()
        beats = listener.beats
        conn.disconnect()
        assert hb != "0,0", "server offered no heart-beats: %s" % hb
        assert alive, "connection dropped while heart-beating"
        if check_beats:
            assert beats > 0, "server offered %s but sent no heart-beat" % hb
        return "heart-beat %s negotiated, connection kept, %d server beats" % (hb, beats)

    def case_login(self, version):
        # A wrong passcode is refused (an ERROR / failed connect within LOGIN_WAIT, not a hang),
        # then the right credentials connect. Wrong first: our broker slows the next login after
        # a failure, and a success resets that.
        login = self.args.auth_login or self.args.login
        passcode = self.args.auth_passcode if self.args.auth_login else self.args.passcode
        if login is None:
            return Unsupported("no credentials given: the server under test runs without logins")
        outcome = {}

        def bad():
            try:
                conn, listener = self.connect(version, login=login, passcode=passcode + "-wrong")
                outcome["connected"] = conn
            except Exception as exc:  # noqa: BLE001 - the refusal is what we want
                outcome["refused"] = "%s: %s" % (type(exc).__name__, exc)

        t = threading.Thread(target=bad, daemon=True)
        t.start()
        t.join(LOGIN_WAIT)
        assert not t.is_alive(), "connect with a wrong passcode neither failed nor succeeded within %d s" % LOGIN_WAIT
        if "connected" in outcome:
            outcome["connected"].disconnect()
            raise AssertionError("CONNECTED with a wrong passcode")
        conn, listener = self.connect(version, login=login, passcode=passcode)
        frame = listener.connected.get(timeout=TIMEOUT)
        got = frame.headers.get("version", "1.0")
        conn.disconnect()
        assert got == version, "CONNECTED version %r, wanted %r" % (got, version)
        return "wrong passcode refused (%s); %s connected" % (outcome["refused"][:120], login)

    def case_durable_restart(self, version):
        # Persistent messages confirmed by RECEIPTs survive a broker crash (SIGKILL by run.mjs)
        # and a restart on the same data directory: all come back, in order, and those delivered
        # (unacknowledged) before the crash with redelivered:true.
        dest = "/queue/py_durable_%s" % uuid.uuid4().hex
        conn, listener = self.connect(version)
        for i in range(DURABLE_COUNT):
            conn.send(destination=dest, body="d%d" % i, headers={"persistent": "true"}, receipt="p%d" % i)
            got = listener.receipts.get(timeout=TIMEOUT)
            assert got == "p%d" % i, "RECEIPT %r for p%d" % (got, i)
        conn.subscribe(destination=dest, id="s1", ack="client")
        for i in range(DELIVERED_BEFORE):
            frame = listener.next_message()
            assert frame.body == "d%d" % i, "before the restart got %r, wanted d%d" % (frame.body, i)
        request_broker_restart("stomp.py", version)
        listener.disconnected.wait(TIMEOUT)
        try:
            conn.disconnect()
        except Exception:  # noqa: BLE001 - the old connection died with the broker
            pass
        conn2, listener2 = self.connect(version)
        conn2.subscribe(destination=dest, id="s1", ack="client")
        frames = [listener2.next_message() for _ in range(DURABLE_COUNT)]
        self.ack(conn2, version, frames[-1])
        extra = listener2.no_message()
        conn2.disconnect()
        order = [f.body for f in frames]
        assert order == ["d%d" % i for i in range(DURABLE_COUNT)], "after the restart: %s" % order
        assert extra is None, "more than %d messages: %r" % (DURABLE_COUNT, extra.body)
        missing = [f.body for f in frames[:DELIVERED_BEFORE] if f.headers.get("redelivered") != "true"]
        assert not missing, "without redelivered:true: %s" % missing
        flagged = sum(1 for f in frames if f.headers.get("redelivered") == "true")
        return ("%d persistent messages back in order after SIGKILL + restart; the %d delivered "
                "before with redelivered:true (%d flagged in all)" % (DURABLE_COUNT, DELIVERED_BEFORE, flagged))

    def case_disconnect(self, version):
        # DISCONNECT with a receipt, sent with send_frame() so that stomp.py does not close the
        # socket itself on the RECEIPT (its disconnect() does): the broker must send the RECEIPT
        # and then close the connection.
        conn, listener = self.connect(version)
        rid = "bye-%s" % uuid.uuid4().hex
        conn.send_frame("DISCONNECT", {"receipt": rid})
        got = listener.receipts.get(timeout=TIMEOUT)
        closed = listener.disconnected.wait(TIMEOUT)
        if not closed:
            conn.transport.disconnect_socket()
        assert got == rid, "receipt-id %r, wanted %r" % (got, rid)
        assert closed, "the broker did not close the connection after its RECEIPT"
        return "RECEIPT (receipt-id %s) for DISCONNECT, then the broker closed the connection" % rid


CASES = ["connect", "text_and_headers", "binary", "client_individual", "client_cumulative",
         "nack", "transaction", "receipt", "topic", "heartbeat", "login", "durable_restart",
         "disconnect"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--login", default=None)
    parser.add_argument("--passcode", default=None)
    parser.add_argument("--vhost", default=None, help="CONNECT host header (RabbitMQ: /)")
    parser.add_argument("--versions", default="1.0,1.1,1.2")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--nack-dlq", default=None,
                        help="dead-letter queue where the server moves NACKed messages (ActiveMQ: /queue/ActiveMQ.DLQ)")
    parser.add_argument("--auth-login", default=None, help="the login case's user (default --login)")
    parser.add_argument("--auth-passcode", default=None)
    args = parser.parse_args()
    driver = Driver(args)
    for version in args.versions.split(","):
        for case in args.cases.split(","):
            driver.run(version, case, getattr(driver, "case_" + case))
    sys.exit(1 if driver.failed else 0)


if __name__ == "__main__":
    main()
