package dev.stompede.interop;

import static dev.stompede.interop.harness.Harness.TIMEOUT;
import static dev.stompede.interop.harness.Harness.check;
import static dev.stompede.interop.harness.Harness.unique;

import dev.stompede.interop.harness.Harness;
import dev.stompede.interop.harness.Harness.Args;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.messaging.Message;
import org.springframework.messaging.MessageChannel;
import org.springframework.messaging.converter.SimpleMessageConverter;
import org.springframework.messaging.handler.annotation.MessageMapping;
import org.springframework.messaging.simp.annotation.SendToUser;
import org.springframework.messaging.simp.broker.BrokerAvailabilityEvent;
import org.springframework.messaging.simp.config.ChannelRegistration;
import org.springframework.messaging.simp.config.MessageBrokerRegistry;
import org.springframework.messaging.simp.stomp.ReactorNettyTcpStompClient;
import org.springframework.messaging.simp.stomp.StompBrokerRelayMessageHandler;
import org.springframework.messaging.simp.stomp.StompClientSupport;
import org.springframework.messaging.simp.stomp.StompCommand;
import org.springframework.messaging.simp.stomp.StompFrameHandler;
import org.springframework.messaging.simp.stomp.StompHeaderAccessor;
import org.springframework.messaging.simp.stomp.StompHeaders;
import org.springframework.messaging.simp.stomp.StompSession;
import org.springframework.messaging.simp.stomp.StompSessionHandlerAdapter;
import org.springframework.messaging.support.ChannelInterceptor;
import org.springframework.messaging.support.MessageHeaderAccessor;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.stereotype.Controller;
import org.springframework.web.socket.WebSocketHttpHeaders;
import org.springframework.web.socket.client.standard.StandardWebSocketClient;
import org.springframework.web.socket.config.annotation.EnableWebSocketMessageBroker;
import org.springframework.web.socket.config.annotation.StompEndpointRegistry;
import org.springframework.web.socket.config.annotation.WebSocketMessageBrokerConfigurer;
import org.springframework.web.socket.messaging.WebSocketStompClient;

/**
 * The way most Spring applications meet a STOMP broker: a Spring Boot application whose message
 * broker is {@code enableStompBrokerRelay} pointed at our broker (Spring's "full-featured broker"
 * setup), with {@code WebSocketStompClient}s connected to the application's WebSocket endpoint.
 * Messages go through our broker both ways, to user destinations, and over the relay's system
 * session, which heart-beats every second both ways.
 *
 * <p>Usage: {@code --relay-host H --relay-port N --login L --passcode P} (the relay's client and
 * system logins on our broker). Prints one JSON line per case, client {@code spring-relay},
 * version 1.2 (the relay speaks 1.2): relay_connect, relay_app_to_broker, relay_broker_to_app,
 * relay_user_destination, relay_heartbeat.
 */
@SpringBootApplication
@EnableWebSocketMessageBroker
public class RelayScenario implements WebSocketMessageBrokerConfigurer {
  static Args args;
  static final List<Boolean> availability = new CopyOnWriteArrayList<>();

  @Override
  public void registerStompEndpoints(StompEndpointRegistry registry) {
    registry.addEndpoint("/ws");
  }

  @Override
  public void configureMessageBroker(MessageBrokerRegistry registry) {
    registry.setApplicationDestinationPrefixes("/app");
    registry
        .enableStompBrokerRelay("/queue", "/topic")
        .setRelayHost(args.get("relay-host", "127.0.0.1"))
        .setRelayPort(Integer.parseInt(args.get("relay-port")))
        .setClientLogin(args.get("login"))
        .setClientPasscode(args.get("passcode"))
        .setSystemLogin(args.get("login"))
        .setSystemPasscode(args.get("passcode"))
        .setSystemHeartbeatSendInterval(Harness.HEARTBEAT_MS)
        .setSystemHeartbeatReceiveInterval(Harness.HEARTBEAT_MS);
  }

  /** The user is the CONNECT frame's `login` (a stand-in for the application's own security). */
  @Override
  public void configureClientInboundChannel(ChannelRegistration registration) {
    registration.interceptors(
        new ChannelInterceptor() {
          @Override
          public Message<?> preSend(Message<?> message, MessageChannel channel) {
            StompHeaderAccessor a = MessageHeaderAccessor.getAccessor(message, StompHeaderAccessor.class);
            if (a != null && StompCommand.CONNECT.equals(a.getCommand()) && a.getLogin() != null) {
              String name = a.getLogin();
              a.setUser(() -> name);
            }
            return message;
          }
        });
  }

  /** /app/echo answers the sender on its user destination /user/queue/echo. */
  @Controller
  public static class Echo {
    @MessageMapping("/echo")
    @SendToUser("/queue/echo")
    public String echo(String body, Principal user) {
      return user.getName() + ": " + body;
    }
  }

  @org.springframework.context.annotation.Bean
  public ApplicationListener<BrokerAvailabilityEvent> availabilityListener() {
    return e -> availability.add(e.isBrokerAvailable());
  }

  // --- clients -------------------------------------------------------------------------------

  private static final ThreadPoolTaskScheduler SCHEDULER = new ThreadPoolTaskScheduler();

  private static StompSession connect(StompClientSupport client, String url, String login) throws Exception {
    client.setMessageConverter(new SimpleMessageConverter());
    client.setTaskScheduler(SCHEDULER);
    client.setReceiptTimeLimit(TIMEOUT.toMillis());
    StompHeaders h = new StompHeaders();
    if (login != null) {
      h.setLogin(login);
      h.setPasscode(login.equals(args.get("login")) ? args.get("passcode") : "unused");
    }
    StompSessionHandlerAdapter handler = new StompSessionHandlerAdapter() {};
    CompletableFuture<StompSession> f =
        client instanceof WebSocketStompClient w
            ? w.connectAsync(url, new WebSocketHttpHeaders(), h, handler)
            : ((ReactorNettyTcpStompClient) client).connectAsync(h, handler);
    StompSession s = f.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    s.setAutoReceipt(true);
    return s;
  }

  /** A client of the application (WebSocket), as `user`. */
  private static StompSession appClient(int port, String user) throws Exception {
    return connect(new WebSocketStompClient(new StandardWebSocketClient()),
        "ws://127.0.0.1:" + port + "/ws", user);
  }

  /** A client of our broker directly (TCP). */
  private static StompSession brokerClient() throws Exception {
    return connect(new ReactorNettyTcpStompClient(args.get("relay-host", "127.0.0.1"),
        Integer.parseInt(args.get("relay-port"))), null, args.get("login"));
  }

  private static BlockingQueue<String> subscribe(StompSession s, String dest) throws Exception {
    BlockingQueue<String> inbox = new LinkedBlockingQueue<>();
    StompSession.Subscription sub =
        s.subscribe(dest, new StompFrameHandler() {
          @Override
          public Type getPayloadType(StompHeaders headers) {
            return byte[].class;
          }

          @Override
          public void handleFrame(StompHeaders headers, Object payload) {
            inbox.add(new String((byte[]) payload, StandardCharsets.UTF_8));
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

  private static void send(StompSession s, String dest, String body) throws Exception {
    StompHeaders h = new StompHeaders();
    h.setDestination(dest);
    h.setContentType(org.springframework.util.MimeTypeUtils.TEXT_PLAIN);
    // A SEND to /app/... is handled by the application, which writes no RECEIPT (Spring relays
    // only broker destinations): ask for one only where the broker answers.
    s.setAutoReceipt(!dest.startsWith("/app/"));
    StompSession.Receiptable r = s.send(h, body.getBytes(StandardCharsets.UTF_8));
    s.setAutoReceipt(true);
    if (!dest.startsWith("/app/")) receipt(r, "SEND " + dest);
  }

  private static String next(BlockingQueue<String> inbox) throws InterruptedException {
    String m = inbox.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    if (m == null) throw new AssertionError("no MESSAGE within " + TIMEOUT.toMillis() + " ms");
    return m;
  }

  public static void main(String[] argv) throws Exception {
    args = new Args(argv);
    SCHEDULER.setPoolSize(2);
    SCHEDULER.setDaemon(true);
    SCHEDULER.initialize();
    SpringApplication app = new SpringApplication(RelayScenario.class);
    app.setDefaultProperties(Map.of("server.port", "0", "server.address", "127.0.0.1",
        "spring.main.banner-mode", "off", "logging.level.root", "WARN"));
    ConfigurableApplicationContext ctx = app.run();
    int port = ((WebServerApplicationContext) ctx).getWebServer().getPort();
    StompBrokerRelayMessageHandler relay = ctx.getBean(StompBrokerRelayMessageHandler.class);
    Map<String, Harness.Case> cases = new LinkedHashMap<>();
    cases.put("relay_connect", v -> {
      long deadline = System.currentTimeMillis() + TIMEOUT.toMillis();
      while (!relay.isBrokerAvailable() && System.currentTimeMillis() < deadline) Thread.sleep(50);
      check(relay.isBrokerAvailable(), "the relay's system session did not connect: " + relay.getStatsInfo());
      StompSession s = appClient(port, args.get("login"));
      s.disconnect();
      return "system session connected to our broker (BrokerAvailabilityEvent " + availability
          + "); a client CONNECT relayed: " + relay.getStatsInfo();
    });
    cases.put("relay_app_to_broker", v -> {
      String dest = "/topic/relay-" + unique();
      StompSession direct = brokerClient();
      StompSession viaApp = appClient(port, args.get("login"));
      try {
        BlockingQueue<String> in = subscribe(direct, dest);
        send(viaApp, dest, "from the application's client");
        check(next(in).equals("from the application's client"), "wrong body");
        return "a SEND to the application's WebSocket endpoint reached a subscriber of our broker";
      } finally {
        viaApp.disconnect();
        direct.disconnect();
      }
    });
    cases.put("relay_broker_to_app", v -> {
      String dest = "/queue/relay-" + unique();
      StompSession direct = brokerClient();
      StompSession viaApp = appClient(port, args.get("login"));
      try {
        BlockingQueue<String> in = subscribe(viaApp, dest);
        send(direct, dest, "from our broker's client");
        check(next(in).equals("from our broker's client"), "wrong body");
        return "a SEND to our broker reached the application's client, relayed over its WebSocket";
      } finally {
        viaApp.disconnect();
        direct.disconnect();
      }
    });
    cases.put("relay_user_destination", v -> {
      StompSession alice = appClient(port, args.get("login"));
      StompSession bob = appClient(port, "bob");
      try {
        BlockingQueue<String> a = subscribe(alice, "/user/queue/echo");
        BlockingQueue<String> b = subscribe(bob, "/user/queue/echo");
        send(alice, "/app/echo", "hello");
        String got = next(a);
        check(got.equals(args.get("login") + ": hello"), "alice got " + got);
        String leaked = b.poll(500, TimeUnit.MILLISECONDS);
        check(leaked == null, "another user received it: " + leaked);
        return "@SendToUser reply from the application's system session, through our broker's "
            + "per-session queue (/queue/echo-user…), to that user only";
      } finally {
        alice.disconnect();
        bob.disconnect();
      }
    });
    cases.put("relay_heartbeat", v -> {
      int before = availability.size();
      Thread.sleep(4L * Harness.HEARTBEAT_MS + 500);
      List<Boolean> seen = availability.subList(before, availability.size());
      check(relay.isBrokerAvailable() && !seen.contains(false),
          "the system session dropped while idle: " + seen + "; " + relay.getStatsInfo());
      // Still usable after the idle periods.
      StompSession alice = appClient(port, args.get("login"));
      try {
        BlockingQueue<String> a = subscribe(alice, "/user/queue/echo");
        send(alice, "/app/echo", "still there");
        check(next(a).endsWith("still there"), "no echo after the idle periods");
      } finally {
        alice.disconnect();
      }
      return "system session heart-beating 1000,1000 with our broker (each drops a peer silent for "
          + "a few periods) stayed up through 4.5 s idle and still carried a reply";
    });
    try {
      Harness.run("spring-relay", args, cases);
    } finally {
      ctx.close();
    }
  }
}
