/**
 * A recording from start to finish: check the output, start collecting, run the command, stop
 * on the first of (command exit, --duration, --max-samples, a signal), complete the file.
 */
import { unlink } from 'node:fs/promises';
import { constants } from 'node:os';
import type { WriteStream } from 'node:tty';
import { formatHost, type HostEntry } from '../hosts/parse.js';
import { isLocalhost } from '../hosts/local.js';
import { JsonlSink } from '../sinks/jsonl-sink.js';
import { CappedSink } from './capped-sink.js';
import { hostEntries } from './host-options.js';
import { fromTerminal, inTerminalForeground, runCommand, trapSignals, type CommandResult, type RunningCommand } from './command.js';
import { wholeDisks } from './devices.js';
import { EXIT_FAILURE, EXIT_OK, UsageError, errorMessage } from './exit.js';
import { clock, duration as dur, num } from './format.js';
import { headline } from './headline.js';
import { Reporter, verbosityOf } from './output.js';
import type { RecordOptions } from './record.js';
import { checkOutput, finaliseOutput, planOutput, type OutputPlan } from './record-output.js';
import { localRecorder, multiHostRecorder, type Recorder } from './recorder.js';
import { sshOptions } from './ssh-options.js';
import { StatusLine } from './status-line.js';

type StopReason = 'command' | 'duration' | 'max-samples' | NodeJS.Signals;

/** The first reason to stop wins. */
class Stopper {
  reason: StopReason | undefined;
  private resolve: (r: StopReason) => void = () => undefined;
  readonly stopped = new Promise<StopReason>((r) => (this.resolve = r));

  stop(reason: StopReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.resolve(reason);
  }
}

async function anyRemote(entries: readonly HostEntry[]): Promise<boolean> {
  const local = await Promise.all(entries.map((e) => isLocalhost(e.host)));
  return local.some((l) => !l);
}

function describeHosts(entries: readonly HostEntry[], remote: boolean): string {
  if (!remote) return 'this host';
  const names = entries.map(formatHost);
  const shown = names.length <= 4 ? names.join(', ') : `${names.slice(0, 3).join(', ')}, … ${names[names.length - 1]}`;
  return `${names.length} host${names.length === 1 ? '' : 's'} (${shown})`;
}

function statusText(rec: Recorder, sink: CappedSink, startedAt: number): string {
  const parts = [`recording ${clock(Date.now() - startedAt)}`, `${sink.samples} sample${sink.samples === 1 ? '' : 's'}`];
  const c = rec.hostCounts();
  if (rec.method === 'ssh') parts.push(`${c.streaming}/${c.total} hosts streaming${c.down ? `, ${c.down} down` : ''}`);
  const r = rec.latestRates();
  if (r) {
    const h = headline(r, wholeDisks(Object.keys(r.disk), (n) => (r.disk[n]?.iops ?? 0) > 0));
    parts.push(`cpu ${num(h.cpu_busy_pct, 0)}%`, `disk ${num(h.disk_iops, 0)} IOPS ${num((h.disk_read_mb_s ?? 0) + (h.disk_write_mb_s ?? 0), 1)} MB/s`);
  }
  return parts.join(' · ');
}

function signalStatus(sig: NodeJS.Signals): number {
  return 128 + (constants.signals[sig] ?? 0);
}

export async function runRecording(argv: string[], o: RecordOptions): Promise<number> {
  const reporter = new Reporter(verbosityOf(o));
  const entries = hostEntries(o);
  if (o.forceSsh && entries.length === 0) throw new UsageError('--force-ssh needs hosts (-H, --hostfile or --slurm)');
  const plan = planOutput(o.output, o.format);
  await checkOutput(plan);
  const remote = o.forceSsh === true || (await anyRemote(entries));

  const stopper = new Stopper();
  let rec: Recorder | undefined;
  const cap = o.maxSamples ?? Number.POSITIVE_INFINITY;
  const jsonl = new JsonlSink(plan.stream);
  const sink = new CappedSink(jsonl, cap, () => {
    if (rec && o.maxSamples !== undefined && rec.hosts().every((h) => sink.count(h) >= cap)) stopper.stop('max-samples');
  });
  const common = { intervalSeconds: o.interval, metrics: o.metrics, sink, reporter };
  rec = remote
    ? multiHostRecorder({ ...common, hosts: entries, ssh: sshOptions(o), forceSsh: o.forceSsh === true })
    : localRecorder(common);
  const recorder = rec;

  let cmd: RunningCommand | undefined;
  let finishing = false;
  const untrap = trapSignals((sig) => {
    if (cmd?.running) {
      // SIGTERM is aimed at us alone; a terminal's Ctrl-C reached the command already.
      if (!(fromTerminal(sig) && inTerminalForeground())) cmd.signal(sig);
      reporter.debug(`${sig}: the command gets it; the recording ends when the command exits`);
    } else if (finishing) {
      reporter.info(`${sig}: completing ${plan.output} first, one moment`);
    } else {
      stopper.stop(sig);
    }
  });
  try {
    return await record(argv, o, { reporter, plan, recorder, sink, jsonl, stopper, entries, remote, setCommand: (c) => (cmd = c), setFinishing: () => (finishing = true) });
  } finally {
    untrap();
  }
}

interface Run {
  reporter: Reporter;
  plan: OutputPlan;
  recorder: Recorder;
  sink: CappedSink;
  jsonl: JsonlSink;
  stopper: Stopper;
  entries: HostEntry[];
  remote: boolean;
  setCommand(c: RunningCommand): void;
  setFinishing(): void;
}

async function record(argv: string[], o: RecordOptions, run: Run): Promise<number> {
  const { reporter, plan } = run;
  const where = plan.stream === plan.output ? plan.output : `${plan.output} (streaming to ${plan.stream})`;
  reporter.info(`recording ${describeHosts(run.entries, run.remote)} every ${dur(o.interval)} to ${where}`);
  reporter.debug(run.remote ? 'collector: multi-host (SSH for remote hosts, native for this one)' : 'collector: native sampler of this host');

  // The native sampler never holds the process open; without a command or a timer, this does.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    return await recordFromStart(argv, o, run);
  } finally {
    clearInterval(keepAlive);
  }
}

async function recordFromStart(argv: string[], o: RecordOptions, run: Run): Promise<number> {
  const { reporter, plan, recorder, sink, stopper } = run;
  const starting = recorder.start();
  const first = await Promise.race([starting.then(() => undefined), stopper.stopped]);
  if (first !== undefined) {
    // Interrupted while starting (connecting to hosts): no command is run; keep what there is.
    // The multi-host collector can be stopped mid-start; the local one starts in an instant.
    if (!run.remote) await starting.catch(() => undefined);
    await completeFile(run).catch((e: unknown) => reporter.error(errorMessage(e)));
    await starting.catch(() => undefined);
    return signalStatus(first as NodeJS.Signals);
  }
  await starting.catch(async (e: unknown) => {
    await unlink(plan.stream).catch(() => undefined);
    throw e;
  });

  const startedAt = Date.now();
  const status = process.stderr.isTTY && reporter.verbosity !== 'quiet'
    ? new StatusLine(process.stderr as WriteStream, argv.length > 0 ? 'bottom' : 'inline', reporter)
    : undefined;
  const tick = status ? setInterval(() => status.update(statusText(recorder, sink, startedAt)), 1000) : undefined;
  status?.update(statusText(recorder, sink, startedAt));

  let cmd: RunningCommand | undefined;
  if (argv.length > 0) {
    reporter.debug(`running: ${argv.join(' ')}`);
    cmd = runCommand(argv);
    run.setCommand(cmd);
    void cmd.exited.then(() => stopper.stop('command'));
  }
  // A little past the duration, so that the sample due at exactly `duration` is in.
  const timer = o.duration === undefined ? undefined : setTimeout(() => stopper.stop('duration'), o.duration * 1000 + Math.min(200, o.interval * 500));
  const reason = await stopper.stopped;
  clearTimeout(timer);
  clearInterval(tick);
  status?.close();
  reporter.debug(`stopping: ${reason}`);

  run.setFinishing();
  const ok = await completeFile(run).then(() => true, (e: unknown) => {
    reporter.error(errorMessage(e));
    if (plan.stream !== plan.output) reporter.error(`the samples recorded are in ${plan.stream}`);
    return false;
  });
  const silent = recorder.hostsWithoutData();
  if (silent.length > 0) reporter.warn(`no data from ${silent.join(', ')}`);
  if (ok) reporter.info(`wrote ${plan.output}: ${sink.samples} sample${sink.samples === 1 ? '' : 's'}, ${recorder.hosts().length} host${recorder.hosts().length === 1 ? '' : 's'}, ${dur((Date.now() - startedAt) / 1000)}`);

  if (cmd) {
    if (cmd.running) reporter.info(`recording ended (${reason}); waiting for the command to exit`);
    const result: CommandResult = await cmd.exited;
    if (result.error) reporter.error(`cannot run ${argv[0]}: ${result.error.message}`);
    else reporter.debug(`the command exited with status ${result.status}${result.signal ? ` (${result.signal})` : ''}`);
    return !ok && result.status === 0 ? EXIT_FAILURE : result.status;
  }
  if (reason !== 'duration' && reason !== 'max-samples' && reason !== 'command') reporter.debug(`${reason}: recording ended`);
  return ok ? EXIT_OK : EXIT_FAILURE;
}

/** Stop collecting (the sink writes its footer) and turn the stream into the final file. */
async function completeFile(run: Run): Promise<void> {
  await run.recorder.stop();
  if (run.jsonl.error) throw run.jsonl.error;
  await finaliseOutput(run.plan);
}
