// Coded errors: the cross-install brand, the fields errors carry, and docs/errors.md listing exactly
// the codes in ErrorCode (as fastify's test/internals/errors.test.js checks its docs).
import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ErrorCode,
  Frame,
  StompConnectionError,
  StompError,
  StompInvalidArgumentError,
  StompProtocolError,
  StompServerError,
  StompTimeoutError,
} from '@stompede/core';

type ErrorsModule = typeof import('@stompede/core');

/** Load a second, independent copy of the built package, as a duplicate install would. */
async function loadDuplicateInstall(): Promise<{ module: ErrorsModule; dir: string }> {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('@stompede/core/package.json'));
  const dir = mkdtempSync(join(tmpdir(), 'stompede-dup-'));
  cpSync(join(pkgDir, 'dist'), join(dir, 'dist'), { recursive: true });
  const module = (await import(pathToFileURL(join(dir, 'dist', 'index.js')).href)) as ErrorsModule;
  return { module, dir };
}

describe('StompError', () => {
  const cleanup: string[] = [];
  after(() => {
    for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
  });

  it('is recognised by instanceof across duplicate installs [errors: brand]', async () => {
    const { module: other, dir } = await loadDuplicateInstall();
    cleanup.push(dir);
    assert.notEqual(other.StompError, StompError, 'the copy must be a distinct class');
    const foreign = new other.StompProtocolError(other.ErrorCode.INVALID_HEADER, 'from the copy');
    assert.ok(foreign instanceof StompError);
    assert.ok(
      new StompProtocolError(ErrorCode.INVALID_HEADER, 'local') instanceof other.StompError,
    );
    // Subclasses keep ordinary prototype semantics.
    assert.ok(!(foreign instanceof StompProtocolError));
    // An error the copy's parser throws is a StompError here too.
    const parser = new other.FrameParser({ onFrame: () => undefined });
    assert.throws(
      () => {
        parser.push(new TextEncoder().encode('BOGUS\n\n\0'));
      },
      (err: unknown) => err instanceof StompError && err.code === ErrorCode.INVALID_COMMAND,
    );
  });

  it('is not fooled by other errors and values [errors: brand]', () => {
    for (const value of [new Error('x'), new TypeError('x'), {}, null, undefined, 'ERR_STOMP', 1]) {
      assert.ok(!(value instanceof StompError));
    }
  });

  it('subclasses are StompErrors with their own name and code [errors: classes]', () => {
    const frame = new Frame('ERROR', { message: 'bad thing' }, 'details');
    const cases: [StompError, string, string][] = [
      [
        new StompProtocolError(ErrorCode.MISSING_NULL, 'm'),
        'StompProtocolError',
        ErrorCode.MISSING_NULL,
      ],
      [new StompInvalidArgumentError('m'), 'StompInvalidArgumentError', ErrorCode.INVALID_ARGUMENT],
      [
        new StompConnectionError(ErrorCode.CONNECTION_LOST, 'm'),
        'StompConnectionError',
        ErrorCode.CONNECTION_LOST,
      ],
      [new StompTimeoutError('m'), 'StompTimeoutError', ErrorCode.TIMEOUT],
      [new StompServerError(frame), 'StompServerError', ErrorCode.SERVER_ERROR],
    ];
    for (const [err, name, code] of cases) {
      assert.ok(err instanceof StompError);
      assert.ok(err instanceof Error);
      assert.equal(err.name, name);
      assert.equal(err.code, code);
    }
    assert.equal(new StompServerError(frame).message, 'bad thing');
    assert.equal(new StompServerError(new Frame('ERROR', {}, 'text')).message, 'text');
  });

  it('carries frame, header, offset and cause [errors: classes]', () => {
    const frame = new Frame('SEND');
    const cause = new Error('root');
    const err = new StompProtocolError(ErrorCode.INVALID_HEADER, 'm', {
      frame,
      header: 'h',
      offset: 7,
      cause,
    });
    assert.equal(err.frame, frame);
    assert.equal(err.header, 'h');
    assert.equal(err.offset, 7);
    assert.equal(err.cause, cause);
  });
});

describe('docs/errors.md', () => {
  const doc = readFileSync(
    fileURLToPath(new URL('../../../../docs/errors.md', import.meta.url)),
    'utf8',
  );
  const rows = [...doc.matchAll(/^\| `(ERR_STOMP_[A-Z0-9_]+)` \| `([A-Z0-9_]+)` \| (.+) \|$/gm)];

  it('lists every code in ErrorCode, and no other [errors: docs]', () => {
    const documented = rows.map((row) => row[1]!);
    assert.equal(new Set(documented).size, documented.length, 'a code is listed twice');
    assert.deepEqual([...documented].sort(), Object.values(ErrorCode).sort());
    // Every code mentioned anywhere in the doc exists.
    for (const [code] of doc.matchAll(/ERR_STOMP_[A-Z0-9_]+/g)) {
      assert.ok(
        (Object.values(ErrorCode) as string[]).includes(code),
        `${code} is not in ErrorCode`,
      );
    }
  });

  it('gives each code its ErrorCode key and a description [errors: docs]', () => {
    for (const [, code, key, description] of rows) {
      assert.equal((ErrorCode as Record<string, string>)[key!], code);
      assert.ok(description!.trim().length > 10, `${code!} has no description`);
    }
  });

  it('codes are ERR_STOMP_ + their key, and unique [errors: codes]', () => {
    for (const [key, code] of Object.entries(ErrorCode)) assert.equal(code, `ERR_STOMP_${key}`);
    assert.equal(new Set(Object.values(ErrorCode)).size, Object.keys(ErrorCode).length);
  });
});
