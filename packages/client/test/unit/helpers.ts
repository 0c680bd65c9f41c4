import { type Client, type ConnectOptions, connect } from '@stompede/client';
import { type FakeConnection, FakeServer, type HandshakeOptions } from '@stompede/testkit';

/** Let queued microtasks and I/O callbacks run (setImmediate is never mocked in these tests). */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A client connected to a fresh fake server over an in-memory transport. */
export async function connected(
  options: Partial<ConnectOptions> = {},
  handshake: HandshakeOptions = {},
): Promise<{ server: FakeServer; conn: FakeConnection; client: Client }> {
  const server = new FakeServer();
  const pending = connect({
    url: 'tcp://broker:61613',
    transport: server.transport,
    heartBeat: [0, 0],
    ...options,
  });
  const conn = await server.accept();
  await conn.handshake(handshake);
  const client = await pending;
  return { server, conn, client };
}
