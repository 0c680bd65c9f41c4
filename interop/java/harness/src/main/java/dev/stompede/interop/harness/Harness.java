package dev.stompede.interop.harness;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What the Java drivers share with the others (interop/README.md): the options, one JSON line per
 * case on stdout, and the durable_restart handshake with run.mjs (interop/lib/restart.mjs).
 */
public final class Harness {
  public static final Duration TIMEOUT = Duration.ofSeconds(5);
  /** ActiveMQ dead-letters asynchronously, sometimes slowly. */
  public static final Duration DLQ_WAIT = Duration.ofSeconds(30);
  public static final Duration LOGIN_WAIT = Duration.ofSeconds(10);
  public static final Duration RESTART_WAIT = Duration.ofSeconds(60);
  public static final int HEARTBEAT_MS = 1000;
  public static final int DURABLE_COUNT = 20;
  public static final int DELIVERED_FIRST = 5;
  public static final List<String> CASES =
      List.of(
          "connect", "text_and_headers", "binary", "client_individual", "client_cumulative",
          "nack", "transaction", "receipt", "topic", "heartbeat", "login", "durable_restart",
          "disconnect");

  /** The process's stdout, kept for the JSON lines (see stdoutForReportsOnly). */
  private static final java.io.PrintStream OUT = System.out;

  private Harness() {}

  /**
   * Sends whatever else writes to System.out (a library's own prints) to stderr, so that stdout
   * carries the JSON lines only.
   */
  public static void stdoutForReportsOnly() {
    System.setOut(System.err);
  }

  /** A case result: the client or the protocol version has no such feature. */
  public static final class Unsupported extends Exception {
    public Unsupported(String why) {
      super(why);
    }
  }

  /** One case: returns the pass detail, throws Unsupported, or throws anything else (fail). */
  @FunctionalInterface
  public interface Case {
    String run(String version) throws Exception;
  }

  /** `--name value` options; every driver takes the common ones. */
  public static final class Args {
    private final Map<String, String> values = new LinkedHashMap<>();

    public Args(String[] argv) {
      for (int i = 0; i < argv.length; i++) {
        if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
          throw new IllegalArgumentException("expected --name value, got " + argv[i]);
        }
        values.put(argv[i].substring(2), argv[++i]);
      }
    }

    public String get(String name, String fallback) {
      return values.getOrDefault(name, fallback);
    }

    public String get(String name) {
      return values.get(name);
    }

    public int port() {
      return Integer.parseInt(get("port", "0"));
    }

    public String host() {
      return get("host", "127.0.0.1");
    }

    public List<String> versions() {
      return Arrays.asList(get("versions", "1.0,1.1,1.2").split(","));
    }

    public List<String> cases() {
      return Arrays.asList(get("cases", String.join(",", CASES)).split(","));
    }

    /** The login case's user: --auth-login, else --login; null when there is none. */
    public String[] loginCredentials() {
      if (get("auth-login") != null) return new String[] {get("auth-login"), get("auth-passcode", "")};
      if (get("login") != null) return new String[] {get("login"), get("passcode", "")};
      return null;
    }
  }

  /** Runs every asked case for every version; exits 1 when one failed. */
  public static void run(String client, Args args, Map<String, Case> cases) {
    boolean failed = false;
    for (String version : args.versions()) {
      for (String name : args.cases()) {
        String status = "pass";
        String detail;
        Case c = cases.get(name);
        try {
          if (c == null) throw new IllegalStateException("no such case in this driver");
          detail = c.run(version);
        } catch (Unsupported u) {
          status = "unsupported";
          detail = u.getMessage();
        } catch (Throwable t) {
          status = "fail";
          detail = t.getClass().getSimpleName() + ": " + t.getMessage();
          failed = true;
        }
        report(client, version, name, status, detail == null ? "" : detail);
      }
    }
    OUT.flush();
    System.exit(failed ? 1 : 0);
  }

  public static void report(String client, String version, String name, String status, String detail) {
    OUT.println(
        "{\"client\":" + json(client) + ",\"version\":" + json(version) + ",\"case\":" + json(name)
            + ",\"status\":" + json(status) + ",\"detail\":" + json(detail) + "}");
    OUT.flush();
  }

  public static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (ch < 0x20) b.append(String.format("\\u%04x", (int) ch));
          else b.append(ch);
        }
      }
    }
    return b.append('"').toString();
  }

  private static final BufferedReader STDIN =
      new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

  /** The durable_restart handshake: a JSON line out, then `restarted` on stdin. */
  public static void requestRestart(String client, String version) throws Exception {
    OUT.println(
        "{\"control\":\"restart\",\"client\":" + json(client) + ",\"version\":" + json(version) + "}");
    OUT.flush();
    CompletableFuture<String> line =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                String s = STDIN.readLine();
                return s == null ? "stdin closed: no harness to restart the broker" : s.trim();
              } catch (Exception e) {
                return "stdin: " + e;
              }
            });
    String got;
    try {
      got = line.get(RESTART_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("no answer to the restart request within " + RESTART_WAIT);
    }
    if (!got.equals("restarted")) throw new AssertionError("broker not restarted: " + got);
  }

  public static void check(boolean ok, String message) {
    if (!ok) throw new AssertionError(message);
  }

  public static String unique() {
    return UUID.randomUUID().toString().replace("-", "");
  }

  /** 1 KiB: bytes 0..255 four times (NULs included). */
  public static byte[] binaryPayload() {
    byte[] b = new byte[1024];
    for (int i = 0; i < b.length; i++) b[i] = (byte) i;
    return b;
  }
}
