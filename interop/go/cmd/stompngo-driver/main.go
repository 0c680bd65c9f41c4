// Drives a STOMP server with github.com/gmallard/stompngo and reports each case as one JSON line
// (the cases and assertions of interop/clients/stomppy_driver.py). Usage: see harness.Parse.
//
// stompngo's limits and how the driver meets them:
//   - STOMP 1.0 has no NACK, no client-individual and no heart-beat: `unsupported`.
//   - Frames outside a subscription (RECEIPT, ERROR) arrive on Connection.MessageData; the
//     driver reads its RECEIPTs there and checks their receipt-id.
//   - Heart-beats are handled inside the library: the heartbeat case reads the negotiated
//     receive interval (ReceiveTickerInterval) and the count of intervals in which a server beat
//     (or frame) arrived in time (ReceiveTickerCount), and the library's "dirty read" flag (Hbrf).
//   - Disconnect() waits for the RECEIPT and checks its receipt-id; the socket stays the
//     caller's, so the driver then waits for the broker to close it.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gmallard/stompngo"
	"stompede.dev/interop/internal/harness"
)

const client = "stompngo"

type driver struct{ a *harness.Args }

type conn struct {
	*stompngo.Connection
	net     *harness.WatchedConn
	version string
}

func (d *driver) connect(version string, login, passcode string, extra ...string) (*conn, error) {
	if login == "" && passcode == "" {
		login, passcode = d.a.Login, d.a.Passcode
	}
	n, err := harness.Watch(d.a.Addr())
	if err != nil {
		return nil, err
	}
	h := stompngo.Headers{}
	if version != "1.0" {
		host := d.a.VHost
		if host == "" {
			host = "localhost"
		}
		h = h.Add("accept-version", version).Add("host", host)
	}
	if login != "" {
		h = h.Add("login", login).Add("passcode", passcode)
	}
	h = h.AddHeaders(stompngo.Headers(extra))
	c, err := stompngo.Connect(net.Conn(n), h)
	if err != nil {
		n.CloseNow()
		if c != nil && c.ConnectResponse != nil && c.ConnectResponse.Command == "ERROR" {
			return nil, fmt.Errorf("%w: ERROR %s", err, c.ConnectResponse.Headers.Value("message"))
		}
		return nil, err
	}
	return &conn{Connection: c, net: n, version: version}, nil
}

func (c *conn) close() {
	_ = c.Disconnect(stompngo.Headers{})
	c.net.CloseNow()
}

func nextOn(ch <-chan stompngo.MessageData, wait time.Duration, command string) (*stompngo.Message, error) {
	select {
	case md, ok := <-ch:
		if !ok {
			return nil, errors.New("channel closed")
		}
		if md.Error != nil {
			return nil, md.Error
		}
		if md.Message.Command != command {
			return nil, fmt.Errorf("%s while waiting for %s: %v %q", md.Message.Command, command,
				md.Message.Headers, md.Message.Body)
		}
		return &md.Message, nil
	case <-time.After(wait):
		return nil, fmt.Errorf("no %s within %s", command, wait)
	}
}

func next(ch <-chan stompngo.MessageData) (*stompngo.Message, error) {
	return nextOn(ch, harness.Timeout, "MESSAGE")
}

func none(ch <-chan stompngo.MessageData, wait time.Duration) *stompngo.Message {
	m, err := nextOn(ch, wait, "MESSAGE")
	if err != nil {
		return nil
	}
	return m
}

// receipt waits for the RECEIPT `id` on the connection's own channel.
func (c *conn) receipt(id string) error {
	m, err := nextOn(c.MessageData, harness.Timeout, "RECEIPT")
	if err != nil {
		return err
	}
	return harness.Check(m.Headers.Value("receipt-id") == id, "receipt-id %q, wanted %q", m.Headers.Value("receipt-id"), id)
}

func (c *conn) subscribe(dest, ack string) (<-chan stompngo.MessageData, error) {
	return c.Subscribe(stompngo.Headers{"destination", dest, "id", "s-" + harness.Unique(), "ack", ack})
}

func (c *conn) send(dest string, body []byte, h ...string) error {
	return c.SendBytes(append(stompngo.Headers{"destination", dest}, h...), body)
}

// ackHeaders names the message the way each version's ACK/NACK does.
func (c *conn) ackHeaders(m *stompngo.Message) stompngo.Headers {
	switch c.version {
	case "1.2":
		return stompngo.Headers{"id", m.Headers.Value("ack")}
	case "1.1":
		return stompngo.Headers{"message-id", m.Headers.Value("message-id"), "subscription", m.Headers.Value("subscription")}
	}
	return stompngo.Headers{"message-id", m.Headers.Value("message-id")}
}

func (c *conn) ack(m *stompngo.Message) error  { return c.Ack(c.ackHeaders(m)) }
func (c *conn) nack(m *stompngo.Message) error { return c.Nack(c.ackHeaders(m)) }

func only11(version, what string) error {
	if version == "1.0" {
		return harness.Unsupported("STOMP 1.0 has no " + what)
	}
	return nil
}

func (d *driver) caseConnect(v string) (string, error) {
	c, err := d.connect(v, "", "")
	if err != nil {
		return "", err
	}
	got, server := c.Protocol(), c.ConnectResponse.Headers.Value("server")
	c.close()
	return fmt.Sprintf("CONNECTED version %s, server %s", got, server),
		harness.Check(got == v, "CONNECTED version %q, wanted %q", got, v)
}

func (d *driver) caseTextAndHeaders(v string) (string, error) {
	dest := "/queue/stompngo_text_" + harness.Unique()
	c, err := d.connect(v, "", "")
	if err != nil {
		return "", err
	}
	defer c.close()
	sub, err := c.subscribe(dest, "auto")
	if err != nil {
		return "", err
	}
	if err := c.send(dest, []byte("héllo wörld"), "x-custom", "v1", "x-other", "two words"); err != nil {
		return "", err
	}
	m, err := next(sub)
	if err != nil {
		return "", err
	}
	h := m.Headers
	return "body and custom headers delivered", errors.Join(
		harness.Check(string(m.Body) == "héllo wörld", "body %q", m.Body),
		harness.Check(h.Value("x-custom") == "v1" && h.Value("x-other") == "two words", "headers %v", h),
		harness.Check(h.Value("destination") == dest, "destination %q", h.Value("destination")),
		harness.Check(h.Value("message-id") != "", "no message-id"))
}

func (d *driver) caseBinary(v string) (string, error) {
	dest := "/queue/stompngo_bin_" + harness.Unique()
	c, err := d.connect(v, "", "")
	if err != nil {
		return "", err
	}
	defer c.close()
	sub, err := c.subscribe(dest, "auto")
	if err != nil {
		return "", err
	}
	payload := make([]byte, 1024)
	for i := range payload {
		payload[i] = byte(i % 256)
	}
	if err := c.send(dest, payload, "content-type", "application/octet-stream"); err != nil {
		return "", err
	}
	m, err := next(sub)
	if err != nil {
		return "", err
	}
	return "1024 bytes with NULs intact", harness.Check(bytes.Equal(m.Body, payload), "binary body changed (%d bytes back)", len(m.Body))
}

func (d *driver) takeN(sub <-chan stompngo.MessageData, n int) ([]*stompngo.Message, error) {
	var ms []*stompngo.Message
	for i := 0; i < n; i++ {
		m, err := next(sub)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func (d *driver) caseClientIndividual(v string) (string, error) {
	if err := only11(v, "client-individual acknowledgement"); err != nil {
		return "", err
	}
	dest := "/queue/stompngo_ci_" + harness.Unique()
	c, err := d.connect(v, "", "")
	if err != nil {
		return "", err
	}
	sub, err := c.subscribe(dest, "client-individual")
	if err != nil {
		return "", err
	}
	for i := 0; i < 3; i++ {
		_ = c.send(dest, []byte(fmt.Sprintf("m%d", i)))
	}
	ms, err := d.takeN(sub, 3)
	if err != nil {
		return "", err
	}
	_ = c.ack(ms[0])
	_ = c.ack(ms[2])
	c.close()
	c2, err := d.connect(v, "", "")
	if err != nil {
		return "", err
	}
	defer c2.close()
	sub2, err := c2.subscribe(dest, "client-individual")
	if err != nil {
		return "", err
	}
	again, err := next(sub2)
	if err != nil {
		return "", err
	}
	_ = c2.ack(again)
	extra := none(sub2, 300*time.Millisecond)
	return "unacked message redelivered with redelivered:true", errors.Join(
		harness.Check(string(again.Body) == "m1", "redelivered %q", again.Body),
		harness.Check(again.Headers.Value("redelivered") == "true", "headers %v", again.Headers),
		harness.Check(extra == nil, "an acked message came back"))
}

func (d *driver) caseClientCumulative(v string) (string, error) {
	dest := "/queue/stompngo_cl_" + harness.Unique()
	c, err := d.connect(v, "", "")
	if err != nil {
		return "", err
	}
	sub, err := c.subscribe(dest, "client")
	if err != nil {
		return "", err
	}
	for i := 0; i < 3; i++ {
		_ = c.send(dest, []byte(fmt.Sprintf("m%d", i)))
	}
	ms, err := d.takeN(sub, 3)
	if err != nil {
		return "", err
	}
	_ = c.ack(ms[2]) // acknowledges all three
	c.close()
	c2, err := d.connect(v, "", "")
	if err != nil {
		return "", err
	}
	defer c2.close()
	sub2, err := c2.subscribe(dest, "client")
	if err != nil {
		return "", err
	}
	return "one ACK acknowledged all earlier messages",
		harness.Check(none(sub2, 500*time.Millisecond) == nil, "cumulative ACK left one unacked")
}

func (d *driver) caseNack(v string) (string, error) {
	if err := only11(v, "NACK"); err != nil {
		return "", err
	}
	dlq := d.a.NackDLQ
	dest := "/queue/stompngo_nack_" + harness.Unique()
	c, err := d.connect(v, "", "")
	if err != nil {
		return "", err
	}
	defer c.close()
	sub, err := c.subscribe(dest, "client-individual")
	if err != nil {
		return "", err
	}
	var h []string
	if dlq != "" {
		h = []string{"persistent", "true"}
	}
	_ = c.send(dest, []byte("nack-me"), h...)
	first, err := next(sub)
	if err != nil {
		return "", err
	}
	if err := c.nack(first); err != nil {
		return "", err
	}
	var second *stompngo.Message
	if dlq != "" {
		second = none(sub, time.Second)
	} else if second, err = next(sub); err != nil {
		return "", err
	}
	if second != nil {
		_ = c.ack(second)
		return "NACKed message redelivered", harness.Check(string(second.Body) == "nack-me" &&
			second.Headers.Value("redelivered") == "true", "redelivered %q %v", second.Body, second.Headers)
	}
	dsub, err := c.subscribe(dlq, "client-individual")
	if err != nil {
		return "", err
	}
	deadline := time.Now().Add(harness.DLQWait)
	for time.Now().Before(deadline) {
		m := none(dsub, time.Until(deadline))
		if m == nil {
			break
		}
		if m.Headers.Value("original-destination") == dest {
			_ = c.ack(m)
			return "NACKed message dead-lettered to " + dlq + " (server's choice per spec)",
				harness.Check(string(m.Body) == "nack-me", "body %q", m.Body)
		}
	}
	return "", fmt.Errorf("NACKed message neither redelivered nor found on %s", dlq)
}

func (d *driver) caseTransaction(v string) (string, error) {
	dest := "/queue/stompngo_tx_" + harness.Unique()
	c, err := d.connect(v, "", "")
	if err != nil {
		return "", err
	}
	defer c.close()
	sub, err := c.subscribe(dest, "auto")
	if err != nil {
		return "", err
	}
	_ = c.Begin(stompngo.Headers{"transaction", "tx1"})
	_ = c.send(dest, []byte("aborted"), "transaction", "tx1")
	_ = c.Abort(stompngo.Headers{"transaction", "tx1"})
	_ = c.Begin(stompngo.Headers{"transaction", "tx2"})
	_ = c.send(dest, []byte("committed"), "transaction", "tx2")
	early := none(sub, 300*time.Millisecond)
	if err := c.Commit(stompngo.Headers{"transaction", "tx2"}); err != nil {
		return "", err
	}
	m, err := next(sub)
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
	c, err := d.connect(v, "", "")
	if err != nil {
		return "", err
	}
	defer c.close()
	_ = c.send("/queue/stompngo_rcpt_"+harness.Unique(), []byte("x"), "receipt", "rcpt-1")
	return "RECEIPT for SEND", c.receipt("rcpt-1")
}

func (d *driver) caseTopic(v string) (string, error) {
	dest := "/topic/stompngo_" + harness.Unique()
	a, err := d.connect(v, "", "")
	if err != nil {
		return "", err
	}
	defer a.close()
	b, err := d.connect(v, "", "")
	if err != nil {
		return "", err
	}
	defer b.close()
	sa, _ := a.subscribe(dest, "auto")
	sb, err := b.Subscribe(stompngo.Headers{"destination", dest, "id", "sb", "ack", "auto", "receipt", "sub-b"})
	if err != nil {
		return "", err
	}
	if err := b.receipt("sub-b"); err != nil {
		return "", err
	}
	_ = a.send(dest, []byte("fan"), "receipt", "pub")
	if err := a.receipt("pub"); err != nil {
		return "", err
	}
	ma, err := next(sa)
	if err != nil {
		return "", err
	}
	mb, err := next(sb)
	if err != nil {
		return "", err
	}
	return "both subscribers received", harness.Check(string(ma.Body) == "fan" && string(mb.Body) == "fan", "bodies %q %q", ma.Body, mb.Body)
}

func (d *driver) caseHeartbeat(v string) (string, error) {
	if err := only11(v, "heart-beating"); err != nil {
		return "", err
	}
	hbms := fmt.Sprint(harness.HeartbeatMS)
	c, err := d.connect(v, "", "", "heart-beat", hbms+","+hbms)
	if err != nil {
		return "", err
	}
	hb := c.ConnectResponse.Headers.Value("heart-beat")
	every := int(c.ReceiveTickerInterval())
	checkBeats := every > 0 && every <= 5000
	time.Sleep(time.Duration(max(1200, 3*every+200)) * time.Millisecond)
	clean, dirty := c.ReceiveTickerCount(), c.Hbrf
	_ = c.send("/queue/stompngo_hb_"+harness.Unique(), nil, "receipt", "alive")
	alive := c.receipt("alive")
	c.close()
	return fmt.Sprintf("heart-beat %s negotiated (receive interval %d ms), connection kept, %d intervals with a server beat",
			hb, every, clean), errors.Join(
			harness.Check(hb != "" && hb != "0,0", "server offered no heart-beats: %q", hb),
			alive,
			harness.Check(!checkBeats || (clean > 0 && !dirty), "server offered %s but its beats were late or missing (%d on time, late flag %v)", hb, clean, dirty))
}

func (d *driver) caseLogin(v string) (string, error) {
	login, passcode, ok := d.a.LoginCredentials()
	if !ok {
		return "", harness.Unsupported("no credentials given: the server under test runs without logins")
	}
	refused := make(chan error, 1)
	go func() {
		c, err := d.connect(v, login, passcode+"-wrong")
		if err == nil {
			c.close()
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
	c, err := d.connect(v, login, passcode)
	if err != nil {
		return "", err
	}
	got := c.Protocol()
	c.close()
	msg := why.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return fmt.Sprintf("wrong passcode refused (%s); %s connected", msg, login),
		harness.Check(got == v, "CONNECTED version %q, wanted %q", got, v)
}

func (d *driver) caseDurableRestart(v string) (string, error) {
	dest := "/queue/stompngo_durable_" + harness.Unique()
	c, err := d.connect(v, "", "")
	if err != nil {
		return "", err
	}
	for i := 0; i < harness.DurableCount; i++ {
		rid := fmt.Sprintf("p%d", i)
		_ = c.send(dest, []byte(fmt.Sprintf("d%d", i)), "persistent", "true", "receipt", rid)
		if err := c.receipt(rid); err != nil {
			return "", err
		}
	}
	sub, err := c.subscribe(dest, "client")
	if err != nil {
		return "", err
	}
	for i := 0; i < harness.DeliveredFirst; i++ {
		m, err := next(sub)
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
	c.net.CloseNow()
	c2, err := d.connect(v, "", "")
	if err != nil {
		return "", err
	}
	defer c2.close()
	sub2, err := c2.subscribe(dest, "client")
	if err != nil {
		return "", err
	}
	got, err := d.takeN(sub2, harness.DurableCount)
	if err != nil {
		return "", fmt.Errorf("after the restart: %w", err)
	}
	_ = c2.ack(got[len(got)-1])
	extra := none(sub2, 300*time.Millisecond)
	var errs []error
	for i, m := range got {
		errs = append(errs, harness.Check(string(m.Body) == fmt.Sprintf("d%d", i), "position %d: %q", i, m.Body))
		if i < harness.DeliveredFirst {
			errs = append(errs, harness.Check(m.Headers.Value("redelivered") == "true", "d%d without redelivered:true", i))
		}
	}
	errs = append(errs, harness.Check(extra == nil, "more than %d messages", harness.DurableCount))
	return fmt.Sprintf("%d persistent messages back in order after SIGKILL + restart; the %d delivered before with redelivered:true",
		harness.DurableCount, harness.DeliveredFirst), errors.Join(errs...)
}

func (d *driver) caseDisconnect(v string) (string, error) {
	c, err := d.connect(v, "", "")
	if err != nil {
		return "", err
	}
	defer c.net.CloseNow()
	rid := "bye-" + harness.Unique()
	if err := c.Disconnect(stompngo.Headers{"receipt", rid}); err != nil {
		return "", fmt.Errorf("DISCONNECT: %w", err)
	}
	got := c.DisconnectReceipt.Message.Headers.Value("receipt-id")
	closed := c.net.WaitClosedByPeer(harness.Timeout)
	return fmt.Sprintf("RECEIPT (receipt-id %s) for DISCONNECT, then the broker closed the connection", got), errors.Join(
		harness.Check(got == rid, "receipt-id %q, wanted %q", got, rid),
		harness.Check(closed, "the broker did not close the connection after its RECEIPT"))
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
