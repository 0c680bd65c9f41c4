// The engine conformance suite: every rule the broker's engines must keep, written once against
// the Engine interface (as aedes-persistence ships its abstract suite) and run against each engine
// by calling engineConformance() from a node:test file. The local engine runs it with and without a
// journal (packages/broker/test/unit/engine-conformance.test.ts); a new engine's package does the
// same with a factory of its own (see docs/broker.md, "Writing an engine").
import { describe } from 'node:test';
import { adminRules, durabilityRules, limitRules, transactionRules } from './conformance/admin.js';
import {
  type ConformanceOptions,
  type EngineFactory,
  type Group,
  type RuleGroup,
  withEngine,
  withSkippedRules,
} from './conformance/harness.js';
import { ackRules, expiryRules, priorityRules, queueRules } from './conformance/queues.js';
import { sessionRules } from './conformance/session.js';
import { durableRules, temporaryRules, topicRules } from './conformance/topics.js';

export type {
  ConformanceOptions,
  EngineConfig,
  EngineFactory,
  EngineUnderTest,
  RuleGroup,
} from './conformance/harness.js';
export { ManualClock, Probe } from './conformance/harness.js';

const GROUPS: readonly (readonly [RuleGroup, Group])[] = [
  ['queues', queueRules],
  ['acknowledgment', ackRules],
  ['priority', priorityRules],
  ['expiry', expiryRules],
  ['topics', topicRules],
  ['temporary', temporaryRules],
  ['durable', durableRules],
  ['transactions', transactionRules],
  ['limits', limitRules],
  ['admin', adminRules],
  ['durability', durabilityRules],
  ['session', sessionRules],
];

/**
 * Register the conformance rules as node:test suites named `engine conformance: <name>`. Each
 * rule makes a fresh engine with `factory` (given the settings it needs and a clock it moves by
 * hand) and closes it afterwards. Groups in `options.skip`, and rules in `options.skipRules`, are skipped with their reason.
 */
export function engineConformance(
  name: string,
  factory: EngineFactory,
  options: ConformanceOptions = {},
): void {
  describe(`engine conformance: ${name}`, () => {
    for (const [group, rules] of GROUPS) {
      const reason = options.skip?.[group];
      describe(group, reason === undefined ? {} : { skip: reason }, () => {
        withSkippedRules(options.skipRules ?? {}, () => {
          rules((config, body) => withEngine(factory, options, config, body));
        });
      });
    }
  });
}
