// The broker benchmark's scenarios: `stompede bench` arguments and the figure each reports.
// Shared by bench/broker-run.mjs (which runs them) and bench/lib/plan.mjs (which budgets them).
//
// A scenario either runs for the run's `seconds` or, for fan-out (where a duration would queue
// more than the broker can deliver in a few seconds), sends a fixed `count` per producer;
// `duration` (seconds) overrides the run's and `warmup` adds unmeasured seconds first (latency).
// Large bodies run for the seconds too: every peer's flow control holds the producer to what it
// delivers (the queue does not build up), and a fixed count (2,000 × 64 KiB, 100 × 1 MiB) lasted
// well under a second, too little broker CPU time to compare per delivery. `kind: 'slow'` is the composite slow-consumer scenario (see broker-run.mjs).

const KIB = 1024;

// Latency runs measure a steady state: the first seconds (JIT, heap growth, connection start-up,
// for every broker alike) are sent and checked but left out of the percentiles (`--warmup`), and
// the measured part is long enough for a p99 of thousands of samples. The generator's own code
// is optimized after some thousands of messages, so the slowest rate warms up for longer.
const LATENCY_TIMING = { warmup: 2, duration: 5 };
const latencyTiming = (rate) => (rate < 5000 ? { ...LATENCY_TIMING, warmup: 4 } : LATENCY_TIMING);

/** Every scenario, by id; the first six are the classic set of the broker issue. */
export const BROKER_SCENARIOS = [
  {
    id: 'q100-auto',
    title: 'queue 1→1, 100 B, auto ack',
    metric: 'rateOut',
    unit: 'msgs/s',
    args: ['-s', '100', '-a', 'auto'],
  },
  {
    id: 'q100-ci',
    title: 'queue 1→1, 100 B, client-individual',
    metric: 'rateOut',
    unit: 'msgs/s',
    args: ['-s', '100', '-a', 'client-individual'],
  },
  {
    id: 'q4k-auto',
    title: 'queue 1→1, 4 KiB, auto ack',
    metric: 'rateOut',
    unit: 'msgs/s',
    args: ['-s', '4096', '-a', 'auto'],
  },
  {
    id: 'q4k-ci',
    title: 'queue 1→1, 4 KiB, client-individual',
    metric: 'rateOut',
    unit: 'msgs/s',
    args: ['-s', '4096', '-a', 'client-individual'],
  },
  {
    id: 'fanout',
    title: 'topic 1→10, 100 B, auto ack',
    metric: 'rateOut',
    unit: 'deliveries/s',
    args: ['-k', 'topic', '-y', '10', '-s', '100', '-a', 'auto'],
  },
  {
    id: 'latency',
    title: 'latency at 5k msgs/s, 100 B, auto ack',
    metric: 'p99',
    unit: 'ms',
    lowerIsBetter: true,
    rate: 5000,
    ...LATENCY_TIMING,
    args: ['-r', '5000', '-s', '100', '-a', 'auto'],
  },
  {
    id: 'q4x4',
    title: 'queue 4→4, 100 B, client-individual',
    metric: 'rateOut',
    unit: 'msgs/s',
    args: ['-x', '4', '-y', '4', '-s', '100', '-a', 'client-individual'],
  },
  ...[
    [16, '16 B'],
    [256, '256 B'],
    [KIB, '1 KiB'],
    [4 * KIB, '4 KiB'],
    [64 * KIB, '64 KiB'],
    [KIB * KIB, '1 MiB'],
  ].map(([size, label]) => ({
    id: `size-${label.replace(/ /g, '').replace('KiB', 'k').replace('MiB', 'm').toLowerCase()}`,
    title: `queue 1→1, ${label}, auto ack`,
    group: 'size',
    size,
    metric: 'rateOut',
    unit: 'msgs/s',
    args: ['-s', String(size), '-a', 'auto'],
  })),
  ...[
    [1, 50_000],
    [10, 30_000],
    [100, 3000],
  ].map(([consumers, count]) => ({
    id: `fanout-${consumers}`,
    title: `topic 1→${consumers}, 100 B, auto ack (${count.toLocaleString('en-US')} messages)`,
    group: 'fanout',
    consumers,
    metric: 'rateOut',
    unit: 'deliveries/s',
    count,
    args: ['-k', 'topic', '-y', String(consumers), '-s', '100', '-a', 'auto'],
  })),
  ...[1000, 10_000, 50_000].map((rate) => ({
    id: `lat-${rate / 1000}k`,
    title: `latency at ${rate / 1000}k msgs/s, 100 B, auto ack`,
    group: 'latency',
    rate,
    metric: 'p99',
    unit: 'ms',
    lowerIsBetter: true,
    ...latencyTiming(rate),
    args: ['-r', String(rate), '-s', '100', '-a', 'auto'],
  })),
  {
    id: 'fast-alone',
    title: 'fast pair alone: queue 1→1, 100 B, auto ack',
    group: 'slow',
    metric: 'rateOut',
    unit: 'msgs/s',
    args: ['-s', '100', '-a', 'auto'],
  },
  {
    id: 'fast-beside-slow',
    title:
      'fast pair at half its solo rate beside a slow consumer (100 msgs/s) flooded at 5k msgs/s',
    group: 'slow',
    kind: 'slow',
    metric: 'rateOut',
    unit: 'msgs/s',
    args: ['-s', '100', '-a', 'auto'],
    slowRate: 100,
    floodRate: 5000,
    // The fast pair is asked for this share of its own median rate alone (fast-alone, run first):
    // unbounded, it would saturate both cores, and the ratio would measure CPU contention with
    // the two extra processes, not whether the slow queue holds the fast one back.
    fastShare: 0.5,
  },
];

/** The classic set (what broker-run.mjs runs without --scenarios). */
export const CLASSIC_SCENARIOS = [
  'q100-auto',
  'q100-ci',
  'q4k-auto',
  'q4k-ci',
  'fanout',
  'latency',
  'idle',
];

/** The report's set (bench/report.mjs): every scenario of the benchmark issue. */
/**
 * Scenarios the relay (bench/relay-server.mjs, the report's "limit" column) runs: those the
 * performance issue measures against it (small messages, large bodies).
 */
export const RELAY_SCENARIOS = ['q100-auto', 'size-64k', 'size-1m'];

export const REPORT_SCENARIOS = [
  'q100-auto',
  'q100-ci',
  'q4x4',
  'size-16b',
  'size-256b',
  'size-1k',
  'size-4k',
  'size-64k',
  'size-1m',
  'fanout-1',
  'fanout-10',
  'fanout-100',
  'lat-1k',
  'lat-10k',
  'lat-50k',
  'fast-alone',
  'fast-beside-slow',
  'idle',
];

/** The pseudo-scenario of idle connections (memory per connection, connect rate). */
export const IDLE_SCENARIO = {
  id: 'idle',
  title: 'idle connections (1 subscription each)',
  unit: 'KB',
  lowerIsBetter: true,
};

/**
 * How long one run of a duration-based scenario sends: its own `duration` and `warmup` in a full
 * run, the run's `seconds` and no warm-up in a quick one.
 * @returns {{ duration: number, warmup: number }}
 */
export function runTiming(scenario, seconds, quick) {
  if (quick) return { duration: seconds, warmup: 0 };
  return { duration: scenario.duration ?? seconds, warmup: scenario.warmup ?? 0 };
}
