/**
 * A recording from start to finish: check the output, start collecting, run the command, stop on
 * the first of (command exit, --duration, --samples, a signal), complete the file.
 *
 * A failing disk does not stop a recording: the failure is reported at once, the samples the
 * stream cannot take are kept in memory (the JsonlSink's `unwritten`), and at the end they go
 * into the final file with the ones on disk (see save.ts).
 */
import { constants } from 'node:os';
import { formatHost } from '../../hosts/parse.js';
import { isLocalhost } from '../../hosts/localhost.js';
import { InvalidOptionError, type HostseriesError } from '../../errors.js';
import { JsonlSink } from '../../files/jsonl-sink.js';
import { CappedSink } from './capped-sink.js';
import { COUNTER_FD_ENV, MARK_FD_ENV, findExecutable, fromTerminal, inTerminalForeground, runCommand, trapSignals, type RunningCommand } from './child.js';
import { parseCounterLine } from './counter-lines.js';
import { parseMarkLine } from './mark-lines.js';
import { newMarker } from '../../models/markers.js';
import { wholeDisks } from '../view/devices.js';
import { EXIT_CANNOT_RUN, EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, UsageError, errorMessage } from '../exit.js';
import { clock, duration, num, plural } from '../view/format.js';
import { headline } from '../view/headline.js';
import { hostEntries } from '../host-options.js';
import { Reporter, verbosityOf } from '../output.js';
import type { RecordOptions } from './index.js';
import { LeftoverStream, prepareOutput, releaseOutput, type OutputPlan } from './paths.js';
import { longTimeout } from './long-timer.js';
import { saveRecording } from './save.js';
import { localRecorder, multiHostRecorder, type Recorder } from './recorder.js';
import { sshOptions } from './ssh-options.js';
import { showStatusLine } from './status-line.js';
import { Stopper } from './stopper.js';
import { becomeSubreaper } from './subreaper.js';
import type { HostEntry } from '../../types/hosts.js';

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
  if (argv.length > 0) {
    const problem = await findExecutable(argv[0]);
    if (problem) {
      reporter.error(`cannot run ${argv[0]}: ${problem}`);
      return problem === 'not found' ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
    }
  }
  const remote = o.forceSsh === true || (await anyRemote(entries));
  // Last, as it creates the (empty) stream: every check that can refuse has been made.
  let plan: OutputPlan;
  try {
    plan = await prepareOutput(o.output, o.format, o.force === true);
  } catch (e) {
    if (!(e instanceof LeftoverStream)) throw e;
    reporter.error(e.message);
    return EXIT_USAGE;
  }
  let recording: Recording;
  try {
    recording = new Recording(argv, o, reporter, plan, entries, remote);
  } catch (e) {
    // A collector refusing its options (e.g. an interval the multi-host collector does not take),
    // said in the CLI's words.
    await releaseOutput(plan);
    if (e instanceof InvalidOptionError && e.message.startsWith('intervalSeconds ')) {
      throw new UsageError(`-i/--interval ${e.message.slice('intervalSeconds '.length)}${remote ? ' (with remote hosts)' : ''}`);
    }
    throw e;
  }
  return recording.run();
}

class Recording {
  private readonly stopper = new Stopper();
  private readonly jsonl: JsonlSink;
  private readonly sink: CappedSink;
  private readonly recorder: Recorder;
  private cmd: RunningCommand | undefined;
  private finishing = false;
  private startedAt = 0;
  /** The first sample's time (ms, wall clock): --duration counts from it. */
  private firstSampleAt: number | undefined;
  /** Stop signals received while the command runs (the second sends SIGTERM, the third SIGKILL). */
  private signalsToCommand = 0;
  /** The last signal sent to (or meant for) the command, for the status line. */
  private waitingFor: NodeJS.Signals | undefined;

  constructor(
    private readonly argv: string[],
    private readonly o: RecordOptions,
    private readonly reporter: Reporter,
    private readonly plan: OutputPlan,
    private readonly entries: HostEntry[],
    private readonly remote: boolean,
  ) {
    // prepareOutput created the stream, empty: it is ours to write. fsync only guards against
    // power loss (a kill loses nothing written), and the kernel's own writeback already puts
    // dirty data on disk within ~30 s: every 60 s rather than the sink's 10 s. Measured at 1 Hz
    // (beside the paced C floor, medians of 5 windows of 30 s): the writer thread 90 → 73 µs a
    // sample, the whole process 342 → 319 µs.
    this.jsonl = new JsonlSink(plan.stream, { overwrite: true, fsyncIntervalMs: 60_000 });
    this.jsonl.on('error', this.onStreamError);
    const cap = o.samples ?? Number.POSITIVE_INFINITY;
    // --samples: every host has that many samples with data, or is down (it is not waited for;
    // at least one host must have them: a run where no host answers goes on, retrying).
    this.sink = new CappedSink(this.jsonl, cap, (_host, sampleMs) => {
      this.firstSampleAt ??= sampleMs;
      if (o.samples === undefined) return;
      const hosts = this.recorder.hosts();
      const done = (h: string): boolean => this.sink.count(h) >= cap;
      if (hosts.some(done) && hosts.every((h) => done(h) || this.recorder.isDown(h))) this.stopper.stop('samples');
    });
    // Beside a command, its processes and ours (so hostseries' own cost is in the data too).
    const watch = [...(o.watchCommand && argv.length > 0 && !remote ? ['self'] : []), ...(o.watch ?? [])];
    const common = { intervalSeconds: o.interval, metrics: o.metrics, sink: this.sink, reporter, onError: this.onCollectorError, watch, cmdline: o.cmdline };
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

  /**
   * A signal while the command runs goes to it and every process it started (the recording ends
   * when it exits). A command that does not exit is not waited for blindly: we say so, the second
   * signal sends its process tree SIGTERM, the third SIGKILL; the recording is completed either way.
   */
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    const cmd = this.cmd;
    if (cmd?.running) {
      this.signalsToCommand++;
      if (this.signalsToCommand === 1) {
        // A terminal's Ctrl-C has reached the command already (same foreground job): not twice.
        if (!(fromTerminal(sig) && inTerminalForeground())) cmd.signal(sig);
        this.reporter.debug(`${sig}: passed to the command; the recording ends when it exits`);
        this.waitingFor = sig;
        const tell = setTimeout(() => {
          if (cmd.running) this.reporter.warn(`the command is still running after ${sig} (it may ignore it); the recording goes on until it exits — ${sig === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again sends it SIGTERM, a third time SIGKILL`);
        }, 1000);
        tell.unref();
        return;
      }
      const next: NodeJS.Signals = this.signalsToCommand === 2 ? 'SIGTERM' : 'SIGKILL';
      this.reporter.warn(`${sig} again: sending ${next} to the command${next === 'SIGTERM' ? ' (once more: SIGKILL)' : ''}`);
      this.waitingFor = next;
      cmd.signal(next);
    } else if (this.finishing) {
      this.reporter.info(`${sig}: completing ${this.plan.output} first, one moment`);
    } else {
      this.stopper.stop(sig);
    }
  };

  private async record(): Promise<number> {
    const { reporter, plan, o } = this;
    const where = plan.stream === plan.output ? plan.output : `${plan.tempDir ? 'stdout' : plan.output} (streaming to ${plan.stream})`;
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
      // With -o - stdout carries the recording: the command's output goes to stderr.
      // Orphans of the command's tree (a double fork) are re-parented to us rather than to
      // init, so they stay in its recorded tree; the sampler reaps them.
      const adopt = o.watchCommand && !this.remote && becomeSubreaper((m) => reporter.debug(m));
      this.cmd = runCommand(this.argv, { stdoutToStderr: plan.tempDir !== undefined, debug: (m) => reporter.debug(m), counterLines: this.counterLines(), markLines: this.markLines() });
      // The command's start and end are markers (`show --between start end`).
      if (this.cmd.pid !== undefined) this.mark('start');
      if (o.watchCommand && this.cmd.pid !== undefined) {
        this.recorder.watchCommand(this.cmd.child);
        if (adopt) this.recorder.adoptOrphans(this.cmd.pid, this.cmd.helpers);
      }
      void this.cmd.exited.then((r) => {
        if (!r.error) this.mark('end');
        this.stopper.stop('command');
      });
    }
    // At the duration exactly, counted from the first sample: stop()'s final sample is the end
    // (or, when the sample due then has just been taken, that one is).
    const cancelTimer = o.duration === undefined ? undefined : longTimeout(this.durationLeftMs(o.duration), () => this.stopper.stop('duration'));
    const reason = await this.stopper.stopped;
    cancelTimer?.();
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

  /**
   * What the command writes to HOSTSERIES_COUNTER_FD becomes the samples' `app` (local
   * recordings). A bad line is said once per problem, never per line, and never stops the run.
   */
  private counterLines(): ((line: string) => void) | undefined {
    const app = this.recorder.app;
    if (!app) return undefined;
    const told = new Set<string>();
    const tell = (problem: string): void => {
      if (told.size >= 10 || told.has(problem)) return;
      told.add(problem);
      this.reporter.warn(`${COUNTER_FD_ENV}: ${problem}; line skipped${told.size === 10 ? ' (no more such warnings)' : ''}`);
    };
    return (line) => {
      const c = parseCounterLine(line);
      try {
        if (c?.kind === 'count') app.count(c.name, c.n);
        else if (c?.kind === 'gauge') app.gauge(c.name, c.value);
        else if (c?.kind === 'bad') tell(c.problem);
      } catch (e) {
        tell(e instanceof Error ? e.message : String(e));
      }
    };
  }

  /**
   * A marker into the recording while it is open. A command that ends after the recording did
   * (-n, -d) has its end outside it: the file is already written (a mark then used to throw
   * from a promise callback and kill the run before its file was complete).
   */
  private mark(label: string): void {
    if (this.sink.isOpen) this.sink.mark(newMarker(label));
  }

  /** What the command writes to HOSTSERIES_MARK_FD becomes markers; a bad line is said once per problem. */
  private markLines(): (line: string) => void {
    const told = new Set<string>();
    return (line) => {
      const m = parseMarkLine(line);
      if (m?.kind === 'mark') this.mark(m.label);
      else if (m?.kind === 'bad' && told.size < 10 && !told.has(m.problem)) {
        told.add(m.problem);
        this.reporter.warn(`${MARK_FD_ENV}: ${m.problem}; line skipped${told.size === 10 ? ' (no more such warnings)' : ''}`);
      }
    };
  }

  /** Milliseconds from now to `seconds` after the first sample (or after now, if none is in yet). */
  private durationLeftMs(seconds: number): number {
    const now = Date.now();
    const from = Math.min(now, this.firstSampleAt ?? now);
    return Math.max(0, from + seconds * 1000 - now);
  }

  /** Start collecting; the signal that interrupted the start (connecting to hosts), if one did. */
  private async start(): Promise<NodeJS.Signals | undefined> {
    const starting = this.recorder.start();
    starting.catch(() => undefined); // handled below, or moot once interrupted
    // Only a signal interrupts the start: --samples reached while connecting (say, a host that is
    // down) is no reason not to run the command.
    const signalled = this.stopper.stopped.then((r) => (r === 'command' || r === 'duration' || r === 'samples' ? new Promise<never>(() => undefined) : r));
    // (A failed start is handled below, where the stream it made is removed.)
    const first = await Promise.race([starting.then(() => undefined, () => undefined), signalled]);
    if (first !== undefined) {
      // The multi-host collector can be stopped mid-start (complete() does); the local one starts in an instant.
      if (!this.remote) await starting.catch(() => undefined);
      return first;
    }
    await starting.catch(async (e: unknown) => {
      // The stream this run created (prepareOutput made it new: never a file that was there).
      await releaseOutput(this.plan);
      throw e;
    });
    return undefined;
  }

  /** The live status line, on a terminal only; returns the function that removes it. */
  private showStatus(): () => void {
    // With a command the line needs the bottom row (the command's output scrolls above it).
    return showStatusLine(this.reporter, this.argv.length > 0 ? 'bottom' : 'inline', () => this.statusText());
  }

  private statusText(): string {
    const rec = this.recorder;
    const parts = [`recording ${clock(Date.now() - this.startedAt)}`, plural(this.sink.samples, 'sample')];
    if (this.waitingFor && this.cmd?.running) {
      const again = this.signalsToCommand < 3 ? `; again: ${this.signalsToCommand === 1 ? 'SIGTERM' : 'SIGKILL'}` : '';
      parts.push(`waiting for the command to exit (${this.waitingFor} sent${again})`);
    }
    const c = rec.hostCounts();
    if (rec.method === 'ssh') parts.push(`${c.streaming}/${c.total} hosts streaming${c.down ? `, ${c.down} down` : ''}`);
    const r = rec.latestRates();
    if (r) {
      const h = headline(r, wholeDisks(Object.keys(r.disk)));
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
      await releaseOutput(plan);
      reporter.info('stopped before recording began; nothing written');
      return false;
    }
    const saved = await saveRecording(plan, this.jsonl, reporter);
    // Elsewhere (a temporary directory) or nowhere: saveRecording has said where and why.
    if (saved.path !== plan.output) return false;
    if (plan.tempDir) await releaseOutput(plan);
    const silent = recorder.hostsWithoutData();
    if (silent.length > 0 && silent.length === recorder.hosts().length) {
      reporter.error(`no data from any host (${silent.join(', ')}): ${saved.path === '-' ? 'the recording' : saved.path} holds only error samples`);
      return false;
    }
    if (silent.length > 0) reporter.warn(`no data from ${silent.join(', ')}`);
    const elapsed = this.startedAt ? `, ${duration((Date.now() - this.startedAt) / 1000)}` : '';
    const n = saved.data?.countSamples() ?? this.sink.samples;
    const memory = saved.fromMemory > 0 ? ` (${plural(saved.fromMemory, 'sample')} the stream could not take came from memory)` : '';
    reporter.info(`wrote ${saved.path === '-' ? 'the recording to stdout' : saved.path}: ${plural(n, 'sample')}, ${plural(recorder.hosts().length, 'host')}${elapsed}${memory}`);
    return saved.ok;
  }
}
