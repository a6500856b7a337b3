/**
 * The `hostseries` CLI, run as users run it: the built dist/cli/main.js in a child process,
 * real files in a temp dir, real signals, a real sshd on loopback for the remote case.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson } from '../lib/json/parse.js';
import { readTimeSeriesJson } from '../lib/files/json-file.js';
import { readTimeSeriesJsonl } from '../lib/files/jsonl-read.js';
import type { TimeSeriesSample } from '../lib/models/sample.js';
import { computeRates } from '../lib/rates/compute.js';
import { cliWorkdir, cli as runCli, ENV, MAIN, ROOT, start as startCli, type Result, type Started } from './support/cli.js';
import { makeSshTestEnv, sshdMissing, TestSshd, waitFor, type SshTestEnv } from './support/sshd.js';

const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

let dir: string;

const cli = (args: string[], opts: { timeoutMs?: number } = {}): Result => runCli(args, { cwd: dir, timeoutMs: opts.timeoutMs });
const start = (args: string[], opts: { env?: NodeJS.ProcessEnv; fileSizeBlocks?: number } = {}): Started => startCli(args, { cwd: dir, ...opts });

/** Sample lines in a JSON Lines stream written so far. */
function streamedSamples(path: string): number {
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.startsWith('{"record":"sample"')).length;
}

const p = (name: string): string => join(dir, name);

// The tests run the CLI as installed: it is built first, so a fresh `npm test` works.
cliWorkdir('hs-cli-', (d) => (dir = d));

describe('help and version', () => {
  it('--version prints the package version', () => {
    const r = cli(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(PKG.version);
  });

  it.each(['record', 'sample', 'summary', 'convert', 'hosts'])('%s --help has usage and examples', (cmd) => {
    const r = cli([cmd, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Usage: hostseries ${cmd}`);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain(`$ hostseries ${cmd}`);
  });

  it('record --help: --samples stops after N samples (the library\'s maxSamples is another thing)', () => {
    const r = cli(['record', '--help']);
    // (commander wraps the help to the width of the terminal)
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('-n, --samples <N> stop after N samples per host (error samples do not count; a host that is down is not waited for)');
    expect(r.stdout).not.toContain('max-samples');
  });

  it('no command: the overview on stderr, exit 2', () => {
    const r = cli([]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: hostseries');
    expect(r.stderr).toContain('record');
  });
});

describe('bad arguments: one line, the usage, exit 2', () => {
  it.each<[string[], string, RegExp]>([
    [['record', '--bogus'], 'record', /unknown option '--bogus'/],
    [['record', '-i', 'abc'], 'record', /--interval.*'abc' is invalid/],
    [['record', '-i', '0'], 'record', /Must be from 0.01 s to 86400 s/],
    [['record', '--format', 'xml'], 'record', /--format.*'xml'/],
    [['record', '-n', '1.5'], 'record', /--samples.*'1.5'/],
    [['record', '--max-samples', '3'], 'record', /unknown option '--max-samples'/],
    [['convert'], 'convert', /missing required argument 'file'/],
    [['record', '-q', '-v'], 'record', /cannot be used with/],
    [['record', '-H', 'node[1-'], 'record', /invalid host spec/],
    [['record', '--force-ssh'], 'record', /--force-ssh needs hosts/],
    [['sample', '--metrics', 'cpu'], 'sample', /unknown metric "cpu"/i],
    [['summary'], 'summary', /missing required argument 'file'/],
    [['hosts'], 'hosts', /give a host spec/],
    [['recrod'], '', /unknown command 'recrod'.*Did you mean record/],
  ])('%j', (args, cmd, message) => {
    const r = cli(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^hostseries: /);
    expect(lines[0]).toMatch(message);
    expect(lines[1]).toMatch(new RegExp(`^Usage: hostseries ${cmd}`.trimEnd()));
    expect(lines[2]).toContain('--help');
  });
});

describe('record', () => {
  it('around a command: its output passes through, its exit status is ours, the file is complete', async () => {
    const out = p('cmd.json');
    const t0 = Date.now();
    const r = cli(['record', '-i', '0.2', '-o', out, '--', 'sh', '-c', 'echo from-the-command; sleep 1; exit 3']);
    const elapsed = (Date.now() - t0) / 1000;
    expect(r.status, r.stderr).toBe(3);
    expect(r.stdout).toContain('from-the-command');
    expect(r.stderr).toContain(`wrote ${out}`);
    expect(r.stderr).not.toContain('\r'); // no status line when stderr is not a terminal
    expect(existsSync(p('cmd.partial.jsonl'))).toBe(false);
    const data = await readTimeSeriesJson(out);
    expect(data.collectionMethod).toBe('local');
    expect(data.collectionIntervalSeconds).toBe(0.2);
    const samples = data.samplesByHost.get(hostname())!;
    // One at once, then one every 0.2 s while the command ran (~1 s), and one as it ended; a loaded
    // machine misses ticks, never adds any.
    const ns = samples.map((s) => Number(s.timestampNs) / 1e9);
    const span = ns[ns.length - 1] - ns[0];
    expect(span).toBeGreaterThanOrEqual(0.8);
    expect(span).toBeLessThanOrEqual(elapsed);
    expect(samples.length).toBeGreaterThanOrEqual(3);
    expect(samples.length).toBeLessThanOrEqual(Math.round(span / 0.2) + 2);
    expect(data.numSamples).toBe(samples.length);
    expect(samples[0].diskstats).toBeDefined();
    expect(samples[0].stat?.cpu).toBeDefined();
  });

  it('--duration without a command; default file name; --quiet prints nothing', async () => {
    const r = cli(['record', '-d', '1', '-i', '0.25', '-q']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const name = readdirSync(dir).find((f) => /^hostseries-\d{8}T\d{6}Z\.json$/.test(f));
    expect(name).toBeDefined();
    const data = await readTimeSeriesJson(p(name!));
    const n = data.samplesByHost.get(hostname())!.length;
    expect(n).toBeLessThanOrEqual(6); // 0, 0.25, ..., 1.0 s (a 6th when the stop at 1 s came over a jiffy late; fewer when the machine is loaded)
    expect(n).toBeGreaterThanOrEqual(3);
  });

  it('--samples ends a recording after N samples; .jsonl output is the stream itself, never overwritten', async () => {
    const r = cli(['record', '--samples', '3', '-i', '0.1', '-o', p('three.jsonl')]);
    expect(r.status, r.stderr).toBe(0);
    const { data, complete } = await readTimeSeriesJsonl(p('three.jsonl'));
    expect(complete).toBe(true);
    expect(data.samplesByHost.get(hostname())).toHaveLength(3);
    // A second run to the same file is refused (without --force) before anything runs; the first stays as it was.
    const before = readFileSync(p('three.jsonl'));
    const again = cli(['record', '-n', '2', '-i', '0.1', '-o', p('three.jsonl'), '--', 'touch', p('three.marker')]);
    expect(again.status).toBe(1);
    expect(again.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(again.stderr).toContain(`${p('three.jsonl')}: exists; give --force to replace it`);
    expect(existsSync(p('three.marker'))).toBe(false);
    expect(readFileSync(p('three.jsonl')).equals(before)).toBe(true);
  });

  it('SIGINT goes to the command; the recording ends when it exits, with a complete file', async () => {
    const out = p('int.json');
    // (The trap ends the sleep too: it holds our stdout pipe open.)
    const script = "trap 'echo child-got-INT; kill $!; exit 7' INT; sleep 30 & wait";
    const { child, done } = start(['record', '-i', '0.2', '-o', out, '--', 'sh', '-c', script]);
    await waitFor(() => streamedSamples(p('int.partial.jsonl')) >= 3, 10_000, 'three samples');
    child.kill('SIGINT');
    const r = await done;
    expect(r.status, r.stderr).toBe(7);
    expect(r.stdout).toContain('child-got-INT');
    const data = await readTimeSeriesJson(out);
    expect(data.samplesByHost.get(hostname())!.length).toBeGreaterThanOrEqual(3);
    expect(existsSync(p('int.partial.jsonl'))).toBe(false);
  });

  it('SIGTERM without a command ends the recording, exit 0, complete file', async () => {
    const out = p('term.json');
    const { child, done } = start(['record', '-i', '0.2', '-o', out]);
    await waitFor(() => streamedSamples(p('term.partial.jsonl')) >= 2, 10_000, 'two samples');
    child.kill('SIGTERM');
    const r = await done;
    expect(r.status, r.stderr).toBe(0);
    expect((await readTimeSeriesJson(out)).samplesByHost.get(hostname())!.length).toBeGreaterThanOrEqual(2);
  });

  it('SIGKILL of the CLI leaves a readable JSON Lines stream', async () => {
    const { child, done } = start(['record', '-i', '0.2', '-o', p('killed.json'), '--', 'sleep', '30']);
    await waitFor(() => streamedSamples(p('killed.partial.jsonl')) >= 4, 10_000, 'four samples');
    // The whole group: the CLI and the sleep it runs.
    process.kill(-child.pid!, 'SIGKILL');
    await done;
    expect(existsSync(p('killed.json'))).toBe(false);
    const { data, complete } = await readTimeSeriesJsonl(p('killed.partial.jsonl'));
    expect(complete).toBe(false);
    expect(data.samplesByHost.get(hostname())!.length).toBeGreaterThanOrEqual(4);
  });

  it('a re-run never truncates a killed run\'s stream (exit 2, before the command); `convert` finalises it', async () => {
    const stream = p('crashed.partial.jsonl');
    const { child, done } = start(['record', '-i', '0.1', '-o', p('crashed.json'), '--', 'sleep', '30']);
    await waitFor(() => streamedSamples(stream) >= 5, 10_000, 'five samples');
    process.kill(-child.pid!, 'SIGKILL');
    await done;
    const before = readFileSync(stream);

    const marker = p('crashed.marker');
    const r = cli(['record', '-i', '0.1', '-o', p('crashed.json'), '--', 'touch', marker]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`hostseries: ${stream} is left from an unfinished recording (killed, or still running); `
      + `\`hostseries summary ${stream}\` can read it, \`hostseries convert ${stream}\` turns it into JSON — move it away to record to ${p('crashed.json')}\n`);
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(stream).equals(before)).toBe(true);

    // convert: run.partial.jsonl → run.json, every sample the stream holds; the stream is left alone.
    const c = cli(['convert', stream]);
    expect(c.status, c.stderr).toBe(0);
    const { data: streamed } = await readTimeSeriesJsonl(stream);
    const n = streamed.samplesByHost.get(hostname())!.length;
    expect(n).toBeGreaterThanOrEqual(5);
    expect(c.stderr).toContain(`wrote ${p('crashed.json')}: ${n} samples, 1 host`);
    expect(c.stderr).toContain(`${stream} has no footer`);
    const converted = await readTimeSeriesJson(p('crashed.json'));
    expect(converted).toEqual(streamed);
    expect(readFileSync(stream).equals(before)).toBe(true);

    // An existing output is not replaced without --force; -o writes elsewhere (gzipped by its name).
    const again = cli(['convert', stream]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/crashed\.json: exists; give --force/);
    expect(cli(['convert', '--force', '-q', stream]).status).toBe(0);
    const gz = cli(['convert', stream, '-o', p('crashed-copy.json.gz')]);
    expect(gz.status, gz.stderr).toBe(0);
    expect(readFileSync(p('crashed-copy.json.gz')).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(await readTimeSeriesJson(p('crashed-copy.json.gz'))).toEqual(streamed);

    // Moved away, recording to the same name works again (replacing the converted file: --force).
    renameSync(stream, p('crashed.old.jsonl'));
    const ok = cli(['record', '-q', '-f', '-n', '2', '-i', '0.1', '-o', p('crashed.json')]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(existsSync(stream)).toBe(false);
  });

  it.each([
    ['a missing directory', 'missing-dir/x.json'],
    ['a file as directory', 'plain-file/x.json'],
    ['a directory as the file', '.'],
  ])('an unwritable output (%s) fails before the command runs', (_what, output) => {
    writeFileSync(p('plain-file'), '');
    const marker = p('marker');
    const r = cli(['record', '-o', join(dir, output), '--', 'touch', marker]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('cannot write the recording');
    expect(existsSync(marker)).toBe(false);
  });

  it.each<[string, number, string]>([
    ['not found', 127, 'hostseries-no-such-command'],
    ['not executable', 126, './not-executable.sh'],
  ])('a command that cannot run (%s): exit %i as a shell would, before recording anything', (why, status, command) => {
    writeFileSync(p('not-executable.sh'), 'echo hi\n', { mode: 0o644 });
    const r = cli(['record', '-o', p('nocmd.json'), '--', command]);
    expect(r.status).toBe(status);
    expect(r.stderr).toBe(`hostseries: cannot run ${command}: ${why}\n`);
    expect(existsSync(p('nocmd.json'))).toBe(false);
    expect(existsSync(p('nocmd.partial.jsonl'))).toBe(false);
  });

  it('options after the command belong to the command', () => {
    const r = cli(['record', '-q', '-i', '0.2', '-o', p('pass.json'), 'sh', '-c', 'echo "$1"', 'sh', '--bogus']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('--bogus');
  });

  it.skipIf(!existsSync('/usr/bin/script'))('on a terminal: a live status line', () => {
    // script(1) gives the CLI a pseudo-terminal.
    const cmd = `${process.execPath} ${MAIN} record -d 1.5 -i 0.2 -o ${p('tty.json')}`;
    const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { cwd: dir, env: ENV, encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/recording 00:00:0\d · \d+ samples?/);
    expect(r.stdout).toContain('\x1b[2K');
    expect(r.stdout).toContain(`wrote ${p('tty.json')}`);
  });

  it.skipIf(!existsSync('/usr/bin/script'))('on a terminal with a command: the status line keeps to the bottom row', () => {
    const cmd = `stty rows 30 cols 100; ${process.execPath} ${MAIN} record -i 0.2 -o ${p('tty2.json')} -- sh -c 'echo from-the-command; sleep 1.5'`;
    const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { cwd: dir, env: ENV, encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toContain('\x1b[1;29r'); // rows 1-29 scroll, row 30 is ours
    expect(r.stdout).toMatch(/\x1b\[30;1H\x1b\[2Krecording 00:00:0\d · \d+ samples?/);
    expect(r.stdout).toContain('from-the-command');
    // The terminal is given back: the row cleared, the whole screen scrolling again.
    expect(r.stdout).toContain('\x1b[30;1H\x1b[2K\x1b[r');
  });
});

describe('record on a failing disk: warned at once, recording goes on, no sample lost', () => {
  // `ulimit -f 64`: every file the CLI writes stops at 32 KiB (EFBIG), as on a disk that fills up.
  // A sample of these sections is ~5 KiB on a stream line: a few fit, the rest of the run must not be lost.
  const LIMIT = 64;
  const SECTIONS = ['-m', 'meminfo,vmstat,loadavg'];
  const INTERVAL = 0.05;

  /**
   * No sample lost: every tick from the first sample to the last is either a sample in the file or
   * a tick the sampler says (-v) it missed because the machine was busy. A lost sample breaks the sum.
   */
  function expectEveryTick(samples: readonly TimeSeriesSample[], stderr: string, atLeast: number): void {
    const m = /the sampler missed (\d+) ticks?/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    const t = samples.map((x) => Number(x.timestampNs) / 1e9);
    for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThan(t[i - 1]);
    // The last sample is stop()'s own, off the tick grid, when it came sooner than a tick would.
    const last = t.length - 1;
    const final = last > 0 && t[last] - t[last - 1] < INTERVAL * 0.75 ? 1 : 0;
    const ticks = Math.round((t[last - final] - t[0]) / INTERVAL) + 1 + final;
    expect(samples.length + Number(m![1])).toBe(ticks);
    expect(samples.length).toBeGreaterThanOrEqual(atLeast);
  }

  /** Each error on one line, said once. */
  function expectOnce(stderr: string, text: string): void {
    expect(stderr.split(text).length - 1, stderr).toBe(1);
  }

  let tmpForFallback: string;
  beforeAll(() => {
    tmpForFallback = mkdtempSync(join(dir, 'tmpdir-'));
  });
  const fallbackEnv = (): NodeJS.ProcessEnv => ({ ...ENV, TMPDIR: tmpForFallback });

  it('the stream fails part way; the final file (which fits) holds every sample; exit 0', async () => {
    const out = p('full.json.gz');
    const stream = p('full.partial.jsonl');
    const run = start(['record', '-v', '-i', String(INTERVAL), '-d', '1.5', ...SECTIONS, '-o', out], { fileSizeBlocks: LIMIT, env: fallbackEnv() });
    // Warned at once, while still recording (not at the end).
    await waitFor(() => run.stderr().includes('warning:'), 5_000, 'the warning');
    expect(run.child.exitCode).toBeNull();
    const streamedAtFailure = streamedSamples(stream);
    const r = await run.done;
    expect(r.status, r.stderr).toBe(0);
    const warning = `warning: ${stream}: cannot write: EFBIG: file too large, write; recording goes on`;
    expect(r.stderr).toContain(warning);
    expectOnce(r.stderr, 'EFBIG');
    const data = await readTimeSeriesJson(out);
    const samples = data.samplesByHost.get(hostname())!;
    expectEveryTick(samples, r.stderr, 20);
    expect(samples.length).toBeGreaterThan(streamedAtFailure + 10);
    expect(data.numSamples).toBe(samples.length);
    expect(r.stderr).toMatch(new RegExp(`wrote ${out}: ${samples.length} samples, 1 host, .*\\(\\d+ samples the stream could not take came from memory\\)`));
    expect(existsSync(stream)).toBe(false);
    expect(readdirSync(tmpForFallback)).toEqual([]);
  });

  it('nothing fits where asked: a temporary directory gets it all (compressed if need be); exit 1', async () => {
    const out = p('full2.json');
    const stream = p('full2.partial.jsonl');
    const r = await start(['record', '-v', '-i', String(INTERVAL), '-d', '1.5', ...SECTIONS, '-o', out], { fileSizeBlocks: LIMIT, env: fallbackEnv() }).done;
    expect(r.status, r.stderr).toBe(1);
    // The stream, the file asked for, the same in the temporary directory: each failure said once.
    const [fallbackDir] = readdirSync(tmpForFallback).filter((f) => f.startsWith('hostseries-'));
    expect(fallbackDir).toBeDefined();
    const tmpPlain = join(tmpForFallback, fallbackDir, 'full2.json');
    const tmpGz = `${tmpPlain}.gz`;
    expectOnce(r.stderr, `${stream}: cannot write: EFBIG`);
    expectOnce(r.stderr, `${out}: cannot write: EFBIG`);
    expectOnce(r.stderr, `${tmpPlain}: cannot write: EFBIG`);
    expect(r.stderr).toMatch(new RegExp(`^hostseries: ${out} could not be written: the recording \\(\\d+ samples\\) is in ${tmpGz} instead, a temporary directory`, 'm'));
    expect(existsSync(out)).toBe(false);
    expect(existsSync(tmpPlain)).toBe(false);
    const data = await readTimeSeriesJson(tmpGz);
    const samples = data.samplesByHost.get(hostname())!;
    expectEveryTick(samples, r.stderr, 20);
    // The stream was kept; what it holds is the start of the recording.
    const { data: streamed, skippedLines } = await readTimeSeriesJsonl(stream);
    expect(skippedLines).toBe(0); // the sink cut the torn batch off
    const first = streamed.samplesByHost.get(hostname())!;
    expect(first.length).toBeLessThan(samples.length - 10);
    expect(samples.slice(0, first.length)).toEqual(first);
    expect(r.stderr).toContain(`${stream} holds the first ${first.length} sample`);
    rmSync(join(tmpForFallback, fallbackDir), { recursive: true });
  });

  it('the final file cannot be written (its name taken by a directory mid-run): a temporary directory; exit 1', async () => {
    const out = p('taken.json');
    const stream = p('taken.partial.jsonl');
    const run = start(['record', '-i', '0.1', '-d', '1.5', ...SECTIONS, '-o', out], { env: fallbackEnv() });
    await waitFor(() => streamedSamples(stream) >= 2, 10_000, 'two samples');
    mkdirSync(out);
    const r = await run.done;
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).not.toContain('warning');
    expectOnce(r.stderr, `${out}: cannot write the recording: it is a directory`);
    const [fallbackDir] = readdirSync(tmpForFallback).filter((f) => f.startsWith('hostseries-'));
    const saved = join(tmpForFallback, fallbackDir, 'taken.json');
    expect(r.stderr).toContain(`is in ${saved} instead`);
    const data = await readTimeSeriesJson(saved);
    const { data: streamed, complete } = await readTimeSeriesJsonl(stream);
    expect(complete).toBe(true);
    expect(data).toEqual(streamed);
    expect(data.samplesByHost.get(hostname())!.length).toBeGreaterThanOrEqual(10);
    rmSync(join(tmpForFallback, fallbackDir), { recursive: true });
  });
});

describe('summary', () => {
  let file: string;

  beforeAll(() => {
    file = p('sum.json');
    // Some disk and CPU activity so there is something to see.
    const r = cli(['record', '-q', '-i', '0.2', '-o', file, '--', 'sh', '-c', `dd if=/dev/zero of=${p('dd.bin')} bs=1M count=16 conv=fsync 2>/dev/null; sleep 0.5`]);
    expect(r.status, r.stderr).toBe(0);
  });

  it('text: coverage and an aligned table of headline rates per host', () => {
    const r = cli(['summary', file]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 1 host, .* collected locally$`));
    expect(r.stdout).toMatch(new RegExp(`^${hostname()}: \\d+ samples over [0-9.]+s, interval 0.2s, (no gaps|\\d+ gaps? \\(longest [0-9.]+s\\)), no errors$`, 'm'));
    const header = lines.find((l) => /^\s+avg\s+min\s+max\s+p95$/.test(l))!;
    expect(header).toBeDefined();
    const rows = ['disk IOPS', 'disk read MB/s', 'disk write MB/s', 'disk %util (max)', 'net rx MB/s', 'net tx MB/s', 'CPU busy %', 'memory used %']
      .map((label) => lines.find((l) => l.trimStart().startsWith(label))!);
    for (const row of rows) {
      expect(row).toBeDefined();
      expect(row.length).toBe(header.length); // right-aligned to the same edge
    }
  });

  it('--json: machine-readable, with the same numbers', async () => {
    const r = cli(['summary', '--json', file]);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as {
      format: string; complete: boolean; collection_method: string;
      hosts: { host: string; samples: number; gaps: number; error_samples: number; disks: string[]; metrics: Record<string, { count: number; avg: number | null; max: number | null; p95: number | null }> }[];
    };
    expect(s).toMatchObject({ format: 'json', complete: true, collection_method: 'local' });
    const h = s.hosts[0];
    const data = await readTimeSeriesJson(file);
    expect(h.host).toBe(hostname());
    expect(h.samples).toBe(data.samplesByHost.get(hostname())!.length);
    // Gaps: samples more than 1.5 intervals apart (a loaded machine has some).
    const ns = data.samplesByHost.get(hostname())!.map((x) => Number(x.timestampNs) / 1e9);
    expect(h.gaps).toBe(ns.slice(1).filter((t, i) => t - ns[i] > 0.3).length);
    expect(h.error_samples).toBe(0);
    expect(h.metrics.cpu_busy_pct.count).toBe(h.samples - 1);
    expect(h.metrics.mem_used_pct.count).toBe(h.samples);
    expect(h.metrics.mem_used_pct.avg).toBeGreaterThan(0);
    // Disk write MB/s as the summary says it, against rates computed here from the recorded file:
    // over the disks it names, between each sample and the one before.
    const samples = data.samplesByHost.get(hostname())!;
    const perInterval: number[] = [];
    let writtenMiB = 0;
    for (let i = 1; i < samples.length; i++) {
      const rates = computeRates(samples[i - 1], samples[i]);
      const v = h.disks.reduce((sum, d) => sum + (rates.disk[d]?.wMB_s ?? 0), 0);
      perInterval.push(v);
      writtenMiB += v * rates.intervalSeconds;
    }
    const w = h.metrics.disk_write_mb_s;
    expect(w.count).toBe(perInterval.length);
    expect(w.max).toBeCloseTo(Math.max(...perInterval), 6);
    expect(w.avg).toBeCloseTo(perInterval.reduce((a, b) => a + b, 0) / perInterval.length, 6);
    // The rates add up to what the counters say was written over the whole run (sectors of 512 bytes).
    const sectors = (x: TimeSeriesSample): number => h.disks.reduce((sum, d) => sum + Number(x.diskstats!.find((e) => e.device_name === d)!.sectors_written), 0);
    expect(writtenMiB).toBeCloseTo(((sectors(samples[samples.length - 1]) - sectors(samples[0])) * 512) / 2 ** 20, 3);
    // dd wrote 16 MiB with fsync: on a disk (not tmpfs) the summed disks saw at least that.
    const TMPFS_MAGIC = 0x01021994;
    if (statfsSync(dir).type !== TMPFS_MAGIC) {
      expect(writtenMiB).toBeGreaterThanOrEqual(16);
      expect(w.max).toBeGreaterThan(0);
    }
    // Partitions never counted beside their disk.
    for (const d of h.disks) expect(h.disks.some((o) => o !== d && new RegExp(`^${o}p?\\d+$`).test(d))).toBe(false);
  });

  it('reads a gzipped JSON Lines stream too', () => {
    const r1 = cli(['record', '-q', '-n', '3', '-i', '0.1', '-o', p('s.jsonl.gz')]);
    expect(r1.status, r1.stderr).toBe(0);
    const r = cli(['summary', '--json', p('s.jsonl.gz')]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'jsonl', complete: true, hosts: [{ samples: 3 }] });
  });

  it('a file that is not a recording: one line, exit 1', () => {
    writeFileSync(p('junk.json'), 'not json at all');
    const r = cli(['summary', p('junk.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    const missing = cli(['summary', p('nope.json')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('nope.json');
  });
});

describe('sample', () => {
  it('--json is the full sample dict, bigint-exact JSON', () => {
    const r = cli(['sample', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const d = parseJson(r.stdout) as Record<string, unknown>;
    expect(Object.keys(d)).toEqual(['timestamp', 'timestamp_ns', 'hostname', 'diskstats', 'vmstat', 'meminfo', 'loadavg', 'netdev', 'stat']);
    expect(typeof d.timestamp_ns).toBe('bigint'); // nanoseconds since 1970 are past 2^53
    expect(d.hostname).toBe(hostname());
  });

  it('readable by default, a line or so per section; --metrics narrows it', () => {
    const r = cli(['sample']);
    expect(r.status, r.stderr).toBe(0);
    for (const label of ['load', 'cpu', 'memory', 'disks', 'net', 'vm', 'processes']) expect(r.stdout).toMatch(new RegExp(`^${label} `, 'm'));
    const m = cli(['sample', '-m', 'meminfo']);
    expect(m.stdout).toMatch(/^memory .* total/m);
    expect(m.stdout).not.toMatch(/^load /m);
  });
});

describe('hosts', () => {
  interface Host { host: string; user: string | null; slots: number | null; max_slots: number | null; local: boolean }
  const hosts = (...args: string[]): Host[] => {
    const r = cli(['hosts', '--json', ...args]);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Host[];
  };

  it.each<[string[], string[]]>([
    [['a,b c'], ['a', 'b', 'c']],
    [['node[01-03]'], ['node01', 'node02', 'node03']],
    [['node[1-2,7]-ib'], ['node1-ib', 'node2-ib', 'node7-ib']],
    [['a,b,a', 'b'], ['a', 'b']],
    [['[::1]', 'fe80::1'], ['::1', 'fe80::1']],
  ])('%j → %j', (args, want) => {
    expect(hosts(...args).map((h) => h.host)).toEqual(want);
  });

  it('users, slots (never ports) and max_slots', () => {
    expect(hosts('alice@gpu1:4', 'b:22')).toEqual([
      expect.objectContaining({ host: 'gpu1', user: 'alice', slots: 4 }),
      expect.objectContaining({ host: 'b', user: null, slots: 22 }),
    ]);
  });

  it('a hostfile (Open MPI) merged with specs, duplicates dropped', () => {
    writeFileSync(p('hostfile'), '# nodes\nn1 slots=4 max_slots=8\nn2 slots=2\n\nn1\n');
    expect(hosts('n0,n2', '--hostfile', p('hostfile')).map((h) => [h.host, h.slots, h.max_slots])).toEqual([
      ['n0', null, null], ['n2', null, null], ['n1', 4, 8],
    ]);
  });

  it('this machine is local (by name and loopback address), others remote', () => {
    expect(hosts('localhost', '127.0.0.5', hostname(), 'some-other-node').map((h) => h.local)).toEqual([true, true, true, false]);
  });

  it('text: a table and a count', () => {
    const r = cli(['hosts', 'node[1-2]:8', 'localhost']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'HOST       SLOTS  WHERE',
      'node1      8      remote (ssh)',
      'node2      8      remote (ssh)',
      'localhost  -      local (native)',
      '3 hosts: 1 local, 2 remote',
      '',
    ]);
  });

  it('a bad spec names the token, exit 2', () => {
    const r = cli(['hosts', 'parse', 'a;rm']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^hostseries: invalid host spec "a;rm"/);
  });
});

const missing = sshdMissing();

describe.skipIf(missing !== undefined)('record over SSH (a real sshd on loopback)', () => {
  let env: SshTestEnv;
  let sshd: TestSshd;

  beforeAll(async () => {
    env = makeSshTestEnv();
    sshd = new TestSshd(env, { addresses: ['127.0.0.2', '127.0.0.3'] });
    await sshd.start();
  }, 60_000);

  afterAll(async () => {
    await sshd?.stop();
    env?.cleanup();
  });

  it('records simulated hosts with --force-ssh; an unreachable one is a warning, not a failure', async () => {
    const out = p('ssh.json');
    const r = await start([
      'record', '-i', '0.25', '-o', out, '--force-ssh', '-H', '127.0.0.2,127.0.0.3,127.0.0.9',
      '--user', 'root', '--port', String(sshd.port), '--identity', env.clientKey, '--known-hosts', env.knownHosts,
      '--no-ssh-config', '--connect-timeout', '3',
      '--', 'sh', '-c', 'sleep 1.5; exit 4',
    ]).done;
    expect(r.status, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/warning: 127\.0\.0\.9: .*recording goes on without it/);
    expect(r.stderr).toMatch(/warning: no data from 127\.0\.0\.9$/m);
    const data = await readTimeSeriesJson(out);
    expect(data.collectionMethod).toBe('ssh');
    expect(data.hostsRequested).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.9']);
    // mlpstorage's hosts_collected counts hosts with error samples too (get_hosts_with_data()).
    expect(data.hostsCollected).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.9']);
    for (const h of ['127.0.0.2', '127.0.0.3']) {
      const samples = data.samplesByHost.get(h)!;
      expect(samples.length).toBeGreaterThanOrEqual(4);
      expect(samples.filter((s) => s.errors === undefined).length).toBeGreaterThanOrEqual(4);
      expect(samples[0].meminfo).toBeDefined();
    }
    // The dead host is in the file as mlpstorage has it, with error samples (they count as samples).
    const dead = data.samplesByHost.get('127.0.0.9');
    expect(dead).toBeDefined();
    expect(dead!.length).toBeGreaterThanOrEqual(1);
    for (const x of dead!) {
      expect(x.errors?.ssh).toEqual(expect.any(String));
      expect(x.meminfo).toBeUndefined();
    }
    // The host key was learned (accept-new).
    expect(readFileSync(env.knownHosts, 'utf8')).toContain(`[127.0.0.2]:${sshd.port}`);
    const s = cli(['summary', out]);
    expect(s.status).toBe(0);
    expect(s.stdout).toContain('collected over SSH');
    expect(s.stdout).toMatch(new RegExp(`^127\\.0\\.0\\.9: ${dead!.length} samples?.*, ${dead!.length} with errors\n  errors from ssh: ${dead!.length} \\(first: .*\\)\n  no data in any sample$`, 'm'));
  });
});
