// A bare STOMP 1.2 connection over TCP for the benchmarks: frames encoded by hand-picked headers,
// the frames received handed out in order by next(). No client library in the way.
import { connect } from 'node:net';
import { Frame, FrameParser, encodeFrameBytes } from '@stompede/core';

/**
 * Connect to 127.0.0.1:`port` with `headers` on the CONNECT frame; resolves with
 * `{ socket, next(timeoutMs?) → frame | undefined on timeout, send(command, headers, body?) }`.
 */
export function client(port, headers) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const waiting = [];
    const frames = [];
    let closed = false;
    const parser = new FrameParser({
      onFrame: (f) => {
        const w = waiting.shift();
        if (w !== undefined) w.resolve(f);
        else frames.push(f);
      },
      onHeartbeat: () => undefined,
    });
    socket.on('data', (c) => parser.push(c));
    socket.once('error', (err) => {
      closed = true;
      reject(err);
      for (const w of waiting.splice(0)) w.reject(err);
    });
    socket.once('close', () => {
      closed = true;
      for (const w of waiting.splice(0)) w.reject(new Error('connection closed'));
    });
    const next = (timeoutMs) => {
      if (frames.length > 0) return Promise.resolve(frames.shift());
      if (closed) return Promise.reject(new Error('connection closed'));
      return new Promise((resolve, rej) => {
        let timer;
        const w = {
          resolve: (f) => {
            clearTimeout(timer);
            resolve(f);
          },
          reject: (err) => {
            clearTimeout(timer);
            rej(err);
          },
        };
        waiting.push(w);
        if (timeoutMs !== undefined) {
          timer = setTimeout(() => {
            const i = waiting.indexOf(w);
            if (i >= 0) {
              waiting.splice(i, 1);
              resolve(undefined);
            }
          }, timeoutMs);
        }
      });
    };
    const send = (command, h, b) => socket.write(encodeFrameBytes(new Frame(command, h, b)));
    socket.once('connect', async () => {
      send('CONNECT', { 'accept-version': '1.2', 'heart-beat': '0,0', ...headers });
      try {
        const f = await next();
        if (f.command !== 'CONNECTED') reject(new Error(`${f.command}: ${f.header('message')}`));
        else resolve({ socket, next, send });
      } catch (err) {
        reject(err);
      }
    });
  });
}
