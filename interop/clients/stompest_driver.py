#!/usr/bin/env python3
"""Drive a STOMP server with stompest (PyPI `stompest` 2.3, its synchronous client) and report each
behaviour, with the same cases and assertions as stomppy_driver.py.

Usage: stompest_driver.py --port N [--host 127.0.0.1] [--login L --passcode P] [--vhost /]
       [--versions 1.0,1.1,1.2] [--cases a,b] [--nack-dlq /queue/ActiveMQ.DLQ]
       [--auth-login L --auth-passcode P]
Prints one JSON object per line: {"client": "stompest", "version", "case", "status", "detail"};
exits 1 when a case fails. Run it with the interop venv's Python (interop/setup.sh python).

Besides the matrix's cases, `failover_replay` (run against our broker only, as a scenario of
run.mjs): a `failover:(tcp://DEAD,tcp://BROKER)?randomize=false,...` URI, a client-individual
subscription on a queue of persistent messages; after some are acknowledged the driver asks the
harness to kill and restart the broker (the durable_restart handshake, interop/lib/restart.mjs);
stompest's own failover loop reconnects (skipping the dead address) and its session replays the
subscription: the driver never subscribes again. Every message must arrive.

stompest's limits and how the driver meets them:
  - The synchronous client has no reader thread: frames (and heart-beats) are read only when the
    caller asks (canRead/receiveFrame), and the caller sends its own heart-beats (beat()). The
    heartbeat case does both, as stompest's documentation shows.
  - send() writes no content-length header unless the caller passes one (its documentation says
    a body with NULs must carry one): the binary case passes it.
  - STOMP 1.0 has no NACK, no client-individual and no heart-beat: `unsupported`, as for stomp.py.
  - stompest.async (the Twisted client, PyPI `stompest.async` 2.3) cannot be imported on Python
    3.7 or later: its package is named `async`, a keyword since 3.7 (`from stompest.async.client
    import Stomp` is a SyntaxError); see interop/README.md.
"""
import argparse
import json
import select
import sys
import time
import traceback
import uuid

from stompest.config import StompConfig
from stompest.error import StompConnectionError, StompProtocolError
from stompest.protocol import StompSpec
from stompest.sync import Stomp

CLIENT = "stompest"
TIMEOUT = 5.0
# 1 s heart-beats, as in the other drivers (a loaded 2-core machine delays shorter ones).
HEARTBEAT_MS = 1000
# ActiveMQ dead-letters a NACKed message asynchronously and can stall for seconds.
DLQ_WAIT = 30.0
DURABLE_COUNT = 20
DELIVERED_BEFORE = 5
LOGIN_WAIT = 10.0
RESTART_WAIT = 60.0
# failover_replay: messages in all, and how many are taken (and acknowledged) before the kill.
FAILOVER_COUNT = 12
FAILOVER_BEFORE = 4


class Unsupported(Exception):
    """A case the client or the protocol version cannot run; the message says why."""


def request_broker_restart(version, case="durable_restart"):
    """The durable_restart handshake with run.mjs (interop/lib/restart.mjs)."""
    print(json.dumps({"control": "restart", "client": CLIENT, "version": version, "case": case}),
          flush=True)
    ready, _, _ = select.select([sys.stdin], [], [], RESTART_WAIT)
    if not ready:
        raise AssertionError("no answer to the restart request within %d s" % RESTART_WAIT)
    line = sys.stdin.readline()
    if line == "":
        raise AssertionError("stdin closed: no harness to restart the broker")
    if line.strip() != "restarted":
        raise AssertionError("broker not restarted: %s" % line.strip())


def text(frame):
    return frame.body.decode("utf-8")


class Driver:
    def __init__(self, args):
        self.args = args
        self.failed = False

    def uri(self):
        return "tcp://%s:%d" % (self.args.host, self.args.port)

    def connect(self, version, heartbeats=None, login=None, passcode=None, uri=None):
        if login is None:
            login, passcode = self.args.login, self.args.passcode
        client = Stomp(StompConfig(uri or self.uri(), login=login, passcode=passcode,
                                   version=version))
        client.connect(versions=[version], host=self.args.vhost if version != "1.0" else None,
                       heartBeats=heartbeats, connectTimeout=TIMEOUT, connectedTimeout=TIMEOUT)
        return client

    def next_frame(self, client, timeout=TIMEOUT, command=StompSpec.MESSAGE):
        """The next frame, which must be `command` (an ERROR or another frame fails the case)."""
        if not client.canRead(timeout):
            raise AssertionError("no %s within %.1f s" % (command, timeout))
        frame = client.receiveFrame()
        if command is not None and frame.command != command:
            raise AssertionError("%s while waiting for %s: %s %s" % (
                frame.command, command, frame.headers, frame.body[:200]))
        return frame

    def no_message(self, client, wait=0.3):
        return client.receiveFrame() if client.canRead(wait) else None

    def receipt(self, client, timeout=TIMEOUT):
        return client.receipt(self.next_frame(client, timeout, StompSpec.RECEIPT))

    def report(self, version, case, status, detail=""):
        if status == "fail":
            self.failed = True
        print(json.dumps({"client": CLIENT, "version": version, "case": case, "status": status,
                          "detail": detail}), flush=True)

    def run(self, version, case, fn):
        try:
            result = fn(version)
            if isinstance(result, Unsupported):
                self.report(version, case, "unsupported", str(result))
            else:
                self.report(version, case, "pass", result or "")
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none is fatal
            self.report(version, case, "fail", "%s: %s | %s" % (
                type(exc).__name__, exc, traceback.format_exc().splitlines()[-3:]))

    @staticmethod
    def only_11(version, what):
        if version == "1.0":
            return Unsupported("STOMP 1.0 has no %s" % what)
        return None

    # --- cases -----------------------------------------------------------------------------

    def case_connect(self, version):
        client = self.connect(version)
        got, server = client.session.version, client.session.server
        client.disconnect()
        assert got == version, "CONNECTED version %r, wanted %r" % (got, version)
        return "CONNECTED version %s, server %s" % (got, server)

    def case_text_and_headers(self, version):
        dest = "/queue/stompest_text_%s" % uuid.uuid4().hex
        client = self.connect(version)
        client.subscribe(dest, {StompSpec.ID_HEADER: "s1", StompSpec.ACK_HEADER: "auto"})
        client.send(dest, "héllo wörld".encode("utf-8"),
                    headers={"x-custom": "v1", "x-other": "two words"})
        frame = self.next_frame(client)
        client.disconnect()
        assert text(frame) == "héllo wörld", frame.body
        assert frame.headers.get("x-custom") == "v1", frame.headers
        assert frame.headers.get("x-other") == "two words", frame.headers
        assert frame.headers.get("destination") == dest, frame.headers
        assert frame.headers.get("message-id"), frame.headers
        return "body and custom headers delivered"

    def case_binary(self, version):
        dest = "/queue/stompest_bin_%s" % uuid.uuid4().hex
        client = self.connect(version)
        client.subscribe(dest, {StompSpec.ID_HEADER: "s1", StompSpec.ACK_HEADER: "auto"})
        payload = bytes(range(256)) * 4
        # stompest sends content-length only when the caller gives it (its send() documentation:
        # a body with NULs "must be accompanied by" one); without it the body ends at the first NUL.
        client.send(dest, payload, headers={"content-type": "application/octet-stream",
                                            "content-length": str(len(payload))})
        frame = self.next_frame(client)
        client.disconnect()
        assert frame.body == payload, "binary body changed (%d bytes back)" % len(frame.body)
        return "1024 bytes with NULs intact"

    def case_client_individual(self, version):
        skip = self.only_11(version, "client-individual acknowledgement")
        if skip:
            return skip
        dest = "/queue/stompest_ci_%s" % uuid.uuid4().hex
        sub = {StompSpec.ID_HEADER: "s1", StompSpec.ACK_HEADER: "client-individual"}
        client = self.connect(version)
        client.subscribe(dest, sub)
        for i in range(3):
            client.send(dest, b"m%d" % i)
        frames = [self.next_frame(client) for _ in range(3)]
        client.ack(frames[0])
        client.ack(frames[2])
        client.disconnect()
        client2 = self.connect(version)
        client2.subscribe(dest, sub)
        again = self.next_frame(client2)
        client2.ack(again)
        extra = self.no_message(client2)
        client2.disconnect()
        assert again.body == b"m1", "redelivered %r" % again.body
        assert again.headers.get("redelivered") == "true", again.headers
        assert extra is None, "an acked message came back"
        return "unacked message redelivered with redelivered:true"

    def case_client_cumulative(self, version):
        dest = "/queue/stompest_cl_%s" % uuid.uuid4().hex
        sub = {StompSpec.ID_HEADER: "s1", StompSpec.ACK_HEADER: "client"}
        client = self.connect(version)
        client.subscribe(dest, sub)
        for i in range(3):
            client.send(dest, b"m%d" % i)
        frames = [self.next_frame(client) for _ in range(3)]
        client.ack(frames[2])  # acknowledges all three
        client.disconnect()
        client2 = self.connect(version)
        client2.subscribe(dest, sub)
        left = self.no_message(client2, 0.5)
        client2.disconnect()
        assert left is None, "cumulative ACK left %r unacked" % left.body
        return "one ACK acknowledged all earlier messages"

    def case_nack(self, version):
        # What happens to a NACKed message is the server's choice (spec): RabbitMQ requeues it;
        # ActiveMQ moves a persistent one to its DLQ (--nack-dlq), where the driver looks for it.
        skip = self.only_11(version, "NACK")
        if skip:
            return skip
        dlq = self.args.nack_dlq
        dest = "/queue/stompest_nack_%s" % uuid.uuid4().hex
        client = self.connect(version)
        client.subscribe(dest, {StompSpec.ID_HEADER: "s1", StompSpec.ACK_HEADER: "client-individual"})
        client.send(dest, b"nack-me", headers={"persistent": "true"} if dlq else {})
        first = self.next_frame(client)
        client.nack(first)
        second = self.no_message(client, 1.0) if dlq else self.next_frame(client)
        if second is not None:
            client.ack(second)
            client.disconnect()
            assert second.body == b"nack-me", second.body
            assert second.headers.get("redelivered") == "true", second.headers
            return "NACKed message redelivered"
        client.subscribe(dlq, {StompSpec.ID_HEADER: "dlq", StompSpec.ACK_HEADER: "client-individual"})
        deadline = time.time() + DLQ_WAIT
        while True:
            frame = self.no_message(client, max(0.1, deadline - time.time()))
            assert frame is not None, "NACKed message neither redelivered nor found on %s" % dlq
            if frame.headers.get("original-destination") == dest:
                client.ack(frame)
                client.disconnect()
                assert frame.body == b"nack-me", frame.body
                return "NACKed message dead-lettered to %s (server's choice per spec)" % dlq

    def case_transaction(self, version):
        dest = "/queue/stompest_tx_%s" % uuid.uuid4().hex
        client = self.connect(version)
        client.subscribe(dest, {StompSpec.ID_HEADER: "s1", StompSpec.ACK_HEADER: "auto"})
        client.begin("tx1")
        client.send(dest, b"aborted", headers={StompSpec.TRANSACTION_HEADER: "tx1"})
        client.abort("tx1")
        client.begin("tx2")
        client.send(dest, b"committed", headers={StompSpec.TRANSACTION_HEADER: "tx2"})
        early = self.no_message(client)
        client.commit("tx2")
        frame = self.next_frame(client)
        extra = self.no_message(client)
        client.disconnect()
        assert early is None, "a transactional SEND was delivered before COMMIT"
        assert frame.body == b"committed", frame.body
        assert extra is None, "an aborted SEND was delivered: %r" % extra.body
        return "ABORT discarded, COMMIT delivered"

    def case_receipt(self, version):
        dest = "/queue/stompest_rcpt_%s" % uuid.uuid4().hex
        client = self.connect(version)
        client.send(dest, b"x", receipt="rcpt-1")
        got = self.receipt(client)
        client.disconnect()
        assert got == "rcpt-1", got
        return "RECEIPT for SEND"

    def case_topic(self, version):
        dest = "/topic/stompest_%s" % uuid.uuid4().hex
        a, b = self.connect(version), self.connect(version)
        a.subscribe(dest, {StompSpec.ID_HEADER: "s1", StompSpec.ACK_HEADER: "auto"})
        b.subscribe(dest, {StompSpec.ID_HEADER: "s1", StompSpec.ACK_HEADER: "auto"}, receipt="sub-b")
        self.receipt(b)
        a.send(dest, b"fan", receipt="pub")
        # The RECEIPT and the MESSAGE may come in either order on `a`.
        got = []
        for _ in range(2):
            assert a.canRead(TIMEOUT), "subscriber a: %d of 2 frames" % len(got)
            got.append(a.receiveFrame())
        fb = self.next_frame(b)
        a.disconnect()
        b.disconnect()
        bodies = sorted(f.body for f in got if f.command == StompSpec.MESSAGE)
        assert bodies == [b"fan"], [f.command for f in got]
        assert fb.body == b"fan"
        return "both subscribers received"

    def case_heartbeat(self, version):
        skip = self.only_11(version, "heart-beating")
        if skip:
            return skip
        client = self.connect(version, heartbeats=(HEARTBEAT_MS, HEARTBEAT_MS))
        cx, sx = client.clientHeartBeat, client.serverHeartBeat
        offered = client.session.server  # for the detail only
        # The sync client beats only when asked: beat at half our period, read whatever comes,
        # for three periods of the server's beat (ActiveMQ beats after a whole idle period).
        every = max(sx, HEARTBEAT_MS) if sx > 0 else 0
        check_beats = 0 < every <= 5000
        span = max(1.2, (3 * every + 200) / 1000) if check_beats else 1.2
        start = time.time()
        last_beat = start
        first_received = client.lastReceived
        beats = 0
        while time.time() - start < span:
            if cx and time.time() - last_beat >= cx / 2000:
                client.beat()
                last_beat = time.time()
            before = client.lastReceived
            if client.canRead(0.05):
                raise AssertionError("unexpected frame while heart-beating: %s" %
                                     client.receiveFrame().command)
            if client.lastReceived != before:
                beats += 1
        client.disconnect()
        assert cx > 0 and sx > 0, "heart-beats not negotiated: client %d ms, server %d ms" % (cx, sx)
        if check_beats:
            assert beats > 0 and client.lastReceived != first_received, \
                "server agreed to beat every %d ms but sent no heart-beat" % sx
        return "heart-beat %d,%d negotiated (server %s), connection kept, %d server beats" % (
            cx, sx, offered, beats)

    def case_login(self, version):
        # A wrong passcode is refused (ERROR or a failed connect within LOGIN_WAIT, not a hang),
        # then the right credentials connect.
        login = self.args.auth_login or self.args.login
        passcode = self.args.auth_passcode if self.args.auth_login else self.args.passcode
        if login is None:
            return Unsupported("no credentials given: the server under test runs without logins")
        client = Stomp(StompConfig(self.uri(), login=login, passcode=passcode + "-wrong",
                                   version=version))
        try:
            client.connect(versions=[version], host=self.args.vhost if version != "1.0" else None,
                           connectTimeout=TIMEOUT, connectedTimeout=LOGIN_WAIT)
        except (StompConnectionError, StompProtocolError) as exc:
            refused = "%s: %s" % (type(exc).__name__, exc)
        else:
            client.disconnect()
            raise AssertionError("CONNECTED with a wrong passcode")
        good = self.connect(version, login=login, passcode=passcode)
        got = good.session.version
        good.disconnect()
        assert got == version, "CONNECTED version %r, wanted %r" % (got, version)
        return "wrong passcode refused (%s); %s connected" % (refused[:120], login)

    def case_durable_restart(self, version):
        dest = "/queue/stompest_durable_%s" % uuid.uuid4().hex
        client = self.connect(version)
        for i in range(DURABLE_COUNT):
            client.send(dest, b"d%d" % i, headers={"persistent": "true"}, receipt="p%d" % i)
            got = self.receipt(client)
            assert got == "p%d" % i, "RECEIPT %r for p%d" % (got, i)
        sub = {StompSpec.ID_HEADER: "s1", StompSpec.ACK_HEADER: "client"}
        client.subscribe(dest, sub)
        for i in range(DELIVERED_BEFORE):
            frame = self.next_frame(client)
            assert frame.body == b"d%d" % i, "before the restart got %r, wanted d%d" % (frame.body, i)
        request_broker_restart(version)
        client.close(flush=True)
        client2 = self.connect(version)
        client2.subscribe(dest, sub)
        frames = [self.next_frame(client2) for _ in range(DURABLE_COUNT)]
        client2.ack(frames[-1])
        extra = self.no_message(client2)
        client2.disconnect()
        order = [f.body.decode() for f in frames]
        assert order == ["d%d" % i for i in range(DURABLE_COUNT)], "after the restart: %s" % order
        assert extra is None, "more than %d messages: %r" % (DURABLE_COUNT, extra.body)
        missing = [f.body for f in frames[:DELIVERED_BEFORE] if f.headers.get("redelivered") != "true"]
        assert not missing, "without redelivered:true: %s" % missing
        return ("%d persistent messages back in order after SIGKILL + restart; the %d delivered "
                "before with redelivered:true" % (DURABLE_COUNT, DELIVERED_BEFORE))

    def case_disconnect(self, version):
        # With a receipt, stompest's disconnect() leaves the wire open (its documentation says so):
        # the broker must send the RECEIPT and then close the connection.
        client = self.connect(version)
        rid = "bye-%s" % uuid.uuid4().hex
        client.disconnect(receipt=rid)
        got = self.receipt(client)
        closed = None
        try:
            deadline = time.time() + TIMEOUT
            while time.time() < deadline:
                if client.canRead(0.1):
                    raise AssertionError("a frame after the RECEIPT: %s" % client.receiveFrame().command)
        except StompConnectionError as exc:
            closed = str(exc)
        client.close(flush=True)
        assert got == rid, "receipt-id %r, wanted %r" % (got, rid)
        assert closed, "the broker did not close the connection after its RECEIPT"
        return "RECEIPT (receipt-id %s) for DISCONNECT, then the broker closed the connection (%s)" % (
            rid, closed)

    def case_failover_replay(self, version):
        # stompest's failover URI and subscription replay (see the module docstring).
        dead = self.args.dead_port
        uri = ("failover:(tcp://127.0.0.1:%d,tcp://%s:%d)?randomize=false,"
               "initialReconnectDelay=100,maxReconnectDelay=1000,maxReconnectAttempts=60,"
               "startupMaxReconnectAttempts=2" % (dead, self.args.host, self.args.port))
        dest = "/queue/stompest_failover_%s" % uuid.uuid4().hex
        sender = self.connect(version)
        for i in range(FAILOVER_COUNT):
            sender.send(dest, b"f%d" % i, headers={"persistent": "true"}, receipt="f%d" % i)
            assert self.receipt(sender) == "f%d" % i
        sender.disconnect()
        client = self.connect(version, uri=uri)
        ack = "client-individual" if version != "1.0" else "client"
        client.subscribe(dest, {StompSpec.ID_HEADER: "s1", StompSpec.ACK_HEADER: ack})
        # The broker may push every message at once: MESSAGEs read while waiting for an ACK's
        # RECEIPT wait in `pending`. Those left there at the kill were never acknowledged, so
        # they come again after the reconnect.
        pending = []
        seen = []
        for _ in range(FAILOVER_BEFORE):
            frame = pending.pop(0) if pending else self.next_frame(client)
            rid = "a-%s" % frame.body.decode()
            # 1.0 `client` mode: the ACK is cumulative, and every earlier message is acknowledged.
            client.ack(frame, receipt=rid)
            while True:
                got = self.next_frame(client, command=None)
                if got.command == StompSpec.MESSAGE:
                    pending.append(got)
                    continue
                assert got.command == StompSpec.RECEIPT and client.receipt(got) == rid, got.info()
                break
            seen.append(frame.body.decode())
        request_broker_restart(version, "failover_replay")
        lost = None
        try:
            while client.canRead(TIMEOUT):
                client.receiveFrame()
        except StompConnectionError as exc:
            lost = str(exc)
        assert lost, "the connection survived the broker's SIGKILL"
        client.close(flush=False)  # keep the subscription: connect() replays it
        started = time.time()
        client.connect(versions=[version], host=self.args.vhost if version != "1.0" else None,
                       connectTimeout=TIMEOUT, connectedTimeout=TIMEOUT)
        reconnect_s = time.time() - started
        redelivered = 0
        while len(seen) < FAILOVER_COUNT:
            frame = self.next_frame(client)
            body = frame.body.decode()
            redelivered += frame.headers.get("redelivered") == "true"
            client.ack(frame)
            if body not in seen:
                seen.append(body)
        extra = self.no_message(client)
        client.disconnect()
        assert seen == ["f%d" % i for i in range(FAILOVER_COUNT)], "got %s" % seen
        assert extra is None, "an acknowledged message came back: %r" % extra.body
        return ("connection lost (%s); failover URI reconnected in %.1f s past the dead address; "
                "subscription replayed by stompest; all %d messages, %d redelivered" % (
                    lost[:60], reconnect_s, FAILOVER_COUNT, redelivered))


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
    parser.add_argument("--nack-dlq", default=None)
    parser.add_argument("--auth-login", default=None)
    parser.add_argument("--auth-passcode", default=None)
    parser.add_argument("--dead-port", type=int, default=1,
                        help="failover_replay: a port nothing listens on (the URI's first address)")
    args = parser.parse_args()
    driver = Driver(args)
    for version in args.versions.split(","):
        for case in args.cases.split(","):
            driver.run(version, case, getattr(driver, "case_" + case))
    sys.exit(1 if driver.failed else 0)


if __name__ == "__main__":
    main()
