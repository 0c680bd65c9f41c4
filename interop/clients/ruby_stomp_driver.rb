#!/usr/bin/ruby
# Drive a STOMP server with the Ruby `stomp` gem (Debian's ruby-stomp, 1.4) and report each
# behaviour: the same cases and assertions as stomppy_driver.py.
#
# Usage: ruby_stomp_driver.rb --port N [--host 127.0.0.1] [--login L --passcode P] [--vhost /]
#          [--versions 1.0,1.1,1.2] [--cases a,b] [--nack-dlq /queue/ActiveMQ.DLQ]
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
require 'stomp'
require 'json'
require 'optparse'
require 'securerandom'

# Heart-beat period the heartbeat case asks for. 1 s, not less: on a loaded 2-core machine a
# JVM pause or a busy process can delay a beat by a few hundred ms, and a broker that sees a
# client beat late closes the connection (ActiveMQ did, once, with 200 ms).
HEARTBEAT_MS = 1000


TIMEOUT = 5.0
CASES = %w[connect text_and_headers binary client_individual client_cumulative nack transaction
           receipt topic heartbeat].freeze

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
end.parse!
abort('usage: ruby_stomp_driver.rb --port N ...') unless OPTS[:port]

class Unsupported < StandardError; end
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

  def initialize(version, heartbeat: '0,0')
    @version = version
    headers = {}
    unless version == '1.0'
      headers['accept-version'] = version
      headers['host'] = OPTS[:vhost] || OPTS[:host]
      headers['heart-beat'] = heartbeat
    end
    @conn = Stomp::Connection.new(
      hosts: [{ login: OPTS[:login], passcode: OPTS[:passcode], host: OPTS[:host],
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
  dest = "/queue/rb-text-#{uid}"
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
  dest = "/queue/rb-bin-#{uid}"
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
  dest = "/queue/rb-ci-#{uid}"
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
  dest = "/queue/rb-cl-#{uid}"
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
  dest = "/queue/rb-nack-#{uid}"
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
    f = s.poll('MESSAGE', TIMEOUT)
    check(!f.nil?, "NACKed message neither redelivered nor found on #{dlq}")
    next unless f.headers['original-destination'] == dest
    s.ack(f)
    s.close
    check(f.body == 'nack-me', "body #{f.body.inspect}")
    return "NACKed message dead-lettered to #{dlq} (server's choice per spec)"
  end
end

def case_transaction(v, track)
  dest = "/queue/rb-tx-#{uid}"
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
  dest = "/queue/rb-rcpt-#{uid}"
  s = track.call(Session.new(v))
  s.conn.publish(dest, 'x', { receipt: 'rcpt-1' })
  r = s.next('RECEIPT')
  s.close
  check(r.headers['receipt-id'] == 'rcpt-1', "receipt-id #{r.headers['receipt-id']}")
  'RECEIPT for SEND'
end

def case_topic(v, track)
  dest = "/topic/rb-#{uid}"
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
  sleep(check_beats ? [1.2, (2 * every + 200) / 1000.0].max : 1.2)
  beats = s.conn.hbrecv_count
  alive = s.conn.open?
  # A frame round trip proves the session still works after idling on beats alone.
  s.conn.publish("/queue/rb-hb-#{uid}", 'x', { receipt: 'hb' })
  s.next('RECEIPT')
  s.close
  check(hb != '0,0', "server offered no heart-beats: #{hb}")
  check(alive, 'connection dropped while heart-beating')
  check(beats.positive?, "server offered #{hb} but sent no heart-beat") if check_beats
  "heart-beat #{hb} negotiated, connection kept, #{beats} server beats"
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
    rescue Unsupported
      r = { status: 'unsupported', detail: "STOMP #{v} has no such feature" }
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
