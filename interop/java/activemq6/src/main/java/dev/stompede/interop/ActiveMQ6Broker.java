package dev.stompede.interop;

import java.io.File;
import java.net.URI;
import java.util.List;
import org.apache.activemq.broker.BrokerPlugin;
import org.apache.activemq.broker.BrokerService;
import org.apache.activemq.broker.TransportConnector;
import org.apache.activemq.security.AuthenticationUser;
import org.apache.activemq.security.SimpleAuthenticationPlugin;
import org.apache.activemq.store.kahadb.KahaDBPersistenceAdapter;

/**
 * ActiveMQ Classic 6 (Maven Central activemq-broker + activemq-stomp + activemq-kahadb-store)
 * embedded, as a broker column of the matrix: one STOMP connector on 127.0.0.1, port chosen by
 * the system, TCP_NODELAY on (as interop/peers/activemq.sh); KahaDB in --data-dir; one user
 * (--login/--passcode) and no anonymous access. Prints {"tcp":N} once started; stops when stdin
 * ends (run.mjs going away).
 */
public final class ActiveMQ6Broker {
  public static void main(String[] argv) throws Exception {
    String dataDir = null;
    String login = null;
    String passcode = null;
    for (int i = 0; i + 1 < argv.length; i += 2) {
      switch (argv[i]) {
        case "--data-dir" -> dataDir = argv[i + 1];
        case "--login" -> login = argv[i + 1];
        case "--passcode" -> passcode = argv[i + 1];
        default -> throw new IllegalArgumentException("unknown option " + argv[i]);
      }
    }
    BrokerService broker = new BrokerService();
    broker.setBrokerName("stompede-amq6");
    broker.setUseJmx(false);
    broker.setDataDirectory(dataDir);
    KahaDBPersistenceAdapter kahadb = new KahaDBPersistenceAdapter();
    kahadb.setDirectory(new File(dataDir, "kahadb"));
    broker.setPersistenceAdapter(kahadb);
    if (login != null) {
      SimpleAuthenticationPlugin auth =
          new SimpleAuthenticationPlugin(List.of(new AuthenticationUser(login, passcode, "users")));
      auth.setAnonymousAccessAllowed(false);
      broker.setPlugins(new BrokerPlugin[] {auth});
    }
    TransportConnector stomp =
        broker.addConnector("stomp+nio://127.0.0.1:0?transport.tcpNoDelay=true");
    broker.start();
    broker.waitUntilStarted();
    URI uri = stomp.getPublishableConnectURI();
    System.out.println("{\"tcp\":" + uri.getPort() + "}");
    System.out.flush();
    while (System.in.read() >= 0) {
      // until stdin ends
    }
    broker.stop();
    broker.waitUntilStopped();
    System.exit(0);
  }
}
