// The report's time plan: phases, the commands they run and an estimate of their wall time on a
// 2-core machine, from per-run costs seen in quick runs (process start, connecting, draining).
// bench/report.mjs prints it at the start and uses it for the ETA; a test holds it to the budget.
import {
  BROKER_SCENARIOS,
  RELAY_SCENARIOS,
  REPORT_SCENARIOS,
  runTiming,
} from './broker-scenarios.mjs';

/** The whole report must run within this many seconds (the issue: 20 minutes on 2 cores). */
export const BUDGET_SECONDS = 20 * 60;

/** Peers the report compares our broker with. */
export const BROKER_IDS = ['ours', 'rabbitmq', 'activemq'];
export const DURABLE_TARGETS = ['ours', 'rabbitmq', 'activemq'];

/**
 * Seconds around one `stompede bench` run: node start, CONNECTs, SUBSCRIBE receipts, drain, close.
 * Calibrated on the full run of 2026-11-22 16:00 (quiet machine): the broker phase took 10:14 for
 * a plan of 12:19 with 1.5 here, i.e. ≈ 0.7 s per run.
 */
const RUN_OVERHEAD = 1;
/** Seconds a count-based run takes on the slowest peer (from quick runs on this machine). */
const COUNT_RUN_SECONDS = {
  'fanout-1': 3,
  'fanout-10': 9,
  'fanout-100': 11,
};
/** Slow-consumer extras: head start, longer slow side, the drain run afterwards. */
const SLOW_EXTRA = 0.7 + 1 + 2 + RUN_OVERHEAD;

/** Settings of a full or quick report run. */
export function reportSettings({ quick = false, reps, seconds, connections, durableCount } = {}) {
  return {
    quick,
    reps: reps ?? (quick ? 1 : 3),
    seconds: seconds ?? (quick ? 1 : 2),
    connections: connections ?? (quick ? 500 : 10_000),
    durableCount: durableCount ?? (quick ? 500 : 5000),
  };
}

/** Estimated seconds of one broker scenario run (one broker, one repetition). */
export function scenarioSeconds(id, seconds, quick = false) {
  const s = BROKER_SCENARIOS.find((x) => x.id === id);
  if (s === undefined) throw new Error(`unknown scenario ${id}`);
  const base =
    s.count === undefined
      ? runTiming(s, seconds, quick).duration + runTiming(s, seconds, quick).warmup
      : (COUNT_RUN_SECONDS[id] ?? 3);
  return base + RUN_OVERHEAD + (s.kind === 'slow' ? SLOW_EXTRA : 0);
}

/**
 * The phases of a report run with their estimated seconds.
 * @returns {{ phases: {id: string, title: string, seconds: number}[], total: number }}
 */
export function reportPlan(settings = reportSettings()) {
  const { reps, seconds, connections, durableCount, quick } = settings;
  const brokerIds = REPORT_SCENARIOS.filter((id) => id !== 'idle');
  const perRep = brokerIds.reduce((t, id) => t + scenarioSeconds(id, seconds, quick), 0);
  const relayPerRep = RELAY_SCENARIOS.reduce((t, id) => t + scenarioSeconds(id, seconds, quick), 0);
  // Idle: a warm-up round (≤ 1,000) and the measured round, ≈ 500 connections/s on the slowest
  // peer, plus 4.5 s of settling per round, for every broker.
  const idle =
    BROKER_IDS.length * (2 * 4.5 + (Math.min(connections, 1000) + connections) / 500) + 5;
  const phases = [
    {
      id: 'generator',
      title: 'load generator ceiling: stompede bench --self-test',
      seconds: Math.round(reps * (seconds + RUN_OVERHEAD)),
    },
    // bench/run.mjs: ≈ 8 s per repetition (6 scenario/size cases × 4 implementations) + start-up.
    {
      id: 'codec',
      title: 'codec: parse and serialize, ours vs stompjs vs copy',
      seconds: quick ? 20 : 10 + 8 * reps,
    },
    // bench/client-run.mjs: ≈ 25 s per repetition (8 cases × 4 clients) + ≈ 12 s of raw-frame
    // broker ceilings (one `stompede bench` per case) + warm-ups.
    {
      id: 'client',
      title: 'client: ours vs @stomp/stompjs vs stompit',
      seconds: quick ? 30 : 20 + 37 * reps,
    },
    {
      id: 'broker',
      title: `broker: ${brokerIds.length} scenarios + idle, ours vs RabbitMQ vs ActiveMQ (+ the relay)`,
      seconds: Math.round(5 + (perRep * BROKER_IDS.length + relayPerRep) * reps + idle),
    },
    {
      // durable-throughput.mjs: ≈ 2,000 receipted messages at ≥ 500/s without a consumer, half as
      // many with one, durableCount at ≥ 5k/s; and the disk's own rate (1 s) each repetition.
      id: 'durable',
      title:
        'durable: persistent with receipts (every message ± a consumer / every 100th), disk limit',
      seconds: Math.round(
        reps *
          (2 +
            DURABLE_TARGETS.length *
              (2 + (1.5 * Math.min(durableCount, 2000)) / 500 + durableCount / 5000)),
      ),
    },
  ];
  return { phases, total: phases.reduce((t, p) => t + p.seconds, 0) };
}
