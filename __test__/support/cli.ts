/**
 * Running the `hostseries` CLI as users run it (the built dist/cli/main.js in a child process),
 * for the cli-*.spec.ts files. The build runs once for all of them: under a lock, and only when a
 * source is newer than the last build (spec files run in parallel workers).
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export const ROOT = resolve(__dirname, '..', '..');
/** HOSTSERIES_CLI_MAIN runs the specs against another build (e.g. the code before a fix); no build then. */
const OTHER_MAIN = process.env.HOSTSERIES_CLI_MAIN;
export const MAIN = OTHER_MAIN ?? join(ROOT, 'dist', 'cli', 'main.js');
const STAMP = join(ROOT, 'dist', '.cli-spec-build');
const LOCK = join(ROOT, 'dist', '.cli-spec-build.lock');

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of every run: no ssh-agent, never a terminal. */
export const ENV: NodeJS.ProcessEnv = { ...process.env, SSH_AUTH_SOCK: '', NODE_OPTIONS: '' };

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Build dist/ (tsc) unless it is newer than every source; one spec file at a time. */
export async function buildCli(): Promise<void> {
  if (OTHER_MAIN) return;
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + 110_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${LOCK} held for too long (remove it if no test runs)`);
      await sleep(200);
    }
  }
  try {
    const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
    if (!existsSync(MAIN) || built < newestSource(join(ROOT, 'lib'))) {
      const started = new Date();
      const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
      // Type errors are the typecheck step's to report (tsc emits regardless); a missing CLI is ours.
      if (tsc.status !== 0) console.warn(`tsc -p tsconfig.build.json reported:\n${tsc.stdout}${tsc.stderr}`);
      if (!existsSync(MAIN)) throw new Error(`${MAIN} was not built:\n${tsc.stdout}${tsc.stderr}`);
      writeFileSync(STAMP, '');
      // The sources as they were when tsc started: an edit during the build rebuilds next time.
      utimesSync(STAMP, started, started);
    }
  } finally {
    rmdirSync(LOCK);
  }
}

export interface RunOptions {
  cwd: string;
  timeoutMs?: number;
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  /** stdio for spawnSync (default: pipes). */
  stdio?: StdioOptions;
  /** start() only: run under `ulimit -f` (512-byte blocks): writes past that size fail with EFBIG, as on a full disk. */
  fileSizeBlocks?: number;
}

export function cli(args: string[], o: RunOptions): Result {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    cwd: o.cwd, env: o.env ?? ENV, encoding: 'utf8', timeout: o.timeoutMs ?? 20_000, input: o.input, stdio: o.stdio,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A shell command line, run with `sh -c` (for redirections such as 2>&- or 2>/dev/full). */
export function sh(script: string, o: RunOptions): Result {
  const r = spawnSync('sh', ['-c', script], { cwd: o.cwd, env: { ...(o.env ?? ENV), HS: `${process.execPath} ${MAIN}` }, encoding: 'utf8', timeout: o.timeoutMs ?? 20_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export interface Started {
  child: ChildProcess;
  done: Promise<Result>;
  stderr: () => string;
}

/** A CLI run in the background, in its own process group (so no terminal signal reaches it). */
export function start(args: string[], o: RunOptions): Started {
  const [cmd, argv] = o.fileSizeBlocks === undefined
    ? [process.execPath, [MAIN, ...args]]
    : ['sh', ['-c', `ulimit -f ${o.fileSizeBlocks} && exec "$0" "$@"`, process.execPath, MAIN, ...args]];
  const child = spawn(cmd, argv, { cwd: o.cwd, env: o.env ?? ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<Result>((res) => child.once('close', (status, signal) => res({ status, signal, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

/**
 * For a CLI spec file: build the CLI, then make a scratch directory (`use` gets its path) before
 * the file's tests; remove it after them.
 */
export function cliWorkdir(prefix: string, use: (dir: string) => void): void {
  let dir: string | undefined;
  beforeAll(async () => {
    await buildCli();
    dir = mkdtempSync(join(tmpdir(), prefix));
    use(dir);
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}
