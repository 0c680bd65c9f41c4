package dev.stompede.interop;

import static dev.stompede.interop.harness.Harness.TIMEOUT;
import static dev.stompede.interop.harness.Harness.check;
import static dev.stompede.interop.harness.Harness.unique;

import com.hi3project.vineyard.comm.stomp.gozirraws.Client;
import com.hi3project.vineyard.comm.stomp.gozirraws.Command;
import com.hi3project.vineyard.comm.stomp.gozirraws.Stomp;
import com.hi3project.vineyard.comm.stomp.gozirraws.WebSocketStomp;
import dev.stompede.interop.harness.Harness;
import dev.stompede.interop.harness.Harness.Args;
import dev.stompede.interop.harness.Harness.Unsupported;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.security.auth.login.LoginException;

/**
 * Drives a STOMP server with Gozirra, as forked on Maven Central (com.hi3project.vineyard.comm
 * gozirra-ws 0.5.0): {@code Client} over TCP ({@code --transport tcp --host H --port N}) or
 * {@code WebSocketStomp} over WebSocket ({@code --transport ws --url U}), used through their
 * public API, with the cases and assertions of interop/clients/stomppy_driver.py.
 *
 * <p>Gozirra's limits, and how the driver meets them:
 *
 * <ul>
 *   <li>It speaks STOMP 1.0 only (its CONNECT has no accept-version): the 1.1 and 1.2 rows are
 *       {@code unsupported}, and so are 1.1's features (client-individual, NACK, heart-beats).
 *   <li>Its commands have no ACK ({@code Command} lists none and cannot be extended): no client
 *       acknowledgement, so {@code client_cumulative} and {@code durable_restart} (which needs
 *       unacknowledged deliveries) are {@code unsupported}.
 *   <li>Bodies are Strings read up to the NUL, without content-length: no binary body. Over TCP
 *       it writes and reads frames as US-ASCII ({@code Transmitter}, {@code Receiver}), so
 *       {@code text_and_headers} (a non-ASCII body) is {@code unsupported} there; over WebSocket
 *       frames are text messages (UTF-8) and the case runs.
 *   <li>Its TCP receiver polls {@code ready()} and never sees the server close the socket: the
 *       disconnect case reads the socket itself (its private {@code _input}, by reflection) for
 *       end-of-stream once the RECEIPT is in.
 *   <li>A CONNECT the server never answers makes its constructor wait for ever: the driver
 *       connects on another thread with a deadline. Its {@code waitOnReceipt(id, ms)} waits
 *       again after each timeout: the driver polls {@code hasReceipt} with a deadline.
 * </ul>
 *
 * <p>Over WebSocket (the {@code gozirra-ws} row) its constructor returns before CONNECTED came
 * (the driver waits for it), it parses only the first frame of each WebSocket message (servers
 * must send one frame per message, as RabbitMQ Web-STOMP and ours do), and it reads text messages
 * only: against servers that send binary ones (RabbitMQ as interop/peers/rabbitmq.sh configures
 * it, Artemis) no CONNECTED reaches it, and run.mjs marks those cells unsupported.
 */
public final class GozirraDriver {
  private static final String CLIENT_TCP = "gozirra";
  private static final String CLIENT_WS = "gozirra-ws";
  private final Args args;
  private final boolean ws;

  private GozirraDriver(Args args) {
    this.args = args;
    this.ws = "ws".equals(args.get("transport", "tcp"));
  }

  /** One connection: Gozirra's client, the CONNECTED headers it saw and every MESSAGE. */
  static final class Conn {
    final Stomp stomp;
    final Map<String, String> connected;
    final BlockingQueue<Map<String, String>> messages = new LinkedBlockingQueue<>();
    final BlockingQueue<String> bodies = new LinkedBlockingQueue<>();

    Conn(Stomp stomp, Map<String, String> connected) {
      this.stomp = stomp;
      this.connected = connected;
    }

    void close() {
      try {
        stomp.disconnect();
      } catch (RuntimeException ignored) {
        // already gone
      }
    }
  }

  private static void only10(String version) throws Unsupported {
    if (!version.equals("1.0")) {
      throw new Unsupported("Gozirra speaks STOMP 1.0 only (its CONNECT has no accept-version)");
    }
  }

  /**
   * Connects with Gozirra's constructor, which sends CONNECT and waits for CONNECTED or an ERROR
   * (a LoginException); the CONNECTED headers are taken as its receiver hands them over.
   */
  private Conn connect(String version, String login, String passcode) throws Exception {
    only10(version);
    Map<String, String> connected = new HashMap<>();
    String user = login == null ? "" : login;
    String pass = passcode == null ? "" : passcode;
    CompletableFuture<Stomp> made =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                if (ws) {
                  return new WebSocketStomp(new URI(args.get("url")), user, pass) {
                    @Override
                    @SuppressWarnings({"rawtypes", "unchecked"})
                    public void receive(Command c, Map h, String b) {
                      seen(connected, c, h, b);
                      super.receive(c, h, b);
                    }
                  };
                }
                return new Client(args.host(), args.port(), user, pass) {
                  @Override
                  @SuppressWarnings({"rawtypes", "unchecked"})
                  public void receive(Command c, Map h, String b) {
                    seen(connected, c, h, b);
                    super.receive(c, h, b);
                  }
                };
              } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
              }
            });
    Stomp s;
    try {
      s = made.get(Harness.LOGIN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception x ? x : e;
    }
    // Over WebSocket Gozirra's constructor can return before CONNECTED came (and even when the
    // connection was refused): wait for CONNECTED or an ERROR here.
    long deadline = System.currentTimeMillis() + Harness.LOGIN_WAIT.toMillis();
    while (System.currentTimeMillis() < deadline) {
      synchronized (connected) {
        if (connected.containsKey("") || connected.containsKey("error")) break;
      }
      Thread.sleep(10);
    }
    synchronized (connected) {
      if (!connected.containsKey("")) {
        String error = connected.get("error");
        if (error != null) throw new LoginException(error);
        throw new AssertionError("no CONNECTED frame and no ERROR");
      }
      return new Conn(s, new HashMap<>(connected));
    }
  }

  /**
   * Keeps the CONNECTED headers (and the key "" once it came) and the first ERROR (key "error"):
   * Gozirra's constructor consumes that ERROR when it checks for one, then returns as connected.
   */
  @SuppressWarnings({"rawtypes", "unchecked"})
  private static void seen(Map<String, String> connected, Command c, Map h, String body) {
    synchronized (connected) {
      if (c == Command.CONNECTED) {
        connected.putAll(h);
        connected.put("", "CONNECTED");
      } else if (c == Command.ERROR) {
        connected.putIfAbsent("error", h.get("message") + (body == null ? "" : " " + body.trim()));
      }
    }
  }

  private Conn connect(String version) throws Exception {
    return connect(version, args.get("login"), args.get("passcode"));
  }

  /** Sends a frame with a receipt through Gozirra's transmit and waits for the RECEIPT. */
  private static void receipted(Conn c, Command command, Map<String, String> headers, String body)
      throws Exception {
    String rid = "r-" + unique();
    Map<String, String> h = new HashMap<>(headers);
    h.put("receipt", rid);
    transmit(c.stomp, command, h, body);
    awaitReceipt(c, rid, command);
  }

  /** Polls: Gozirra's waitOnReceipt(id, ms) waits again after each timeout, for ever. */
  private static void awaitReceipt(Conn c, String rid, Command command) throws Exception {
    long deadline = System.currentTimeMillis() + TIMEOUT.toMillis();
    while (!polled(() -> c.stomp.hasReceipt(rid))) {
      String error = polled(() -> c.stomp.nextError());
      if (error != null) throw new AssertionError("ERROR " + error);
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("no RECEIPT for " + command + " within " + TIMEOUT.toMillis() + " ms");
      }
      Thread.sleep(10);
    }
    polled(() -> c.stomp.clearReceipt(rid));
  }

  /**
   * Gozirra keeps its receipts and errors in unsynchronized lists that its receiver thread adds
   * to while we poll them, so a poll can throw ConcurrentModificationException (seen once against
   * ActiveMQ in CI): the poll is tried again; the deadline above still bounds the wait.
   */
  private static <T> T polled(java.util.function.Supplier<T> poll) throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        return poll.get();
      } catch (java.util.ConcurrentModificationException e) {
        if (attempt >= 100) throw e;
        Thread.sleep(1);
      }
    }
  }

  private static void polled(Runnable poll) throws InterruptedException {
    polled(
        () -> {
          poll.run();
          return null;
        });
  }

  /** Stomp.transmit is protected; Client and WebSocketStomp make it public. */
  private static void transmit(Stomp s, Command command, Map<String, String> headers, String body) {
    if (s instanceof Client cl) cl.transmit(command, headers, body);
    else ((WebSocketStomp) s).transmit(command, headers, body);
  }

  private static void subscribe(Conn c, String dest) throws Exception {
    String rid = "r-" + unique();
    c.stomp.subscribe(
        dest,
        (h, b) -> {
          @SuppressWarnings("unchecked")
          Map<String, String> headers = h;
          c.messages.add(headers);
          c.bodies.add(b == null ? "" : b);
        },
        new HashMap<>(Map.of("receipt", rid)));
    awaitReceipt(c, rid, Command.SUBSCRIBE);
  }

  private static void send(Conn c, String dest, String body, String... headers) throws Exception {
    Map<String, String> h = new HashMap<>();
    h.put("destination", dest);
    for (int i = 0; i + 1 < headers.length; i += 2) h.put(headers[i], headers[i + 1]);
    receipted(c, Command.SEND, h, body);
  }

  /** The next MESSAGE: its headers, with the body under the key "" (never a header name). */
  private static Map<String, String> next(Conn c) throws Exception {
    Map<String, String> m = c.messages.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    if (m == null) throw new AssertionError("no MESSAGE within " + TIMEOUT.toMillis() + " ms");
    Map<String, String> out = new HashMap<>(m);
    out.put("", c.bodies.take());
    return out;
  }

  private static Map<String, String> none(Conn c, long ms) throws InterruptedException {
    return c.messages.poll(ms, TimeUnit.MILLISECONDS);
  }

  // --- cases -----------------------------------------------------------------------------------

  private String connectCase(String v) throws Exception {
    Conn c = connect(v);
    c.close();
    String got = c.connected.get("version");
    // STOMP 1.0's CONNECTED has no version header; a server may send version:1.0.
    check(got == null || got.equals("1.0"), "CONNECTED version " + got + " to a 1.0 CONNECT");
    return "CONNECTED" + (got == null ? " (no version header)" : " version " + got)
        + ", session " + c.connected.get("session");
  }

  private String textAndHeaders(String v) throws Exception {
    only10(v);
    if (!ws) {
      throw new Unsupported(
          "Gozirra writes and reads TCP frames as US-ASCII: a non-ASCII body cannot pass (the "
              + "gozirra-ws row runs the case)");
    }
    String dest = "/queue/gozirra_text_" + unique();
    Conn c = connect(v);
    try {
      subscribe(c, dest);
      send(c, dest, "héllo wörld", "x-custom", "v1", "x-other", "two words");
      Map<String, String> m = next(c);
      check(m.get("").equals("héllo wörld"), "body " + m.get(""));
      check("v1".equals(m.get("x-custom")) && "two words".equals(m.get("x-other")), "headers " + m);
      check(dest.equals(m.get("destination")), "destination " + m.get("destination"));
      check(m.get("message-id") != null, "no message-id");
      return "body and custom headers delivered";
    } finally {
      c.close();
    }
  }

  private String binary(String v) throws Exception {
    only10(v);
    throw new Unsupported(
        "Gozirra's bodies are Strings read up to the first NUL, without content-length: no "
            + "binary body");
  }

  private String noAck(String v) throws Exception {
    only10(v);
    throw new Unsupported("Gozirra has no ACK frame (its Command set lists none): no client acknowledgement");
  }

  private String only11(String v) throws Exception {
    only10(v);
    throw new Unsupported("STOMP 1.0 has no such feature");
  }

  private String transaction(String v) throws Exception {
    String dest = "/queue/gozirra_tx_" + unique();
    Conn c = connect(v);
    try {
      subscribe(c, dest);
      receipted(c, Command.BEGIN, Map.of("transaction", "tx1"), null);
      // Transactional SENDs ask for no RECEIPT: RabbitMQ sends those only at COMMIT.
      c.stomp.send(dest, "aborted", new HashMap<>(Map.of("transaction", "tx1")));
      receipted(c, Command.ABORT, Map.of("transaction", "tx1"), null);
      receipted(c, Command.BEGIN, Map.of("transaction", "tx2"), null);
      c.stomp.send(dest, "committed", new HashMap<>(Map.of("transaction", "tx2")));
      Map<String, String> early = none(c, 300);
      receipted(c, Command.COMMIT, Map.of("transaction", "tx2"), null);
      Map<String, String> m = next(c);
      Map<String, String> extra = none(c, 300);
      check(early == null, "a transactional SEND was delivered before COMMIT");
      check(m.get("").equals("committed"), "got " + m.get(""));
      check(extra == null, "an aborted SEND was delivered");
      return "ABORT discarded, COMMIT delivered";
    } finally {
      c.close();
    }
  }

  private String receipt(String v) throws Exception {
    Conn c = connect(v);
    try {
      send(c, "/queue/gozirra_rcpt_" + unique(), "x");
      return "RECEIPT for SEND";
    } finally {
      c.close();
    }
  }

  private String topic(String v) throws Exception {
    String dest = "/topic/gozirra_" + unique();
    Conn a = connect(v);
    Conn b = connect(v);
    try {
      subscribe(a, dest);
      subscribe(b, dest);
      send(a, dest, "fan");
      check(next(a).get("").equals("fan") && next(b).get("").equals("fan"), "fan-out bodies differ");
      return "both subscribers received";
    } finally {
      a.close();
      b.close();
    }
  }

  private String login(String v) throws Exception {
    only10(v);
    String[] cred = args.loginCredentials();
    if (cred == null) throw new Unsupported("no credentials given: the server under test runs without logins");
    String refused;
    try {
      Conn bad = connect(v, cred[0], cred[1] + "-wrong");
      bad.close();
      throw new AssertionError("CONNECTED with a wrong passcode");
    } catch (LoginException e) {
      refused = String.valueOf(e.getMessage());
    } catch (TimeoutException e) {
      throw new AssertionError(
          "connect with a wrong passcode neither failed nor succeeded within " + Harness.LOGIN_WAIT);
    }
    Conn good = connect(v, cred[0], cred[1]);
    good.close();
    return "wrong passcode refused (" + refused.substring(0, Math.min(120, refused.length())) + "); "
        + cred[0] + " connected";
  }

  private String disconnect(String v) throws Exception {
    Conn c = connect(v);
    try {
      receipted(c, Command.DISCONNECT, Map.of(), null);
      check(closedByServer(c), "the broker did not close the connection after its RECEIPT");
      return "RECEIPT for DISCONNECT, then the broker closed the connection";
    } finally {
      c.close();
    }
  }

  /** Whether the server closes the connection within TIMEOUT (see the class comment for TCP). */
  private boolean closedByServer(Conn c) throws Exception {
    long deadline = System.currentTimeMillis() + TIMEOUT.toMillis();
    if (ws) {
      while (!((WebSocketStomp) c.stomp).isClosed() && System.currentTimeMillis() < deadline) Thread.sleep(10);
      return ((WebSocketStomp) c.stomp).isClosed();
    }
    Socket socket = (Socket) field(c.stomp, "_socket");
    InputStream in = (InputStream) field(c.stomp, "_input");
    socket.setSoTimeout(100);
    while (System.currentTimeMillis() < deadline) {
      try {
        if (in.read() < 0) return true;
      } catch (SocketTimeoutException e) {
        // nothing yet
      }
    }
    return false;
  }

  private static Object field(Object o, String name) throws ReflectiveOperationException {
    Field f = Client.class.getDeclaredField(name);
    f.setAccessible(true);
    return f.get(o);
  }

  public static void main(String[] argv) {
    // Gozirra's WebSocket client prints its connection events to stdout.
    Harness.stdoutForReportsOnly();
    Args args = new Args(argv);
    GozirraDriver d = new GozirraDriver(args);
    Map<String, Harness.Case> cases = new LinkedHashMap<>();
    cases.put("connect", d::connectCase);
    cases.put("text_and_headers", d::textAndHeaders);
    cases.put("binary", d::binary);
    cases.put("client_individual", d::only11);
    cases.put("client_cumulative", d::noAck);
    cases.put("nack", d::only11);
    cases.put("transaction", d::transaction);
    cases.put("receipt", d::receipt);
    cases.put("topic", d::topic);
    cases.put("heartbeat", d::only11);
    cases.put("login", d::login);
    cases.put("durable_restart", d::noAck);
    cases.put("disconnect", d::disconnect);
    Harness.run(d.ws ? CLIENT_WS : CLIENT_TCP, args, cases);
  }
}
