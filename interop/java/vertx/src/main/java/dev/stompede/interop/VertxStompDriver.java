package dev.stompede.interop;

import static dev.stompede.interop.harness.Harness.TIMEOUT;
import static dev.stompede.interop.harness.Harness.check;
import static dev.stompede.interop.harness.Harness.unique;

import dev.stompede.interop.harness.Harness;
import dev.stompede.interop.harness.Harness.Args;
import dev.stompede.interop.harness.Harness.Unsupported;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.stomp.Command;
import io.vertx.ext.stomp.Frame;
import io.vertx.ext.stomp.StompClient;
import io.vertx.ext.stomp.StompClientConnection;
import io.vertx.ext.stomp.StompClientOptions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Drives a STOMP server with the Vert.x STOMP client (io.vertx:vertx-stomp 5.0), with the cases
 * and assertions of interop/clients/stomppy_driver.py. Usage: the common options
 * (interop/README.md).
 *
 * <p>Vert.x's limits, and how the driver meets them:
 *
 * <ul>
 *   <li>The client asks for a RECEIPT on every frame it sends and completes the frame's future
 *       with it; the driver waits on those futures (receipt-ids matched by the library).
 *   <li>{@code ack(id)}/{@code nack(id)} write only an {@code id} header (1.2's); 1.0 and 1.1
 *       name a message by {@code message-id} (and 1.1 by {@code subscription} too), so on those
 *       versions the driver builds the ACK/NACK frame itself and sends it with {@code send(Frame)}.
 *   <li>It names every RECEIPT itself (a caller's {@code receipt} header leaves the frame's future
 *       unresolved), and closes its side of the connection on DISCONNECT's RECEIPT.
 *   <li>Heart-beats are the library's; the heartbeat case counts the PING frames it hands to
 *       {@code receivedFrameHandler}.
 * </ul>
 */
public final class VertxStompDriver {
  private static final String CLIENT = "vertx-stomp";
  private final Args args;
  private final Vertx vertx = Vertx.vertx();

  private VertxStompDriver(Args args) {
    this.args = args;
  }

  record Conn(StompClient client, StompClientConnection c, AtomicInteger pings, BlockingQueue<Frame> errors,
      java.util.Set<String> receipts) {
    void close() {
      try {
        if (c.isConnected()) await(c.disconnect());
      } catch (Exception ignored) {
        // already gone
      }
      client.close();
    }
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
  }

  private Conn connect(String version, String login, String passcode, int heartbeat) throws Exception {
    StompClientOptions o = new StompClientOptions().setHost(args.host()).setPort(args.port())
        .setAcceptedVersions(List.of(version))
        .setHeartbeat(new JsonObject().put("x", heartbeat).put("y", heartbeat));
    if (login != null) o.setLogin(login).setPasscode(passcode);
    // Vert.x sends a host header on every version (the server host name without one), so the
    // vhost is given on 1.0 too: RabbitMQ takes it as the virtual host.
    if (args.get("vhost") != null) o.setVirtualHost(args.get("vhost"));
    StompClient client = StompClient.create(vertx, o);
    AtomicInteger pings = new AtomicInteger();
    BlockingQueue<Frame> errors = new LinkedBlockingQueue<>();
    java.util.Set<String> receipts = java.util.concurrent.ConcurrentHashMap.newKeySet();
    client.receivedFrameHandler(f -> {
      if (f.getCommand() == Command.PING) pings.incrementAndGet();
      if (f.getCommand() == Command.RECEIPT) receipts.add(f.getHeader("receipt-id"));
    });
    // CONNECTED, or an ERROR, whichever comes first: the connect future alone settles only on
    // CONNECTED or the connection's end, and RabbitMQ keeps it open a while after a
    // wrong-passcode ERROR.
    CompletableFuture<StompClientConnection> outcome = new CompletableFuture<>();
    client.errorFrameHandler(
        f -> {
          errors.add(f);
          outcome.completeExceptionally(new IllegalStateException("ERROR " + f.getHeader("message")));
        });
    client.connect().onComplete(
        r -> {
          if (r.succeeded()) outcome.complete(r.result());
          else outcome.completeExceptionally(r.cause());
        });
    try {
      StompClientConnection c = outcome.get(Harness.LOGIN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      return new Conn(client, c, pings, errors, receipts);
    } catch (Exception e) {
      client.close();
      throw e;
    }
  }

  private Conn connect(String version) throws Exception {
    return connect(version, args.get("login"), args.get("passcode"), 0);
  }

  private static BlockingQueue<Frame> subscribe(Conn c, String dest, String ack) throws Exception {
    BlockingQueue<Frame> inbox = new LinkedBlockingQueue<>();
    Map<String, String> h = new HashMap<>();
    h.put("id", "s-" + unique());
    h.put("ack", ack);
    await(c.c.subscribe(dest, h, inbox::add));
    return inbox;
  }

  private static Frame next(BlockingQueue<Frame> in) throws Exception {
    Frame f = in.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    if (f == null) throw new AssertionError("no MESSAGE within " + TIMEOUT.toMillis() + " ms");
    return f;
  }

  private static Frame none(BlockingQueue<Frame> in, long ms) throws InterruptedException {
    return in.poll(ms, TimeUnit.MILLISECONDS);
  }

  private static String text(Frame f) {
    return f.getBodyAsString(StandardCharsets.UTF_8.name());
  }

  private static void send(Conn c, String dest, byte[] body, String... headers) throws Exception {
    Map<String, String> h = new HashMap<>();
    for (int i = 0; i + 1 < headers.length; i += 2) h.put(headers[i], headers[i + 1]);
    await(c.c.send(dest, h, Buffer.buffer(body)));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** ACK/NACK `m`: the library's call on 1.2; a frame with 1.0/1.1's headers otherwise. */
  private static void settle(Conn c, String version, Frame m, boolean ack) throws Exception {
    if (version.equals("1.2")) {
      await(ack ? c.c.ack(m.getAck()) : c.c.nack(m.getAck()));
      return;
    }
    Frame f = new Frame().setCommand(ack ? Command.ACK : Command.NACK);
    f.addHeader("message-id", m.getHeader("message-id"));
    if (version.equals("1.1")) f.addHeader("subscription", m.getHeader("subscription"));
    await(c.c.send(f));
  }

  private static void only11(String version, String what) throws Unsupported {
    if (version.equals("1.0")) throw new Unsupported("STOMP 1.0 has no " + what);
  }

  // --- cases -----------------------------------------------------------------------------------

  private String connectCase(String v) throws Exception {
    Conn c = connect(v);
    String got = c.c.version();
    String server = c.c.server();
    c.close();
    check(v.equals(got), "CONNECTED version " + got + ", wanted " + v);
    return "CONNECTED version " + got + ", server " + server;
  }

  private String textAndHeaders(String v) throws Exception {
    String dest = "/queue/vertx_text_" + unique();
    Conn c = connect(v);
    try {
      BlockingQueue<Frame> in = subscribe(c, dest, "auto");
      send(c, dest, utf8("héllo wörld"), "x-custom", "v1", "x-other", "two words");
      Frame m = next(in);
      check(text(m).equals("héllo wörld"), "body " + text(m));
      check("v1".equals(m.getHeader("x-custom")) && "two words".equals(m.getHeader("x-other")),
          "headers " + m.getHeaders());
      check(dest.equals(m.getHeader("destination")), "destination " + m.getHeader("destination"));
      check(m.getHeader("message-id") != null, "no message-id");
      return "body and custom headers delivered";
    } finally {
      c.close();
    }
  }

  private String binary(String v) throws Exception {
    String dest = "/queue/vertx_bin_" + unique();
    Conn c = connect(v);
    try {
      BlockingQueue<Frame> in = subscribe(c, dest, "auto");
      byte[] payload = Harness.binaryPayload();
      send(c, dest, payload, "content-type", "application/octet-stream");
      byte[] got = next(in).getBody().getBytes();
      check(Arrays.equals(got, payload), "binary body changed (" + got.length + " bytes back)");
      return "1024 bytes with NULs intact";
    } finally {
      c.close();
    }
  }

  private String clientIndividual(String v) throws Exception {
    only11(v, "client-individual acknowledgement");
    String dest = "/queue/vertx_ci_" + unique();
    Conn c = connect(v);
    BlockingQueue<Frame> in = subscribe(c, dest, "client-individual");
    for (int i = 0; i < 3; i++) send(c, dest, utf8("m" + i));
    List<Frame> ms = new ArrayList<>();
    for (int i = 0; i < 3; i++) ms.add(next(in));
    settle(c, v, ms.get(0), true);
    settle(c, v, ms.get(2), true);
    c.close();
    Conn c2 = connect(v);
    try {
      BlockingQueue<Frame> in2 = subscribe(c2, dest, "client-individual");
      Frame again = next(in2);
      settle(c2, v, again, true);
      Frame extra = none(in2, 300);
      check(text(again).equals("m1"), "redelivered " + text(again));
      check("true".equals(again.getHeader("redelivered")), "headers " + again.getHeaders());
      check(extra == null, "an acked message came back");
      return "unacked message redelivered with redelivered:true";
    } finally {
      c2.close();
    }
  }

  private String clientCumulative(String v) throws Exception {
    String dest = "/queue/vertx_cl_" + unique();
    Conn c = connect(v);
    BlockingQueue<Frame> in = subscribe(c, dest, "client");
    for (int i = 0; i < 3; i++) send(c, dest, utf8("m" + i));
    Frame last = null;
    for (int i = 0; i < 3; i++) last = next(in);
    settle(c, v, last, true); // acknowledges all three
    c.close();
    Conn c2 = connect(v);
    try {
      BlockingQueue<Frame> in2 = subscribe(c2, dest, "client");
      check(none(in2, 500) == null, "cumulative ACK left one unacked");
      return "one ACK acknowledged all earlier messages";
    } finally {
      c2.close();
    }
  }

  private String nack(String v) throws Exception {
    only11(v, "NACK");
    String dlq = args.get("nack-dlq");
    String dest = "/queue/vertx_nack_" + unique();
    Conn c = connect(v);
    try {
      BlockingQueue<Frame> in = subscribe(c, dest, "client-individual");
      if (dlq != null) send(c, dest, utf8("nack-me"), "persistent", "true");
      else send(c, dest, utf8("nack-me"));
      settle(c, v, next(in), false);
      Frame second = dlq != null ? none(in, 1000) : next(in);
      if (second != null) {
        settle(c, v, second, true);
        check(text(second).equals("nack-me") && "true".equals(second.getHeader("redelivered")),
            "redelivered " + second.getHeaders());
        return "NACKed message redelivered";
      }
      BlockingQueue<Frame> dead = subscribe(c, dlq, "client-individual");
      long deadline = System.currentTimeMillis() + Harness.DLQ_WAIT.toMillis();
      while (System.currentTimeMillis() < deadline) {
        Frame m = none(dead, Math.max(1, deadline - System.currentTimeMillis()));
        if (m == null) break;
        if (dest.equals(m.getHeader("original-destination"))) {
          settle(c, v, m, true);
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
    String dest = "/queue/vertx_tx_" + unique();
    Conn c = connect(v);
    try {
      BlockingQueue<Frame> in = subscribe(c, dest, "auto");
      // The transactional SENDs' futures are not waited for: RabbitMQ answers a SEND inside a
      // transaction with its RECEIPT only at COMMIT (never for an aborted one), and Vert.x
      // resolves a frame's future on its RECEIPT.
      await(c.c.beginTX("tx1"));
      c.c.send(dest, new HashMap<>(Map.of("transaction", "tx1")), Buffer.buffer(utf8("aborted")));
      await(c.c.abort("tx1"));
      await(c.c.beginTX("tx2"));
      c.c.send(dest, new HashMap<>(Map.of("transaction", "tx2")), Buffer.buffer(utf8("committed")));
      Frame early = none(in, 300);
      await(c.c.commit("tx2"));
      Frame m = next(in);
      Frame extra = none(in, 300);
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
      // The client names every receipt itself (a caller's `receipt` header leaves its future
      // unresolved: "No receipt handler for receipt …"), and resolves the future on it.
      // The future resolves, with the frame sent, once its RECEIPT came.
      Frame sent = await(c.c.send("/queue/vertx_rcpt_" + unique(), Buffer.buffer("x")));
      String rid = sent.getHeader("receipt");
      check(rid != null && c.receipts.contains(rid), "no RECEIPT for " + rid + " (got " + c.receipts + ")");
      return "RECEIPT for SEND (receipt-id " + rid + ", named and matched by Vert.x)";
    } finally {
      c.close();
    }
  }

  private String topic(String v) throws Exception {
    String dest = "/topic/vertx_" + unique();
    Conn a = connect(v);
    Conn b = connect(v);
    try {
      BlockingQueue<Frame> ia = subscribe(a, dest, "auto");
      BlockingQueue<Frame> ib = subscribe(b, dest, "auto");
      send(a, dest, utf8("fan"));
      check(text(next(ia)).equals("fan") && text(next(ib)).equals("fan"), "fan-out bodies differ");
      return "both subscribers received";
    } finally {
      a.close();
      b.close();
    }
  }

  private String heartbeat(String v) throws Exception {
    only11(v, "heart-beating");
    Conn c = connect(v, args.get("login"), args.get("passcode"), Harness.HEARTBEAT_MS);
    // Who ended it, when it ends: Vert.x's own check (no server data within twice the
    // negotiated interval) or the server closing the connection.
    java.util.concurrent.atomic.AtomicReference<String> dropped = new java.util.concurrent.atomic.AtomicReference<>();
    long started = System.nanoTime();
    c.c.connectionDroppedHandler(x -> dropped.compareAndSet(null,
        "Vert.x dropped it: no server data in time, after " + (System.nanoTime() - started) / 1_000_000 + " ms"));
    c.c.closeHandler(x -> dropped.compareAndSet(null,
        "closed by the server after " + (System.nanoTime() - started) / 1_000_000 + " ms"));
    try {
      Thread.sleep(3L * Harness.HEARTBEAT_MS + 1200);
      int beats = c.pings.get();
      check(c.c.isConnected(), "connection dropped while heart-beating (" + dropped.get() + ", "
          + beats + " server beats before)");
      send(c, "/queue/vertx_hb_" + unique(), new byte[0]);
      check(beats > 0, "no server heart-beat in " + (3 * Harness.HEARTBEAT_MS + 1200) + " ms");
      return "heart-beats negotiated, connection kept, " + beats + " server beats";
    } finally {
      c.close();
    }
  }

  private String login(String v) throws Exception {
    String[] cred = args.loginCredentials();
    if (cred == null) throw new Unsupported("no credentials given: the server under test runs without logins");
    String refused;
    try {
      Conn bad = connect(v, cred[0], cred[1] + "-wrong", 0);
      bad.close();
      throw new AssertionError("CONNECTED with a wrong passcode");
    } catch (java.util.concurrent.ExecutionException e) {
      refused = String.valueOf(e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("connect with a wrong passcode neither failed nor succeeded within "
          + Harness.LOGIN_WAIT);
    }
    Conn good = connect(v, cred[0], cred[1], 0);
    String got = good.c.version();
    good.close();
    check(v.equals(got), "CONNECTED version " + got);
    return "wrong passcode refused (" + refused.substring(0, Math.min(120, refused.length())) + "); "
        + cred[0] + " connected";
  }

  private String durableRestart(String v) throws Exception {
    String dest = "/queue/vertx_durable_" + unique();
    Conn c = connect(v);
    for (int i = 0; i < Harness.DURABLE_COUNT; i++) send(c, dest, utf8("d" + i), "persistent", "true");
    BlockingQueue<Frame> in = subscribe(c, dest, "client");
    for (int i = 0; i < Harness.DELIVERED_FIRST; i++) {
      String got = text(next(in));
      check(got.equals("d" + i), "before the restart got " + got + ", wanted d" + i);
    }
    Harness.requestRestart(CLIENT, v);
    c.client.close();
    Conn c2 = connect(v);
    try {
      BlockingQueue<Frame> in2 = subscribe(c2, dest, "client");
      List<Frame> got = new ArrayList<>();
      for (int i = 0; i < Harness.DURABLE_COUNT; i++) got.add(next(in2));
      settle(c2, v, got.get(got.size() - 1), true);
      Frame extra = none(in2, 300);
      for (int i = 0; i < got.size(); i++) {
        check(text(got.get(i)).equals("d" + i), "position " + i + ": " + text(got.get(i)));
        if (i < Harness.DELIVERED_FIRST) {
          check("true".equals(got.get(i).getHeader("redelivered")), "d" + i + " without redelivered:true");
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
    CompletableFuture<Boolean> closed = new CompletableFuture<>();
    c.c.closeHandler(x -> closed.complete(true));
    Frame sent = await(c.c.disconnect());
    boolean gone = closed.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    c.client.close();
    String rid = sent.getHeader("receipt");
    check(rid != null && c.receipts.contains(rid), "no RECEIPT for DISCONNECT " + rid);
    return "RECEIPT (receipt-id " + rid + ") for DISCONNECT, then the connection "
        + "closed (" + gone + "; Vert.x closes its side on the RECEIPT, so who closed first is not seen)";
  }

  public static void main(String[] argv) {
    Args args = new Args(argv);
    VertxStompDriver d = new VertxStompDriver(args);
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
