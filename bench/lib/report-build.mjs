// Turns the results of a report run (bench/report.mjs) into report.md, the plots and the README
// headline. Pure: data in, strings out (bench/test/report.test.mjs feeds it fixtures).
import { BROKER_SCENARIOS, REPORT_SCENARIOS } from './broker-scenarios.mjs';
import { BUDGET_SECONDS } from './plan.mjs';
import {
  formatNumber as num,
  formatRatio,
  formatSummary,
  median,
  ratio,
  summarize,
} from './stats.mjs';
import { barChart, lineChart } from './svg-chart.mjs';

export const HEADLINE_START = '<!-- bench:headline:start -->';
export const HEADLINE_END = '<!-- bench:headline:end -->';

const BROKERS = [
  { id: 'ours', name: 'stompede' },
  { id: 'rabbitmq', name: 'RabbitMQ' },
  { id: 'activemq', name: 'ActiveMQ' },
  { id: 'artemis', name: 'Artemis' },
];
const PEERS = BROKERS.slice(1);
const CLIENTS = [
  { id: 'ours-tcp', name: 'stompede TCP' },
  { id: 'ours-ws', name: 'stompede WS' },
  { id: 'stompjs-ws', name: '@stomp/stompjs WS' },
  { id: 'stompit-tcp', name: 'stompit TCP' },
];
/** The relay (bench/relay-server.mjs): a trivial STOMP relay, not ours, the ceiling of a broker. */
const LIMIT = { id: 'relay', name: 'relay (limit)' };
const TARGETS = {
  throughputVsBestPeer: 3,
  p99Ms: 1,
  idleBytes: 8_000,
  slowRatio: 0.95,
  // Issue 17: large bodies against RabbitMQ and the relay, small messages against the relay.
  largeVsRabbitmq: 1.3,
  largeOfRelay: 0.8,
  smallOfRelay: 0.6,
  smallCpuUs: 3,
  // Issue 17: one producer waiting for each RECEIPT of a persistent message.
  oneInFlightVsRabbitmq: 1.5,
  oneInFlightOfDisk: 0.8,
};
/** Durable scenario labels (bench/durable-throughput.mjs). */
const ONE_IN_FLIGHT = 'receipt on every message, 1 in flight';
const ONE_IN_FLIGHT_CONSUMER = 'receipt on every message, 1 in flight, a consumer attached';
/** The machine was too busy for wall-clock figures to mean much: a quick run, or load > cores. */
export function loaded(data) {
  const during = data.loads?.during ?? [];
  const peak = during.length === 0 ? 0 : Math.max(...during);
  return data.settings.quick || peak > (data.machine.cores ?? 2);
}
const scenario = (id) => BROKER_SCENARIOS.find((s) => s.id === id);

/** Heap bytes per idle connection (ours: JS heap + external; ActiveMQ: JVM heap), if measured. */
function heapOf(broker, brokerId) {
  return broker?.results?.[brokerId]?.idle?.heapPerConnection;
}

/**
 * Memory per idle connection for comparisons: ours by RSS (everything the process holds); a peer
 * by the larger of its RSS delta and its heap delta, both lower bounds for a long-running process.
 */
function memoryOf(broker, brokerId) {
  const rss = runsOf(broker, brokerId, 'idle')[0]?.perConnection ?? undefined;
  if (brokerId === 'ours') return rss;
  const heap = heapOf(broker, brokerId);
  const xs = [rss, heap].filter((x) => typeof x === 'number' && Number.isFinite(x));
  return xs.length === 0 ? undefined : Math.max(...xs);
}

/** Runs of one broker scenario, or []. */
function runsOf(broker, brokerId, sid) {
  return broker?.results?.[brokerId]?.[sid]?.runs ?? [];
}

/** Summary of a field over the runs that succeeded. */
function field(broker, brokerId, sid, key = 'value') {
  return summarize(runsOf(broker, brokerId, sid).map((r) => r[key]));
}

/** What went wrong in the runs of a scenario (failed, lost, errors), as one short string. */
function trouble(broker, brokerId, sid) {
  const runs = runsOf(broker, brokerId, sid);
  if (runs.length === 0) return undefined;
  const failed = runs.filter((r) => r.failed !== undefined);
  if (failed.length > 0) return `${failed.length}/${runs.length} runs failed: ${failed[0].failed}`;
  const bad = runs.filter((r) => r.ok === false);
  if (bad.length === 0) return undefined;
  const r = bad[0];
  if (r.opened !== undefined) return `opened ${r.opened} of ${r.connections}: ${r.failed ?? '?'}`;
  return `${bad.length}/${runs.length} runs not clean (lost ${r.lost ?? 0}, duplicated ${r.duplicated ?? 0}${r.errors?.length ? `, ${r.errors[0]}` : ''})`;
}

/** "median (min–max)" with a ⚠ when a run was not clean, or "failed: ...". */
function cell(broker, brokerId, sid, key = 'value', scale = 1) {
  const s = field(broker, brokerId, sid, key);
  const t = trouble(broker, brokerId, sid);
  if (s === undefined) return t === undefined ? '—' : `failed (${t})`;
  return formatSummary(s, scale) + (t === undefined ? '' : ' ⚠');
}

function table(head, rows) {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

// ---- broker ----

// The report's broker scenarios by table: throughput (not the slow-consumer pair, which has its
// own section) and latency, in the report's order.
const reportScenario = (id) => BROKER_SCENARIOS.find((s) => s.id === id);
const THROUGHPUT_IDS = REPORT_SCENARIOS.filter(
  (id) => reportScenario(id)?.metric === 'rateOut' && reportScenario(id).group !== 'slow',
);
const LATENCY_IDS = REPORT_SCENARIOS.filter((id) => reportScenario(id)?.group === 'latency');

function brokerThroughputRatios(broker, sid) {
  const o = field(broker, 'ours', sid)?.median;
  return PEERS.map((p) => ratio(o, field(broker, p.id, sid)?.median));
}

function brokerSection(broker, notes) {
  const lines = ['## Broker: ours vs RabbitMQ vs ActiveMQ vs Artemis', ''];
  if (broker === undefined || broker.failed !== undefined) {
    return [...lines, `Not run${broker?.failed ? `: ${broker.failed}` : ''}.`, ''];
  }
  lines.push(
    `Load generator: \`stompede bench\` (raw STOMP 1.2 frames over TCP, producers and consumers in one process, every message checked for loss, duplication and corruption), ${broker.reps} repetition(s) of ${broker.seconds}-second runs (or a fixed message count for fan-out; latency runs send 2 s of warm-up (4 s at 1k msgs/s), left out of the percentiles, then 5 measured seconds), interleaved between brokers. Our broker runs in its own process (\`bench/broker-server.mjs\`). Figures: median (min–max); ⚠ = a run lost, duplicated or corrupted messages or got an ERROR; "failed" says what happened.`,
    '',
    '### Throughput',
    '',
  );
  const rows = THROUGHPUT_IDS.filter((id) => broker.results?.ours?.[id] !== undefined).map((id) => {
    const s = scenario(id);
    return [
      `${s.title} (${s.unit})`,
      ...BROKERS.map((b) => cell(broker, b.id, id)),
      cell(broker, LIMIT.id, id),
      ...brokerThroughputRatios(broker, id).map(formatRatio),
      formatRatio(ratio(field(broker, 'ours', id)?.median, field(broker, LIMIT.id, id)?.median)),
    ];
  });
  lines.push(
    ...table(
      [
        'scenario',
        ...BROKERS.map((b) => b.name),
        LIMIT.name,
        ...PEERS.map((p) => `ours / ${p.name}`),
        'ours / relay',
      ],
      rows,
    ),
    '',
    'The relay (`bench/relay-server.mjs`, not ours) turns each SEND into a MESSAGE for one subscriber and nothing else: no queue, no acknowledgment tracking, no storage. Its rate is what a broker process can carry on this machine with this load generator.',
    '',
  );
  // CPU per delivery
  lines.push(
    "Deliveries per CPU-second of the broker process (user + system time from /proc, all threads): the work per message, far less sensitive to a shared machine than the rates above; and the same as µs of our broker's CPU per delivery.",
    '',
  );
  lines.push(
    ...table(
      [
        'scenario',
        ...BROKERS.map((b) => b.name),
        LIMIT.name,
        ...PEERS.map((p) => `ours / ${p.name}`),
        'ours: µs CPU per delivery',
      ],
      THROUGHPUT_IDS.filter((id) => broker.results?.ours?.[id] !== undefined).map((id) => {
        const o = field(broker, 'ours', id, 'perCpuSecond')?.median;
        return [
          scenario(id).title,
          ...[...BROKERS, LIMIT].map((b) => num(field(broker, b.id, id, 'perCpuSecond')?.median)),
          ...PEERS.map((p) =>
            formatRatio(ratio(o, field(broker, p.id, id, 'perCpuSecond')?.median)),
          ),
          o > 0 ? (1e6 / o).toFixed(2) : '—',
        ];
      }),
    ),
    '',
  );
  // Latency
  lines.push('### Latency at a fixed rate (100 B, 1 producer → 1 consumer, auto ack)', '');
  const latRows = [];
  for (const id of LATENCY_IDS) {
    const s = scenario(id);
    for (const b of BROKERS) {
      const runs = runsOf(broker, b.id, id);
      if (runs.length === 0) continue;
      const t = trouble(broker, b.id, id);
      const achieved = field(broker, b.id, id, 'rateOut')?.median;
      const sustained = achieved !== undefined && achieved >= 0.95 * s.rate;
      latRows.push([
        `${num(s.rate)}/s`,
        b.name,
        ...['p50', 'p90', 'p99', 'p999', 'max'].map((k) => num(field(broker, b.id, id, k)?.median)),
        achieved === undefined
          ? `failed (${t ?? '?'})`
          : `${num(achieved)}${sustained ? '' : ` — **cannot sustain ${num(s.rate)}/s**`}${t === undefined ? '' : ' ⚠'}`,
      ]);
    }
  }
  lines.push(
    ...table(
      ['asked', 'broker', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'achieved msgs/s'],
      latRows,
    ),
    '',
    'Latency is from the producer writing the frame to the consumer parsing it, on one clock. When a broker cannot keep the asked rate, messages queue and the percentiles measure the queue, not the broker; the last column says so.',
    '',
  );
  // Idle
  lines.push(`### Idle connections (${num(broker.idleConnections)}, one subscription each)`, '');
  lines.push(
    ...table(
      [
        'broker',
        'opened',
        'KB per connection (RSS)',
        'KB per connection (heap after GC)',
        'connect rate (connections/s)',
        'RSS before → after (MB)',
        'what happened',
      ],
      BROKERS.filter((b) => runsOf(broker, b.id, 'idle').length > 0).map((b) => {
        const r = runsOf(broker, b.id, 'idle')[0];
        return [
          b.name,
          `${num(r.opened)} / ${num(r.connections)}`,
          r.perConnection === null || r.perConnection === undefined
            ? '—'
            : num(r.perConnection / 1000),
          heapOf(broker, b.id) === undefined ? '—' : num(heapOf(broker, b.id) / 1000),
          num(r.connectRate),
          `${num(r.rssBefore / 1e6)} → ${num(r.rssAfter / 1e6)}`,
          r.failed === undefined ? 'all open and subscribed' : `stopped: ${r.failed}`,
        ];
      }),
    ),
    '',
    "RSS: the delta of the broker process over the measured round (a warm-up round of up to 1,000 connections comes first), divided by the connections open. Heap: ours, JS heap + external after a forced GC (a fresh broker process); ActiveMQ and Artemis, the JVM heap after a full GC (`jcmd PID GC.run`, `GC.heap_info`); RabbitMQ, not measured (`rabbitmqctl` takes tens of seconds here). RabbitMQ (beam.smp) and ActiveMQ (JVM, heap pre-sized with -Xms) are long-running processes that keep memory they freed earlier, so their RSS deltas **understate** what a connection costs once earlier runs have grown them (a first 10,000-connection round on a RabbitMQ that had not held that many gave ≈ 158 KB per connection on this machine). Comparisons use ours by RSS against the larger of a peer's two figures. Connect rate: CONNECT + SUBSCRIBE with receipt, 100 handshakes in flight.",
    '',
  );
  // Slow consumer
  const alone = (id) => field(broker, id, 'fast-alone')?.median;
  const beside = (id) => field(broker, id, 'fast-beside-slow')?.median;
  const asked = (id) => askedBeside(broker, id);
  if (broker.results?.ours?.['fast-alone'] !== undefined) {
    const s = scenario('fast-beside-slow');
    lines.push('### Slow consumer beside a fast one', '');
    lines.push(
      `A fast producer/consumer pair (queue 1→1, 100 B, auto ack) runs alone and unbounded; then it is asked for ${Math.round(s.fastShare * 100)}% of that rate (its own median) while a consumer on another queue of the same broker reads ${s.slowRate} msgs/s (\`--consume-rate ${s.slowRate}\`: it pauses its socket, so the broker's flow control holds the rest) and a producer sends ${num(s.floodRate)} msgs/s to that queue. Target: the fast pair gets the rate it asks for (achieved / asked ≈ 1). Unbounded, the fast pair alone saturates both cores, so a ratio to its solo rate would measure CPU contention with the two extra processes rather than isolation.`,
      '',
      ...table(
        [
          'broker',
          'fast pair alone (msgs/s)',
          'asked beside the slow consumer (msgs/s)',
          'achieved (msgs/s)',
          'achieved / asked',
          'sent to the slow queue',
        ],
        BROKERS.filter((b) => runsOf(broker, b.id, 'fast-alone').length > 0).map((b) => [
          b.name,
          cell(broker, b.id, 'fast-alone'),
          num(asked(b.id)),
          cell(broker, b.id, 'fast-beside-slow'),
          formatRatio(ratio(beside(b.id), asked(b.id) ?? alone(b.id))),
          num(median(runsOf(broker, b.id, 'fast-beside-slow').map((r) => r.floodSent))),
        ]),
      ),
      '',
    );
  }
  notes.push(
    'Throughput is deliveries per second at the consumers from the first send to the last delivery (queues drain before a run ends), so a broker that accepts fast but delivers slowly is not flattered.',
    'Unbounded producers outpace every broker here, so throughput runs build a backlog: their latencies (in broker-run.json) are queueing time, not broker latency. Latency is measured only at fixed rates, in its own table.',
    'Fan-out and large-body runs send a fixed number of messages (a duration would queue more than a broker can deliver in a few seconds), so they take longer on slower brokers rather than being cut short.',
    "The slow-consumer ratio is the fast pair's achieved rate beside the slow consumer over the rate it asked for (half its own solo median), both medians: a broker that let the slow queue hold others back would fall below 1. Asking for half leaves CPU for the flood producer and the slow consumer, two more processes on the same 2 cores.",
  );
  return lines;
}

function brokerTargets(broker) {
  const t = [];
  if (broker?.results === undefined) return t;
  for (const id of THROUGHPUT_IDS) {
    const o = field(broker, 'ours', id)?.median;
    const best = Math.max(...PEERS.map((p) => field(broker, p.id, id)?.median ?? 0));
    if (o === undefined || !(best > 0)) continue;
    t.push({
      area: 'broker',
      target: `${scenario(id).title}: ≥ ${TARGETS.throughputVsBestPeer}× the better peer`,
      value: `${(o / best).toFixed(2)}× (${num(o)} vs ${num(best)})`,
      met: o >= best * TARGETS.throughputVsBestPeer,
    });
  }
  for (const id of LATENCY_IDS) {
    const p99 = field(broker, 'ours', id, 'p99')?.median;
    if (p99 === undefined) continue;
    t.push({
      area: 'broker',
      target: `p99 < ${TARGETS.p99Ms} ms at ${num(scenario(id).rate)} msgs/s`,
      value: `${num(p99)} ms`,
      met: p99 < TARGETS.p99Ms,
    });
  }
  const med = (id, sid, key) => field(broker, id, sid, key)?.median;
  for (const id of ['size-64k', 'size-1m']) {
    const o = med('ours', id);
    if (o === undefined) continue;
    const r = med('rabbitmq', id);
    t.push({
      area: 'broker',
      target: `${scenario(id).title}: ≥ ${TARGETS.largeVsRabbitmq}× RabbitMQ`,
      value:
        r === undefined
          ? 'RabbitMQ not measured'
          : `${(o / r).toFixed(2)}× (${num(o)} vs ${num(r)})`,
      met: r !== undefined && o >= r * TARGETS.largeVsRabbitmq,
    });
    t.push(ofRelay(broker, id, TARGETS.largeOfRelay));
  }
  if (med('ours', 'q100-auto') !== undefined) {
    t.push(ofRelay(broker, 'q100-auto', TARGETS.smallOfRelay));
    const cpu = med('ours', 'q100-auto', 'perCpuSecond');
    t.push({
      area: 'broker',
      target: `${scenario('q100-auto').title}: broker CPU ≤ ${TARGETS.smallCpuUs} µs per message`,
      value: cpu > 0 ? `${(1e6 / cpu).toFixed(2)} µs` : 'not measured',
      met: cpu > 0 && 1e6 / cpu <= TARGETS.smallCpuUs,
    });
  }
  const idle = runsOf(broker, 'ours', 'idle')[0];
  if (idle !== undefined)
    t.push({
      area: 'broker',
      target: `≤ ${TARGETS.idleBytes / 1000} KB RSS per idle connection with one subscription (${num(idle.connections)}, after GC)`,
      value:
        idle.perConnection == null
          ? `failed: ${idle.failed}`
          : `${num(idle.perConnection / 1000)} KB`,
      met:
        idle.perConnection != null &&
        idle.perConnection <= TARGETS.idleBytes &&
        idle.failed === undefined,
    });
  const a = askedBeside(broker, 'ours') ?? field(broker, 'ours', 'fast-alone')?.median;
  const b = field(broker, 'ours', 'fast-beside-slow')?.median;
  if (a !== undefined && b !== undefined)
    t.push({
      area: 'broker',
      target: `fast pair gets the rate it asks for beside a slow consumer (achieved / asked ≥ ${TARGETS.slowRatio})`,
      value: `${(b / a).toFixed(2)}`,
      met: b / a >= TARGETS.slowRatio,
    });
  return t;
}

/** The target "ours ≥ `share` of the relay" for scenario `id`. */
function ofRelay(broker, id, share) {
  const o = field(broker, 'ours', id)?.median;
  const relay = field(broker, LIMIT.id, id)?.median;
  return {
    area: 'broker',
    target: `${scenario(id).title}: ≥ ${Math.round(share * 100)}% of the relay`,
    value:
      relay === undefined
        ? 'relay not measured'
        : `${Math.round((o / relay) * 100)}% (${num(o)} vs ${num(relay)})`,
    met: relay !== undefined && o >= relay * share,
  };
}

/** The median rate the fast pair asked for beside the slow consumer (undefined: it ran unbounded). */
function askedBeside(broker, id) {
  const xs = runsOf(broker, id, 'fast-beside-slow')
    .map((r) => r.askedRate)
    .filter((x) => typeof x === 'number');
  return xs.length === 0 ? undefined : median(xs);
}

function generatorSection(generator, broker) {
  if (generator === undefined) return [];
  const out = summarize((generator.runs ?? []).map((r) => r.rateOut));
  const inn = summarize((generator.runs ?? []).map((r) => r.rateIn));
  const ours = field(broker, 'ours', 'q100-auto')?.median;
  return [
    '## Load generator ceiling',
    '',
    out === undefined
      ? `\`stompede bench --self-test\` failed: ${generator.runs?.[0]?.failed ?? '?'}.`
      : `\`stompede bench --self-test\` (1→1, 100 B, against a minimal STOMP sink in a worker thread, same process): ${formatSummary(inn)} msgs/s sent, ${formatSummary(out)} msgs/s delivered.` +
        (ours === undefined
          ? ''
          : ` Our broker's 1→1 100 B auto-ack figure (${num(ours)} msgs/s) is ${Math.round((ours / out.median) * 100)}% of that ceiling${ours / out.median > 0.7 ? ': close to it, so that figure is partly bounded by the generator (and the 2 cores it shares with the broker)' : ''}.`),
    '',
  ];
}

// ---- client, codec, durable ----

function clientSection(client) {
  const lines = ['## Client: ours vs @stomp/stompjs vs stompit', ''];
  if (client === undefined || client.failed !== undefined)
    return [...lines, `Not run${client?.failed ? `: ${client.failed}` : ''}.`, ''];
  lines.push(
    `One producer and one consumer of the same library through one broker, each client in its own process (\`bench/client-run.mjs\`, ${client.settings?.reps ?? '?'} repetitions, interleaved). msgs/s: median (min–max); CPU: µs of the client process per message (median).`,
    '',
  );
  const rows = (client.results ?? []).map((c) => [
    `${c.broker === 'ours' ? 'stompede' : 'RabbitMQ'}, ${c.size} B, ${c.ack}`,
    ...CLIENTS.map((k) => {
      const x = c.clients?.[k.id];
      if (x === undefined) return '—';
      if (x.msgsPerSecond === undefined) return `failed${x.error ? ` (${x.error})` : ''}`;
      return `${formatSummary({ ...x.msgsPerSecond, n: 2 })} · ${num(x.cpuUsPerMsg?.median)} µs`;
    }),
    formatRatio(
      ratio(
        c.clients?.['ours-tcp']?.msgsPerSecond?.median,
        c.clients?.['stompjs-ws']?.msgsPerSecond?.median,
      ),
    ),
    formatRatio(
      ratio(
        c.clients?.['ours-tcp']?.msgsPerSecond?.median,
        c.clients?.['stompit-tcp']?.msgsPerSecond?.median,
      ),
    ),
  ]);
  lines.push(
    ...table(
      [
        'broker, body, ack',
        ...CLIENTS.map((k) => `${k.name} msgs/s · CPU/msg`),
        'ours TCP / stompjs',
        'ours TCP / stompit',
      ],
      rows,
    ),
    '',
  );
  return lines;
}

function codecSection(codec) {
  const lines = ["## Codec: our parser and serializer vs stompjs's", ''];
  if (codec === undefined || codec.failed !== undefined)
    return [...lines, `Not run${codec?.failed ? `: ${codec.failed}` : ''}.`, ''];
  lines.push(
    `In-process, \`bench/run.mjs\` (${codec.settings?.reps ?? '?'} repetitions, interleaved). Frames per second, median (min–max); \`copy\` is a plain copy of the same bytes (the physical limit).`,
    '',
  );
  const rows = [];
  for (const sc of codec.results ?? []) {
    for (const e of sc.entries ?? []) {
      const r = e.results ?? {};
      const impls = Object.keys(r);
      rows.push([
        `${sc.scenario} ${e.sizeLabel ?? e.size}`,
        impls.map((k) => `${k} ${formatSummary({ ...r[k].framesPerSecond, n: 2 })}`).join('<br>'),
        formatRatio(ratio(r.ours?.framesPerSecond?.median, r.stompjs?.framesPerSecond?.median)),
        formatRatio(ratio(r.ours?.framesPerSecond?.median, r.copy?.framesPerSecond?.median)),
      ]);
    }
  }
  lines.push(...table(['case', 'frames/s', 'ours / stompjs', 'ours / copy'], rows), '');
  return lines;
}

/** Durable runs grouped: scenario label → target → msgs/s of each run (the disk's own rate apart). */
function durableGroups(durable) {
  const g = {};
  for (const r of durable?.runs ?? []) {
    if (r.perSecond === undefined || r.target === 'disk') continue;
    ((g[r.scenario] ??= {})[r.target] ??= []).push(r.perSecond);
  }
  return g;
}

/** This disk's rate of 1 KiB write + fdatasync, one at a time, per run (the "limit"). */
function diskRates(durable) {
  return (durable?.runs ?? [])
    .filter((r) => r.target === 'disk' && r.perSecond !== undefined)
    .map((r) => r.perSecond);
}

function durableSection(durable) {
  const lines = ['## Durable: persistent messages with receipts', ''];
  if (durable === undefined) return [...lines, 'Not run.', ''];
  const g = durableGroups(durable);
  lines.push(
    'Persistent 1 KiB SENDs to a queue (`bench/durable-throughput.mjs`): a RECEIPT on every message with one in flight (the latency of a durable write), the same with an auto-ack consumer attached (a RECEIPT may then mean "delivered and acknowledged" instead of "on disk"), and a RECEIPT on every 100th (throughput with group commit); repetitions rotate the order of the brokers. msgs/s, median (min–max). The limit: this disk\'s own rate of 1 KiB written and fdatasync\'d one at a time (`--disk-rate`, measured in each repetition), what a broker that syncs every receipted message can reach at best.',
    '',
  );
  const failed = (durable.runs ?? []).filter((r) => r.failed !== undefined);
  const disk = diskRates(durable);
  lines.push(
    ...table(
      [
        'scenario',
        ...BROKERS.map((b) => b.name),
        'disk (limit)',
        ...PEERS.map((p) => `ours / ${p.name}`),
        'ours / limit',
      ],
      Object.entries(g).map(([label, byTarget]) => [
        label,
        ...BROKERS.map((b) => formatSummary(summarize(byTarget[b.id] ?? []))),
        label === ONE_IN_FLIGHT ? formatSummary(summarize(disk)) : '—',
        ...PEERS.map((p) =>
          formatRatio(ratio(median(byTarget.ours ?? []), median(byTarget[p.id] ?? []))),
        ),
        label === ONE_IN_FLIGHT
          ? formatRatio(ratio(median(byTarget.ours ?? []), median(disk)))
          : '—',
      ]),
    ),
    '',
  );
  if (failed.length > 0)
    lines.push(
      `Failed: ${failed.map((f) => `${f.target} rep ${f.rep + 1}: ${f.failed}`).join('; ')}.`,
      '',
    );
  return lines;
}

function durableTargets(durable) {
  const disk = median(diskRates(durable));
  return Object.entries(durableGroups(durable))
    .filter(([, byTarget]) => byTarget.ours !== undefined)
    .map(([label, byTarget]) => {
      const o = median(byTarget.ours);
      const rabbit = median(byTarget.rabbitmq ?? []);
      if (label === ONE_IN_FLIGHT_CONSUMER)
        return {
          area: 'durable',
          target: `${label}: ≥ ${TARGETS.oneInFlightVsRabbitmq}× RabbitMQ`,
          value:
            rabbit === undefined
              ? 'RabbitMQ not measured'
              : `${(o / rabbit).toFixed(2)}× (${num(o)} vs ${num(rabbit)} msgs/s)`,
          met: rabbit !== undefined && o >= rabbit * TARGETS.oneInFlightVsRabbitmq,
        };
      if (label === ONE_IN_FLIGHT)
        return {
          area: 'durable',
          target: `${label}: ≥ ${Math.round(TARGETS.oneInFlightOfDisk * 100)}% of this disk's write + fdatasync rate`,
          value:
            disk === undefined
              ? 'disk rate not measured'
              : `${Math.round((o / disk) * 100)}% (${num(o)} vs ${num(disk)} msgs/s)`,
          met: disk !== undefined && o >= disk * TARGETS.oneInFlightOfDisk,
        };
      const best = Math.max(...PEERS.map((p) => median(byTarget[p.id] ?? []) ?? 0));
      return {
        area: 'durable',
        target: `${label}: ahead of both peers`,
        value: `${(o / best).toFixed(2)}× the better peer (${num(o)} vs ${num(best)} msgs/s)`,
        met: o > best,
      };
    });
}

// ---- the whole report ----

/** Every target with its value and whether it is met. */
export function allTargets(data) {
  const r = data.results;
  return [
    ...brokerTargets(r.broker),
    ...(r.client?.targets ?? []).map((t) => ({ area: 'client', ...t })),
    ...(r.codec?.targets ?? []).map((t) => ({ area: 'codec', ...t })),
    ...durableTargets(r.durable),
  ];
}

/** Headline ratios: one line per comparison, for README and the top of the report. */
export function headlineRows(data) {
  const r = data.results;
  const rows = [];
  const b = r.broker;
  if (b?.results !== undefined) {
    for (const id of ['q100-auto', 'q100-ci', 'q4x4', 'size-4k', 'size-1m', 'fanout-100']) {
      if (b.results.ours?.[id] === undefined) continue;
      const [rr, aa] = brokerThroughputRatios(b, id);
      rows.push([`Broker: ${scenario(id).title}`, formatRatio(rr), formatRatio(aa)]);
    }
    const lat = (id) => field(b, id, 'lat-10k', 'p99')?.median;
    if (lat('ours') !== undefined)
      rows.push([
        'Broker: p99 latency at 10k msgs/s (lower is better; peer / ours)',
        formatRatio(ratio(lat('ours'), lat('rabbitmq'), true)),
        formatRatio(ratio(lat('ours'), lat('activemq'), true)),
      ]);
    const mem = (id) => memoryOf(b, id);
    if (mem('ours') != null)
      rows.push([
        "Broker: memory per idle connection (peer / ours; a peer's figure is a lower bound)",
        formatRatio(ratio(mem('ours'), mem('rabbitmq'), true)),
        formatRatio(ratio(mem('ours'), mem('activemq'), true)),
      ]);
  }
  for (const [label, byTarget] of Object.entries(durableGroups(r.durable)))
    rows.push([
      `Durable: ${label}`,
      formatRatio(ratio(median(byTarget.ours ?? []), median(byTarget.rabbitmq ?? []))),
      formatRatio(ratio(median(byTarget.ours ?? []), median(byTarget.activemq ?? []))),
    ]);
  const clientRows = [];
  for (const c of r.client?.results ?? []) {
    if (c.size !== 100 || c.ack !== 'auto') continue;
    const o = c.clients?.['ours-tcp']?.msgsPerSecond?.median;
    clientRows.push([
      `Client msgs/s via ${c.broker === 'ours' ? 'stompede' : 'RabbitMQ'}, 100 B (ours TCP vs stompjs WS · stompit TCP)`,
      formatRatio(ratio(o, c.clients?.['stompjs-ws']?.msgsPerSecond?.median)),
      formatRatio(ratio(o, c.clients?.['stompit-tcp']?.msgsPerSecond?.median)),
    ]);
  }
  const parse = r.codec?.results
    ?.find((s) => s.scenario === 'parse')
    ?.entries?.find((e) => e.size === 'small')?.results;
  const codecRow =
    parse === undefined
      ? []
      : [
          [
            'Parser, small frames (ours vs stompjs)',
            formatRatio(
              ratio(parse.ours?.framesPerSecond?.median, parse.stompjs?.framesPerSecond?.median),
            ),
            '',
          ],
        ];
  return { brokerRows: rows, clientRows, codecRow };
}

function headlineTable(data) {
  const { brokerRows, clientRows, codecRow } = headlineRows(data);
  return [
    ...table(['ours ÷ peer (median; > 1× = ours ahead)', 'vs RabbitMQ', 'vs ActiveMQ'], brokerRows),
    '',
    ...(clientRows.length + codecRow.length > 0
      ? table(['ours ÷ peer', 'vs @stomp/stompjs', 'vs stompit'], [...clientRows, ...codecRow])
      : []),
  ];
}

/** The README section between the headline markers (markdown, no code blocks). */
export function headline(data) {
  const targets = allTargets(data);
  const met = targets.filter((t) => t.met).length;
  return [
    HEADLINE_START,
    '## Benchmarks',
    '',
    `Headline ratios from \`npm run bench:report\` (${data.date.slice(0, 10)}, ${data.machine.cores} cores ${data.machine.cpu ?? ''}, Node ${data.machine.node}; RabbitMQ ${data.machine.rabbitmq ?? '?'}, ActiveMQ ${data.machine.activemq ?? '?'} on the same machine; ${data.settings.reps} repetitions, medians). ${met} of ${targets.length} targets met. The full report, with ranges, latency percentiles, memory per connection, plots and the exact commands: [bench/results/report.md](bench/results/report.md).`,
    '',
    ...headlineTable(data),
    '',
    HEADLINE_END,
  ].join('\n');
}

/** Replace the marked section of README text (or insert it before "## License" / at the end). */
export function replaceHeadline(readme, section) {
  const a = readme.indexOf(HEADLINE_START);
  const b = readme.indexOf(HEADLINE_END);
  if (a !== -1 && b > a)
    return readme.slice(0, a) + section + readme.slice(b + HEADLINE_END.length);
  const at = readme.search(/^## License/m);
  if (at !== -1) return readme.slice(0, at) + section + '\n\n' + readme.slice(at);
  return readme.replace(/\n*$/, '\n\n') + section + '\n';
}

/** report.md and a short summary for stdout. */
export function buildReport(data) {
  const m = data.machine;
  const notes = [];
  const targets = allTargets(data);
  const avg = (xs) => (xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length);
  const during = data.loads.during ?? [];
  const lines = [
    '# Benchmark report',
    '',
    ...(loaded(data)
      ? [
          `> **Loaded machine${data.settings.quick ? ', quick run' : ''}:** the load average reached ${Math.max(0, ...during).toFixed(1)} on ${m.cores} cores. Wall-clock rates and ratios below are not performance figures; only the per-CPU-second figures are roughly comparable.`,
          '',
        ]
      : []),
    `${data.date.slice(0, 16).replace('T', ' ')} UTC, \`${data.command}\`: ${data.settings.quick ? 'a quick run (1 repetition, short runs: indicative only)' : `${data.settings.reps} repetitions`}, ${Math.round(data.totalSeconds / 60)} min in all (plan ${Math.round(data.plan.total / 60)} min, budget ${BUDGET_SECONDS / 60} min). Generated by \`bench/report.mjs\`; do not edit by hand.`,
    '',
    '## Machine',
    '',
    `- CPU: ${m.cpu ?? '?'}, ${m.cores} cores; ${m.memoryGiB} GiB memory; ${m.platform}, kernel ${m.kernel ?? '?'}`,
    `- Node ${m.node}; RabbitMQ ${m.rabbitmq ?? '?'} (Erlang ${m.erlang ?? '?'}), ActiveMQ ${m.activemq ?? '?'}, Artemis ${m.artemis ?? '?'} (Java ${m.java ?? '?'}); @stomp/stompjs ${m.stompjs ?? '?'}, stompit ${m.stompit ?? '?'}; open files limit ${m.openFilesLimit ?? '?'}`,
    `- Peers: ${Object.entries(m.peers ?? {})
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; all on loopback, sharing the cores with the load generators.`,
    `- Load average (1 min) before ${data.loads.before.map((x) => x.toFixed(2)).join(' ')}; during ${during.length === 0 ? '—' : `${Math.min(...during).toFixed(2)}–${Math.max(...during).toFixed(2)} (mean ${avg(during).toFixed(2)})`}; after ${data.loads.after?.map((x) => x.toFixed(2)).join(' ') ?? '—'}. A load above the core count means other work shared the machine: wall-clock rates then vary run to run (see the ranges); the per-CPU-second figures much less.`,
    ...[...(data.events ?? []), ...(data.results.broker?.events ?? [])].map(
      (e) => `- **Interrupted:** ${e} (the peers are shared; affected runs show as failed).`,
    ),
    `- Phases: ${Object.entries(data.phaseSeconds ?? {})
      .map(([k, v]) => `${k} ${Math.round(v)} s`)
      .join(', ')}.`,
    '',
    '## Headline',
    '',
    ...headlineTable(data),
    '',
    '## Targets',
    '',
    `${targets.filter((t) => t.met).length} of ${targets.length} met.`,
    '',
    ...table(
      ['area', 'target', 'value', 'met'],
      targets.map((t) => [t.area, t.target, t.value, t.met ? 'yes' : '**no**']),
    ),
    '',
    ...generatorSection(data.results.generator, data.results.broker),
    ...brokerSection(data.results.broker, notes),
    ...durableSection(data.results.durable),
    ...clientSection(data.results.client),
    ...codecSection(data.results.codec),
    '## Plots',
    '',
    ...Object.keys(renderPlots(data)).map((name) => `![${name}](plots/${name})`),
    '',
    '## Reading the figures',
    '',
    ...notes.map((n) => `- ${n}`),
    '- Every peer runs on the same 2 cores as the load generator and the other side of the test; a broker that uses both cores (RabbitMQ, ActiveMQ) competes with the generator, ours (one Node thread) less so. The per-CPU-second table factors that out.',
    '- Ratios are of medians. With 3 repetitions, a range wider than the gap between two brokers means the order is not settled by this run.',
    '- Peers that could not do a scenario are shown as "failed (...)" or "cannot sustain" with what happened, never left blank.',
    '',
    '## Commands',
    '',
    '```sh',
    'npm run build',
    data.command,
    '# which runs:',
    ...data.commands,
    '```',
    '',
  ];
  const summary = [
    `report: ${targets.filter((t) => t.met).length}/${targets.length} targets met; ${Math.round(data.totalSeconds)} s${loaded(data) ? ' (LOADED machine or quick run: figures are indicative only)' : ''}`,
    ...headlineRows(data).brokerRows.map(
      (r) => `  ${r[0]}: ${r[1]} vs RabbitMQ, ${r[2]} vs ActiveMQ`,
    ),
  ].join('\n');
  return { markdown: lines.join('\n'), summary };
}

// ---- plots ----

/** Every plot: file name → SVG text. */
export function renderPlots(data) {
  const b = data.results.broker;
  const plots = {};
  if (b?.results !== undefined) {
    const sizes = BROKER_SCENARIOS.filter((s) => s.group === 'size');
    plots['throughput-by-size.svg'] = lineChart({
      title: 'Queue throughput by message size (1→1, auto ack)',
      xLabel: 'message body (bytes, log)',
      yLabel: 'msgs/s (log)',
      xLog: true,
      yLog: true,
      xTickLabels: Object.fromEntries(sizes.map((s) => [s.size, s.title.split(', ')[1]])),
      series: BROKERS.map((x) => ({
        name: x.name,
        points: sizes.map((s) => [s.size, field(b, x.id, s.id)?.median]),
      })),
    });
    plots['throughput-mb-by-size.svg'] = lineChart({
      title: 'Queue throughput by message size, MB/s of bodies',
      xLabel: 'message body (bytes, log)',
      yLabel: 'MB/s (log)',
      xLog: true,
      yLog: true,
      xTickLabels: Object.fromEntries(sizes.map((s) => [s.size, s.title.split(', ')[1]])),
      series: BROKERS.map((x) => ({
        name: x.name,
        points: sizes.map((s) => [s.size, ((field(b, x.id, s.id)?.median ?? NaN) * s.size) / 1e6]),
      })),
    });
    const fan = BROKER_SCENARIOS.filter((s) => s.group === 'fanout');
    plots['fanout-scaling.svg'] = lineChart({
      title: 'Topic fan-out: deliveries/s by subscribers',
      xLabel: 'subscribers (log)',
      yLabel: 'deliveries/s',
      xLog: true,
      xTickLabels: Object.fromEntries(fan.map((s) => [s.consumers, String(s.consumers)])),
      series: BROKERS.map((x) => ({
        name: x.name,
        points: fan.map((s) => [s.consumers, field(b, x.id, s.id)?.median]),
      })),
    });
    for (const id of LATENCY_IDS) {
      const s = scenario(id);
      plots[`latency-${id.slice(4)}.svg`] = barChart({
        title: `Latency percentiles at ${num(s.rate)} msgs/s (100 B)`,
        yLabel: 'ms (log)',
        yLog: true,
        categories: ['p50', 'p90', 'p99', 'p99.9', 'max'],
        series: BROKERS.map((x) => ({
          name: x.name,
          values: ['p50', 'p90', 'p99', 'p999', 'max'].map((k) => field(b, x.id, id, k)?.median),
        })),
      });
    }
    const idle = (id) => runsOf(b, id, 'idle')[0];
    plots['memory-per-connection.svg'] = barChart({
      title: `Memory per idle connection (${num(b.idleConnections)} connections)`,
      yLabel: 'KB per connection',
      categories: ['RSS delta', 'heap after GC'],
      series: BROKERS.map((x) => {
        const rss = idle(x.id)?.perConnection;
        const heap = heapOf(b, x.id);
        return {
          name: x.name,
          values: [
            rss == null ? undefined : rss / 1000,
            heap === undefined ? undefined : heap / 1000,
          ],
        };
      }),
    });
    plots['connect-rate.svg'] = barChart({
      title: 'Connect rate (CONNECT + SUBSCRIBE, 100 in flight)',
      yLabel: 'connections/s',
      categories: ['connections/s'],
      series: BROKERS.map((x) => ({ name: x.name, values: [idle(x.id)?.connectRate] })),
    });
    const q = ['q100-auto', 'q100-ci', 'q4x4', 'fast-alone', 'fast-beside-slow'];
    plots['queue-throughput.svg'] = barChart({
      title: 'Queue throughput, 100 B',
      yLabel: 'msgs/s',
      categories: ['1→1 auto', '1→1 client-ind.', '4→4 client-ind.', 'fast alone', 'fast + slow'],
      series: BROKERS.map((x) => ({
        name: x.name,
        values: q.map((id) => field(b, x.id, id)?.median),
      })),
    });
  }
  const c = data.results.client?.results;
  if (Array.isArray(c) && c.length > 0) {
    plots['client-throughput.svg'] = barChart({
      title: 'Client throughput (1 producer + 1 consumer)',
      yLabel: 'msgs/s',
      categories: c.map(
        (x) =>
          `${x.broker === 'ours' ? 'ours' : 'rmq'} ${x.size === 4096 ? '4K' : x.size} ${x.ack === 'auto' ? 'auto' : 'ci'}`,
      ),
      series: CLIENTS.map((k) => ({
        name: k.name,
        values: c.map((x) => x.clients?.[k.id]?.msgsPerSecond?.median),
      })),
    });
  }
  const codec = data.results.codec?.results;
  if (Array.isArray(codec)) {
    // The parsers (serialising ours hands the body over by reference, so its MB/s is not a
    // comparable figure).
    const entries = codec.find((sc) => sc.scenario === 'parse')?.entries ?? [];
    plots['codec.svg'] = barChart({
      title: 'Parser throughput, MB/s (log)',
      yLabel: 'MB/s (log)',
      yLog: true,
      categories: entries.map((e) => e.sizeLabel ?? e.size),
      series: ['ours', 'ours-decoded', 'stompjs', 'copy'].map((k) => ({
        name: k,
        values: entries.map((e) => e.results?.[k]?.mbPerSecond?.median),
      })),
    });
  }
  const g = durableGroups(data.results.durable);
  if (Object.keys(g).length > 0) {
    plots['durable.svg'] = barChart({
      title: 'Persistent SENDs with receipts (1 KiB)',
      yLabel: 'msgs/s (log)',
      yLog: true,
      categories: Object.keys(g).map((l) =>
        l.includes('100th') ? 'receipt every 100th' : 'receipt every message',
      ),
      series: BROKERS.map((x) => ({
        name: x.name,
        values: Object.values(g).map((t) => median(t[x.id] ?? [])),
      })),
    });
  }
  return plots;
}
