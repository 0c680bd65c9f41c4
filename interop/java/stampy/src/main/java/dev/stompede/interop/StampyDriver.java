package dev.stompede.interop;

import static dev.stompede.interop.harness.Harness.TIMEOUT;
import static dev.stompede.interop.harness.Harness.check;
import static dev.stompede.interop.harness.Harness.unique;

import asia.stampy.client.listener.validate.ClientMessageValidationListener;
import asia.stampy.client.message.abort.AbortMessage;
import asia.stampy.client.message.ack.AckMessage;
import asia.stampy.client.message.begin.BeginMessage;
import asia.stampy.client.message.commit.CommitMessage;
import asia.stampy.client.message.connect.ConnectMessage;
import asia.stampy.client.message.disconnect.DisconnectMessage;
import asia.stampy.client.message.nack.NackMessage;
import asia.stampy.client.message.send.SendMessage;
import asia.stampy.client.message.subscribe.SubscribeHeader;
import asia.stampy.client.message.subscribe.SubscribeMessage;
import asia.stampy.client.netty.ClientNettyChannelHandler;
import asia.stampy.client.netty.ClientNettyMessageGateway;
import asia.stampy.client.netty.connected.NettyConnectedMessageListener;
import asia.stampy.common.gateway.HostPort;
import asia.stampy.common.gateway.SecurityMessageListener;
import asia.stampy.common.gateway.StampyMessageListener;
import asia.stampy.common.heartbeat.HeartbeatContainer;
import asia.stampy.common.message.StampyMessage;
import asia.stampy.common.message.StompMessageType;
import asia.stampy.server.message.connected.ConnectedMessage;
import asia.stampy.server.message.error.ErrorMessage;
import asia.stampy.server.message.message.MessageMessage;
import asia.stampy.server.message.receipt.ReceiptMessage;
import dev.stompede.interop.harness.Harness;
import dev.stompede.interop.harness.Harness.Args;
import dev.stompede.interop.harness.Harness.Unsupported;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.netty.buffer.ChannelBuffer;
import org.jboss.netty.buffer.ChannelBuffers;
import org.jboss.netty.channel.ChannelHandlerContext;
import org.jboss.netty.channel.Channels;
import org.jboss.netty.channel.MessageEvent;
import org.jboss.netty.channel.SimpleChannelUpstreamHandler;

/**
 * Drives a STOMP server with Stampy's client (asia.stampy 1.0-RELEASE, its Netty 3 gateway,
 * configured as its README shows), with the cases and assertions of
 * interop/clients/stomppy_driver.py. Usage: the common options (interop/README.md).
 *
 * <p>Stampy's limits, and how the driver meets them:
 *
 * <ul>
 *   <li>It implements STOMP 1.2 only (its validation requires 1.2's headers, e.g. {@code id} on
 *       ACK and NACK): the 1.0 and 1.1 rows are {@code unsupported}.
 *   <li>Bodies are Java Strings: a frame is decoded as text (UTF-8) up to its NUL, and a
 *       non-String body is sent Java-serialized in Base64 ({@code content-type:
 *       java/base64}): no raw binary body, so {@code binary} is {@code unsupported}.
 *   <li>It has no request/response API: the driver sends frames through the gateway and reads
 *       CONNECTED, MESSAGE, RECEIPT and ERROR with a listener of its own, matching receipt-ids
 *       itself.
 *   <li>Heart-beats are the library's (PaceMaker); the heartbeat case counts the server's EOLs
 *       with a Netty handler placed before Stampy's decoder, which also takes them out of the
 *       stream: Stampy's decoder cannot parse a frame that an EOL leads (see Conn).
 *   <li>Stampy writes "null" as the body of every frame that has none (see NO_BODY): the
 *       driver's body-less frames override that.
 * </ul>
 */
public final class StampyDriver {
  private static final String CLIENT = "stampy";
  // Stampy 1.0-RELEASE writes the Java string "null" as the body of every frame that has none
  // (AbstractMessage.toStompMessage appends postHeader(), which is null for them): a CONNECT goes
  // out as "CONNECT\n...\n\nnull\0". STOMP 1.2 forbids a body on any frame but SEND, MESSAGE
  // and ERROR; RabbitMQ ignores it, our broker refuses the frame with an ERROR. The driver's
  // body-less frames override postHeader() to return this: the one change to Stampy's output.
  private static final String NO_BODY = "";
  private final Args args;

  private StampyDriver(Args args) {
    this.args = args;
  }

  /** One connection: a gateway (Stampy's client is one gateway per connection) and its inbox. */
  final class Conn {
    final ClientNettyMessageGateway gateway = new ClientNettyMessageGateway();
    final BlockingQueue<StampyMessage<?>> connected = new LinkedBlockingQueue<>();
    volatile ConnectedMessage connectedFrame;
    final BlockingQueue<MessageMessage> messages = new LinkedBlockingQueue<>();
    final Set<String> receipts = ConcurrentHashMap.newKeySet();
    final BlockingQueue<ErrorMessage> errors = new LinkedBlockingQueue<>();
    final AtomicInteger beats = new AtomicInteger();
    volatile boolean closed;

    Conn(int heartbeat) {
      HeartbeatContainer hb = new HeartbeatContainer();
      gateway.setHost(args.host());
      gateway.setPort(args.port());
      gateway.setHeartbeat(heartbeat);
      gateway.setAutoShutdown(false);
      ClientNettyChannelHandler handler = new ClientNettyChannelHandler();
      handler.setGateway(gateway);
      handler.setHeartbeatContainer(hb);
      // Stampy refuses to run without a security listener; the server does the security here.
      gateway.addMessageListener(
          new SecurityMessageListener() {
            public StompMessageType[] getMessageTypes() {
              return StompMessageType.values();
            }

            public boolean isForMessage(StampyMessage<?> m) {
              return false;
            }

            public void messageReceived(StampyMessage<?> m, HostPort hp) {}
          });
      gateway.addMessageListener(new ClientMessageValidationListener());
      NettyConnectedMessageListener cml = new NettyConnectedMessageListener();
      cml.setHeartbeatContainer(hb);
      cml.setGateway(gateway);
      gateway.addMessageListener(cml);
      gateway.addMessageListener(
          new StampyMessageListener() {
            public StompMessageType[] getMessageTypes() {
              return new StompMessageType[] {
                StompMessageType.CONNECTED, StompMessageType.MESSAGE, StompMessageType.RECEIPT,
                StompMessageType.ERROR
              };
            }

            public boolean isForMessage(StampyMessage<?> m) {
              return true;
            }

            public void messageReceived(StampyMessage<?> m, HostPort hp) {
              switch (m.getMessageType()) {
                case CONNECTED -> connected.add(m);
                case MESSAGE -> messages.add((MessageMessage) m);
                case RECEIPT -> receipts.add(((ReceiptMessage) m).getHeader().getReceiptId());
                case ERROR -> {
                  errors.add((ErrorMessage) m);
                  connected.add(m);
                }
                default -> {}
              }
            }
          });
      gateway.setHandler(handler);
      // Placed before Stampy's decoder (the gateway adds its handlers first). A heart-beat is an
      // EOL between frames, and STOMP 1.2 lets EOLs follow a frame's NUL; Stampy's decoder splits
      // on NUL only and drops the next frame as "Unparseable message" when an EOL leads it (our
      // broker and RabbitMQ both send them). This handler counts those EOLs as the server's
      // heart-beats and takes them out of the stream: the one change to what Stampy reads.
      gateway.addHandler(
          new SimpleChannelUpstreamHandler() {
            private boolean inFrame;

            @Override
            public void messageReceived(ChannelHandlerContext ctx, MessageEvent e) throws Exception {
              if (!(e.getMessage() instanceof ChannelBuffer b)) {
                super.messageReceived(ctx, e);
                return;
              }
              ChannelBuffer kept = ChannelBuffers.dynamicBuffer(b.readableBytes());
              for (int i = b.readerIndex(); i < b.writerIndex(); i++) {
                byte x = b.getByte(i);
                if (!inFrame && (x == '\n' || x == '\r')) {
                  if (x == '\n') beats.incrementAndGet();
                  continue;
                }
                inFrame = x != 0;
                kept.writeByte(x);
              }
              if (kept.readable()) Channels.fireMessageReceived(ctx, kept, e.getRemoteAddress());
            }

            @Override
            public void channelClosed(ChannelHandlerContext ctx, org.jboss.netty.channel.ChannelStateEvent e)
                throws Exception {
              closed = true;
              super.channelClosed(ctx, e);
            }
          });
    }

    void send(StampyMessage<?> m) throws Exception {
      gateway.broadcastMessage(m);
    }

    void close() {
      try {
        gateway.shutdown();
      } catch (Exception ignored) {
        // already gone
      }
    }
  }

  private static void only12(String version) throws Unsupported {
    if (!version.equals("1.2")) {
      throw new Unsupported("Stampy implements STOMP 1.2 only (1.0 and 1.1 framing and ACK headers are not)");
    }
  }

  private Conn connect(String version, String login, String passcode, int heartbeat) throws Exception {
    only12(version);
    Conn c = new Conn(heartbeat);
    c.gateway.connect();
    // connect() returns before the channel is registered, and a frame broadcast before that is
    // dropped without a word: wait until the gateway lists the connection.
    long open = System.currentTimeMillis() + TIMEOUT.toMillis();
    while (c.gateway.getConnectedHostPorts().isEmpty()) {
      if (System.currentTimeMillis() > open) {
        c.close();
        throw new AssertionError("TCP connection not open within " + TIMEOUT.toMillis() + " ms");
      }
      Thread.sleep(5);
    }
    ConnectMessage m =
        new ConnectMessage("1.2", args.get("vhost", args.host())) {
          @Override
          protected String postHeader() {
            return NO_BODY;
          }
        };
    if (login != null) {
      m.getHeader().setLogin(login);
      m.getHeader().setPasscode(passcode);
    }
    if (heartbeat > 0) m.getHeader().setHeartbeat(heartbeat, heartbeat);
    c.send(m);
    StampyMessage<?> got = c.connected.poll(Harness.LOGIN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    if (got == null) {
      c.close();
      throw new java.util.concurrent.TimeoutException("no CONNECTED or ERROR within " + Harness.LOGIN_WAIT);
    }
    if (got instanceof ErrorMessage e) {
      c.close();
      throw new IllegalStateException("ERROR " + e.getHeader().getMessageHeader());
    }
    c.connectedFrame = (ConnectedMessage) got;
    return c;
  }

  private Conn connect(String version) throws Exception {
    return connect(version, args.get("login"), args.get("passcode"), 0);
  }

  private static void subscribe(Conn c, String dest, SubscribeHeader.Ack ack, String id) throws Exception {
    SubscribeMessage s = new SubscribeMessage(dest, id) {
      @Override
      protected String postHeader() {
        return NO_BODY;
      }
    };
    s.getHeader().setAck(ack);
    receipted(c, s);
  }

  /** Sends `m` with a receipt and waits for it. */
  private static void receipted(Conn c, StampyMessage<?> m) throws Exception {
    String rid = "r-" + unique();
    // addHeader keeps a header already there (a SendMessage starts with receipt:null).
    m.getHeader().removeHeader("receipt");
    m.getHeader().addHeader("receipt", rid);
    c.send(m);
    long deadline = System.currentTimeMillis() + TIMEOUT.toMillis();
    while (!c.receipts.contains(rid)) {
      ErrorMessage e = c.errors.peek();
      if (e != null) throw new AssertionError("ERROR " + e.getHeader().getMessageHeader());
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("no RECEIPT for " + m.getMessageType() + " within " + TIMEOUT.toMillis() + " ms");
      }
      Thread.sleep(10);
    }
  }

  private static SendMessage sendMessage(String dest, String body, String... headers) {
    SendMessage s = new SendMessage();
    s.getHeader().setDestination(dest);
    s.setBody(body);
    s.setMimeType("text/plain", "UTF-8");
    for (int i = 0; i + 1 < headers.length; i += 2) s.getHeader().addHeader(headers[i], headers[i + 1]);
    return s;
  }

  private static void send(Conn c, String dest, String body, String... headers) throws Exception {
    receipted(c, sendMessage(dest, body, headers));
  }

  private static MessageMessage next(Conn c) throws Exception {
    MessageMessage m = c.messages.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    if (m == null) throw new AssertionError("no MESSAGE within " + TIMEOUT.toMillis() + " ms");
    return m;
  }

  private static MessageMessage none(Conn c, long ms) throws InterruptedException {
    return c.messages.poll(ms, TimeUnit.MILLISECONDS);
  }

  private static String text(MessageMessage m) {
    Object b = m.getBody();
    return b == null ? "" : b.toString();
  }

  private static String header(MessageMessage m, String name) {
    return m.getHeader().getHeaderValue(name);
  }

  private static void ack(Conn c, MessageMessage m) throws Exception {
    receipted(c, new AckMessage(header(m, "ack")) {
      @Override
      protected String postHeader() {
        return NO_BODY;
      }
    });
  }

  // --- cases -----------------------------------------------------------------------------------

  private String connectCase(String v) throws Exception {
    Conn c = connect(v);
    ConnectedMessage m = c.connectedFrame;
    c.close();
    String got = m.getHeader().getVersion();
    check(v.equals(got), "CONNECTED version " + got + ", wanted " + v);
    return "CONNECTED version " + got + ", server " + m.getHeader().getServer();
  }

  private String textAndHeaders(String v) throws Exception {
    String dest = "/queue/stampy_text_" + unique();
    Conn c = connect(v);
    try {
      subscribe(c, dest, SubscribeHeader.Ack.auto, "s1");
      send(c, dest, "héllo wörld", "x-custom", "v1", "x-other", "two words");
      MessageMessage m = next(c);
      check(text(m).equals("héllo wörld"), "body " + text(m));
      check("v1".equals(header(m, "x-custom")) && "two words".equals(header(m, "x-other")),
          "headers " + m.getHeader().getHeaders());
      check(dest.equals(header(m, "destination")), "destination " + header(m, "destination"));
      check(header(m, "message-id") != null, "no message-id");
      return "body and custom headers delivered";
    } finally {
      c.close();
    }
  }

  private String binary(String v) throws Exception {
    only12(v);
    throw new Unsupported(
        "Stampy carries bodies as Java Strings (decoded as UTF-8 text; a non-String body is sent "
            + "Java-serialized in Base64): no raw binary body");
  }

  private String clientIndividual(String v) throws Exception {
    String dest = "/queue/stampy_ci_" + unique();
    Conn c = connect(v);
    subscribe(c, dest, SubscribeHeader.Ack.clientIndividual, "s1");
    for (int i = 0; i < 3; i++) send(c, dest, "m" + i);
    List<MessageMessage> ms = new ArrayList<>();
    for (int i = 0; i < 3; i++) ms.add(next(c));
    ack(c, ms.get(0));
    ack(c, ms.get(2));
    c.close();
    Conn c2 = connect(v);
    try {
      subscribe(c2, dest, SubscribeHeader.Ack.clientIndividual, "s1");
      MessageMessage again = next(c2);
      ack(c2, again);
      MessageMessage extra = none(c2, 300);
      check(text(again).equals("m1"), "redelivered " + text(again));
      check("true".equals(header(again, "redelivered")), "headers " + again.getHeader().getHeaders());
      check(extra == null, "an acked message came back");
      return "unacked message redelivered with redelivered:true";
    } finally {
      c2.close();
    }
  }

  private String clientCumulative(String v) throws Exception {
    String dest = "/queue/stampy_cl_" + unique();
    Conn c = connect(v);
    subscribe(c, dest, SubscribeHeader.Ack.client, "s1");
    for (int i = 0; i < 3; i++) send(c, dest, "m" + i);
    MessageMessage last = null;
    for (int i = 0; i < 3; i++) last = next(c);
    ack(c, last); // acknowledges all three
    c.close();
    Conn c2 = connect(v);
    try {
      subscribe(c2, dest, SubscribeHeader.Ack.client, "s1");
      check(none(c2, 500) == null, "cumulative ACK left one unacked");
      return "one ACK acknowledged all earlier messages";
    } finally {
      c2.close();
    }
  }

  private String nack(String v) throws Exception {
    String dlq = args.get("nack-dlq");
    String dest = "/queue/stampy_nack_" + unique();
    Conn c = connect(v);
    try {
      subscribe(c, dest, SubscribeHeader.Ack.clientIndividual, "s1");
      if (dlq != null) send(c, dest, "nack-me", "persistent", "true");
      else send(c, dest, "nack-me");
      receipted(
          c,
          new NackMessage(header(next(c), "ack")) {
          @Override
          protected String postHeader() {
            return NO_BODY;
          }
        });
      MessageMessage second = dlq != null ? none(c, 1000) : next(c);
      if (second != null) {
        ack(c, second);
        check(text(second).equals("nack-me") && "true".equals(header(second, "redelivered")),
            "redelivered " + second.getHeader().getHeaders());
        return "NACKed message redelivered";
      }
      subscribe(c, dlq, SubscribeHeader.Ack.clientIndividual, "dlq");
      long deadline = System.currentTimeMillis() + Harness.DLQ_WAIT.toMillis();
      while (System.currentTimeMillis() < deadline) {
        MessageMessage m = none(c, Math.max(1, deadline - System.currentTimeMillis()));
        if (m == null) break;
        if (dest.equals(header(m, "original-destination"))) {
          ack(c, m);
          check(text(m).equals("nack-me"), "body " + text(m));
          return "NACKed message dead-lettered to " + dlq + " (server's choice per spec)";
        }
      }
      throw new AssertionError("NACKed message neither redelivered nor found on " + dlq);
    } finally {
      c.close();
    }
  }

  private String transaction(String v) throws Exception {
    String dest = "/queue/stampy_tx_" + unique();
    Conn c = connect(v);
    try {
      subscribe(c, dest, SubscribeHeader.Ack.auto, "s1");
      // Transactional SENDs ask for no RECEIPT: RabbitMQ sends those only at COMMIT.
      receipted(c, new BeginMessage("tx1") {
      @Override
      protected String postHeader() {
        return NO_BODY;
      }
    });
      c.send(sendMessage(dest, "aborted", "transaction", "tx1"));
      receipted(c, new AbortMessage("tx1") {
      @Override
      protected String postHeader() {
        return NO_BODY;
      }
    });
      receipted(c, new BeginMessage("tx2") {
      @Override
      protected String postHeader() {
        return NO_BODY;
      }
    });
      c.send(sendMessage(dest, "committed", "transaction", "tx2"));
      MessageMessage early = none(c, 300);
      receipted(c, new CommitMessage("tx2") {
      @Override
      protected String postHeader() {
        return NO_BODY;
      }
    });
      MessageMessage m = next(c);
      MessageMessage extra = none(c, 300);
      check(early == null, "a transactional SEND was delivered before COMMIT");
      check(text(m).equals("committed"), "got " + text(m));
      check(extra == null, "an aborted SEND was delivered");
      return "ABORT discarded, COMMIT delivered";
    } finally {
      c.close();
    }
  }

  private String receipt(String v) throws Exception {
    Conn c = connect(v);
    try {
      send(c, "/queue/stampy_rcpt_" + unique(), "x");
      return "RECEIPT for SEND";
    } finally {
      c.close();
    }
  }

  private String topic(String v) throws Exception {
    String dest = "/topic/stampy_" + unique();
    Conn a = connect(v);
    Conn b = connect(v);
    try {
      subscribe(a, dest, SubscribeHeader.Ack.auto, "s1");
      subscribe(b, dest, SubscribeHeader.Ack.auto, "s1");
      send(a, dest, "fan");
      check(text(next(a)).equals("fan") && text(next(b)).equals("fan"), "fan-out bodies differ");
      return "both subscribers received";
    } finally {
      a.close();
      b.close();
    }
  }

  private String heartbeat(String v) throws Exception {
    Conn c = connect(v, args.get("login"), args.get("passcode"), Harness.HEARTBEAT_MS);
    try {
      ConnectedMessage m = c.connectedFrame;
      String hb = m.getHeader().getHeaderValue("heart-beat");
      check(hb != null && !hb.equals("0,0"), "server offered no heart-beats: " + hb);
      Thread.sleep(3L * Harness.HEARTBEAT_MS + 1200);
      int beats = c.beats.get();
      check(!c.closed, "connection dropped while heart-beating");
      send(c, "/queue/stampy_hb_" + unique(), "");
      check(beats > 0, "no server heart-beat in " + (3 * Harness.HEARTBEAT_MS + 1200) + " ms");
      return "heart-beats negotiated (" + hb + "), connection kept, " + beats + " server beats";
    } finally {
      c.close();
    }
  }

  private String login(String v) throws Exception {
    only12(v);
    String[] cred = args.loginCredentials();
    if (cred == null) throw new Unsupported("no credentials given: the server under test runs without logins");
    String refused;
    try {
      Conn bad = connect(v, cred[0], cred[1] + "-wrong", 0);
      bad.close();
      throw new AssertionError("CONNECTED with a wrong passcode");
    } catch (IllegalStateException e) {
      refused = e.getMessage();
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("connect with a wrong passcode neither failed nor succeeded within "
          + Harness.LOGIN_WAIT);
    }
    Conn good = connect(v, cred[0], cred[1], 0);
    good.close();
    return "wrong passcode refused (" + refused.substring(0, Math.min(120, refused.length())) + "); "
        + cred[0] + " connected";
  }

  private String durableRestart(String v) throws Exception {
    String dest = "/queue/stampy_durable_" + unique();
    Conn c = connect(v);
    for (int i = 0; i < Harness.DURABLE_COUNT; i++) send(c, dest, "d" + i, "persistent", "true");
    subscribe(c, dest, SubscribeHeader.Ack.client, "s1");
    for (int i = 0; i < Harness.DELIVERED_FIRST; i++) {
      String got = text(next(c));
      check(got.equals("d" + i), "before the restart got " + got + ", wanted d" + i);
    }
    Harness.requestRestart(CLIENT, v);
    c.close();
    Conn c2 = connect(v);
    try {
      subscribe(c2, dest, SubscribeHeader.Ack.client, "s1");
      List<MessageMessage> got = new ArrayList<>();
      for (int i = 0; i < Harness.DURABLE_COUNT; i++) got.add(next(c2));
      ack(c2, got.get(got.size() - 1));
      MessageMessage extra = none(c2, 300);
      for (int i = 0; i < got.size(); i++) {
        check(text(got.get(i)).equals("d" + i), "position " + i + ": " + text(got.get(i)));
        if (i < Harness.DELIVERED_FIRST) {
          check("true".equals(header(got.get(i), "redelivered")), "d" + i + " without redelivered:true");
        }
      }
      check(extra == null, "more than " + Harness.DURABLE_COUNT + " messages");
      return Harness.DURABLE_COUNT + " persistent messages back in order after SIGKILL + restart; the "
          + Harness.DELIVERED_FIRST + " delivered before with redelivered:true";
    } finally {
      c2.close();
    }
  }

  private String disconnect(String v) throws Exception {
    Conn c = connect(v);
    try {
      receipted(c, new DisconnectMessage() {
      @Override
      protected String postHeader() {
        return NO_BODY;
      }
    });
      long deadline = System.currentTimeMillis() + TIMEOUT.toMillis();
      while (!c.closed && System.currentTimeMillis() < deadline) Thread.sleep(10);
      check(c.closed, "the broker did not close the connection after its RECEIPT");
      return "RECEIPT for DISCONNECT, then the broker closed the connection";
    } finally {
      c.close();
    }
  }

  public static void main(String[] argv) {
    Args args = new Args(argv);
    StampyDriver d = new StampyDriver(args);
    Map<String, Harness.Case> cases = new LinkedHashMap<>();
    cases.put("connect", d::connectCase);
    cases.put("text_and_headers", d::textAndHeaders);
    cases.put("binary", d::binary);
    cases.put("client_individual", d::clientIndividual);
    cases.put("client_cumulative", d::clientCumulative);
    cases.put("nack", d::nack);
    cases.put("transaction", d::transaction);
    cases.put("receipt", d::receipt);
    cases.put("topic", d::topic);
    cases.put("heartbeat", d::heartbeat);
    cases.put("login", d::login);
    cases.put("durable_restart", d::durableRestart);
    cases.put("disconnect", d::disconnect);
    Harness.run(CLIENT, args, cases);
  }
}
