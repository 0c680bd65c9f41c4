// Drives a STOMP server with github.com/go-stomp/stomp/v3 and reports each case as one JSON line
// (the cases and assertions of interop/clients/stomppy_driver.py). Usage: see harness.Parse.
//
// go-stomp's limits and how the driver meets them:
//   - STOMP 1.0 has no NACK, no client-individual and no heart-beat: `unsupported`.
//   - A RECEIPT is waited for inside the call that asked for it (SendOpt.Receipt, Disconnect),
//     which matches its receipt-id itself; the driver sees only success or an error.
//   - SUBSCRIBE cannot ask for a RECEIPT: the topic case sends a receipted SEND on the same
//     connection after subscribing (the broker handles a connection's frames in order).
//   - Heart-beats are handled inside the library; the heartbeat case reads the server's offer
//     from CONNECTED (ConnOpt.ResponseHeaders) and counts reads, heart-beats included
//     (ConnOpt.WithStats), while the connection is idle.
//   - Disconnect() closes the socket itself once the RECEIPT came: the driver hands go-stomp a
//     socket whose Close it holds back (harness.WatchedConn) to see the broker close it.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-stomp/stomp/v3"
	"github.com/go-stomp/stomp/v3/frame"
	"stompede.dev/interop/internal/harness"
)

const client = "go-stomp"

type driver struct{ a *harness.Args }

type dialOpts struct {
	login, passcode string
	heartBeat       time.Duration
	headers         *frame.Header
	stats           bool
}

func (d *driver) connectOn(netConn *harness.WatchedConn, version string, o dialOpts) (*stomp.Conn, error) {
	if o.login == "" && o.passcode == "" {
		o.login, o.passcode = d.a.Login, d.a.Passcode
	}
	opts := []func(*stomp.Conn) error{
		stomp.ConnOpt.AcceptVersion(stomp.Version(version)),
		stomp.ConnOpt.HeartBeat(o.heartBeat, o.heartBeat),
		stomp.ConnOpt.RcvReceiptTimeout(harness.Timeout),
		stomp.ConnOpt.DisconnectReceiptTimeout(harness.Timeout),
	}
	if o.login != "" {
		opts = append(opts, stomp.ConnOpt.Login(o.login, o.passcode))
	}
	if d.a.VHost != "" {
		opts = append(opts, stomp.ConnOpt.Host(d.a.VHost))
	}
	if o.headers != nil {
		opts = append(opts, stomp.ConnOpt.ResponseHeaders(func(h *frame.Header) { *o.headers = *h.Clone() }))
	}
	if o.stats {
		opts = append(opts, stomp.ConnOpt.WithStats())
	}
	return stomp.Connect(netConn, opts...)
}

func (d *driver) connect(version string, o dialOpts) (*stomp.Conn, error) {
	netConn, err := harness.Watch(d.a.Addr())
	if err != nil {
		return nil, err
	}
	c, err := d.connectOn(netConn, version, o)
	if err != nil {
		netConn.CloseNow()
	}
	return c, err
}

func next(sub *stomp.Subscription, wait time.Duration) (*stomp.Message, error) {
	select {
	case m, ok := <-sub.C:
		if !ok {
			return nil, errors.New("subscription closed")
		}
		if m.Err != nil {
			return nil, fmt.Errorf("error on the subscription: %w", m.Err)
		}
		return m, nil
	case <-time.After(wait):
		return nil, fmt.Errorf("no MESSAGE within %s", wait)
	}
}

func none(sub *stomp.Subscription, wait time.Duration) *stomp.Message {
	m, err := next(sub, wait)
	if err != nil {
		return nil
	}
	return m
}

func only11(version, what string) error {
	if version == "1.0" {
		return harness.Unsupported("STOMP 1.0 has no " + what)
	}
	return nil
}

var ackModes = map[string]stomp.AckMode{"auto": stomp.AckAuto, "client": stomp.AckClient,
	"client-individual": stomp.AckClientIndividual}

func subscribe(c *stomp.Conn, dest, ack string) (*stomp.Subscription, error) {
	return c.Subscribe(dest, ackModes[ack], stomp.SubscribeOpt.Id("s-"+harness.Unique()))
}

func (d *driver) caseConnect(v string) (string, error) {
	c, err := d.connect(v, dialOpts{})
	if err != nil {
		return "", err
	}
	got, server := string(c.Version()), c.Server()
	_ = c.Disconnect()
	return fmt.Sprintf("CONNECTED version %s, server %s", got, server),
		harness.Check(got == v, "CONNECTED version %q, wanted %q", got, v)
}

func (d *driver) caseTextAndHeaders(v string) (string, error) {
	dest := "/queue/gostomp_text_" + harness.Unique()
	c, err := d.connect(v, dialOpts{})
	if err != nil {
		return "", err
	}
	defer c.Disconnect()
	sub, err := subscribe(c, dest, "auto")
	if err != nil {
		return "", err
	}
	if err := c.Send(dest, "text/plain", []byte("héllo wörld"), stomp.SendOpt.Header("x-custom", "v1"),
		stomp.SendOpt.Header("x-other", "two words")); err != nil {
		return "", err
	}
	m, err := next(sub, harness.Timeout)
	if err != nil {
		return "", err
	}
	h := m.Header
	return "body and custom headers delivered", errors.Join(
		harness.Check(string(m.Body) == "héllo wörld", "body %q", m.Body),
		harness.Check(h.Get("x-custom") == "v1" && h.Get("x-other") == "two words", "headers %v", h),
		harness.Check(h.Get("destination") == dest, "destination %q", h.Get("destination")),
		harness.Check(h.Get("message-id") != "", "no message-id"))
}

func (d *driver) caseBinary(v string) (string, error) {
	dest := "/queue/gostomp_bin_" + harness.Unique()
	c, err := d.connect(v, dialOpts{})
	if err != nil {
		return "", err
	}
	defer c.Disconnect()
	sub, err := subscribe(c, dest, "auto")
	if err != nil {
		return "", err
	}
	payload := bytes.Repeat(func() []byte {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}(), 4)
	if err := c.Send(dest, "application/octet-stream", payload); err != nil {
		return "", err
	}
	m, err := next(sub, harness.Timeout)
	if err != nil {
		return "", err
	}
	return "1024 bytes with NULs intact",
		harness.Check(bytes.Equal(m.Body, payload), "binary body changed (%d bytes back)", len(m.Body))
}

func (d *driver) caseClientIndividual(v string) (string, error) {
	if err := only11(v, "client-individual acknowledgement"); err != nil {
		return "", err
	}
	dest := "/queue/gostomp_ci_" + harness.Unique()
	c, err := d.connect(v, dialOpts{})
	if err != nil {
		return "", err
	}
	sub, err := subscribe(c, dest, "client-individual")
	if err != nil {
		return "", err
	}
	for i := 0; i < 3; i++ {
		_ = c.Send(dest, "text/plain", []byte(fmt.Sprintf("m%d", i)))
	}
	var ms []*stomp.Message
	for i := 0; i < 3; i++ {
		m, err := next(sub, harness.Timeout)
		if err != nil {
			return "", err
		}
		ms = append(ms, m)
	}
	_ = c.Ack(ms[0])
	_ = c.Ack(ms[2])
	_ = c.Disconnect()
	c2, err := d.connect(v, dialOpts{})
	if err != nil {
		return "", err
	}
	defer c2.Disconnect()
	sub2, err := subscribe(c2, dest, "client-individual")
	if err != nil {
		return "", err
	}
	again, err := next(sub2, harness.Timeout)
	if err != nil {
		return "", err
	}
	_ = c2.Ack(again)
	extra := none(sub2, 300*time.Millisecond)
	return "unacked message redelivered with redelivered:true", errors.Join(
		harness.Check(string(again.Body) == "m1", "redelivered %q", again.Body),
		harness.Check(again.Header.Get("redelivered") == "true", "headers %v", again.Header),
		harness.Check(extra == nil, "an acked message came back"))
}

func (d *driver) caseClientCumulative(v string) (string, error) {
	dest := "/queue/gostomp_cl_" + harness.Unique()
	c, err := d.connect(v, dialOpts{})
	if err != nil {
		return "", err
	}
	sub, err := subscribe(c, dest, "client")
	if err != nil {
		return "", err
	}
	for i := 0; i < 3; i++ {
		_ = c.Send(dest, "text/plain", []byte(fmt.Sprintf("m%d", i)))
	}
	var last *stomp.Message
	for i := 0; i < 3; i++ {
		if last, err = next(sub, harness.Timeout); err != nil {
			return "", err
		}
	}
	_ = c.Ack(last) // acknowledges all three
	_ = c.Disconnect()
	c2, err := d.connect(v, dialOpts{})
	if err != nil {
		return "", err
	}
	defer c2.Disconnect()
	sub2, err := subscribe(c2, dest, "client")
	if err != nil {
		return "", err
	}
	left := none(sub2, 500*time.Millisecond)
	return "one ACK acknowledged all earlier messages", harness.Check(left == nil, "cumulative ACK left one unacked")
}

func (d *driver) caseNack(v string) (string, error) {
	// What happens to a NACKed message is the server's choice (spec): redelivered (RabbitMQ,
	// ours) or dead-lettered (ActiveMQ, --nack-dlq).
	if err := only11(v, "NACK"); err != nil {
		return "", err
	}
	dlq := d.a.NackDLQ
	dest := "/queue/gostomp_nack_" + harness.Unique()
	c, err := d.connect(v, dialOpts{})
	if err != nil {
		return "", err
	}
	defer c.Disconnect()
	sub, err := subscribe(c, dest, "client-individual")
	if err != nil {
		return "", err
	}
	var opts []func(*frame.Frame) error
	if dlq != "" {
		opts = append(opts, stomp.SendOpt.Header("persistent", "true"))
	}
	_ = c.Send(dest, "text/plain", []byte("nack-me"), opts...)
	first, err := next(sub, harness.Timeout)
	if err != nil {
		return "", err
	}
	if err := c.Nack(first); err != nil {
		return "", err
	}
	var second *stomp.Message
	if dlq != "" {
		second = none(sub, time.Second)
	} else if second, err = next(sub, harness.Timeout); err != nil {
		return "", err
	}
	if second != nil {
		_ = c.Ack(second)
		return "NACKed message redelivered", harness.Check(string(second.Body) == "nack-me" &&
			second.Header.Get("redelivered") == "true", "redelivered %q %v", second.Body, second.Header)
	}
	dsub, err := subscribe(c, dlq, "client-individual")
	if err != nil {
		return "", err
	}
	deadline := time.Now().Add(harness.DLQWait)
	for time.Now().Before(deadline) {
		m := none(dsub, time.Until(deadline))
		if m == nil {
			break
		}
		if m.Header.Get("original-destination") == dest {
			_ = c.Ack(m)
			return "NACKed message dead-lettered to " + dlq + " (server's choice per spec)",
				harness.Check(string(m.Body) == "nack-me", "body %q", m.Body)
		}
	}
	return "", fmt.Errorf("NACKed message neither redelivered nor found on %s", dlq)
}

func (d *driver) caseTransaction(v string) (string, error) {
	dest := "/queue/gostomp_tx_" + harness.Unique()
	c, err := d.connect(v, dialOpts{})
	if err != nil {
		return "", err
	}
	defer c.Disconnect()
	sub, err := subscribe(c, dest, "auto")
	if err != nil {
		return "", err
	}
	tx := c.Begin()
	_ = tx.Send(dest, "text/plain", []byte("aborted"))
	if err := tx.Abort(); err != nil {
		return "", err
	}
	tx2 := c.Begin()
	_ = tx2.Send(dest, "text/plain", []byte("committed"))
	early := none(sub, 300*time.Millisecond)
	if err := tx2.Commit(); err != nil {
		return "", err
	}
	m, err := next(sub, harness.Timeout)
	if err != nil {
		return "", err
	}
	extra := none(sub, 300*time.Millisecond)
	return "ABORT discarded, COMMIT delivered", errors.Join(
		harness.Check(early == nil, "a transactional SEND was delivered before COMMIT"),
		harness.Check(string(m.Body) == "committed", "got %q", m.Body),
		harness.Check(extra == nil, "an aborted SEND was delivered"))
}

func (d *driver) caseReceipt(v string) (string, error) {
	c, err := d.connect(v, dialOpts{})
	if err != nil {
		return "", err
	}
	defer c.Disconnect()
	err = c.Send("/queue/gostomp_rcpt_"+harness.Unique(), "text/plain", []byte("x"), stomp.SendOpt.Receipt)
	return "RECEIPT for SEND (go-stomp matches its receipt-id)", err
}

func (d *driver) caseTopic(v string) (string, error) {
	dest := "/topic/gostomp_" + harness.Unique()
	a, err := d.connect(v, dialOpts{})
	if err != nil {
		return "", err
	}
	defer a.Disconnect()
	b, err := d.connect(v, dialOpts{})
	if err != nil {
		return "", err
	}
	defer b.Disconnect()
	sa, _ := subscribe(a, dest, "auto")
	sb, err := subscribe(b, dest, "auto")
	if err != nil {
		return "", err
	}
	// SUBSCRIBE takes no receipt here: a receipted SEND after it shows both were handled.
	for _, c := range []*stomp.Conn{a, b} {
		if err := c.Send("/queue/gostomp_fence_"+harness.Unique(), "text/plain", nil, stomp.SendOpt.Receipt); err != nil {
			return "", err
		}
	}
	if err := a.Send(dest, "text/plain", []byte("fan"), stomp.SendOpt.Receipt); err != nil {
		return "", err
	}
	ma, err := next(sa, harness.Timeout)
	if err != nil {
		return "", err
	}
	mb, err := next(sb, harness.Timeout)
	if err != nil {
		return "", err
	}
	return "both subscribers received", harness.Check(string(ma.Body) == "fan" && string(mb.Body) == "fan", "bodies %q %q", ma.Body, mb.Body)
}

func (d *driver) caseHeartbeat(v string) (string, error) {
	if err := only11(v, "heart-beating"); err != nil {
		return "", err
	}
	var h frame.Header
	c, err := d.connect(v, dialOpts{heartBeat: harness.HeartbeatMS * time.Millisecond, headers: &h, stats: true})
	if err != nil {
		return "", err
	}
	hb := h.Get("heart-beat")
	var sx, cy int
	_, _ = fmt.Sscanf(strings.TrimSpace(hb), "%d,%d", &sx, &cy)
	every := max(sx, harness.HeartbeatMS)
	checkBeats := sx > 0 && every <= 5000
	before := c.Stats().ReadsReceived
	time.Sleep(time.Duration(max(1200, 3*every+200)) * time.Millisecond)
	beats := c.Stats().ReadsReceived - before
	// Still alive: a receipted SEND goes through (go-stomp drops a connection whose server
	// stops beating for longer than it offered).
	alive := c.Send("/queue/gostomp_hb_"+harness.Unique(), "text/plain", nil, stomp.SendOpt.Receipt)
	_ = c.Disconnect()
	return fmt.Sprintf("heart-beat %s negotiated, connection kept, %d server beats", hb, beats), errors.Join(
		harness.Check(hb != "" && hb != "0,0", "server offered no heart-beats: %q", hb),
		alive,
		harness.Check(!checkBeats || beats > 0, "server offered %s but sent no heart-beat", hb))
}

func (d *driver) caseLogin(v string) (string, error) {
	login, passcode, ok := d.a.LoginCredentials()
	if !ok {
		return "", harness.Unsupported("no credentials given: the server under test runs without logins")
	}
	refused := make(chan error, 1)
	go func() {
		c, err := d.connect(v, dialOpts{login: login, passcode: passcode + "-wrong"})
		if err == nil {
			_ = c.Disconnect()
		}
		refused <- err
	}()
	var why error
	select {
	case why = <-refused:
		if why == nil {
			return "", errors.New("CONNECTED with a wrong passcode")
		}
	case <-time.After(harness.LoginWait):
		return "", fmt.Errorf("connect with a wrong passcode neither failed nor succeeded within %s", harness.LoginWait)
	}
	c, err := d.connect(v, dialOpts{login: login, passcode: passcode})
	if err != nil {
		return "", err
	}
	got := string(c.Version())
	_ = c.Disconnect()
	msg := why.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return fmt.Sprintf("wrong passcode refused (%s); %s connected", msg, login),
		harness.Check(got == v, "CONNECTED version %q, wanted %q", got, v)
}

func (d *driver) caseDurableRestart(v string) (string, error) {
	dest := "/queue/gostomp_durable_" + harness.Unique()
	c, err := d.connect(v, dialOpts{})
	if err != nil {
		return "", err
	}
	for i := 0; i < harness.DurableCount; i++ {
		if err := c.Send(dest, "text/plain", []byte(fmt.Sprintf("d%d", i)),
			stomp.SendOpt.Header("persistent", "true"), stomp.SendOpt.Receipt); err != nil {
			return "", err
		}
	}
	sub, err := subscribe(c, dest, "client")
	if err != nil {
		return "", err
	}
	for i := 0; i < harness.DeliveredFirst; i++ {
		m, err := next(sub, harness.Timeout)
		if err != nil {
			return "", err
		}
		if string(m.Body) != fmt.Sprintf("d%d", i) {
			return "", fmt.Errorf("before the restart got %q, wanted d%d", m.Body, i)
		}
	}
	if err := harness.RequestRestart(client, v); err != nil {
		return "", err
	}
	_ = c.MustDisconnect()
	c2, err := d.connect(v, dialOpts{})
	if err != nil {
		return "", err
	}
	defer c2.Disconnect()
	sub2, err := subscribe(c2, dest, "client")
	if err != nil {
		return "", err
	}
	var got []*stomp.Message
	for i := 0; i < harness.DurableCount; i++ {
		m, err := next(sub2, harness.Timeout)
		if err != nil {
			return "", fmt.Errorf("after the restart, message %d: %w", i, err)
		}
		got = append(got, m)
	}
	_ = c2.Ack(got[len(got)-1])
	extra := none(sub2, 300*time.Millisecond)
	var errs []error
	for i, m := range got {
		errs = append(errs, harness.Check(string(m.Body) == fmt.Sprintf("d%d", i), "position %d: %q", i, m.Body))
		if i < harness.DeliveredFirst {
			errs = append(errs, harness.Check(m.Header.Get("redelivered") == "true", "d%d without redelivered:true", i))
		}
	}
	errs = append(errs, harness.Check(extra == nil, "more than %d messages", harness.DurableCount))
	return fmt.Sprintf("%d persistent messages back in order after SIGKILL + restart; the %d delivered before with redelivered:true",
		harness.DurableCount, harness.DeliveredFirst), errors.Join(errs...)
}

func (d *driver) caseDisconnect(v string) (string, error) {
	netConn, err := harness.Watch(d.a.Addr())
	if err != nil {
		return "", err
	}
	defer netConn.CloseNow()
	c, err := d.connectOn(netConn, v, dialOpts{})
	if err != nil {
		return "", err
	}
	netConn.KeepOpen() // go-stomp closes the socket on the RECEIPT; we wait for the broker
	if err := c.Disconnect(); err != nil {
		return "", fmt.Errorf("DISCONNECT got no RECEIPT: %w", err)
	}
	closed := netConn.WaitClosedByPeer(harness.Timeout)
	return "RECEIPT for DISCONNECT (go-stomp matches its receipt-id), then the broker closed the connection",
		harness.Check(closed, "the broker did not close the connection after its RECEIPT")
}

func main() {
	a := harness.Parse()
	d := &driver{a: a}
	harness.Run(client, a, map[string]harness.Case{
		"connect": d.caseConnect, "text_and_headers": d.caseTextAndHeaders, "binary": d.caseBinary,
		"client_individual": d.caseClientIndividual, "client_cumulative": d.caseClientCumulative,
		"nack": d.caseNack, "transaction": d.caseTransaction, "receipt": d.caseReceipt,
		"topic": d.caseTopic, "heartbeat": d.caseHeartbeat, "login": d.caseLogin,
		"durable_restart": d.caseDurableRestart, "disconnect": d.caseDisconnect,
	})
}
