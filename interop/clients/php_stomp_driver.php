<?php
// Drive a STOMP server with PHP's stomp extension (Debian's php-stomp 2.0, run with php-cli) and
// report each behaviour: the same cases and assertions as stomppy_driver.py.
//
// Usage: php php_stomp_driver.php --port N [--host 127.0.0.1] [--login L --passcode P] [--vhost /]
//          [--versions 1.0,1.1,1.2] [--cases a,b] [--nack-dlq /queue/ActiveMQ.DLQ]
//          [--auth-login L --auth-passcode P]   (the login case's user; default --login/--passcode)
// durable_restart asks the harness to kill and restart the broker: it prints a JSON line
// {"control": "restart", ...} and waits for "restarted" on stdin (see interop/lib/restart.mjs).
// Prints one JSON object per line: {"client": "php-stomp", "version", "case", "status", "detail"}.
// Exits 1 when any case fails.
//
// php-stomp 2.0 notes (library, not peer), kept visible:
//   - The CONNECT headers are the constructor's 4th argument, so `accept-version`, `host` and
//     `heart-beat` pick the version; but the extension exposes nothing of CONNECTED except the
//     session id. The connect case therefore checks the version by what only that version's
//     MESSAGE frames carry: an `ack` header in 1.2 (client ack modes), a `subscription` header
//     and no `ack` in 1.1, no `ack` in 1.0.
//   - Any operation given a `receipt` header waits for that RECEIPT itself and returns true only
//     when it arrives; RECEIPT frames never reach readFrame().
//   - It never sends heart-beats: the heartbeat case asks for `heart-beat:0,1000` and counts the
//     server's beats as hasFrame() wake-ups after which readFrame() finds no frame. (It asked for
//     200 ms once: on a loaded machine ActiveMQ's beat came late and php-stomp gave up with
//     "Server is not responding"; 1 s, as the other drivers ask, leaves room for that.)
//   - After a body read by content-length it reads two more bytes, taking the second for the
//     EOL that RabbitMQ and ActiveMQ send after every NUL. The spec makes that EOL optional and
//     our broker sends none, so when two frames arrive back to back the extension swallows the
//     first byte of the second ("ESSAGE", "ECEIPT"). The cases therefore never let two frames
//     queue up: messages are sent and received one at a time, and a publisher that also
//     subscribes to a topic does not ask for a receipt. Assertions are unchanged.
//   - ACK/NACK send the frame's message-id; the 1.1 `subscription` and 1.2 `id` headers are
//     passed by the driver.
//   - DISCONNECT is sent only by the destructor, without a receipt, and the socket is closed at
//     once; no call sends an arbitrary frame. So `disconnect` (DISCONNECT with a receipt) is
//     `unsupported`.
//   - Because of the swallowed byte above, durable_restart subscribes with `prefetch-count:1`
//     (one unacknowledged MESSAGE at a time), so one message, not five, is delivered before the
//     broker is killed, and the twenty come back one per ACK.
const TIMEOUT = 5.0;
// ActiveMQ dead-letters a NACKed message asynchronously and can stall for seconds (it
// purges inactive destinations every minute): the DLQ wait is longer, and ends as soon as the
// message is there.
const DLQ_WAIT = 30.0;
const CASES = ['connect', 'text_and_headers', 'binary', 'client_individual', 'client_cumulative',
    'nack', 'transaction', 'receipt', 'topic', 'heartbeat', 'login', 'durable_restart', 'disconnect'];
// durable_restart: persistent messages sent, of which the first DELIVERED_BEFORE are delivered
// (not acknowledged) before the broker is killed (one: see the notes above).
const DURABLE_COUNT = 20;
const DELIVERED_BEFORE = 1;
const RESTART_WAIT = 60;

$o = getopt('', ['host:', 'port:', 'login:', 'passcode:', 'vhost:', 'versions:', 'cases:', 'nack-dlq:',
    'auth-login:', 'auth-passcode:']);
$o += ['host' => '127.0.0.1', 'login' => null, 'passcode' => null, 'vhost' => null,
    'versions' => '1.0,1.1,1.2', 'cases' => implode(',', CASES), 'nack-dlq' => null,
    'auth-login' => null, 'auth-passcode' => null];
if (!isset($o['port'])) {
    fwrite(STDERR, "usage: php_stomp_driver.php --port N ...\n");
    exit(2);
}

class Unsupported extends Exception {}

// The durable_restart handshake with run.mjs (interop/lib/restart.mjs).
function request_broker_restart(string $v) {
    echo json_encode(['control' => 'restart', 'client' => 'php-stomp', 'version' => $v]), "\n";
    fflush(STDOUT);
    $r = [STDIN];
    $w = $e = null;
    if (stream_select($r, $w, $e, RESTART_WAIT) < 1) {
        throw new Exception('no answer to the restart request within ' . RESTART_WAIT . ' s');
    }
    $line = fgets(STDIN);
    if ($line === false) throw new Exception('stdin closed: no harness to restart the broker');
    if (trim($line) !== 'restarted') throw new Exception('broker not restarted: ' . trim($line));
}

function check($cond, $msg) {
    if (!$cond) throw new Exception("assertion failed: $msg");
}

function uid() {
    return bin2hex(random_bytes(8));
}

final class Session {
    public Stomp $stomp;
    public string $version;
    private bool $closed = false;

    function __construct(string $version, string $heartbeat = '0,0', ?array $credentials = null) {
        global $o;
        [$login, $passcode] = $credentials ?? [$o['login'], $o['passcode']];
        $this->version = $version;
        $h = [];
        if ($version !== '1.0') {
            $h = ['accept-version' => $version, 'host' => $o['vhost'] ?? $o['host'],
                'heart-beat' => $heartbeat];
        }
        $this->stomp = new Stomp("tcp://{$o['host']}:{$o['port']}", $login, $passcode, $h);
    }

    /**
     * The next MESSAGE, or null after $wait seconds. Restores the read timeout afterwards: it is
     * also how long an operation with a receipt header waits for its RECEIPT.
     */
    function poll(float $wait) {
        try {
            return $this->pollFor($wait);
        } finally {
            $this->stomp->setReadTimeout((int) TIMEOUT);
        }
    }

    private function pollFor(float $wait) {
        $deadline = microtime(true) + $wait;
        while (($left = $deadline - microtime(true)) > 0) {
            $this->stomp->setReadTimeout((int) $left, (int) (($left - (int) $left) * 1e6));
            if (!$this->stomp->hasFrame()) continue;
            $f = $this->stomp->readFrame();
            if ($f === false) continue; // heart-beat bytes only
            if ($f->command === 'MESSAGE') return $f;
            throw new Exception("unexpected {$f->command}: " . json_encode($f->headers));
        }
        return null;
    }

    function next(float $wait = TIMEOUT) {
        $f = $this->poll($wait);
        if ($f === null) throw new Exception("no MESSAGE within $wait s" . $this->errorText());
        return $f;
    }

    function errorText() {
        $e = $this->stomp->error();
        return $e ? " ($e)" : '';
    }

    function ack($frame, bool $nack = false) {
        $h = [];
        if ($this->version === '1.2') $h['id'] = $frame->headers['ack'];
        if ($this->version === '1.1') $h['subscription'] = $frame->headers['subscription'];
        return $nack ? $this->stomp->nack($frame, $h) : $this->stomp->ack($frame, $h);
    }

    function receipted(string $what, bool $ok) {
        check($ok, "no RECEIPT for $what" . $this->errorText());
    }

    function close() {
        if ($this->closed) return;
        $this->closed = true;
        // The destructor sends DISCONNECT; earlier frames are processed first (TCP order).
        unset($this->stomp);
    }
}

$cases = [];

$cases['connect'] = function ($v, $track) {
    // php-stomp does not expose CONNECTED: check the version by its MESSAGE headers (see top).
    $dest = '/queue/php_conn_' . uid();
    $s = $track(new Session($v));
    $session = $s->stomp->getSessionId();
    $s->stomp->subscribe($dest, ['id' => 's1', 'ack' => 'client']);
    $s->stomp->send($dest, 'x');
    $m = $s->next();
    $s->ack($m);
    $s->close();
    $h = $m->headers;
    $got = isset($h['ack']) ? '1.2' : (isset($h['subscription']) ? '1.1 (or 1.0)' : '1.0');
    if ($v === '1.2') check(isset($h['ack']), "no ack header: not 1.2: " . json_encode($h));
    if ($v === '1.1') check(!isset($h['ack']) && isset($h['subscription']), "not 1.1: " . json_encode($h));
    if ($v === '1.0') check(!isset($h['ack']), "ack header: not 1.0: " . json_encode($h));
    return "connected (session $session); MESSAGE headers fit $v (php-stomp hides CONNECTED)";
};

$cases['text_and_headers'] = function ($v, $track) {
    $dest = '/queue/php_text_' . uid();
    $s = $track(new Session($v));
    $s->stomp->subscribe($dest, ['id' => 's1', 'ack' => 'auto']);
    $s->stomp->send($dest, 'héllo wörld', ['x-custom' => 'v1', 'x-other' => 'two words']);
    $m = $s->next();
    $s->close();
    $h = json_encode($m->headers);
    check($m->body === 'héllo wörld', 'body ' . json_encode($m->body));
    check(($m->headers['x-custom'] ?? '') === 'v1', "headers $h");
    check(($m->headers['x-other'] ?? '') === 'two words', "headers $h");
    check(($m->headers['destination'] ?? '') === $dest, "headers $h");
    check(!empty($m->headers['message-id']), "headers $h");
    return 'body and custom headers delivered';
};

$cases['binary'] = function ($v, $track) {
    $dest = '/queue/php_bin_' . uid();
    $payload = '';
    for ($i = 0; $i < 1024; $i++) $payload .= chr($i % 256);
    $s = $track(new Session($v));
    $s->stomp->subscribe($dest, ['id' => 's1', 'ack' => 'auto']);
    $s->stomp->send($dest, $payload, ['content-type' => 'application/octet-stream']);
    $m = $s->next();
    $s->close();
    check($m->body === $payload, 'binary body changed (' . strlen($m->body) . ' bytes back)');
    return '1024 bytes with NULs intact';
};

$cases['client_individual'] = function ($v, $track) {
    if ($v === '1.0') throw new Unsupported();
    $dest = '/queue/php_ci_' . uid();
    $s = $track(new Session($v));
    $s->stomp->subscribe($dest, ['id' => 's1', 'ack' => 'client-individual']);
    // One at a time, never two frames queued at once (see the EOL note at the top).
    $f = [];
    for ($i = 0; $i < 3; $i++) {
        $s->stomp->send($dest, "m$i");
        $f[] = $s->next();
    }
    $order = implode(',', array_map(fn ($x) => $x->body, $f));
    check($order === 'm0,m1,m2', "order $order");
    // Ack the first and last only; the middle one must come back after a reconnect.
    $s->ack($f[0]);
    $s->ack($f[2]);
    $s->close();
    $s2 = $track(new Session($v));
    $s2->stomp->subscribe($dest, ['id' => 's1', 'ack' => 'client-individual']);
    $again = $s2->next();
    $s2->ack($again);
    $extra = $s2->poll(0.3);
    $s2->close();
    check($again->body === 'm1', 'redelivered ' . json_encode($again->body));
    check(($again->headers['redelivered'] ?? '') === 'true', 'headers ' . json_encode($again->headers));
    check($extra === null, 'an acked message came back: ' . ($extra ? $extra->body : ''));
    return 'unacked message redelivered with redelivered:true';
};

$cases['client_cumulative'] = function ($v, $track) {
    $dest = '/queue/php_cl_' . uid();
    $s = $track(new Session($v));
    $s->stomp->subscribe($dest, ['id' => 's1', 'ack' => 'client']);
    $f = [];
    for ($i = 0; $i < 3; $i++) {
        $s->stomp->send($dest, "m$i"); // one at a time (see the EOL note at the top)
        $f[] = $s->next();
    }
    $s->ack($f[2]); // acknowledges all three
    $s->close();
    $s2 = $track(new Session($v));
    $s2->stomp->subscribe($dest, ['id' => 's1', 'ack' => 'client']);
    $left = $s2->poll(0.5);
    $s2->close();
    check($left === null, 'cumulative ACK left ' . ($left ? $left->body : '') . ' unacked');
    return 'one ACK acknowledged all earlier messages';
};

// NACK outcome is server-specific (RabbitMQ requeues, ActiveMQ Classic dead-letters persistent
// messages, checked with --nack-dlq); see stomppy_driver.py.
$cases['nack'] = function ($v, $track) {
    global $o;
    if ($v === '1.0') throw new Unsupported();
    $dlq = $o['nack-dlq'];
    $dest = '/queue/php_nack_' . uid();
    $s = $track(new Session($v));
    $s->stomp->subscribe($dest, ['id' => 's1', 'ack' => 'client-individual']);
    $s->stomp->send($dest, 'nack-me', $dlq ? ['persistent' => 'true'] : []);
    $first = $s->next();
    $s->ack($first, true);
    $second = $dlq ? $s->poll(1.0) : $s->next();
    if ($second !== null) {
        $s->ack($second);
        $s->close();
        check($second->body === 'nack-me' && ($second->headers['redelivered'] ?? '') === 'true',
            'headers ' . json_encode($second->headers));
        return 'NACKed message redelivered';
    }
    // The DLQ is shared: acknowledge only our message, leave the others there.
    $s->stomp->subscribe($dlq, ['id' => 'dlq', 'ack' => 'client-individual']);
    for (;;) {
        $f = $s->poll(DLQ_WAIT);
        check($f !== null, "NACKed message neither redelivered nor found on $dlq");
        if (($f->headers['original-destination'] ?? '') !== $dest) continue;
        $s->ack($f);
        $s->close();
        check($f->body === 'nack-me', 'body ' . $f->body);
        return "NACKed message dead-lettered to $dlq (server's choice per spec)";
    }
};

$cases['transaction'] = function ($v, $track) {
    $dest = '/queue/php_tx_' . uid();
    $s = $track(new Session($v));
    $s->stomp->subscribe($dest, ['id' => 's1', 'ack' => 'auto']);
    $s->stomp->begin('tx1');
    $s->stomp->send($dest, 'aborted', ['transaction' => 'tx1']);
    $s->stomp->abort('tx1');
    $s->stomp->begin('tx2');
    $s->stomp->send($dest, 'committed', ['transaction' => 'tx2']);
    $early = $s->poll(0.3);
    $s->stomp->commit('tx2');
    $m = $early ?? $s->next();
    $extra = $s->poll(0.3);
    $s->close();
    check($early === null, 'a transactional SEND was delivered before COMMIT');
    check($m->body === 'committed', 'body ' . $m->body);
    check($extra === null, 'an aborted SEND was delivered: ' . ($extra ? $extra->body : ''));
    return 'ABORT discarded, COMMIT delivered';
};

$cases['receipt'] = function ($v, $track) {
    $dest = '/queue/php_rcpt_' . uid();
    $s = $track(new Session($v));
    // With a receipt header the extension waits for the matching RECEIPT (receipt-id checked).
    $ok = $s->stomp->send($dest, 'x', ['receipt' => 'rcpt-' . uid()]);
    $s->receipted('SEND', $ok);
    $s->close();
    return 'RECEIPT for SEND';
};

$cases['topic'] = function ($v, $track) {
    $dest = '/topic/php_' . uid();
    $a = $track(new Session($v));
    $b = $track(new Session($v));
    $a->stomp->subscribe($dest, ['id' => 's1', 'ack' => 'auto']);
    $b->receipted('SUBSCRIBE', $b->stomp->subscribe($dest, ['id' => 's1', 'ack' => 'auto', 'receipt' => 'sub-b']));
    // No receipt on this SEND: a is subscribed too, so its MESSAGE and the RECEIPT would arrive
    // back to back (see the EOL note at the top). b's SUBSCRIBE receipt orders the fan-out.
    $a->stomp->send($dest, 'fan');
    $fa = $a->next();
    $fb = $b->next();
    $a->close();
    $b->close();
    check($fa->body === 'fan' && $fb->body === 'fan', "bodies {$fa->body} / {$fb->body}");
    return 'both subscribers received';
};

$cases['heartbeat'] = function ($v, $track) {
    if ($v === '1.0') throw new Unsupported();
    $s = $track(new Session($v, '0,1000'));
    // The negotiated header is hidden (see top): idle 3.5 s, three periods of a server that
    // beats every second, and count wake-ups that carried no frame.
    $end = microtime(true) + 3.5;
    $beats = 0;
    while (($left = $end - microtime(true)) > 0) {
        $s->stomp->setReadTimeout((int) $left, (int) (($left - (int) $left) * 1e6));
        if (!$s->stomp->hasFrame()) continue;
        $f = $s->stomp->readFrame();
        check($f === false, 'unexpected frame ' . ($f ? $f->command : ''));
        $beats++;
    }
    // A message round trip proves the session still works after idling on beats alone. Not a
    // receipt: while waiting for a RECEIPT the extension takes a heart-beat EOL for a bad frame
    // and returns false (a php-stomp limit), and a beat may be due at any moment here.
    $dest = '/queue/php_hb_' . uid();
    $s->stomp->subscribe($dest, ['id' => 's1', 'ack' => 'auto']);
    $s->stomp->send($dest, 'after-idle');
    $m = $s->next();
    check($m->body === 'after-idle', 'body ' . $m->body);
    $s->close();
    check($beats > 0, 'no heart-beat from the server in 3.5 s (asked for one every second)');
    return "asked 0,1000 (php-stomp cannot send beats), connection kept, $beats reads of server beats";
};

// A wrong passcode is refused (the constructor throws on the ERROR, within a bounded wait),
// then the right credentials connect. Wrong first: our broker slows the next login after a
// failure, and a success resets that.
$cases['login'] = function ($v, $track) {
    global $o;
    $login = $o['auth-login'] ?? $o['login'];
    $passcode = $o['auth-login'] !== null ? $o['auth-passcode'] : $o['passcode'];
    if ($login === null) {
        throw new Unsupported('no credentials given: the server under test runs without logins');
    }
    $refused = null;
    $start = microtime(true);
    try {
        $track(new Session($v, '0,0', [$login, $passcode . '-wrong']));
    } catch (StompException $e) {
        $refused = 'StompException: ' . $e->getMessage();
    }
    $took = microtime(true) - $start;
    check($refused !== null, 'CONNECTED with a wrong passcode');
    check($took < 10, sprintf('the refusal took %.1f s', $took));
    $s = $track(new Session($v, '0,0', [$login, $passcode]));
    check($s->stomp->getSessionId() !== false, 'no session after the right credentials');
    $s->close();
    return 'wrong passcode refused (' . substr($refused, 0, 120) . "); $login connected";
};

// Persistent messages confirmed by RECEIPTs survive a broker crash (SIGKILL by run.mjs) and a
// restart on the same data directory: all come back, in order, and the one delivered
// (unacknowledged) before the crash with redelivered:true.
$cases['durable_restart'] = function ($v, $track) {
    $dest = '/queue/php_durable_' . uid();
    $s = $track(new Session($v));
    for ($i = 0; $i < DURABLE_COUNT; $i++) {
        $s->receipted("SEND d$i", $s->stomp->send($dest, "d$i",
            ['persistent' => 'true', 'receipt' => "p$i"]));
    }
    $sub = ['id' => 's1', 'ack' => 'client', 'prefetch-count' => '1'];
    $s->stomp->subscribe($dest, $sub);
    for ($i = 0; $i < DELIVERED_BEFORE; $i++) {
        $m = $s->next();
        check($m->body === "d$i", "before the restart got {$m->body}, wanted d$i");
    }
    request_broker_restart($v);
    $s->close();
    $s2 = $track(new Session($v));
    $s2->stomp->subscribe($dest, $sub);
    $got = [];
    for ($i = 0; $i < DURABLE_COUNT; $i++) {
        $m = $s2->next();
        $got[] = $m;
        $s2->ack($m);
    }
    $extra = $s2->poll(0.3);
    $s2->close();
    $order = implode(',', array_map(fn($m) => $m->body, $got));
    $want = implode(',', array_map(fn($i) => "d$i", range(0, DURABLE_COUNT - 1)));
    check($order === $want, "after the restart: $order");
    check($extra === null, 'more than ' . DURABLE_COUNT . ' messages');
    $missing = [];
    foreach (array_slice($got, 0, DELIVERED_BEFORE) as $m) {
        if (($m->headers['redelivered'] ?? '') !== 'true') $missing[] = $m->body;
    }
    check(!$missing, 'without redelivered:true: ' . implode(',', $missing));
    $flagged = count(array_filter($got, fn($m) => ($m->headers['redelivered'] ?? '') === 'true'));
    return DURABLE_COUNT . ' persistent messages back in order after SIGKILL + restart; the '
        . DELIVERED_BEFORE . " delivered before with redelivered:true ($flagged flagged in all)";
};

$cases['disconnect'] = function ($v, $track) {
    throw new Unsupported('php-stomp sends DISCONNECT only from its destructor, without a '
        . 'receipt, and closes the socket at once; it cannot send any other frame');
};

$failed = false;
foreach (explode(',', $o['versions']) as $v) {
    foreach (explode(',', $o['cases']) as $c) {
        $sessions = [];
        $track = function ($s) use (&$sessions) {
            $sessions[] = $s;
            return $s;
        };
        try {
            $detail = $cases[$c]($v, $track);
            $r = ['status' => 'pass', 'detail' => $detail];
        } catch (Unsupported $e) {
            $r = ['status' => 'unsupported',
                'detail' => $e->getMessage() !== '' ? $e->getMessage() : "STOMP $v has no such feature"];
        } catch (Throwable $e) {
            $failed = true;
            $r = ['status' => 'fail', 'detail' => get_class($e) . ': ' . $e->getMessage()
                . (method_exists($e, 'getDetails') && $e->getDetails() ? ' ' . $e->getDetails() : '')];
        }
        foreach ($sessions as $s) $s->close();
        echo json_encode(['client' => 'php-stomp', 'version' => $v, 'case' => $c] + $r,
            JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE), "\n";
    }
}
exit($failed ? 1 : 0);
