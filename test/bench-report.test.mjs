// The benchmark report's pure parts (bench/lib): statistics, SVG charts, the time plan, the
// report and README headline built from fixed results. No benchmark runs here.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { BROKER_SCENARIOS, REPORT_SCENARIOS } from '../bench/lib/broker-scenarios.mjs';
import { BUDGET_SECONDS, reportPlan, reportSettings } from '../bench/lib/plan.mjs';
import {
  HEADLINE_END,
  HEADLINE_START,
  allTargets,
  loaded,
  buildReport,
  headline,
  renderPlots,
  replaceHeadline,
} from '../bench/lib/report-build.mjs';
import { formatSummary, median, ratio, summarize } from '../bench/lib/stats.mjs';
import { barChart, escapeXml, lineChart } from '../bench/lib/svg-chart.mjs';

/**
 * A strict enough XML well-formedness check: every tag closes in order, attribute values are
 * quoted, text has no bare `<` or `&`, one root element. Returns the element names seen.
 */
function checkXml(text) {
  const stack = [];
  const names = [];
  let roots = 0;
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<\?[^>]*\?>/g;
  let at = 0;
  for (const m of text.matchAll(token)) {
    const between = text.slice(at, m.index);
    assert.doesNotMatch(between, /<|&(?!(amp|lt|gt|quot|apos|#\d+);)/, `bad text: ${between}`);
    at = m.index + m[0].length;
    if (m[0].startsWith('<?')) continue;
    const [, close, name, , selfClose] = m;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else {
      names.push(name);
      if (stack.length === 0) roots++;
      if (!selfClose) stack.push(name);
    }
  }
  assert.doesNotMatch(text.slice(at), /<|&(?!(amp|lt|gt|quot|apos|#\d+);)/);
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(roots, 1, 'one root element');
  return names;
}

describe('bench statistics', () => {
  it('medians of odd and even counts, ignoring failed (missing) values', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([5, null, undefined, NaN, 1, 3]), 3);
    assert.equal(median([]), undefined);
  });

  it('summaries have the median, the range and the count', () => {
    assert.deepEqual(summarize([10, 30, 20, null]), { median: 20, min: 10, max: 30, n: 3 });
    assert.equal(summarize([null]), undefined);
    assert.equal(formatSummary(summarize([1000, 3000, 2000])), '2,000 (1,000–3,000)');
    assert.equal(formatSummary(undefined), '—');
  });

  it('ratios: higher or lower is better, undefined when a side is missing', () => {
    assert.equal(ratio(300, 100), 3);
    assert.equal(ratio(0.5, 2, true), 4);
    assert.equal(ratio(100, undefined), undefined);
    assert.equal(ratio(100, 0), undefined);
  });
});

describe('bench SVG charts', () => {
  it('a bar chart is well-formed XML with one bar per value and a legend entry per series', () => {
    const svg = barChart({
      title: 'A & B <test>',
      categories: ['p50', 'p99'],
      yLabel: 'ms',
      yLog: true,
      series: [
        { name: 'ours', values: [0.2, 0.9] },
        { name: 'peer "x"', values: [1.5, undefined] },
      ],
    });
    const names = checkXml(svg);
    assert.equal(names[0], 'svg');
    assert.equal((svg.match(/<rect class="bar"/g) ?? []).length, 3);
    assert.equal((svg.match(/data-series="ours"/g) ?? []).length, 2);
    assert.equal((svg.match(/data-series="peer &quot;x&quot;"/g) ?? []).length, 1);
    assert.equal((svg.match(/class="legend-item"/g) ?? []).length, 2);
    assert.match(svg, /A &amp; B &lt;test&gt;/);
    assert.match(svg, />n\/a</);
  });

  it('a line chart has one polyline per series with its points, on log axes', () => {
    const svg = lineChart({
      title: 'size sweep',
      xLog: true,
      yLog: true,
      series: [
        {
          name: 'a',
          points: [
            [16, 1e5],
            [1024, 5e4],
            [1048576, 200],
          ],
        },
        {
          name: 'b',
          points: [
            [16, 2e4],
            [1024, NaN],
            [1048576, 100],
          ],
        },
      ],
    });
    checkXml(svg);
    assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
    assert.equal((svg.match(/<circle class="point" data-series="a"/g) ?? []).length, 3);
    assert.equal((svg.match(/<circle class="point" data-series="b"/g) ?? []).length, 2);
    for (const tick of ['>10<', '>1M<', '>100k<']) assert.ok(svg.includes(tick), tick);
  });

  it('escapes text', () => {
    assert.equal(escapeXml('<a & "b">'), '&lt;a &amp; &quot;b&quot;&gt;');
  });
});

describe('bench report plan', () => {
  it('a full report fits the 20-minute budget, a quick one a quarter of it', () => {
    const full = reportPlan(reportSettings());
    assert.deepEqual(
      full.phases.map((p) => p.id),
      ['generator', 'codec', 'client', 'broker', 'durable'],
    );
    assert.ok(full.total <= BUDGET_SECONDS, `plan ${full.total} s`);
    assert.ok(reportPlan(reportSettings({ quick: true })).total <= BUDGET_SECONDS / 4);
    assert.equal(
      full.total,
      full.phases.reduce((t, p) => t + p.seconds, 0),
    );
  });

  it('covers every scenario of the issue with known scenario ids', () => {
    for (const id of REPORT_SCENARIOS)
      assert.ok(id === 'idle' || BROKER_SCENARIOS.some((s) => s.id === id), id);
    const sizes = BROKER_SCENARIOS.filter((s) => s.group === 'size').map((s) => s.size);
    assert.deepEqual(sizes, [16, 256, 1024, 4096, 65536, 1048576]);
    assert.deepEqual(
      BROKER_SCENARIOS.filter((s) => s.group === 'latency').map((s) => s.rate),
      [1000, 10_000, 50_000],
    );
    for (const id of ['q4x4', 'fanout-1', 'fanout-10', 'fanout-100', 'fast-beside-slow', 'idle'])
      assert.ok(REPORT_SCENARIOS.includes(id), id);
  });
});

/** Results in the shape the runners write, with one failed peer run. */
function fixture() {
  const run = (value, extra = {}) => ({ value, ok: true, perCpuSecond: value * 2, ...extra });
  const lat = (p99, rateOut) => ({
    value: p99,
    ok: true,
    p50: p99 / 4,
    p90: p99 / 2,
    p99,
    p999: p99 * 2,
    max: p99 * 3,
    rateOut,
  });
  const broker = (scale, latRate, idle) => ({
    'q100-auto': { runs: [run(100 * scale), run(120 * scale), run(110 * scale)] },
    'size-1m': { runs: [run(2 * scale)] },
    'lat-50k': { runs: [lat(0.5 * (1 / scale), latRate)] },
    idle: { runs: [idle] },
  });
  return {
    date: '2026-11-22T16:00:00.000Z',
    command: 'node bench/report.mjs',
    settings: reportSettings(),
    plan: reportPlan(),
    phaseSeconds: { broker: 100 },
    totalSeconds: 600,
    machine: { cpu: 'Test CPU', cores: 2, memoryGiB: 8, node: 'v20.0.0', platform: 'linux x64' },
    loads: { before: [1, 1, 1], during: [1.5, 2], after: [1, 1, 1] },
    commands: ['node bench/broker-run.mjs'],
    results: {
      broker: {
        reps: 3,
        seconds: 2,
        idleConnections: 10000,
        results: {
          ours: broker(4, 50_000, {
            value: 5000,
            ok: true,
            opened: 10000,
            connections: 10000,
            perConnection: 5000,
            connectRate: 900,
            rssBefore: 1e8,
            rssAfter: 1.5e8,
          }),
          rabbitmq: broker(1, 20_000, {
            value: 150000,
            ok: true,
            opened: 10000,
            connections: 10000,
            perConnection: 150000,
            connectRate: 400,
            rssBefore: 1e9,
            rssAfter: 2.5e9,
          }),
          activemq: {
            'q100-auto': { runs: [{ value: null, ok: false, failed: 'connection refused' }] },
          },
          relay: { 'q100-auto': { runs: [run(550)] } },
        },
      },
      durable: {
        runs: [
          { target: 'ours', scenario: 'receipt on every 100th message', perSecond: 12000 },
          { target: 'disk', scenario: 'this disk', perSecond: 500 },
          { target: 'ours', scenario: 'receipt on every message, 1 in flight', perSecond: 450 },
          { target: 'rabbitmq', scenario: 'receipt on every message, 1 in flight', perSecond: 600 },
          {
            target: 'ours',
            scenario: 'receipt on every message, 1 in flight, a consumer attached',
            perSecond: 2000,
          },
          {
            target: 'rabbitmq',
            scenario: 'receipt on every message, 1 in flight, a consumer attached',
            perSecond: 1500,
          },
          { target: 'rabbitmq', scenario: 'receipt on every 100th message', perSecond: 6000 },
          { target: 'activemq', scenario: 'receipt on every 100th message', perSecond: 5000 },
        ],
      },
    },
  };
}

describe('bench report', () => {
  it('reports medians, ranges, ratios, targets, and what a failed peer did', () => {
    const data = fixture();
    const { markdown } = buildReport(data);
    assert.match(
      markdown,
      // Columns: stompede, RabbitMQ, ActiveMQ, Artemis (not run here), the relay, then the three
      // ratios to the peers and the one to the relay.
      /\| queue 1→1, 100 B, auto ack \(msgs\/s\) \| 440 \(400–480\) \| 110 \(100–120\) \| failed \(1\/1 runs failed: connection refused\) \| — \| 550 \| 4\.00× \| — \| — \| 0\.80× \|/,
    );
    assert.match(markdown, /cannot sustain 50,000\/s/);
    assert.match(markdown, /Test CPU, 2 cores/);
    const targets = allTargets(data);
    const q = targets.find((t) => t.target.startsWith('queue 1→1, 100 B'));
    assert.equal(q.met, true);
    assert.equal(targets.find((t) => t.target.startsWith('≤ 8 KB')).met, true);
    assert.equal(
      targets.find((t) => t.target === 'receipt on every 100th message: ahead of both peers').met,
      true,
    );
    // Issue 17: against the relay and the disk, in the same run.
    const find = (text) => targets.find((t) => t.target === text);
    assert.equal(find('queue 1→1, 100 B, auto ack: ≥ 60% of the relay').met, true);
    assert.equal(find('queue 1→1, 100 B, auto ack: broker CPU ≤ 3 µs per message').met, false);
    const oneInFlight = find(
      "receipt on every message, 1 in flight: ≥ 80% of this disk's write + fdatasync rate",
    );
    assert.deepEqual([oneInFlight.met, oneInFlight.value], [true, '90% (450 vs 500 msgs/s)']);
    assert.equal(
      find('receipt on every message, 1 in flight, a consumer attached: ≥ 1.5× RabbitMQ').met,
      false,
    );
    assert.ok(!markdown.includes('| this disk'), 'no row of its own for the disk');
    assert.match(
      markdown,
      /\| receipt on every message, 1 in flight \| 450 \| 600 \| — \| — \| 500 \| 0\.75× \| — \| — \| 0\.90× \|/,
    );
    assert.ok(!loaded(data) && !markdown.includes('Loaded machine'));
    const busy = { ...data, loads: { ...data.loads, during: [1, 7.5] } };
    assert.ok(loaded(busy) && buildReport(busy).markdown.includes('**Loaded machine'));
    assert.ok(markdown.includes('## Commands'));
  });

  it('plots are well-formed SVG and the report links them', () => {
    const data = fixture();
    const plots = renderPlots(data);
    for (const name of [
      'throughput-by-size.svg',
      'fanout-scaling.svg',
      'memory-per-connection.svg',
      'latency-50k.svg',
    ])
      assert.ok(plots[name] !== undefined, name);
    for (const svg of Object.values(plots)) checkXml(svg);
    assert.ok(buildReport(data).markdown.includes('![latency-50k.svg](plots/latency-50k.svg)'));
  });

  it('replaces only the README section between the markers', () => {
    const section = headline(fixture());
    assert.ok(section.startsWith(HEADLINE_START) && section.endsWith(HEADLINE_END));
    assert.doesNotMatch(section, /```/);
    const readme = `# x\n\nintro\n\n${HEADLINE_START}\nold\n${HEADLINE_END}\n\n## License\n`;
    const updated = replaceHeadline(readme, section);
    assert.ok(updated.startsWith('# x\n\nintro\n\n'));
    assert.ok(updated.endsWith('\n\n## License\n'));
    assert.ok(!updated.includes('\nold\n'));
    assert.equal(replaceHeadline(updated, section), updated);
    const inserted = replaceHeadline('# x\n\n## License\nMIT\n', section);
    assert.ok(inserted.indexOf(HEADLINE_START) < inserted.indexOf('## License'));
  });
});
