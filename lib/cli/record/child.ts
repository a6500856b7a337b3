/**
 * The benchmark `record` wraps: run with inherited stdio, signals passed on, its exit status
 * reported the way a shell reports it.
 */
import { spawn, spawnSync, type StdioOptions } from 'node:child_process';
import { constants as fsConstants, existsSync, readFileSync } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import { EXIT_CANNOT_RUN, EXIT_NOT_FOUND } from '../exit.js';

export interface CommandResult {
  /** Exit status as a shell gives it: the code, 128 + signal number, 127 not found, 126 not runnable. */
  status: number;
  signal?: NodeJS.Signals;
  /** Why it could not be started. */
  error?: Error;
}

export interface RunningCommand {
  readonly pid: number | undefined;
  readonly running: boolean;
  readonly exited: Promise<CommandResult>;
  signal(sig: NodeJS.Signals): void;
}

export interface RunOptions {
  /** The command's stdout goes to our stderr (stdout carries the recording: `-o -`). */
  stdoutToStderr?: boolean;
  /** Where to say that the command is not tied to our life (no setpriv). */
  debug?: (message: string) => void;
}

let setprivChecked: string | null | undefined;

/**
 * util-linux's setpriv, when it can set the parent-death signal: run through it, the command is
 * sent SIGTERM when we die, even by SIGKILL (PR_SET_PDEATHSIG), instead of running on as an
 * orphan. setpriv execs the command in place (same pid, stdio, status and signals). Null when
 * there is none (another OS userland, or util-linux before 2.33).
 */
function setpriv(): string | null {
  if (setprivChecked !== undefined) return setprivChecked;
  setprivChecked = null;
  for (const dir of [...(process.env.PATH ?? '').split(':').filter((d) => d.startsWith('/')), '/usr/bin', '/bin']) {
    const path = join(dir, 'setpriv');
    if (!existsSync(path)) continue;
    const probe = spawnSync(path, ['--pdeathsig', 'SIGTERM', '--', 'true'], { stdio: 'ignore', timeout: 5000 });
    if (probe.status === 0) setprivChecked = path;
    break;
  }
  return setprivChecked;
}

export function runCommand(argv: readonly string[], o: RunOptions = {}): RunningCommand {
  const stdio: StdioOptions = ['inherit', o.stdoutToStderr ? 2 : 'inherit', 'inherit'];
  const wrapper = setpriv();
  if (!wrapper) o.debug?.('setpriv (util-linux) with --pdeathsig not found: if hostseries is killed with SIGKILL, the command runs on');
  // findExecutable has checked the command: setpriv's own exec cannot fail in a way that changes its status.
  const child = wrapper
    ? spawn(wrapper, ['--pdeathsig', 'SIGTERM', '--', ...argv], { stdio })
    : spawn(argv[0], argv.slice(1), { stdio });
  let running = true;
  const exited = new Promise<CommandResult>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      running = false;
      resolve({ status: error.code === 'ENOENT' ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN, error });
    });
    child.once('exit', (code, signal) => {
      running = false;
      if (signal) resolve({ status: 128 + (constants.signals[signal] ?? 0), signal });
      else resolve({ status: code ?? 0 });
    });
  });
  return {
    get pid() {
      return child.pid;
    },
    get running() {
      return running;
    },
    exited,
    signal: (sig) => {
      if (running) child.kill(sig);
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
