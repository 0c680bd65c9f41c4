// What a client command prints when the broker refuses or cannot be reached: one message, each
// thing said once, with the error code; and the connection flags every client command shares.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ErrorCode, Frame, StompConnectionError, StompServerError } from '@stompede/core';
import { connectionSettings, describeFailure } from '../../dist/connection-flags.js';

const URL = 'tcp://127.0.0.1:61613';
const count = (text: string, part: string): number => text.split(part).length - 1;

describe('describeFailure', () => {
  it("prints a broker's ERROR once, however the broker splits it between header and body", () => {
    const denied = 'user "bob" has no write permission on /queue/a in virtual host "/"';
    for (const frame of [
      new Frame('ERROR', { message: denied }, `${denied}\n`),
      new Frame(
        'ERROR',
        { message: denied },
        `ERR_STOMP_FORBIDDEN: ${denied}\n\nwhile processing a SEND frame`,
      ),
      new Frame('ERROR', {}, denied),
      new Frame('ERROR', { message: denied }),
    ]) {
      const text = describeFailure(new StompServerError(frame, ErrorCode.FORBIDDEN), URL).message;
      assert.equal(count(text, denied), 1, text);
      assert.match(
        text,
        /^tcp:\/\/127\.0\.0\.1:61613: the broker sent an ERROR: .*\[ERR_STOMP_FORBIDDEN\]$/s,
      );
    }
    const both = describeFailure(
      new StompServerError(
        new Frame('ERROR', { message: 'malformed frame' }, 'header line too long'),
      ),
      URL,
    ).message;
    assert.match(
      both,
      /ERROR: malformed frame \(header line too long\) \[ERR_STOMP_SERVER_ERROR\]$/,
    );
    const ours = describeFailure(
      new StompServerError(
        new Frame(
          'ERROR',
          { message: 'unknown virtual host "x"' },
          'ERR_STOMP_FORBIDDEN: unknown virtual host "x"\n\nwhile processing a CONNECT frame\n',
        ),
        ErrorCode.FORBIDDEN,
      ),
      URL,
    ).message;
    assert.equal(
      ours,
      `${URL}: the broker sent an ERROR: unknown virtual host "x" (while processing a CONNECT frame) [ERR_STOMP_FORBIDDEN]`,
    );
  });

  it('names a socket failure in plain words, the URL once', () => {
    const refused = new StompConnectionError(
      ErrorCode.CONNECTION_REFUSED,
      `could not connect to ${URL}`,
      {
        cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:61613'), {
          code: 'ECONNREFUSED',
        }),
      },
    );
    const text = describeFailure(refused, URL).message;
    assert.equal(
      text,
      `${URL}: connection refused (is a broker listening there?) [ERR_STOMP_CONNECTION_REFUSED]`,
    );
    const untrusted = Object.assign(new Error('self-signed certificate'), {
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
    assert.match(
      describeFailure(untrusted, 'ssl://h:61614').message,
      /--tls-ca FILE trusts its CA, --insecure/,
    );
  });
});

describe('connection flags', () => {
  it('defaults, STOMPEDE_PASSCODE, and single-line values', () => {
    const s = connectionSettings({}, { STOMPEDE_PASSCODE: 'pw' });
    assert.deepEqual([s.url, s.passcode, s.timeout, s.tls], [URL, 'pw', 10_000, {}]);
    assert.equal(
      connectionSettings({ passcode: 'flag' }, { STOMPEDE_PASSCODE: 'pw' }).passcode,
      'flag',
    );
    assert.throws(() => connectionSettings({ vhost: 'a\nb' }, {}), /--vhost must be a single line/);
    assert.throws(
      () => connectionSettings({ timeout: '0' }, {}),
      /--timeout must be a positive number/,
    );
  });
});
