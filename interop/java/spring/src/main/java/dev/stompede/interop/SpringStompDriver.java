package dev.stompede.interop;

import static dev.stompede.interop.harness.Harness.TIMEOUT;
import static dev.stompede.interop.harness.Harness.check;
import static dev.stompede.interop.harness.Harness.unique;

import dev.stompede.interop.harness.Harness;
import dev.stompede.interop.harness.Harness.Args;
import dev.stompede.interop.harness.Harness.Unsupported;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.springframework.messaging.converter.SimpleMessageConverter;
import org.springframework.messaging.simp.stomp.ReactorNettyTcpStompClient;
import org.springframework.messaging.simp.stomp.StompClientSupport;
import org.springframework.messaging.simp.stomp.StompCommand;
import org.springframework.messaging.simp.stomp.StompFrameHandler;
import org.springframework.messaging.simp.stomp.StompHeaders;
import org.springframework.messaging.simp.stomp.StompSession;
import org.springframework.messaging.simp.stomp.StompSessionHandlerAdapter;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.web.socket.client.standard.StandardWebSocketClient;
import org.springframework.web.socket.messaging.WebSocketStompClient;
import org.springframework.web.socket.WebSocketHttpHeaders;

/**
 * Drives a STOMP server with Spring's STOMP clients (spring-messaging + spring-websocket):
 * {@code ReactorNettyTcpStompClient} over TCP (row {@code spring}) or {@code WebSocketStompClient}
 * on Tomcat's WebSocket client (row {@code spring-ws}), with the cases and assertions of
 * interop/clients/stomppy_driver.py.
 *
 * <p>Usage: {@code --transport tcp --host H --port N} or {@code --transport ws --url ws://…}, plus
 * the common options (interop/README.md).
 *
 * <p>Spring's limits, and how the driver meets them:
 *
 * <ul>
 *   <li>Its session always offers {@code accept-version:1.1,1.2} (DefaultStompSession): a broker
 *       that speaks 1.2 gives 1.2, so the 1.0 and 1.1 rows are {@code unsupported}.
 *   <li>{@code StompSession} has no BEGIN, COMMIT or ABORT: {@code transaction} is unsupported.
 *   <li>{@code disconnect(headers)} closes the connection right after writing DISCONNECT, so a
 *       RECEIPT for it cannot be seen: {@code disconnect} is unsupported.
 *   <li>Heart-beats are handled inside the library, which closes a session whose server stops
 *       beating for three periods; the heartbeat case reads the CONNECTED heart-beat and checks
 *       that the session is still usable after three periods.
 *   <li>Payloads go through SimpleMessageConverter as byte[] (no conversion, content-type kept).
 * </ul>
 */
public final class SpringStompDriver {
  private final Args args;
  private final boolean ws;
  private final String client;
  private final ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();

  private SpringStompDriver(Args args) {
    this.args = args;
    this.ws = "ws".equals(args.get("transport", "tcp"));
    this.client = ws ? "spring-ws" : "spring";
    scheduler.setPoolSize(2);
    scheduler.setDaemon(true);
    scheduler.initialize();
  }

  /** A received MESSAGE. */
  record Msg(StompHeaders headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** Session events: CONNECTED, ERROR frames, transport errors. */
  static final class Handler extends StompSessionHandlerAdapter {
    final CompletableFuture<StompHeaders> connected = new CompletableFuture<>();
    final BlockingQueue<String> errors = new LinkedBlockingQueue<>();
    volatile boolean lost;

    @Override
    public void afterConnected(StompSession session, StompHeaders headers) {
      connected.complete(headers);
    }

    @Override
    public Type getPayloadType(StompHeaders headers) {
      return byte[].class;
    }

    @Override
    public void handleFrame(StompHeaders headers, Object payload) {
      String why = "ERROR " + headers.getFirst("message");
      errors.add(why);
      connected.completeExceptionally(new IllegalStateException(why));
    }

    @Override
    public void handleException(
        StompSession s, StompCommand command, StompHeaders headers, byte[] payload, Throwable e) {
      errors.add(String.valueOf(e));
    }

    @Override
    public void handleTransportError(StompSession session, Throwable e) {
      lost = true;
      errors.add("transport: " + e);
      connected.completeExceptionally(e);
    }
  }

  /** A connected session and its CONNECTED headers. */
  record Conn(StompSession session, StompHeaders connected, Handler handler, StompClientSupport stomp) {
    void close() {
      try {
        if (session.isConnected()) session.disconnect();
      } catch (RuntimeException ignored) {
        // already gone
      }
      if (stomp instanceof WebSocketStompClient w) w.stop();
      if (stomp instanceof ReactorNettyTcpStompClient t) t.shutdown();
    }
  }

  private StompClientSupport newClient(long heartbeatMs) {
    StompClientSupport c =
        ws ? new WebSocketStompClient(new StandardWebSocketClient())
            : new ReactorNettyTcpStompClient(args.host(), args.port());
    c.setMessageConverter(new SimpleMessageConverter());
    c.setTaskScheduler(scheduler);
    c.setDefaultHeartbeat(new long[] {heartbeatMs, heartbeatMs});
    c.setReceiptTimeLimit(TIMEOUT.toMillis());
    return c;
  }

  private Conn connect(String login, String passcode, long heartbeatMs) throws Exception {
    Conn c = tryConnect(login, passcode, heartbeatMs);
    c.session.setAutoReceipt(true);
    return c;
  }

  private Conn connect() throws Exception {
    return connect(args.get("login"), args.get("passcode"), 0);
  }

  /**
   * Connects: waits for CONNECTED, an ERROR or the connection's end, whichever comes first (the
   * session future alone completes only on CONNECTED or a transport error: after an ERROR that
   * leaves the connection open a while, as RabbitMQ's for a wrong passcode does, it would wait).
   */
  private Conn tryConnect(String login, String passcode, long heartbeatMs) throws Exception {
    StompClientSupport stomp = newClient(heartbeatMs);
    StompHeaders h = new StompHeaders();
    if (login != null) {
      h.setLogin(login);
      h.setPasscode(passcode);
    }
    if (args.get("vhost") != null) h.setHost(args.get("vhost"));
    Handler handler = new Handler();
    CompletableFuture<StompSession> future =
        ws ? ((WebSocketStompClient) stomp).connectAsync(args.get("url"), new WebSocketHttpHeaders(), h, handler)
            : ((ReactorNettyTcpStompClient) stomp).connectAsync(h, handler);
    future.whenComplete((s, e) -> { if (e != null) handler.connected.completeExceptionally(e); });
    StompHeaders connected;
    try {
      connected = handler.connected.get(Harness.LOGIN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      if (stomp instanceof WebSocketStompClient w) w.stop();
      if (stomp instanceof ReactorNettyTcpStompClient t) t.shutdown();
      throw e;
    }
    StompSession session = future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    return new Conn(session, connected, handler, stomp);
  }

  /** Subscribes; MESSAGEs go to the returned queue. Waits for the SUBSCRIBE's RECEIPT. */
  private BlockingQueue<Msg> subscribe(Conn c, String dest, String ack) throws Exception {
    BlockingQueue<Msg> inbox = new LinkedBlockingQueue<>();
    StompHeaders h = new StompHeaders();
    h.setDestination(dest);
    h.setId("s-" + unique());
    h.setAck(ack);
    StompSession.Subscription sub =
        c.session.subscribe(
            h,
            new StompFrameHandler() {
              @Override
              public Type getPayloadType(StompHeaders headers) {
                return byte[].class;
              }

              @Override
              public void handleFrame(StompHeaders headers, Object payload) {
                inbox.add(new Msg(headers, (byte[]) payload));
              }
            });
    receipt(sub, "SUBSCRIBE " + dest);
    return inbox;
  }

  private static void receipt(StompSession.Receiptable r, String what) throws Exception {
    CompletableFuture<Boolean> got = new CompletableFuture<>();
    r.addReceiptTask(() -> got.complete(true));
    r.addReceiptLostTask(() -> got.complete(false));
    check(got.get(TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS), "no RECEIPT for " + what);
  }

  private static StompSession.Receiptable send(Conn c, String dest, byte[] body, String... headers) {
    StompHeaders h = new StompHeaders();
    h.setDestination(dest);
    for (int i = 0; i + 1 < headers.length; i += 2) h.add(headers[i], headers[i + 1]);
    return c.session.send(h, body);
  }

  private static Msg next(BlockingQueue<Msg> inbox) throws Exception {
    Msg m = inbox.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    if (m == null) throw new AssertionError("no MESSAGE within " + TIMEOUT.toMillis() + " ms");
    return m;
  }

  private static Msg none(BlockingQueue<Msg> inbox, long ms) throws InterruptedException {
    return inbox.poll(ms, TimeUnit.MILLISECONDS);
  }

  private static void ack(Conn c, Msg m, boolean consumed) throws Exception {
    receipt(c.session.acknowledge(m.headers.getAck(), consumed), consumed ? "ACK" : "NACK");
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private void only12(String version) throws Unsupported {
    if (!version.equals("1.2")) {
      throw new Unsupported(
          "Spring's STOMP clients always send accept-version:1.1,1.2, so a 1.2 broker gives 1.2; "
              + "there is no way to ask for " + version);
    }
  }

  // --- cases -----------------------------------------------------------------------------------

  private String connectCase(String v) throws Exception {
    only12(v);
    Conn c = connect();
    String got = c.connected.getFirst("version");
    c.close();
    check(v.equals(got), "CONNECTED version " + got + ", wanted " + v);
    return "CONNECTED version " + got + ", server " + c.connected.getFirst("server");
  }

  private String textAndHeaders(String v) throws Exception {
    only12(v);
    String dest = "/queue/spring_text_" + unique();
    Conn c = connect();
    try {
      BlockingQueue<Msg> in = subscribe(c, dest, "auto");
      send(c, dest, utf8("héllo wörld"), "content-type", "text/plain;charset=UTF-8", "x-custom", "v1",
          "x-other", "two words");
      Msg m = next(in);
      check(m.text().equals("héllo wörld"), "body " + m.text());
      check("v1".equals(m.headers.getFirst("x-custom")), "headers " + m.headers);
      check("two words".equals(m.headers.getFirst("x-other")), "headers " + m.headers);
      check(dest.equals(m.headers.getDestination()), "destination " + m.headers.getDestination());
      check(m.headers.getMessageId() != null, "no message-id");
      return "body and custom headers delivered";
    } finally {
      c.close();
    }
  }

  private String binary(String v) throws Exception {
    only12(v);
    String dest = "/queue/spring_bin_" + unique();
    Conn c = connect();
    try {
      BlockingQueue<Msg> in = subscribe(c, dest, "auto");
      byte[] payload = Harness.binaryPayload();
      send(c, dest, payload, "content-type", "application/octet-stream");
      Msg m = next(in);
      check(Arrays.equals(m.body, payload), "binary body changed (" + m.body.length + " bytes back)");
      return "1024 bytes with NULs intact";
    } finally {
      c.close();
    }
  }

  private String clientIndividual(String v) throws Exception {
    only12(v);
    String dest = "/queue/spring_ci_" + unique();
    Conn c = connect();
    BlockingQueue<Msg> in = subscribe(c, dest, "client-individual");
    for (int i = 0; i < 3; i++) send(c, dest, utf8("m" + i));
    List<Msg> ms = new ArrayList<>();
    for (int i = 0; i < 3; i++) ms.add(next(in));
    ack(c, ms.get(0), true);
    ack(c, ms.get(2), true);
    c.close();
    Conn c2 = connect();
    try {
      BlockingQueue<Msg> in2 = subscribe(c2, dest, "client-individual");
      Msg again = next(in2);
      ack(c2, again, true);
      Msg extra = none(in2, 300);
      check(again.text().equals("m1"), "redelivered " + again.text());
      check("true".equals(again.headers.getFirst("redelivered")), "headers " + again.headers);
      check(extra == null, "an acked message came back");
      return "unacked message redelivered with redelivered:true";
    } finally {
      c2.close();
    }
  }

  private String clientCumulative(String v) throws Exception {
    only12(v);
    String dest = "/queue/spring_cl_" + unique();
    Conn c = connect();
    BlockingQueue<Msg> in = subscribe(c, dest, "client");
    for (int i = 0; i < 3; i++) send(c, dest, utf8("m" + i));
    Msg last = null;
    for (int i = 0; i < 3; i++) last = next(in);
    ack(c, last, true); // acknowledges all three
    c.close();
    Conn c2 = connect();
    try {
      BlockingQueue<Msg> in2 = subscribe(c2, dest, "client");
      check(none(in2, 500) == null, "cumulative ACK left one unacked");
      return "one ACK acknowledged all earlier messages";
    } finally {
      c2.close();
    }
  }

  private String nack(String v) throws Exception {
    // The server's choice (spec): redelivered (RabbitMQ, ours) or dead-lettered (--nack-dlq).
    only12(v);
    String dlq = args.get("nack-dlq");
    String dest = "/queue/spring_nack_" + unique();
    Conn c = connect();
    try {
      BlockingQueue<Msg> in = subscribe(c, dest, "client-individual");
      if (dlq != null) send(c, dest, utf8("nack-me"), "persistent", "true");
      else send(c, dest, utf8("nack-me"));
      Msg first = next(in);
      ack(c, first, false);
      Msg second = dlq != null ? none(in, 1000) : next(in);
      if (second != null) {
        ack(c, second, true);
        check(second.text().equals("nack-me"), "body " + second.text());
        check("true".equals(second.headers.getFirst("redelivered")), "headers " + second.headers);
        return "NACKed message redelivered";
      }
      BlockingQueue<Msg> dead = subscribe(c, dlq, "client-individual");
      long deadline = System.currentTimeMillis() + Harness.DLQ_WAIT.toMillis();
      while (System.currentTimeMillis() < deadline) {
        Msg m = none(dead, Math.max(1, deadline - System.currentTimeMillis()));
        if (m == null) break;
        if (dest.equals(m.headers.getFirst("original-destination"))) {
          ack(c, m, true);
          check(m.text().equals("nack-me"), "body " + m.text());
          return "NACKed message dead-lettered to " + dlq + " (server's choice per spec)";
        }
      }
      throw new AssertionError("NACKed message neither redelivered nor found on " + dlq);
    } finally {
      c.close();
    }
  }

  private String transaction(String v) throws Exception {
    only12(v);
    throw new Unsupported("Spring's StompSession has no BEGIN, COMMIT or ABORT");
  }

  private String receiptCase(String v) throws Exception {
    only12(v);
    Conn c = connect();
    try {
      receipt(send(c, "/queue/spring_rcpt_" + unique(), utf8("x")), "SEND");
      return "RECEIPT for SEND (setAutoReceipt; Spring matches the receipt-id)";
    } finally {
      c.close();
    }
  }

  private String topic(String v) throws Exception {
    only12(v);
    String dest = "/topic/spring_" + unique();
    Conn a = connect();
    Conn b = connect();
    try {
      BlockingQueue<Msg> ia = subscribe(a, dest, "auto");
      BlockingQueue<Msg> ib = subscribe(b, dest, "auto");
      receipt(send(a, dest, utf8("fan")), "SEND");
      check(next(ia).text().equals("fan") && next(ib).text().equals("fan"), "fan-out bodies differ");
      return "both subscribers received";
    } finally {
      a.close();
      b.close();
    }
  }

  private String heartbeat(String v) throws Exception {
    only12(v);
    Conn c = connect(args.get("login"), args.get("passcode"), Harness.HEARTBEAT_MS);
    try {
      long[] hb = c.connected.getHeartbeat();
      long every = Math.max(hb == null ? 0 : hb[0], Harness.HEARTBEAT_MS);
      check(hb != null && hb[0] > 0, "server offered no heart-beats: " + Arrays.toString(hb));
      Thread.sleep(Math.max(1200, 3 * every + 200));
      check(c.session.isConnected() && !c.handler.lost, "session lost while heart-beating: " + c.handler.errors);
      receipt(send(c, "/queue/spring_hb_" + unique(), new byte[0]), "SEND after the idle periods");
      return "heart-beat " + hb[0] + "," + hb[1] + " negotiated; after three idle periods the session is "
          + "still up (Spring drops it when the server's beats stop)";
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
      tryConnect(cred[0], cred[1] + "-wrong", 0).close();
      throw new AssertionError("CONNECTED with a wrong passcode");
    } catch (java.util.concurrent.ExecutionException e) {
      refused = String.valueOf(e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("connect with a wrong passcode neither failed nor succeeded within "
          + Harness.LOGIN_WAIT);
    }
    Conn good = connect(cred[0], cred[1], 0);
    String got = good.connected.getFirst("version");
    good.close();
    check(v.equals(got), "CONNECTED version " + got);
    return "wrong passcode refused (" + refused.substring(0, Math.min(120, refused.length())) + "); "
        + cred[0] + " connected";
  }

  private String durableRestart(String v) throws Exception {
    only12(v);
    String dest = "/queue/spring_durable_" + unique();
    Conn c = connect();
    for (int i = 0; i < Harness.DURABLE_COUNT; i++) {
      receipt(send(c, dest, utf8("d" + i), "persistent", "true"), "SEND d" + i);
    }
    BlockingQueue<Msg> in = subscribe(c, dest, "client");
    for (int i = 0; i < Harness.DELIVERED_FIRST; i++) {
      String got = next(in).text();
      check(got.equals("d" + i), "before the restart got " + got + ", wanted d" + i);
    }
    Harness.requestRestart(client, v);
    c.close();
    Conn c2 = connect();
    try {
      BlockingQueue<Msg> in2 = subscribe(c2, dest, "client");
      List<Msg> got = new ArrayList<>();
      for (int i = 0; i < Harness.DURABLE_COUNT; i++) got.add(next(in2));
      ack(c2, got.get(got.size() - 1), true);
      Msg extra = none(in2, 300);
      for (int i = 0; i < got.size(); i++) {
        check(got.get(i).text().equals("d" + i), "position " + i + ": " + got.get(i).text());
        if (i < Harness.DELIVERED_FIRST) {
          check("true".equals(got.get(i).headers.getFirst("redelivered")), "d" + i + " without redelivered:true");
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
    only12(v);
    throw new Unsupported(
        "Spring's StompSession.disconnect(headers) closes the connection right after writing "
            + "DISCONNECT, so the RECEIPT it asks for cannot be seen");
  }

  public static void main(String[] argv) {
    Args args = new Args(argv);
    SpringStompDriver d = new SpringStompDriver(args);
    Map<String, Harness.Case> cases = new LinkedHashMap<>();
    cases.put("connect", d::connectCase);
    cases.put("text_and_headers", d::textAndHeaders);
    cases.put("binary", d::binary);
    cases.put("client_individual", d::clientIndividual);
    cases.put("client_cumulative", d::clientCumulative);
    cases.put("nack", d::nack);
    cases.put("transaction", d::transaction);
    cases.put("receipt", d::receiptCase);
    cases.put("topic", d::topic);
    cases.put("heartbeat", d::heartbeat);
    cases.put("login", d::login);
    cases.put("durable_restart", d::durableRestart);
    cases.put("disconnect", d::disconnect);
    Harness.run(d.client, args, cases);
  }
}
