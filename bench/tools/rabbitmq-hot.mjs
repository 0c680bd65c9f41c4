#!/usr/bin/env node
// Which RabbitMQ process limits a benchmark case: runs a workload command, and while it runs
// asks the broker (`rabbitmqctl eval`) for its busiest Erlang processes (by reductions over
// `--window` seconds) and how busy its schedulers were over that window, then samples each of
// those processes every `--every` ms for `--seconds` seconds: how often it was busy (running, or
// ready and waiting for a scheduler: seen from another scheduler the two are not told apart
// reliably), the longest message queue seen, and the functions it was running. When both
// schedulers are near 100%, the broker is bound by CPU as a whole; when they are not and one
// process is near 100% busy, that process is the limit. One process per connection parses and
// processes every frame of that connection (rabbit_stomp_reader over TCP, the cowboy handler over
// Web-STOMP), so a connection process near 100% busy caps what any client can push through it.
//
//   node bench/tools/rabbitmq-hot.mjs [--after 3] [--window 2] [--seconds 2] [--every 4] \
//     [--top 4] -- node bench/client-worker.mjs --client ours-tcp --size 100 --ack auto \
//     --count 300000 --login guest --passcode guest --vhost /
//
// The workload must outlast after + window + seconds; `--stop` ends it (SIGTERM) once the
// samples are in, so a large --count can be given (the sampling itself keeps an Erlang
// scheduler partly busy, so run it beside a workload, never beside a measured repetition).
// Needs root or the rabbitmq user for `rabbitmqctl` (the peers' scripts run it as root).
import { spawn, execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const split = process.argv.indexOf('--');
const { values } = parseArgs({
  args: process.argv.slice(2, split < 0 ? undefined : split),
  options: {
    after: { type: 'string', default: '3' },
    window: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '2' },
    every: { type: 'string', default: '4' },
    top: { type: 'string', default: '4' },
    stop: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
const workload = split < 0 ? [] : process.argv.slice(split + 1);
if (values.help || workload.length === 0) {
  process.stderr.write(
    'usage: node bench/tools/rabbitmq-hot.mjs [--after S] [--window S] [--seconds S] ' +
      '[--every MS] [--top N] [--stop] -- <workload command...>\n',
  );
  process.exit(values.help ? 0 : 2);
}

const windowMs = Math.round(Number(values.window) * 1000);
const every = Number(values.every);
const samples = Math.max(1, Math.round((Number(values.seconds) * 1000) / every));

// Erlang, evaluated in the broker. Prints one tab-separated line per process:
// rank, reductions/s, running samples, runnable samples, samples, max queue, then "function=count" for the running
// functions and "stack=module" for every module seen on its stacks (to tell readers, channels,
// queues and Web-STOMP handlers apart).
const erlang = `
Snap = fun() -> maps:from_list([{P, R} || P <- erlang:processes(), {reductions, R} <- [erlang:process_info(P, reductions)]]) end,
erlang:system_flag(scheduler_wall_time, true),
W0 = lists:sort(erlang:statistics(scheduler_wall_time)),
A = Snap(), timer:sleep(${String(windowMs)}), B = Snap(),
W1 = lists:sort(erlang:statistics(scheduler_wall_time)),
Normal = erlang:system_info(schedulers),
io:format("schedulers\t~s~n", [lists:join(",", [io_lib:format("~.3f", [(A1 - A0) / max(1, T1 - T0)]) || {{I, A0, T0}, {I, A1, T1}} <- lists:zip(W0, W1), I =< Normal])]),
Top = [P || {P, _} <- lists:sublist(lists:reverse(lists:keysort(2, [{P, R - maps:get(P, A, 0)} || {P, R} <- maps:to_list(B)])), ${String(Number(values.top) + 1)}), P =/= self()],
Rate = maps:from_list([{P, (maps:get(P, B) - maps:get(P, A, 0)) * 1000 div ${String(windowMs)}} || P <- Top]),
Take = fun(P) -> case erlang:process_info(P, [status, current_stacktrace, message_queue_len]) of
  undefined -> gone;
  [{status, St}, {current_stacktrace, S}, {message_queue_len, Q}] -> {St, [M || {M, _, _, _} <- S], case S of [{M1, F1, _, _} | _] -> {M1, F1}; [] -> none end, Q} end end,
Runs = [begin timer:sleep(${String(every)}), [{P, Take(P)} || P <- Top] end || _ <- lists:seq(1, ${String(samples)})],
lists:foreach(fun({I, P}) ->
  L = [T || Run <- Runs, {Q0, T} <- Run, Q0 =:= P, T =/= gone],
  Running = length([x || {running, _, _, _} <- L]),
  Runnable = length([x || {runnable, _, _, _} <- L]),
  MaxQ = lists:max([0 | [Q || {_, _, _, Q} <- L]]),
  Fs = lists:foldl(fun({waiting, _, _, _}, Acc) -> Acc; ({_, _, MF, _}, Acc) -> maps:update_with(MF, fun(V) -> V + 1 end, 1, Acc) end, #{}, L),
  Ms = lists:usort(lists:append([Ms0 || {_, Ms0, _, _} <- L])),
  io:format("~b\\t~b\\t~b\\t~b\\t~b\\t~b~s~s~n", [I, maps:get(P, Rate), Running, Runnable, length(L), MaxQ,
    [io_lib:format("\\tfunction=~p:~p=~b", [M, F, N]) || {{M, F}, N} <- lists:sublist(lists:reverse(lists:keysort(2, maps:to_list(Fs))), 5)],
    [io_lib:format("\\tstack=~p", [M]) || M <- Ms]])
end, lists:zip(lists:seq(1, length(Top)), Top)),
ok.
`;

/** What a process is, from the modules on its stacks. */
function kind(modules) {
  const has = (m) => modules.includes(m);
  if (has('cowboy_websocket')) return 'Web-STOMP connection (cowboy handler)';
  if (has('rabbit_stomp_reader')) return 'STOMP connection (rabbit_stomp_reader)';
  if (has('rabbit_channel')) return 'channel';
  if (has('rabbit_amqqueue_process')) return 'queue';
  if (has('rabbit_writer')) return 'writer';
  return modules.filter((m) => !/^(gen|gen_server2?|proc_lib|erlang|lists)$/.test(m)).join(',');
}

const child = spawn(workload[0], workload.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
const exited = new Promise((resolve) => child.on('exit', resolve));
await new Promise((resolve) => setTimeout(resolve, Number(values.after) * 1000));
process.stderr.write(
  `[rabbitmq-hot] sampling the ${values.top} busiest processes: ${String(windowMs)} ms for reductions, then ${String(samples)} samples every ${String(every)} ms\n`,
);
let output = '';
try {
  ({ stdout: output } = await promisify(execFile)('rabbitmqctl', ['eval', erlang], {
    maxBuffer: 1 << 20,
  }));
} catch (err) {
  process.stderr.write(`[rabbitmq-hot] rabbitmqctl eval failed: ${String(err)}\n`);
}
if (values.stop) child.kill('SIGTERM');
await exited;

const rows = output
  .split('\n')
  .filter((line) => /^\d+\t/.test(line))
  .map((line) => {
    const [rank, rate, running, runnable, n, maxQ, ...rest] = line.split('\t');
    const functions = rest
      .filter((f) => f.startsWith('function='))
      .map((f) => {
        const [, name, count] = /^function=(.*)=(\d+)$/.exec(f);
        return { name, share: Number(count) / Number(n) };
      });
    const modules = rest.filter((f) => f.startsWith('stack=')).map((f) => f.slice(6));
    return {
      rank: Number(rank),
      reductionsPerSecond: Number(rate),
      busy: (Number(running) + Number(runnable)) / Number(n),
      samples: Number(n),
      maxQueue: Number(maxQ),
      kind: kind(modules),
      functions,
    };
  });
if (rows.length === 0) {
  process.stderr.write('[rabbitmq-hot] no samples (did the workload run long enough?)\n');
  process.exit(1);
}
const schedulers = (/^schedulers\t(.*)$/m.exec(output)?.[1] ?? '').split(',').map(Number);
const pct = (x) => `${(x * 100).toFixed(0)}%`;
process.stdout.write(
  '| process | busy (running or ready) | reductions/s | max queue | what it runs (share of samples) |\n| --- | ---: | ---: | ---: | --- |\n',
);
for (const r of rows) {
  process.stdout.write(
    `| ${r.kind} | ${pct(r.busy)} | ${(r.reductionsPerSecond / 1e6).toFixed(1)}M | ${String(r.maxQueue)} | ${r.functions.map((f) => `${f.name} ${pct(f.share)}`).join(', ')} |\n`,
  );
}
const top = rows.reduce((a, b) => (b.busy > a.busy ? b : a));
process.stdout.write(
  `\nSummary: schedulers busy ${schedulers.map(pct).join(' + ')} (of ${String(schedulers.length)}); ` +
    `busiest process: ${top.kind}, ${pct(top.busy)} of ${String(top.samples)} samples.\n`,
);
