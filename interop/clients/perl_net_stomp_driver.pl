#!/usr/bin/perl
# Drive a STOMP server with Perl's Net::Stomp (Debian's libnet-stomp-perl, 0.61) and report each
# behaviour: the same cases and assertions as stomppy_driver.py.
#
# Usage: perl_net_stomp_driver.pl --port N [--host 127.0.0.1] [--login L --passcode P]
#          [--vhost /] [--versions 1.0,1.1,1.2] [--cases a,b] [--nack-dlq /queue/ActiveMQ.DLQ]
#          [--auth-login L --auth-passcode P]   (the login case's user; default --login/--passcode)
# durable_restart asks the harness to kill and restart the broker: it prints a JSON line
# {"control": "restart", ...} and waits for "restarted" on stdin (see interop/lib/restart.mjs).
# Prints one JSON object per line: {"client": "net-stomp", "version", "case", "status", "detail"}.
# Exits 1 when any case fails.
#
# Net::Stomp 0.61 is a STOMP 1.0 library that passes any header through, so the driver asks for a
# version with `accept-version` and adds the 1.1/1.2 ACK/NACK headers (`subscription`, `id`) itself.
# Library limits, kept visible:
#   - It never sends heart-beats (and skips the server's EOLs when reading), so the heartbeat case
#     asks for `heart-beat:0,200` (we cannot beat; beat us every 200 ms) and counts the server's
#     beats with can_read(), its public "is something waiting" call.
#   - It adds content-length only with the `bytes_message` pseudo-header, which the binary case
#     sets (a NUL in a body without content-length ends the frame early, per the spec).
#   - It does not unescape 1.1/1.2 header values (`\c`, `\n`, `\\`); the cases use values without
#     those characters, and message ids are sent back exactly as received, so ACKs still match.
#   - disconnect() sends DISCONNECT without a receipt; the driver sends its own DISCONNECT with a
#     receipt and waits for it, so earlier ACKs are processed before the socket closes.
#   - Any read on a closed socket makes it reconnect; reconnect_attempts => 1 bounds that. So the
#     disconnect case watches the broker's close (EOF) on the raw socket, not through Net::Stomp.
use strict;
use warnings;
use utf8;
use Getopt::Long;
use JSON::PP;
use Time::HiRes qw(time sleep);
use Encode qw(encode decode);
use Net::Stomp;
use Net::Stomp::Frame;
use IO::Select;

my $TIMEOUT = 5;
# ActiveMQ dead-letters a NACKed message asynchronously and can stall for seconds (it
# purges inactive destinations every minute): the DLQ wait is longer, and ends as soon as the
# message is there.
my $DLQ_WAIT = 30;
my @CASES   = qw(connect text_and_headers binary client_individual client_cumulative nack
  transaction receipt topic heartbeat login durable_restart disconnect);
# durable_restart: persistent messages sent, of which the first DELIVERED_BEFORE are delivered
# (not acknowledged) before the broker is killed.
my $DURABLE_COUNT    = 20;
my $DELIVERED_BEFORE = 5;
my $RESTART_WAIT     = 60;
my %o = (
    host     => '127.0.0.1',
    versions => '1.0,1.1,1.2',
    cases    => join(',', @CASES),
);
GetOptions(\%o, 'host=s', 'port=i', 'login=s', 'passcode=s', 'vhost=s', 'versions=s', 'cases=s',
    'nack-dlq=s', 'auth-login=s', 'auth-passcode=s')
  or die "bad arguments\n";
die "usage: perl_net_stomp_driver.pl --port N ...\n" unless $o{port};

my $seq = 0;
sub uid { sprintf('%x%x%d', int(rand(0xffffffff)), int(time * 1000), ++$seq) }

sub check {
    my ($cond, $msg) = @_;
    die "assertion failed: $msg\n" unless $cond;
}

{

    package Session;

    sub new {
        my ($class, $version, %opt) = @_;
        my $stomp = Net::Stomp->new({
            hostname           => $o{host},
            port               => $o{port},
            reconnect_attempts => 1,
            connect_delay      => 0,
        });
        my %h;
        my $login    = exists $opt{login}    ? $opt{login}    : $o{login};
        my $passcode = exists $opt{passcode} ? $opt{passcode} : $o{passcode};
        $h{login}    = $login    if defined $login;
        $h{passcode} = $passcode if defined $passcode;
        if ($version ne '1.0') {
            $h{'accept-version'} = $version;
            $h{host}             = $o{vhost} // $o{host};
            $h{'heart-beat'}     = $opt{heartbeat} // '0,0';
        }
        my $connected = $stomp->connect(\%h);
        die 'no CONNECTED: ' . ($connected ? $connected->command . ' ' . ($connected->headers->{message} // '') : 'nothing') . "\n"
          unless $connected && $connected->command eq 'CONNECTED';
        return bless { stomp => $stomp, version => $version, connected => $connected, frames => {} },
          $class;
    }

    sub stomp     { $_[0]{stomp} }
    sub connected { $_[0]{connected} }

    # The next frame with $command, or undef after $wait seconds.
    sub poll {
        my ($self, $command, $wait) = @_;
        my $deadline = main::time() + $wait;
        for (;;) {
            my $q = $self->{frames}{$command} //= [];
            return shift @$q if @$q;
            my $left = $deadline - main::time();
            return undef if $left <= 0;
            my $f = $self->{stomp}->receive_frame({ timeout => $left });
            next unless $f;
            die 'ERROR frame: ' . ($f->headers->{message} // '') . ' ' . ($f->body // '') . "\n"
              if $f->command eq 'ERROR';
            push @{ $self->{frames}{ $f->command } //= [] }, $f;
        }
    }

    sub next {
        my ($self, $command, $wait) = @_;
        $command //= 'MESSAGE';
        $wait    //= $TIMEOUT;
        my $f = $self->poll($command, $wait);
        die "no $command within $wait s\n" unless $f;
        return $f;
    }

    sub subscribe {
        my ($self, %h) = @_;
        $self->{stomp}->subscribe(\%h);
    }

    sub send {
        my ($self, %h) = @_;
        $self->{stomp}->send(\%h);
    }

    sub ack {
        my ($self, $frame, $nack) = @_;
        my $h = $frame->headers;
        my %extra;
        if ($self->{version} eq '1.2') {
            %extra = (id => $h->{ack});
        } elsif ($self->{version} eq '1.1') {
            %extra = (subscription => $h->{subscription});
        }
        if ($nack) { $self->{stomp}->nack({ frame => $frame, %extra }) }
        else       { $self->{stomp}->ack({ frame => $frame, %extra }) }
    }

    sub close {
        my ($self) = @_;
        return if $self->{closed};
        $self->{closed} = 1;
        my $id = 'bye-' . main::uid();
        eval {
            $self->{stomp}->send_frame(
                Net::Stomp::Frame->new({ command => 'DISCONNECT', headers => { receipt => $id } }));
            $self->poll('RECEIPT', $TIMEOUT);
        };
        $self->destroy;
    }

    sub destroy {
        my ($self) = @_;
        my $s = $self->{stomp}->socket;
        $s->close if $s;
        $self->{closed} = 1;
    }
}

sub body_text { decode('UTF-8', $_[0]->body // '') }

my %cases;

$cases{connect} = sub {
    my ($v, $track) = @_;
    my $s      = $track->(Session->new($v));
    my $got    = $s->connected->headers->{version} // '1.0';
    my $server = $s->connected->headers->{server} // '';
    $s->close;
    check($got eq $v, "CONNECTED version $got, wanted $v");
    return "CONNECTED version $got, server $server";
};

$cases{text_and_headers} = sub {
    my ($v, $track) = @_;
    my $dest = '/queue/pl_text_' . uid();
    my $s    = $track->(Session->new($v));
    $s->subscribe(destination => $dest, id => 's1', ack => 'auto');
    $s->send(destination => $dest, body => encode('UTF-8', 'héllo wörld'), 'x-custom' => 'v1',
        'x-other' => 'two words');
    my $m = $s->next;
    $s->close;
    my $h = encode_json($m->headers);
    check(body_text($m) eq 'héllo wörld', 'body ' . encode_json([ body_text($m) ]));
    check(($m->headers->{'x-custom'} // '') eq 'v1',        "headers $h");
    check(($m->headers->{'x-other'}  // '') eq 'two words', "headers $h");
    check(($m->headers->{destination} // '') eq $dest,      "headers $h");
    check($m->headers->{'message-id'},                      "headers $h");
    return 'body and custom headers delivered';
};

$cases{binary} = sub {
    my ($v, $track) = @_;
    my $dest    = '/queue/pl_bin_' . uid();
    my $payload = join('', map { chr($_ % 256) } 0 .. 1023);
    my $s       = $track->(Session->new($v));
    $s->subscribe(destination => $dest, id => 's1', ack => 'auto');
    $s->send(destination => $dest, body => $payload, 'content-type' => 'application/octet-stream',
        bytes_message => 1);
    my $m = $s->next;
    $s->close;
    my $got = $m->body // '';
    check($got eq $payload, 'binary body changed (' . length($got) . ' bytes back)');
    return '1024 bytes with NULs intact';
};

$cases{client_individual} = sub {
    my ($v, $track) = @_;
    return 'unsupported' if $v eq '1.0';
    my $dest = '/queue/pl_ci_' . uid();
    my $s    = $track->(Session->new($v));
    $s->subscribe(destination => $dest, id => 's1', ack => 'client-individual');
    $s->send(destination => $dest, body => "m$_") for 0 .. 2;
    my @f = map { $s->next } 0 .. 2;
    my $order = join(',', map { $_->body } @f);
    check($order eq 'm0,m1,m2', "order $order");
    # Ack the first and last only; the middle one must come back after a reconnect.
    $s->ack($f[0]);
    $s->ack($f[2]);
    $s->close;
    my $s2 = $track->(Session->new($v));
    $s2->subscribe(destination => $dest, id => 's1', ack => 'client-individual');
    my $again = $s2->next;
    $s2->ack($again);
    my $extra = $s2->poll('MESSAGE', 0.3);
    $s2->close;
    check($again->body eq 'm1', 'redelivered ' . $again->body);
    check(($again->headers->{redelivered} // '') eq 'true', 'headers ' . encode_json($again->headers));
    check(!$extra, 'an acked message came back: ' . ($extra ? $extra->body : ''));
    return 'unacked message redelivered with redelivered:true';
};

$cases{client_cumulative} = sub {
    my ($v, $track) = @_;
    my $dest = '/queue/pl_cl_' . uid();
    my $s    = $track->(Session->new($v));
    $s->subscribe(destination => $dest, id => 's1', ack => 'client');
    $s->send(destination => $dest, body => "m$_") for 0 .. 2;
    my @f = map { $s->next } 0 .. 2;
    $s->ack($f[2]);    # acknowledges all three
    $s->close;
    my $s2 = $track->(Session->new($v));
    $s2->subscribe(destination => $dest, id => 's1', ack => 'client');
    my $left = $s2->poll('MESSAGE', 0.5);
    $s2->close;
    check(!$left, 'cumulative ACK left ' . ($left ? $left->body : '') . ' unacked');
    return 'one ACK acknowledged all earlier messages';
};

# NACK outcome is server-specific (RabbitMQ requeues, ActiveMQ Classic dead-letters persistent
# messages, checked with --nack-dlq); see stomppy_driver.py.
$cases{nack} = sub {
    my ($v, $track) = @_;
    return 'unsupported' if $v eq '1.0';
    my $dlq  = $o{'nack-dlq'};
    my $dest = '/queue/pl_nack_' . uid();
    my $s    = $track->(Session->new($v));
    $s->subscribe(destination => $dest, id => 's1', ack => 'client-individual');
    $s->send(destination => $dest, body => 'nack-me', ($dlq ? (persistent => 'true') : ()));
    my $first = $s->next;
    $s->ack($first, 1);
    my $second = $dlq ? $s->poll('MESSAGE', 1.0) : $s->next;
    if ($second) {
        $s->ack($second);
        $s->close;
        check($second->body eq 'nack-me' && ($second->headers->{redelivered} // '') eq 'true',
            'headers ' . encode_json($second->headers));
        return 'NACKed message redelivered';
    }
    # The DLQ is shared: acknowledge only our message, leave the others there.
    $s->subscribe(destination => $dlq, id => 'dlq', ack => 'client-individual');
    for (;;) {
        my $f = $s->poll('MESSAGE', $DLQ_WAIT);
        check($f, "NACKed message neither redelivered nor found on $dlq");
        next unless ($f->headers->{'original-destination'} // '') eq $dest;
        $s->ack($f);
        $s->close;
        check($f->body eq 'nack-me', 'body ' . $f->body);
        return "NACKed message dead-lettered to $dlq (server's choice per spec)";
    }
};

$cases{transaction} = sub {
    my ($v, $track) = @_;
    my $dest = '/queue/pl_tx_' . uid();
    my $s    = $track->(Session->new($v));
    my $st   = $s->stomp;
    $s->subscribe(destination => $dest, id => 's1', ack => 'auto');
    $st->send_frame(Net::Stomp::Frame->new({ command => 'BEGIN', headers => { transaction => 'tx1' } }));
    $s->send(destination => $dest, body => 'aborted', transaction => 'tx1');
    $st->send_frame(Net::Stomp::Frame->new({ command => 'ABORT', headers => { transaction => 'tx1' } }));
    $st->send_frame(Net::Stomp::Frame->new({ command => 'BEGIN', headers => { transaction => 'tx2' } }));
    $s->send(destination => $dest, body => 'committed', transaction => 'tx2');
    my $early = $s->poll('MESSAGE', 0.3);
    $st->send_frame(Net::Stomp::Frame->new({ command => 'COMMIT', headers => { transaction => 'tx2' } }));
    my $m     = $early // $s->next;
    my $extra = $s->poll('MESSAGE', 0.3);
    $s->close;
    check(!$early, 'a transactional SEND was delivered before COMMIT');
    check($m->body eq 'committed', 'body ' . $m->body);
    check(!$extra, 'an aborted SEND was delivered: ' . ($extra ? $extra->body : ''));
    return 'ABORT discarded, COMMIT delivered';
};

$cases{receipt} = sub {
    my ($v, $track) = @_;
    my $dest = '/queue/pl_rcpt_' . uid();
    my $s    = $track->(Session->new($v));
    $s->send(destination => $dest, body => 'x', receipt => 'rcpt-1');
    my $r = $s->next('RECEIPT');
    $s->close;
    check(($r->headers->{'receipt-id'} // '') eq 'rcpt-1', 'receipt-id ' . ($r->headers->{'receipt-id'} // ''));
    return 'RECEIPT for SEND';
};

$cases{topic} = sub {
    my ($v, $track) = @_;
    my $dest = '/topic/pl_' . uid();
    my $a    = $track->(Session->new($v));
    my $b    = $track->(Session->new($v));
    $a->subscribe(destination => $dest, id => 's1', ack => 'auto');
    $b->subscribe(destination => $dest, id => 's1', ack => 'auto', receipt => 'sub-b');
    $b->next('RECEIPT');
    $a->send(destination => $dest, body => 'fan', receipt => 'pub');
    $a->next('RECEIPT');
    my $fa = $a->next;
    my $fb = $b->next;
    $a->close;
    $b->close;
    check($fa->body eq 'fan' && $fb->body eq 'fan', 'bodies ' . $fa->body . ' / ' . $fb->body);
    return 'both subscribers received';
};

$cases{heartbeat} = sub {
    my ($v, $track) = @_;
    return 'unsupported' if $v eq '1.0';
    my $s  = $track->(Session->new($v, heartbeat => '0,200'));
    my $hb = $s->connected->headers->{'heart-beat'} // '0,0';
    my ($sx) = split(/,/, $hb);
    $sx ||= 0;
    # Several intervals: the server must beat (we asked for one every 200 ms) and keep us.
    my $every      = $sx > 0 ? ($sx > 200 ? $sx : 200) : 0;
    my $checkBeats = $every > 0 && $every <= 5000;
    my $window     = $checkBeats ? (2 * $every + 200) / 1000 : 1.2;
    $window = 1.2 if $window < 1.2;
    my $end   = time + $window;
    my $beats = 0;
    while ((my $left = $end - time) > 0) {
        next unless $s->stomp->can_read({ timeout => $left });
        # Something arrived: beats only (no frame is due), which receive_frame consumes.
        $beats++;
        my $f = $s->stomp->receive_frame({ timeout => 0.05 });
        die 'unexpected ' . $f->command . "\n" if $f;
        last unless $s->stomp->socket && $s->stomp->socket->connected;
    }
    my $alive = $s->stomp->socket && $s->stomp->socket->connected;
    # A frame round trip proves the session still works after idling on beats alone.
    $s->send(destination => '/queue/pl_hb_' . uid(), body => 'x', receipt => 'hb') if $alive;
    $s->next('RECEIPT') if $alive;
    $s->close;
    check($hb ne '0,0', "server offered no heart-beats: $hb");
    check($alive,       'connection dropped while heart-beating');
    check($beats > 0, "server offered $hb but sent no heart-beat") if $checkBeats;
    return "heart-beat $hb negotiated (we asked 0,200: Net::Stomp cannot send beats), connection kept, $beats server beats";
};

# The durable_restart handshake with run.mjs (interop/lib/restart.mjs).
sub request_broker_restart {
    my ($v) = @_;
    local $| = 1;
    print JSON::PP->new->canonical->encode({ control => 'restart', client => 'net-stomp', version => $v }), "\n";
    my $sel = IO::Select->new(\*STDIN);
    die "no answer to the restart request within $RESTART_WAIT s\n" unless $sel->can_read($RESTART_WAIT);
    my $line = <STDIN>;
    die "stdin closed: no harness to restart the broker\n" unless defined $line;
    $line =~ s/\s+\z//;
    die "broker not restarted: $line\n" unless $line eq 'restarted';
}

# A wrong passcode is refused (connect() returns the ERROR instead of CONNECTED, within a bounded
# wait), then the right credentials connect. Wrong first: our broker slows the next login after
# a failure, and a success resets that.
$cases{login} = sub {
    my ($v, $track) = @_;
    my $login    = $o{'auth-login'} // $o{login};
    my $passcode = defined $o{'auth-login'} ? $o{'auth-passcode'} : $o{passcode};
    return 'unsupported: no credentials given: the server under test runs without logins'
      unless defined $login;
    my $refused;
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 10;
        $track->(Session->new($v, login => $login, passcode => "$passcode-wrong"));
        alarm 0;
        1;
    };
    alarm 0;
    if (!$ok) {
        my $err = $@;
        $err =~ s/\s+\z//;
        die "connect with a wrong passcode neither failed nor succeeded within 10 s\n" if $err eq 'timeout';
        $refused = $err;
    }
    check(defined $refused, 'CONNECTED with a wrong passcode');
    my $s   = $track->(Session->new($v, login => $login, passcode => $passcode));
    my $got = $s->connected->headers->{version} // '1.0';
    $s->close;
    check($got eq $v, "CONNECTED version $got, wanted $v");
    return 'wrong passcode refused (' . substr($refused, 0, 120) . "); $login connected";
};

# Persistent messages confirmed by RECEIPTs survive a broker crash (SIGKILL by run.mjs) and a
# restart on the same data directory: all come back, in order, and those delivered
# (unacknowledged) before the crash with redelivered:true.
$cases{durable_restart} = sub {
    my ($v, $track) = @_;
    my $dest = '/queue/pl_durable_' . uid();
    my $s    = $track->(Session->new($v));
    for my $i (0 .. $DURABLE_COUNT - 1) {
        $s->send(destination => $dest, body => "d$i", persistent => 'true', receipt => "p$i");
        my $r = $s->next('RECEIPT');
        check(($r->headers->{'receipt-id'} // '') eq "p$i", "RECEIPT for p$i");
    }
    $s->subscribe(destination => $dest, id => 's1', ack => 'client');
    for my $i (0 .. $DELIVERED_BEFORE - 1) {
        my $m = $s->next;
        check(body_text($m) eq "d$i", 'before the restart got ' . body_text($m) . ", wanted d$i");
    }
    request_broker_restart($v);
    $s->destroy;
    my $s2 = $track->(Session->new($v));
    $s2->subscribe(destination => $dest, id => 's1', ack => 'client');
    my @got = map { $s2->next } 1 .. $DURABLE_COUNT;
    $s2->ack($got[-1]);
    my $extra = $s2->poll('MESSAGE', 0.3);
    $s2->close;
    my $order = join ',', map { body_text($_) } @got;
    my $want  = join ',', map {"d$_"} 0 .. $DURABLE_COUNT - 1;
    check($order eq $want, "after the restart: $order");
    check(!$extra, "more than $DURABLE_COUNT messages");
    my @missing = map { body_text($_) }
      grep { ($_->headers->{redelivered} // '') ne 'true' } @got[0 .. $DELIVERED_BEFORE - 1];
    check(!@missing, 'without redelivered:true: ' . join(',', @missing));
    my $flagged = grep { ($_->headers->{redelivered} // '') eq 'true' } @got;
    return "$DURABLE_COUNT persistent messages back in order after SIGKILL + restart; the "
      . "$DELIVERED_BEFORE delivered before with redelivered:true ($flagged flagged in all)";
};

# DISCONNECT with a receipt (Net::Stomp's disconnect() asks for none, so the frame is built with
# Net::Stomp::Frame), the RECEIPT, then the broker must close: EOF on the raw socket.
$cases{disconnect} = sub {
    my ($v, $track) = @_;
    my $s  = $track->(Session->new($v));
    my $id = 'bye-' . uid();
    $s->stomp->send_frame(
        Net::Stomp::Frame->new({ command => 'DISCONNECT', headers => { receipt => $id } }));
    my $r = $s->next('RECEIPT');
    check(($r->headers->{'receipt-id'} // '') eq $id, 'receipt-id ' . ($r->headers->{'receipt-id'} // ''));
    my $sock = $s->stomp->socket;
    my $eof  = 0;
    if (IO::Select->new($sock)->can_read($TIMEOUT)) {
        my $n = sysread($sock, my $buf, 4096);
        $eof = defined $n && $n == 0;
    }
    $s->destroy;
    check($eof, 'the broker did not close the connection after its RECEIPT');
    return "RECEIPT (receipt-id $id) for DISCONNECT, then the broker closed the connection";
};

my $failed = 0;
my $json   = JSON::PP->new->canonical;
$| = 1;
for my $v (split /,/, $o{versions}) {
    for my $c (split /,/, $o{cases}) {
        my @sessions;
        my $track = sub { push @sessions, $_[0]; $_[0] };
        my %r;
        my $detail = eval { $cases{$c}->($v, $track) };
        if (my $err = $@) {
            $err =~ s/\s+\z//;
            $failed = 1;
            %r = (status => 'fail', detail => $err);
        } elsif ($detail eq 'unsupported') {
            %r = (status => 'unsupported', detail => "STOMP $v has no such feature");
        } elsif ($detail =~ /\Aunsupported: (.*)\z/s) {
            %r = (status => 'unsupported', detail => $1);
        } else {
            %r = (status => 'pass', detail => $detail);
        }
        eval { $_->destroy } for @sessions;
        print $json->encode({ client => 'net-stomp', version => $v, case => $c, %r }), "\n";
    }
}
exit($failed ? 1 : 0);
