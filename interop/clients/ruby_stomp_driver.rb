#!/usr/bin/ruby
# Drive a STOMP server with the Ruby `stomp` gem (Debian's ruby-stomp, 1.4) and report each
# behaviour: the same cases and assertions as stomppy_driver.py.
#
# Usage: ruby_stomp_driver.rb --port N [--host 127.0.0.1] [--login L --passcode P] [--vhost /]
#          [--versions 1.0,1.1,1.2] [--cases a,b] [--nack-dlq /queue/ActiveMQ.DLQ]
#          [--auth-login L --auth-passcode P]   (the login case's user; default --login/--passcode)
# durable_restart asks the harness to kill and restart the broker: it prints a JSON line
# {"control": "restart", ...} and waits for "restarted" on stdin (see interop/lib/restart.mjs).
# Prints one JSON object per line: {"client": "ruby-stomp", "version", "case", "status", "detail"}.
# Exits 1 when any case fails.
#
# ruby-stomp 1.4 notes (library, not peer):
#   - The version is chosen with the `accept-version` CONNECT header (connect_headers); without it
#     the gem speaks 1.0. With it, the gem insists on a `host` header too.
#   - receive() blocks without a timeout; poll() returns nil when nothing is buffered, so the
#     driver polls with a deadline.
#   - Heart-beats: the gem beats itself from a thread and counts the server's beats (hbrecv_count)
#     only while the application is not reading, which is how the heartbeat case idles.
#   - publish() adds content-length (and content-type text/plain; charset=UTF-8) by itself.
#   - disconnect(receipt:) reads the RECEIPT (blocking, so the driver bounds it) and then closes
#     the socket itself: whether the broker closes after its RECEIPT cannot be seen through it.
require 'stomp'
require 'json'
require 'optparse'
require 'securerandom'
require 'timeout'

# Heart-beat period the heartbeat case asks for. 1 s, not less: on a loaded 2-core machine a
# JVM pause or a busy process can delay a beat by a few hundred ms, and a broker that sees a
# client beat late closes the connection (ActiveMQ did, once, with 200 ms).
HEARTBEAT_MS = 1000


TIMEOUT = 5.0
# ActiveMQ dead-letters a NACKed message asynchronously and can stall for seconds (it
# purges inactive destinations every minute): the DLQ wait is longer, and ends as soon as the
# message is there.
DLQ_WAIT = 30.0
CASES = %w[connect text_and_headers binary client_individual client_cumulative nack transaction
           receipt topic heartbeat login durable_restart disconnect].freeze
# durable_restart: persistent messages sent, of which the first DELIVERED_BEFORE are delivered
# (not acknowledged) before the broker is killed.
DURABLE_COUNT = 20
DELIVERED_BEFORE = 5
RESTART_WAIT = 60

OPTS = { host: '127.0.0.1', login: '', passcode: '', vhost: nil, versions: '1.0,1.1,1.2',
         cases: CASES.join(','), nack_dlq: nil }
OptionParser.new do |o|
  o.on('--host H') { |v| OPTS[:host] = v }
  o.on('--port N') { |v| OPTS[:port] = Integer(v) }
  o.on('--login L') { |v| OPTS[:login] = v }
  o.on('--passcode P') { |v| OPTS[:passcode] = v }
  o.on('--vhost V') { |v| OPTS[:vhost] = v }
  o.on('--versions V') { |v| OPTS[:versions] = v }
  o.on('--cases C') { |v| OPTS[:cases] = v }
  o.on('--nack-dlq Q') { |v| OPTS[:nack_dlq] = v }
  o.on('--auth-login L') { |v| OPTS[:auth_login] = v }
  o.on('--auth-passcode P') { |v| OPTS[:auth_passcode] = v }
end.parse!
abort('usage: ruby_stomp_driver.rb --port N ...') unless OPTS[:port]

class Unsupported < StandardError; end

# The durable_restart handshake with run.mjs (interop/lib/restart.mjs).
def request_broker_restart(version)
  puts JSON.generate({ control: 'restart', client: 'ruby-stomp', version: version })
  $stdout.flush
  ready = IO.select([$stdin], nil, nil, RESTART_WAIT)
  raise "no answer to the restart request within #{RESTART_WAIT} s" unless ready
  line = $stdin.gets
  raise 'stdin closed: no harness to restart the broker' if line.nil?
  raise "broker not restarted: #{line.strip}" unless line.strip == 'restarted'
end
class AssertionFailed < StandardError; end

def check(cond, msg)
  raise AssertionFailed, "assertion failed: #{msg}" unless cond
end

def uid
  SecureRandom.hex(8)
end

# One connection with its received frames sorted by command.
class Session
  attr_reader :conn, :version

  def initialize(version, heartbeat: '0,0', login: OPTS[:login], passcode: OPTS[:passcode])
    @version = version
    headers = {}
    unless version == '1.0'
      headers['accept-version'] = version
      headers['host'] = OPTS[:vhost] || OPTS[:host]
      headers['heart-beat'] = heartbeat
    end
    @conn = Stomp::Connection.new(
      hosts: [{ login: login, passcode: passcode, host: OPTS[:host],
                port: OPTS[:port], ssl: false }],
      reliable: false, connect_headers: headers, connect_timeout: TIMEOUT,
      max_reconnect_attempts: 0, closed_check: false
    )
    @frames = Hash.new { |h, k| h[k] = [] }
  end

  def connected
    @conn.connection_frame
  end

  # The next frame with `command`, or nil after `wait` seconds.
  def poll(command, wait)
    deadline = Time.now + wait
    loop do
      return @frames[command].shift unless @frames[command].empty?
      f = @conn.poll
      if f
        raise "ERROR frame: #{f.headers['message']} #{f.body}" if f.command == 'ERROR'
        @frames[f.command] << f
        next
      end
      return nil if Time.now > deadline
      sleep 0.01
    end
  end

  def next(command = 'MESSAGE', wait = TIMEOUT)
    f = poll(command, wait)
    raise "no #{command} within #{wait} s" unless f
    f
  end

  def ack(frame, nack: false)
    h = frame.headers
    case @version
    when '1.2' then nack ? @conn.nack(h['ack']) : @conn.ack(h['ack'])
    when '1.1'
      sub = { subscription: h['subscription'] }
      nack ? @conn.nack(h['message-id'], sub) : @conn.ack(h['message-id'], sub)
    else @conn.ack(h['message-id'])
    end
  end

  def close
    # DISCONNECT with a receipt: every earlier frame was processed by the server.
    @conn.disconnect(receipt: "bye-#{uid}") unless @conn.closed?
  rescue StandardError
    nil
  end
end

def utf8(s)
  s.dup.force_encoding('UTF-8')
end

def case_connect(v, track)
  s = track.call(Session.new(v))
  got = s.connected.headers['version'] || '1.0'
  server = s.connected.headers['server']
  s.close
  check(got == v, "CONNECTED version #{got}, wanted #{v}")
  "CONNECTED version #{got}, server #{server}"
end

def case_text_and_headers(v, track)
  dest = "/queue/rb_text_#{uid}"
  s = track.call(Session.new(v))
  s.conn.subscribe(dest, { id: 's1', ack: 'auto' }, 's1')
  s.conn.publish(dest, 'héllo wörld', { 'x-custom' => 'v1', 'x-other' => 'two words' })
  m = s.next
  s.close
  check(utf8(m.body) == 'héllo wörld', "body #{m.body.inspect}")
  check(m.headers['x-custom'] == 'v1', "headers #{m.headers}")
  check(m.headers['x-other'] == 'two words', "headers #{m.headers}")
  check(m.headers['destination'] == dest, "headers #{m.headers}")
  check(!m.headers['message-id'].to_s.empty?, "headers #{m.headers}")
  'body and custom headers delivered'
end

def case_binary(v, track)
  dest = "/queue/rb_bin_#{uid}"
  payload = (0...1024).map { |i| i % 256 }.pack('C*')
  s = track.call(Session.new(v))
  s.conn.subscribe(dest, { id: 's1', ack: 'auto' }, 's1')
  s.conn.publish(dest, payload, { 'content-type' => 'application/octet-stream' })
  m = s.next
  s.close
  got = m.body.dup.force_encoding('BINARY')
  check(got == payload, "binary body changed (#{got.bytesize} bytes back)")
  '1024 bytes with NULs intact'
end

def case_client_individual(v, track)
  raise Unsupported if v == '1.0'
  dest = "/queue/rb_ci_#{uid}"
  s = track.call(Session.new(v))
  s.conn.subscribe(dest, { id: 's1', ack: 'client-individual' }, 's1')
  3.times { |i| s.conn.publish(dest, "m#{i}") }
  frames = Array.new(3) { s.next }
  order = frames.map(&:body).join(',')
  check(order == 'm0,m1,m2', "order #{order}")
  # Ack the first and last only; the middle one must come back after a reconnect.
  s.ack(frames[0])
  s.ack(frames[2])
  s.close
  s2 = track.call(Session.new(v))
  s2.conn.subscribe(dest, { id: 's1', ack: 'client-individual' }, 's1')
  again = s2.next
  s2.ack(again)
  extra = s2.poll('MESSAGE', 0.3)
  s2.close
  check(again.body == 'm1', "redelivered #{again.body.inspect}")
  check(again.headers['redelivered'] == 'true', "headers #{again.headers}")
  check(extra.nil?, "an acked message came back: #{extra&.body}")
  'unacked message redelivered with redelivered:true'
end

def case_client_cumulative(v, track)
  dest = "/queue/rb_cl_#{uid}"
  s = track.call(Session.new(v))
  s.conn.subscribe(dest, { id: 's1', ack: 'client' }, 's1')
  3.times { |i| s.conn.publish(dest, "m#{i}") }
  frames = Array.new(3) { s.next }
  s.ack(frames[2]) # acknowledges all three
  s.close
  s2 = track.call(Session.new(v))
  s2.conn.subscribe(dest, { id: 's1', ack: 'client' }, 's1')
  left = s2.poll('MESSAGE', 0.5)
  s2.close
  check(left.nil?, "cumulative ACK left #{left&.body.inspect} unacked")
  'one ACK acknowledged all earlier messages'
end

# NACK outcome is server-specific (RabbitMQ requeues, ActiveMQ Classic dead-letters persistent
# messages, checked with --nack-dlq); see stomppy_driver.py.
def case_nack(v, track)
  raise Unsupported if v == '1.0'
  dlq = OPTS[:nack_dlq]
  dest = "/queue/rb_nack_#{uid}"
  s = track.call(Session.new(v))
  s.conn.subscribe(dest, { id: 's1', ack: 'client-individual' }, 's1')
  s.conn.publish(dest, 'nack-me', dlq ? { 'persistent' => 'true' } : {})
  first = s.next
  s.ack(first, nack: true)
  second = dlq ? s.poll('MESSAGE', 1.0) : s.next
  if second
    s.ack(second)
    s.close
    check(second.body == 'nack-me' && second.headers['redelivered'] == 'true',
          "headers #{second.headers}")
    return 'NACKed message redelivered'
  end
  # The DLQ is shared: acknowledge only our message, leave the others there.
  s.conn.subscribe(dlq, { id: 'dlq', ack: 'client-individual' }, 'dlq')
  loop do
    f = s.poll('MESSAGE', DLQ_WAIT)
    check(!f.nil?, "NACKed message neither redelivered nor found on #{dlq}")
    next unless f.headers['original-destination'] == dest
    s.ack(f)
    s.close
    check(f.body == 'nack-me', "body #{f.body.inspect}")
    return "NACKed message dead-lettered to #{dlq} (server's choice per spec)"
  end
end

def case_transaction(v, track)
  dest = "/queue/rb_tx_#{uid}"
  s = track.call(Session.new(v))
  s.conn.subscribe(dest, { id: 's1', ack: 'auto' }, 's1')
  s.conn.begin('tx1')
  s.conn.publish(dest, 'aborted', { transaction: 'tx1' })
  s.conn.abort('tx1')
  s.conn.begin('tx2')
  s.conn.publish(dest, 'committed', { transaction: 'tx2' })
  early = s.poll('MESSAGE', 0.3)
  s.conn.commit('tx2')
  m = early || s.next
  extra = s.poll('MESSAGE', 0.3)
  s.close
  check(early.nil?, 'a transactional SEND was delivered before COMMIT')
  check(m.body == 'committed', "body #{m.body.inspect}")
  check(extra.nil?, "an aborted SEND was delivered: #{extra&.body.inspect}")
  'ABORT discarded, COMMIT delivered'
end

def case_receipt(v, track)
  dest = "/queue/rb_rcpt_#{uid}"
  s = track.call(Session.new(v))
  s.conn.publish(dest, 'x', { receipt: 'rcpt-1' })
  r = s.next('RECEIPT')
  s.close
  check(r.headers['receipt-id'] == 'rcpt-1', "receipt-id #{r.headers['receipt-id']}")
  'RECEIPT for SEND'
end

def case_topic(v, track)
  dest = "/topic/rb_#{uid}"
  a = track.call(Session.new(v))
  b = track.call(Session.new(v))
  a.conn.subscribe(dest, { id: 's1', ack: 'auto' }, 's1')
  b.conn.subscribe(dest, { id: 's1', ack: 'auto', receipt: 'sub-b' }, 's1')
  b.next('RECEIPT')
  a.conn.publish(dest, 'fan', { receipt: 'pub' })
  a.next('RECEIPT')
  fa = a.next
  fb = b.next
  a.close
  b.close
  check(fa.body == 'fan' && fb.body == 'fan', "bodies #{fa.body} / #{fb.body}")
  'both subscribers received'
end

def case_heartbeat(v, track)
  raise Unsupported if v == '1.0'
  s = track.call(Session.new(v, heartbeat: "#{HEARTBEAT_MS},#{HEARTBEAT_MS}"))
  hb = s.connected.headers['heart-beat'] || '0,0'
  sx = hb.split(',')[0].to_i
  # Several intervals: the server must not drop us, and must beat itself (we asked for HEARTBEAT_MS).
  every = sx.positive? ? [sx, HEARTBEAT_MS].max : 0
  check_beats = every.positive? && every <= 5000
  # Three periods: ActiveMQ beats only after a whole check period without writes, so its
  # first beat may come almost two periods after CONNECTED.
  sleep(check_beats ? [1.2, (3 * every + 200) / 1000.0].max : 1.2)
  beats = s.conn.hbrecv_count
  alive = s.conn.open?
  # A frame round trip proves the session still works after idling on beats alone.
  s.conn.publish("/queue/rb_hb_#{uid}", 'x', { receipt: 'hb' })
  s.next('RECEIPT')
  s.close
  check(hb != '0,0', "server offered no heart-beats: #{hb}")
  check(alive, 'connection dropped while heart-beating')
  check(beats.positive?, "server offered #{hb} but sent no heart-beat") if check_beats
  "heart-beat #{hb} negotiated, connection kept, #{beats} server beats"
end

# A wrong passcode is refused (the gem raises, or CONNECT gets an ERROR, within a bounded wait),
# then the right credentials connect. Wrong first: our broker slows the next login after a
# failure, and a success resets that.
def case_login(v, track)
  login = OPTS[:auth_login] || (OPTS[:login] == '' ? nil : OPTS[:login])
  passcode = OPTS[:auth_login] ? OPTS[:auth_passcode] : OPTS[:passcode]
  raise Unsupported, 'no credentials given: the server under test runs without logins' if login.nil?
  refused = nil
  begin
    Timeout.timeout(10) do
      bad = track.call(Session.new(v, login: login, passcode: "#{passcode}-wrong"))
      f = bad.connected
      refused = "ERROR #{f.headers['message']}" if f.nil? || f.command == 'ERROR'
    end
  rescue Timeout::Error
    raise 'connect with a wrong passcode neither failed nor succeeded within 10 s'
  rescue StandardError => e
    refused = "#{e.class}: #{e.message}"
  end
  check(!refused.nil?, 'CONNECTED with a wrong passcode')
  s = track.call(Session.new(v, login: login, passcode: passcode))
  got = s.connected.headers['version'] || '1.0'
  s.close
  check(s.connected.command == 'CONNECTED', "#{s.connected.command} for the right credentials")
  check(got == v, "CONNECTED version #{got}, wanted #{v}")
  "wrong passcode refused (#{refused[0, 120]}); #{login} connected"
end

# Persistent messages confirmed by RECEIPTs survive a broker crash (SIGKILL by run.mjs) and a
# restart on the same data directory: all come back, in order, and those delivered
# (unacknowledged) before the crash with redelivered:true.
def case_durable_restart(v, track)
  dest = "/queue/rb_durable_#{uid}"
  s = track.call(Session.new(v))
  DURABLE_COUNT.times do |i|
    s.conn.publish(dest, "d#{i}", { persistent: 'true', receipt: "p#{i}" })
    r = s.next('RECEIPT')
    check(r.headers['receipt-id'] == "p#{i}", "RECEIPT #{r.headers} for p#{i}")
  end
  s.conn.subscribe(dest, { id: 's1', ack: 'client' }, 's1')
  DELIVERED_BEFORE.times do |i|
    m = s.next
    check(m.body == "d#{i}", "before the restart got #{m.body}, wanted d#{i}")
  end
  request_broker_restart(v)
  begin
    s.conn.close_socket
  rescue StandardError
    nil
  end
  s2 = track.call(Session.new(v))
  s2.conn.subscribe(dest, { id: 's1', ack: 'client' }, 's1')
  got = Array.new(DURABLE_COUNT) { s2.next }
  s2.ack(got.last)
  extra = s2.poll('MESSAGE', 0.3)
  s2.close
  order = got.map(&:body)
  check(order == Array.new(DURABLE_COUNT) { |i| "d#{i}" }, "after the restart: #{order.join(',')}")
  check(extra.nil?, "more than #{DURABLE_COUNT} messages: #{extra&.body}")
  missing = got.first(DELIVERED_BEFORE).reject { |m| m.headers['redelivered'] == 'true' }.map(&:body)
  check(missing.empty?, "without redelivered:true: #{missing.join(',')}")
  flagged = got.count { |m| m.headers['redelivered'] == 'true' }
  "#{DURABLE_COUNT} persistent messages back in order after SIGKILL + restart; the " \
    "#{DELIVERED_BEFORE} delivered before with redelivered:true (#{flagged} flagged in all)"
end

# The gem's disconnect(receipt:) sends DISCONNECT and reads the RECEIPT (bounded here), then
# closes the socket itself (so the broker's own close is not observable through the gem).
def case_disconnect(v, track)
  s = track.call(Session.new(v))
  rid = "bye-#{uid}"
  Timeout.timeout(TIMEOUT) { s.conn.disconnect(receipt: rid) }
  r = s.conn.disconnect_receipt
  check(!r.nil? && r.command == 'RECEIPT', "no RECEIPT for DISCONNECT: #{r&.command} #{r&.headers}")
  check(r.headers['receipt-id'] == rid, "receipt-id #{r.headers['receipt-id']}, wanted #{rid}")
  "RECEIPT (receipt-id #{rid}) for DISCONNECT; the gem then closes the socket itself"
rescue Timeout::Error
  raise "no RECEIPT for DISCONNECT within #{TIMEOUT} s"
end

failed = false
OPTS[:versions].split(',').each do |v|
  OPTS[:cases].split(',').each do |c|
    sessions = []
    track = lambda { |s|
      sessions << s
      s
    }
    begin
      detail = send("case_#{c}", v, track)
      r = { status: 'pass', detail: detail }
    rescue Unsupported => e
      why = e.message == e.class.name ? "STOMP #{v} has no such feature" : e.message
      r = { status: 'unsupported', detail: why }
    rescue StandardError, Timeout::Error => e
      failed = true
      r = { status: 'fail', detail: "#{e.class}: #{e.message}" }
    ensure
      sessions.each do |s|
        s.conn.close_socket unless s.conn.closed?
      rescue StandardError
        nil
      end
    end
    puts JSON.generate({ client: 'ruby-stomp', version: v, case: c }.merge(r))
    $stdout.flush
  end
end
exit(failed ? 1 : 0)
