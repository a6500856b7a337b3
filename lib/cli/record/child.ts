/**
 * The benchmark `record` wraps: run with inherited stdio, signals passed on to its whole process
 * tree (and SIGTERM to it if we die, see process-tree.ts), its exit status reported the way a
 * shell reports it.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { constants as fsConstants, readFileSync } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:os';
import { Socket } from 'node:net';
import { COUNTER_FIFO_ENV, openCounterFifo, readLines, type CounterFifo } from './counter-lines.js';
import { join } from 'node:path';
import { EXIT_CANNOT_RUN, EXIT_NOT_FOUND } from '../exit.js';
import { guardTree, signalTree } from './process-tree.js';

export interface CommandResult {
  /** Exit status as a shell gives it: the code, 128 + signal number, 127 not found, 126 not runnable. */
  status: number;
  signal?: NodeJS.Signals;
  /** Why it could not be started. */
  error?: Error;
}

export interface RunningCommand {
  readonly pid: number | undefined;
  /** The process itself (to watch it: its tree and how it ends). */
  readonly child: ChildProcess;
  readonly running: boolean;
  readonly exited: Promise<CommandResult>;
  /** Send `sig` to the command and every process it started (see signalTree). */
  signal(sig: NodeJS.Signals): void;
  /** Our other children started for it (its guard): not orphans of its tree. */
  readonly helpers: readonly number[];
}

export interface RunOptions {
  /** The command's stdout goes to our stderr (stdout carries the recording: `-o -`). */
  stdoutToStderr?: boolean;
  /**
   * Give the command a descriptor for application counters (`HOSTSERIES_COUNTER_FD`, fd 3) and
   * a FIFO (`HOSTSERIES_COUNTER_FIFO`, for what cannot inherit a descriptor): each line it (or
   * anything it starts) writes to either is handed to this function.
   */
  counterLines?: (line: string) => void;
  /** Give the command a descriptor for markers (`HOSTSERIES_MARK_FD`): each line written to it is handed to this function. */
  markLines?: (line: string) => void;
  /** Where to say that the command is not tied to our life (its guard did not start). */
  debug?: (message: string) => void;
}

export const COUNTER_FD_ENV = 'HOSTSERIES_COUNTER_FD';
export const MARK_FD_ENV = 'HOSTSERIES_MARK_FD';
const COUNTER_FD = 3;

export function runCommand(argv: readonly string[], o: RunOptions = {}): RunningCommand {
  const stdio: StdioOptions = ['inherit', o.stdoutToStderr ? 2 : 'inherit', 'inherit'];
  let env: NodeJS.ProcessEnv | undefined;
  let fifo: CounterFifo | undefined;
  if (o.counterLines) {
    stdio.push('pipe');
    env = { ...process.env, [COUNTER_FD_ENV]: String(COUNTER_FD) };
    try {
      fifo = openCounterFifo(o.counterLines);
      env[COUNTER_FIFO_ENV] = fifo.path;
    } catch (e) {
      o.debug?.(`no ${COUNTER_FIFO_ENV} (${e instanceof Error ? e.message : String(e)}); ${COUNTER_FD_ENV} still works`);
    }
  }
  let markFd: number | undefined;
  if (o.markLines) {
    markFd = stdio.length;
    stdio.push('pipe');
    env = { ...(env ?? process.env), [MARK_FD_ENV]: String(markFd) };
  }
  // findExecutable has checked the command.
  const child = spawn(argv[0], argv.slice(1), { stdio, env });
  const counters = child.stdio[COUNTER_FD];
  if (o.counterLines && counters instanceof Socket) readLines(counters, o.counterLines);
  const marks = markFd === undefined ? undefined : child.stdio[markFd];
  if (o.markLines && marks instanceof Socket) readLines(marks, o.markLines);
  // Killed or crashed, we leave no orphans: the guard sends the command's tree SIGTERM.
  const guard = child.pid === undefined ? undefined : guardTree(child.pid, (e) => o.debug?.(`the guard of the command did not start (${e.message}): if hostseries is killed, the command runs on`));
  let running = true;
  const exited = new Promise<CommandResult>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      running = false;
      guard?.stop();
      fifo?.close();
      resolve({ status: error.code === 'ENOENT' ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN, error });
    });
    child.once('exit', (code, signal) => {
      running = false;
      guard?.stop();
      const result = signal ? { status: 128 + (constants.signals[signal] ?? 0), signal } : { status: code ?? 0 };
      if (!o.counterLines && !o.markLines) return resolve(result);
      // Counter (and mark) lines written just before the exit may be read in this same turn of the event
      // loop, after this callback: the run's last sample waits for them.
      setImmediate(() => {
        fifo?.close();
        resolve(result);
      });
    });
  });
  return {
    get pid() {
      return child.pid;
    },
    child,
    get running() {
      return running;
    },
    helpers: guard?.pid === undefined ? [] : [guard.pid],
    exited,
    signal: (sig) => {
      if (running) signalTree(child.pid, sig, (s) => child.kill(s));
    },
  };
}

/**
 * True when we (and so the command, in our process group) are the terminal's foreground job:
 * a Ctrl-C then reaches the command from the terminal itself, and passing it on would deliver
 * it twice (which many programs take as "abort the clean-up").
 */
export function inTerminalForeground(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(f[2]);
    const tpgid = Number(f[5]);
    return tpgid > 0 && tpgid === pgrp;
  } catch {
    return false;
  }
}

/** Signals that end a recording (or are passed on to the command). */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Route the stop signals to `handler` (instead of dying) until the returned function is called. */
export function trapSignals(handler: (sig: NodeJS.Signals) => void): () => void {
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, handler);
  };
}

/** Terminal-generated signals, which the foreground job receives as a whole. */
export function fromTerminal(sig: NodeJS.Signals): boolean {
  return sig === 'SIGINT' || sig === 'SIGHUP';
}

/** Why `name` cannot be run ('not found', 'not executable'), or undefined when it can (as a shell looks it up). */
export async function findExecutable(name: string): Promise<string | undefined> {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '').split(':').map((d) => join(d || '.', name));
  let found = false;
  for (const c of candidates) {
    const st = await stat(c).catch(() => undefined);
    if (!st) continue;
    // A path to a directory is "not executable" (126) as in a shell; PATH lookup passes over them.
    if (st.isDirectory()) {
      if (name.includes('/')) return 'not executable';
      continue;
    }
    found = true;
    if (await access(c, fsConstants.X_OK).then(() => true, () => false)) return undefined;
  }
  return found ? 'not executable' : 'not found';
}
