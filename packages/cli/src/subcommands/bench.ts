// `stompede bench`: the load generator (see ../bench/). Progress on stderr once a second, the
// summary on stdout (as JSON with --json).
import { type BenchOptions, BENCH_HELP, parseBenchArgs } from '../bench/options.js';
import { type BenchProgress, type BenchSummary, runBench } from '../bench/run.js';
import { startSink } from '../bench/sink.js';
import { CliError } from '../cli-error.js';
import { tlsHint } from '../connection-flags.js';

export { BENCH_HELP };

const n = (x: number): string => Math.round(x).toLocaleString('en-US');
const ms = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));

/** One progress line. */
export function formatProgress(p: BenchProgress): string {
  return (
    `${p.elapsed.toFixed(0).padStart(4)}s  in ${n(p.rateIn).padStart(9)} msg/s  out ${n(p.rateOut).padStart(9)} msg/s` +
    `  latency p50 ${ms(p.p50)} ms p99 ${ms(p.p99)} ms  (sent ${n(p.sent)}, received ${n(p.received)})`
  );
}

/** The human-readable summary. */
export function formatSummary(s: BenchSummary): string {
  const o = s.options;
  const lines = [
    `stompede bench: ${s.url} (${s.transport}) ${o.destination}`,
    `  ${String(o.producers)} producer(s) -> ${String(o.consumers)} consumer(s), ${String(o.size)}-byte bodies, ack ${o.ack}` +
      `${o.persistent ? ', persistent' : ''}, rate ${o.rate === 0 ? 'unbounded' : `${n(o.rate)}/s per producer`}` +
      (o.consumeRate > 0
        ? `, consumers read ${n(o.consumeRate)}/s (paused ${n(s.consumerPauses)} times)`
        : ''),
    `  sent      ${n(s.sent)} in ${s.sendSeconds.toFixed(2)} s: ${n(s.rateIn)} msg/s`,
    `  received  ${n(s.received)} in ${s.receiveSeconds.toFixed(2)} s: ${n(s.rateOut)} msg/s`,
    `  latency   p50 ${ms(s.latencyMs.p50)} ms  p90 ${ms(s.latencyMs.p90)} ms  p99 ${ms(s.latencyMs.p99)} ms` +
      `  p99.9 ${ms(s.latencyMs.p999)} ms  max ${ms(s.latencyMs.max)} ms` +
      (o.warmup > 0 ? `  (after a ${String(o.warmup)} s warm-up)` : ''),
    `  checked   expected ${n(s.expected)}, lost ${n(s.lost)}, duplicated ${n(s.duplicated)}, corrupted ${n(s.corrupted)}` +
      (s.foreign > 0 ? `, ignored ${n(s.foreign)} from other runs` : ''),
    `  errors    ${s.errors.length === 0 ? 'none' : s.errors.join('; ')}`,
    `  result    ${s.ok ? 'OK' : 'FAILED'}`,
  ];
  return lines.join('\n') + '\n';
}

/** Run `stompede bench`. Resolves with the exit code: 0, or 1 when the run found a problem. */
export async function runBenchCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseBenchArgs(argv, process.env);
  if (parsed === 'help') return 0;
  let options: BenchOptions = parsed;
  const sink = options.selfTest ? await startSink() : undefined;
  if (sink !== undefined)
    options = { ...options, connection: { ...options.connection, url: sink.url } };
  let summary: BenchSummary;
  try {
    if (!options.quiet) {
      const o = options;
      process.stderr.write(
        `bench ${o.connection.url} ${o.destination}: ${String(o.producers)} -> ${String(o.consumers)}, ${String(o.size)} B, ack ${o.ack}, ` +
          `${o.count === undefined ? `${String(o.duration)} s` : `${String(o.count)} msgs/producer`}${sink === undefined ? '' : ' (self-test sink)'}\n`,
      );
    }
    summary = await runBench(
      options,
      options.quiet ? undefined : (p) => process.stderr.write(formatProgress(p) + '\n'),
    );
  } catch (err) {
    throw new CliError(`bench failed: ${(err as Error).message}${tlsHint(err)}`, 1);
  } finally {
    await sink?.close();
  }
  if (sink !== undefined) summary = { ...summary, url: 'self-test' };
  process.stdout.write(options.json ? JSON.stringify(summary) + '\n' : formatSummary(summary));
  return summary.ok ? 0 : 1;
}
