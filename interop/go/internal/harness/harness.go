// Package harness is what the Go interop drivers share with the others (interop/README.md): the
// command line, one JSON line per case, the durable_restart handshake with run.mjs, and a
// net.Conn that tells whether the broker closed the connection.
package harness

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// The same bounds as the other drivers (stomppy_driver.py).
const (
	Timeout        = 5 * time.Second
	DLQWait        = 30 * time.Second // ActiveMQ dead-letters asynchronously, sometimes slowly
	LoginWait      = 10 * time.Second
	RestartWait    = 60 * time.Second
	HeartbeatMS    = 1000
	DurableCount   = 20
	DeliveredFirst = 5
)

// Cases, in the order every driver runs them.
var Cases = []string{"connect", "text_and_headers", "binary", "client_individual",
	"client_cumulative", "nack", "transaction", "receipt", "topic", "heartbeat", "login",
	"durable_restart", "disconnect"}

// Args are the options every driver takes.
type Args struct {
	Host, Login, Passcode, VHost, NackDLQ, AuthLogin, AuthPasscode string
	Port                                                           int
	Versions, Cases                                                []string
}

// Addr is host:port.
func (a *Args) Addr() string { return net.JoinHostPort(a.Host, fmt.Sprint(a.Port)) }

// LoginCredentials are the login case's user: --auth-login, else --login.
func (a *Args) LoginCredentials() (string, string, bool) {
	if a.AuthLogin != "" {
		return a.AuthLogin, a.AuthPasscode, true
	}
	return a.Login, a.Passcode, a.Login != ""
}

// Parse reads the common flags.
func Parse() *Args {
	a := &Args{}
	var versions, cases string
	flag.StringVar(&a.Host, "host", "127.0.0.1", "broker host")
	flag.IntVar(&a.Port, "port", 0, "broker STOMP port")
	flag.StringVar(&a.Login, "login", "", "login for every case")
	flag.StringVar(&a.Passcode, "passcode", "", "passcode for every case")
	flag.StringVar(&a.VHost, "vhost", "", "CONNECT host header (RabbitMQ: /)")
	flag.StringVar(&versions, "versions", "1.0,1.1,1.2", "STOMP versions, one row each")
	flag.StringVar(&cases, "cases", strings.Join(Cases, ","), "cases to run")
	flag.StringVar(&a.NackDLQ, "nack-dlq", "", "where the server dead-letters NACKed messages")
	flag.StringVar(&a.AuthLogin, "auth-login", "", "the login case's user (default --login)")
	flag.StringVar(&a.AuthPasscode, "auth-passcode", "", "the login case's passcode")
	flag.Parse()
	if a.Port == 0 {
		fmt.Fprintln(os.Stderr, "--port is required")
		os.Exit(2)
	}
	a.Versions = strings.Split(versions, ",")
	a.Cases = strings.Split(cases, ",")
	return a
}

// Unsupported is a case result: the client or the protocol version has no such feature.
type Unsupported string

func (u Unsupported) Error() string { return string(u) }

// Case runs one case: detail on pass, Unsupported, or an error (fail).
type Case func(version string) (string, error)

// Run runs every asked case for every version, printing one JSON line each; exits 1 on a fail.
func Run(client string, a *Args, cases map[string]Case) {
	failed := false
	for _, v := range a.Versions {
		for _, name := range a.Cases {
			fn, ok := cases[name]
			status, detail := "pass", ""
			if !ok {
				status, detail = "fail", "no such case in this driver"
			} else {
				d, err := runSafely(fn, v)
				var u Unsupported
				switch {
				case errors.As(err, &u):
					status, detail = "unsupported", u.Error()
				case err != nil:
					status, detail = "fail", err.Error()
				default:
					detail = d
				}
			}
			failed = failed || status == "fail"
			line, _ := json.Marshal(map[string]string{"client": client, "version": v,
				"case": name, "status": status, "detail": detail})
			fmt.Println(string(line))
		}
	}
	if failed {
		os.Exit(1)
	}
}

func runSafely(fn Case, v string) (d string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn(v)
}

var stdin = bufio.NewReader(os.Stdin)

// RequestRestart is the durable_restart handshake (interop/lib/restart.mjs): one JSON line out,
// then "restarted" (or "restart failed: …") on stdin within RestartWait.
func RequestRestart(client, version string) error {
	line, _ := json.Marshal(map[string]string{"control": "restart", "client": client, "version": version})
	fmt.Println(string(line))
	got := make(chan string, 1)
	go func() {
		s, err := stdin.ReadString('\n')
		if err != nil && s == "" {
			s = "stdin closed: no harness to restart the broker"
		}
		got <- strings.TrimSpace(s)
	}()
	select {
	case s := <-got:
		if s != "restarted" {
			return fmt.Errorf("broker not restarted: %s", s)
		}
		return nil
	case <-time.After(RestartWait):
		return fmt.Errorf("no answer to the restart request within %s", RestartWait)
	}
}

// WatchedConn is a net.Conn that records the end of the stream (the broker closing it) and lets
// the driver keep the socket open after the library "closes" it, to see what the broker does.
type WatchedConn struct {
	net.Conn
	eof      atomic.Bool
	keepOpen atomic.Bool
}

// Watch dials addr.
func Watch(addr string) (*WatchedConn, error) {
	c, err := net.DialTimeout("tcp", addr, Timeout)
	if err != nil {
		return nil, err
	}
	return &WatchedConn{Conn: c}, nil
}

func (w *WatchedConn) Read(b []byte) (int, error) {
	n, err := w.Conn.Read(b)
	if errors.Is(err, io.EOF) {
		w.eof.Store(true)
	}
	return n, err
}

// KeepOpen makes Close a no-op until CloseNow: the library may close its side, the driver waits.
func (w *WatchedConn) KeepOpen() { w.keepOpen.Store(true) }

// Close closes the socket unless KeepOpen was called.
func (w *WatchedConn) Close() error {
	if w.keepOpen.Load() {
		return nil
	}
	return w.Conn.Close()
}

// CloseNow closes the socket.
func (w *WatchedConn) CloseNow() { _ = w.Conn.Close() }

// WaitClosedByPeer waits up to d for the broker to end the stream, reading (and dropping) what
// is left when no one else reads. True when it did.
func (w *WatchedConn) WaitClosedByPeer(d time.Duration) bool {
	deadline := time.Now().Add(d)
	buf := make([]byte, 256)
	for time.Now().Before(deadline) {
		if w.eof.Load() {
			return true
		}
		_ = w.Conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := w.Read(buf); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			var ne net.Error
			if !(errors.As(err, &ne) && ne.Timeout()) {
				return w.eof.Load() || !errors.Is(err, net.ErrClosed)
			}
		}
	}
	return w.eof.Load()
}

// Check returns an error with the message when ok is false.
func Check(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}

// Unique is a fresh destination suffix.
func Unique() string { return fmt.Sprintf("%x", time.Now().UnixNano()) }
