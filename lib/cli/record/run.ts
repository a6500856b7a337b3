/**
 * A recording from start to finish: check the output, start collecting, run the command, stop on
 * the first of (command exit, --duration, --samples, a signal), complete the file.
 *
 * A failing disk does not stop a recording: the failure is reported at once, the samples the
 * stream cannot take are kept in memory (the JsonlSink's `unwritten`), and at the end they go
 * into the final file with the ones on disk (see save.ts).
 */
import { unlink } from 'node:fs/promises';
import { constants } from 'node:os';
import type { WriteStream } from 'node:tty';
import { formatHost, type HostEntry } from '../../hosts/parse.js';
import { isLocalhost } from '../../hosts/localhost.js';
import type { HostseriesError } from '../../errors.js';
import { JsonlSink } from '../../files/jsonl-sink.js';
import { CappedSink } from './capped-sink.js';
import { findExecutable, fromTerminal, inTerminalForeground, runCommand, trapSignals, type RunningCommand } from './child.js';
import { wholeDisks } from '../view/devices.js';
import { EXIT_CANNOT_RUN, EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, UsageError, errorMessage } from '../exit.js';
import { clock, duration, num } from '../view/format.js';
import { headline } from '../view/headline.js';
import { hostEntries } from '../host-options.js';
import { Reporter, verbosityOf } from '../output.js';
import type { RecordOptions } from './index.js';
import { checkOutput, existingStream, planOutput, type OutputPlan } from './paths.js';
import { saveRecording } from './save.js';
import { localRecorder, multiHostRecorder, type Recorder } from './recorder.js';
import { sshOptions } from './ssh-options.js';
import { StatusLine } from './status-line.js';

type StopReason = 'command' | 'duration' | 'samples' | NodeJS.Signals;

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

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
  return `${plural(names.length, 'host')} (${shown})`;
}

/** Everything that can be wrong is found here, before any collecting or benchmark starts. */
export async function runRecording(argv: string[], o: RecordOptions): Promise<number> {
  const reporter = new Reporter(verbosityOf(o));
  const entries = hostEntries(o);
  if (o.forceSsh && entries.length === 0) throw new UsageError('--force-ssh needs hosts (-H, --hostfile or --slurm)');
  const plan = planOutput(o.output, o.format);
  await checkOutput(plan);
  const leftover = await existingStream(plan);
  if (leftover) {
    reporter.error(leftover);
    return EXIT_USAGE;
  }
  if (argv.length > 0) {
    const problem = await findExecutable(argv[0]);
    if (problem) {
      reporter.error(`cannot run ${argv[0]}: ${problem}`);
      return problem === 'not found' ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
    }
  }
  const remote = o.forceSsh === true || (await anyRemote(entries));
  return new Recording(argv, o, reporter, plan, entries, remote).run();
}

class Recording {
  private readonly stopper = new Stopper();
  private readonly jsonl: JsonlSink;
  private readonly sink: CappedSink;
  private readonly recorder: Recorder;
  private cmd: RunningCommand | undefined;
  private finishing = false;
  private startedAt = 0;

  constructor(
    private readonly argv: string[],
    private readonly o: RecordOptions,
    private readonly reporter: Reporter,
    private readonly plan: OutputPlan,
    private readonly entries: HostEntry[],
    private readonly remote: boolean,
  ) {
    this.jsonl = new JsonlSink(plan.stream);
    this.jsonl.on('error', this.onStreamError);
    const cap = o.samples ?? Number.POSITIVE_INFINITY;
    this.sink = new CappedSink(this.jsonl, cap, () => {
      if (o.samples !== undefined && this.recorder.hosts().every((h) => this.sink.count(h) >= cap)) this.stopper.stop('samples');
    });
    const common = { intervalSeconds: o.interval, metrics: o.metrics, sink: this.sink, reporter, onError: this.onCollectorError };
    this.recorder = remote
      ? multiHostRecorder({ ...common, hosts: entries, ssh: sshOptions(o), forceSsh: o.forceSsh === true })
      : localRecorder(common);
  }

  async run(): Promise<number> {
    const untrap = trapSignals(this.onSignal);
    // The native sampler never holds the process open; without a command or a timer, this does.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      return await this.record();
    } finally {
      clearInterval(keepAlive);
      untrap();
    }
  }

  /** The stream failed while recording: say so at once, once; the samples stay in memory. */
  private readonly onStreamError = (e: HostseriesError): void => {
    // A failure to create the stream fails the start, which reports it.
    if (!this.jsonl.isOpen) return;
    this.reporter.warn(`${e.message}; recording goes on, the samples not written are kept in memory for the final file`);
  };

  /** The collectors pass the stream's failure on too (and again when it rejects the close): said already. */
  private readonly onCollectorError = (e: HostseriesError): void => {
    if (e !== this.jsonl.error) this.reporter.warn(e.message);
  };

  private readonly onSignal = (sig: NodeJS.Signals): void => {
    if (this.cmd?.running) {
      // A terminal's Ctrl-C has reached the command already (same foreground job): not twice.
      if (!(fromTerminal(sig) && inTerminalForeground())) this.cmd.signal(sig);
      this.reporter.debug(`${sig}: passed to the command; the recording ends when it exits`);
    } else if (this.finishing) {
      this.reporter.info(`${sig}: completing ${this.plan.output} first, one moment`);
    } else {
      this.stopper.stop(sig);
    }
  };

  private async record(): Promise<number> {
    const { reporter, plan, o } = this;
    const where = plan.stream === plan.output ? plan.output : `${plan.output} (streaming to ${plan.stream})`;
    reporter.info(`recording ${describeHosts(this.entries, this.remote)} every ${duration(o.interval)} to ${where}`);
    reporter.debug(this.remote ? 'collector: multi-host (SSH for remote hosts, native for this one)' : 'collector: the native sampler of this host');

    const interrupted = await this.start();
    if (interrupted) {
      await this.complete();
      return 128 + (constants.signals[interrupted] ?? 0);
    }
    this.startedAt = Date.now();
    const hideStatus = this.showStatus();
    if (this.argv.length > 0) {
      reporter.debug(`running: ${this.argv.join(' ')}`);
      this.cmd = runCommand(this.argv);
      void this.cmd.exited.then(() => this.stopper.stop('command'));
    }
    // A little past the duration, so that the sample due at exactly `duration` is in.
    const timer = o.duration === undefined ? undefined : setTimeout(() => this.stopper.stop('duration'), o.duration * 1000 + Math.min(200, o.interval * 500));
    const reason = await this.stopper.stopped;
    clearTimeout(timer);
    hideStatus();
    reporter.debug(`stopping: ${reason}`);
    const ok = await this.complete();

    if (!this.cmd) return ok ? EXIT_OK : EXIT_FAILURE;
    if (this.cmd.running) reporter.info(`recording ended (${reason}); waiting for the command to exit`);
    const result = await this.cmd.exited;
    if (result.error) reporter.error(`cannot run ${this.argv[0]}: ${result.error.message}`);
    else reporter.debug(`the command exited with status ${result.status}${result.signal ? ` (${result.signal})` : ''}`);
    // The command's status, unless it succeeded and the recording did not.
    return !ok && result.status === 0 ? EXIT_FAILURE : result.status;
  }

  /** Start collecting; the signal that interrupted the start (connecting to hosts), if one did. */
  private async start(): Promise<NodeJS.Signals | undefined> {
    const starting = this.recorder.start();
    starting.catch(() => undefined); // handled below, or moot once interrupted
    const first = await Promise.race([starting.then(() => undefined), this.stopper.stopped]);
    if (first !== undefined) {
      // The multi-host collector can be stopped mid-start (complete() does); the local one starts in an instant.
      if (!this.remote) await starting.catch(() => undefined);
      return first as NodeJS.Signals;
    }
    await starting.catch(async (e: unknown) => {
      // Only a stream this run created (never a file that was there: 'wx').
      if (this.jsonl.created) await unlink(this.plan.stream).catch(() => undefined);
      throw e;
    });
    return undefined;
  }

  /** The live status line, on a terminal only; returns the function that removes it. */
  private showStatus(): () => void {
    const err = process.stderr as WriteStream;
    if (!err.isTTY || this.reporter.verbosity === 'quiet') return () => undefined;
    // With a command the line needs the bottom row, so the terminal's size must be known.
    const mode = this.argv.length > 0 ? 'bottom' : 'inline';
    if (mode === 'bottom' && !(err.rows >= 3)) return () => undefined;
    const line = new StatusLine(err, mode, this.reporter);
    const update = (): void => line.update(this.statusText());
    const first = setTimeout(update, 250); // once the first sample is in
    const every = setInterval(update, 1000);
    return () => {
      clearTimeout(first);
      clearInterval(every);
      line.close();
    };
  }

  private statusText(): string {
    const rec = this.recorder;
    const parts = [`recording ${clock(Date.now() - this.startedAt)}`, plural(this.sink.samples, 'sample')];
    const c = rec.hostCounts();
    if (rec.method === 'ssh') parts.push(`${c.streaming}/${c.total} hosts streaming${c.down ? `, ${c.down} down` : ''}`);
    const r = rec.latestRates();
    if (r) {
      const h = headline(r, wholeDisks(Object.keys(r.disk), (n) => (r.disk[n]?.iops ?? 0) > 0));
      const mb = (h.disk_read_mb_s ?? 0) + (h.disk_write_mb_s ?? 0);
      parts.push(`cpu ${num(h.cpu_busy_pct, 0)}%`, `disk ${num(h.disk_iops, 0)} IOPS ${num(mb, 1)} MB/s`);
    }
    return parts.join(' · ');
  }

  /**
   * Stop collecting (the stream gets its footer), then write the final file: the stream plus any
   * samples it could not take. False unless every sample is in the file asked for.
   */
  private async complete(): Promise<boolean> {
    this.finishing = true;
    const { reporter, plan, recorder } = this;
    try {
      await recorder.stop();
    } catch (e) {
      if (e !== this.jsonl.error) reporter.error(errorMessage(e));
    }
    const missed = recorder.missedTicks();
    if (missed !== undefined) reporter.debug(`the sampler missed ${plural(missed, 'tick')} (due while the machine was too busy to sample)`);
    if (!this.jsonl.meta || !this.jsonl.created) {
      reporter.info('stopped before recording began; nothing written');
      return false;
    }
    const saved = await saveRecording(plan, this.jsonl, reporter);
    // Elsewhere (a temporary directory) or nowhere: saveRecording has said where and why.
    if (saved.path !== plan.output) return false;
    const silent = recorder.hostsWithoutData();
    if (silent.length > 0) reporter.warn(`no data from ${silent.join(', ')}`);
    const elapsed = this.startedAt ? `, ${duration((Date.now() - this.startedAt) / 1000)}` : '';
    const n = saved.data?.countSamples() ?? this.sink.samples;
    const memory = saved.fromMemory > 0 ? ` (${plural(saved.fromMemory, 'sample')} the stream could not take came from memory)` : '';
    reporter.info(`wrote ${saved.path}: ${plural(n, 'sample')}, ${plural(recorder.hosts().length, 'host')}${elapsed}${memory}`);
    return saved.ok;
  }
}
