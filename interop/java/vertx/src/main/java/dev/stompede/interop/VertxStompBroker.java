package dev.stompede.interop;

import dev.stompede.interop.harness.Harness.Args;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.AuthenticationProvider;
import io.vertx.ext.auth.authentication.UsernamePasswordCredentials;
import io.vertx.ext.stomp.Destination;
import io.vertx.ext.stomp.StompServer;
import io.vertx.ext.stomp.StompServerHandler;
import io.vertx.ext.stomp.StompServerOptions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Vert.x STOMP server (io.vertx:vertx-stomp 5.0) as a broker column of the matrix: STOMP over
 * TCP and over WebSocket (path /stomp) on 127.0.0.1, ports chosen by the system; one user
 * (--login/--passcode; without them, anonymous). /queue/ destinations are Vert.x queues (each
 * message to one subscriber), the rest topics. Prints {"tcp":N,"ws":M} once listening; stops when
 * stdin ends (run.mjs going away).
 */
public final class VertxStompBroker {
  public static void main(String[] argv) throws Exception {
    Args args = new Args(argv);
    String login = args.get("login");
    String passcode = args.get("passcode");
    Vertx vertx = Vertx.vertx();
    AuthenticationProvider auth =
        credentials -> {
          if (credentials instanceof UsernamePasswordCredentials up
              && up.getUsername().equals(login) && up.getPassword().equals(passcode)) {
            return Future.succeededFuture(User.fromName(login));
          }
          return Future.failedFuture("wrong login or passcode");
        };
    // Made on a Vert.x context: a handler made outside one keeps a null context, and its
    // authentication then fails with a NullPointerException on every CONNECT (vertx-stomp 5.0.7,
    // DefaultStompHandler.onAuthenticationRequest).
    java.util.concurrent.CompletableFuture<StompServerHandler> made = new java.util.concurrent.CompletableFuture<>();
    vertx.runOnContext(
        x ->
            made.complete(
                StompServerHandler.create(vertx)
                    .destinationFactory(
                        (v, name) -> name.startsWith("/queue/") ? Destination.queue(v, name) : Destination.topic(v, name))
                    .authProvider(auth)));
    StompServerHandler handler = made.get(30, TimeUnit.SECONDS);
    StompServerOptions options =
        new StompServerOptions()
            .setHost("127.0.0.1")
            .setPort(0)
            .setSecured(login != null)
            .setHeartbeat(new JsonObject().put("x", 1000).put("y", 1000))
            .setWebsocketBridge(true)
            .setWebsocketPath("/stomp");
    StompServer server = StompServer.create(vertx, options).handler(handler);
    server.listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    HttpServer http =
        vertx
            .createHttpServer(new HttpServerOptions().setHost("127.0.0.1")
                .setWebSocketSubProtocols(List.of("v10.stomp", "v11.stomp", "v12.stomp")))
            .webSocketHandshakeHandler(server.webSocketHandshakeHandler())
            .webSocketHandler(server.webSocketHandler());
    http.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    System.out.println("{\"tcp\":" + server.actualPort() + ",\"ws\":" + http.actualPort() + "}");
    System.out.flush();
    while (System.in.read() >= 0) {
      // until stdin ends
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    System.exit(0);
  }
}
