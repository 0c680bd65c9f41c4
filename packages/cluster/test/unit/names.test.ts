import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TopicPattern } from '@stompede/broker';
import fc from 'fast-check';
import {
  Level,
  Names,
  decodeToken,
  encodeToken,
  nameHash,
  subjectMatches,
  validPrefix,
} from '@stompede/cluster/internal';

// Names as the STOMP parser produces them: well-formed Unicode, any characters.
const name = fc.string({ unit: 'binary', maxLength: 40 });
const segment = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom('*', '>', '#', '', '$', '%', '%2E', 'a', 'b', 'a.b'),
);
const topicName = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('.'));

/** A valid NATS token: non-empty, no whitespace, no `.`, not a wildcard. */
function validToken(t: string): boolean {
  return t.length > 0 && !/[\s.]/.test(t) && t !== '*' && t !== '>';
}

describe('names', () => {
  const names = new Names('stompede', 3);

  test('tokens: kept characters stay, others are %HH, the empty name is %', () => {
    assert.equal(encodeToken('orders_v2-eu'), 'orders_v2-eu');
    assert.equal(encodeToken('a.b'), 'a%2Eb');
    assert.equal(encodeToken(''), '%');
    assert.equal(encodeToken('%'), '%25');
    assert.equal(encodeToken('*'), '%2A');
    assert.equal(encodeToken('é'), '%C3%A9');
    assert.equal(encodeToken('a b'), 'a%20b');
    // A leading U+FEFF is part of the name (a default TextDecoder would drop it as a BOM).
    assert.equal(decodeToken(encodeToken('\uFEFF')), '\uFEFF');
  });

  test('tokens: decode inverts encode and every encoded token is a valid literal token', () => {
    fc.assert(
      fc.property(name, (n) => {
        const t = encodeToken(n);
        assert.ok(validToken(t), t);
        assert.ok(!t.startsWith('$'));
        assert.equal(decodeToken(t), n);
      }),
      { numRuns: 2000 },
    );
  });

  test('tokens: encoding is injective (distinct names, distinct tokens)', () => {
    fc.assert(
      fc.property(name, name, (a, b) => {
        if (a !== b) assert.notEqual(encodeToken(a), encodeToken(b));
      }),
      { numRuns: 2000 },
    );
  });

  test('tokens: decode refuses what encode never produces', () => {
    for (const t of ['', '%41', '%2e', '%2', 'a.b', 'a b', '%C3']) {
      assert.equal(decodeToken(t), undefined, t);
    }
  });

  test('queues: distinct (vhost, name) pairs get distinct subjects and consumers', () => {
    fc.assert(
      fc.property(name, name, name, name, (v1, q1, v2, q2) => {
        if (v1 === v2 && q1 === q2) return;
        const a = names.queue(v1, q1);
        const b = names.queue(v2, q2);
        assert.notEqual(a.subject(Level.NORMAL), b.subject(Level.NORMAL));
        assert.notEqual(a.consumer(Level.NORMAL), b.consumer(Level.NORMAL));
      }),
      { numRuns: 1000 },
    );
  });

  test('queues: the subject parses back, lies in its shard stream and nowhere else', () => {
    fc.assert(
      fc.property(
        name,
        name,
        fc.constantFrom(Level.NORMAL, Level.HIGH, Level.LOW),
        (v, q, level) => {
          const a = names.queue(v, q);
          const subject = a.subject(level);
          assert.deepEqual(names.parseQueueSubject(subject), { vhost: v, queue: q, level });
          assert.equal(subject.split('.').length, 5);
          for (let k = 0; k < names.shards; k++) {
            assert.equal(subjectMatches(names.queueSubjects(k), subject), k === a.shard);
          }
          assert.equal(subjectMatches(names.topicSubjects, subject), false);
          assert.match(a.consumer(level), /^q-[a-z2-7]{20}-[hnl]$/);
          assert.equal(a.stream, `stompede_Q${String(a.shard)}`);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('queues: both levels have their own subject and consumer (non-overlapping filters)', () => {
    const a = names.queue('/', 'jobs');
    assert.notEqual(a.subject(Level.NORMAL), a.subject(Level.HIGH));
    assert.notEqual(a.consumer(Level.NORMAL), a.consumer(Level.HIGH));
  });

  test('topics: literal subjects are injective, valid and parse back', () => {
    fc.assert(
      fc.property(name, topicName, name, topicName, (v1, t1, v2, t2) => {
        const s1 = names.topicSubject(v1, t1);
        assert.ok(s1.split('.').every(validToken) || s1.endsWith('.$'));
        assert.deepEqual(names.parseTopicSubject(s1), { vhost: v1, topic: t1 });
        if (v1 !== v2 || t1 !== t2) assert.notEqual(s1, names.topicSubject(v2, t2));
        assert.ok(subjectMatches(names.topicSubjects, s1));
      }),
      { numRuns: 2000 },
    );
  });

  test('topics: a NATS filter matches exactly what the broker TopicPattern matches', () => {
    fc.assert(
      fc.property(name, topicName, topicName, (v, pattern, topic) => {
        const filter = names.topicFilter(v, pattern);
        const subject = names.topicSubject(v, topic);
        assert.equal(
          subjectMatches(filter, subject),
          new TopicPattern(pattern).matches(topic),
          `${pattern} vs ${topic}: ${filter} vs ${subject}`,
        );
      }),
      { numRuns: 5000 },
    );
  });

  test('topics: wildcard examples, including zero segments after > and #', () => {
    const f = (p: string): string => names.topicFilter('/', p);
    const s = (t: string): string => names.topicSubject('/', t);
    assert.ok(subjectMatches(f('a.>'), s('a')));
    assert.ok(subjectMatches(f('a.#'), s('a.b.c')));
    assert.ok(subjectMatches(f('a.*.c'), s('a.b.c')));
    assert.ok(!subjectMatches(f('a.*.c'), s('a.b.c.d')));
    assert.ok(!subjectMatches(f('a.*'), s('a')));
    assert.ok(subjectMatches(f('a.*'), s('a.*')), 'a literal * is a segment like any other');
    assert.ok(!subjectMatches(f('a.b'), s('a.*')));
    assert.ok(!subjectMatches(f('x.>'), names.topicSubject('other', 'x.y')), 'vhosts are apart');
  });

  test('reply subjects are injective and parse back; control subjects are per node', () => {
    fc.assert(
      fc.property(name, name, name, name, (v, address, v2, address2) => {
        const subject = names.replySubject(v, address);
        assert.deepEqual(names.parseReplySubject(subject), { vhost: v, address });
        assert.equal(subject.split('.').length, 4);
        if (v !== v2 || address !== address2) {
          assert.notEqual(subject, names.replySubject(v2, address2));
        }
      }),
    );
    assert.equal(names.control('node1', 'lease'), 'stompede.c.node1.lease');
  });

  test('hashes are short, name-safe and separate their parts', () => {
    assert.match(nameHash('a', 'b'), /^[a-z2-7]{20}$/);
    assert.notEqual(nameHash('a\0', 'b'), nameHash('a', '\0b'));
    assert.notEqual(names.durableConsumer('/', 'c', 'n'), names.durableConsumer('/', 'cn', ''));
  });

  test('prefixes and shard counts are checked', () => {
    assert.ok(validPrefix('stompede_prod-1'));
    for (const p of ['', 'a.b', 'a b', 'x'.repeat(33), '$SYS']) assert.ok(!validPrefix(p), p);
    assert.throws(() => new Names('a.b', 1), RangeError);
    assert.throws(() => new Names('a', 0), RangeError);
  });
});
