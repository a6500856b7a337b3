/**
 * `record` with a command records the command's processes (and its own, as `self`) and the
 * counters the command writes to HOSTSERIES_COUNTER_FD; `--watch` adds processes; a process whose
 * I/O cannot be read is said once, not every tick. Run as users run it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readTimeSeriesJson } from '../lib/files/json-file.js';
import type { TimeSeriesSample } from '../lib/index.js';
import { cliWorkdir, cli as run, ENV, MAIN, type Result } from './support/cli.js';

let dir: string;
const p = (name: string): string => join(dir, name);
const cli = (args: string[]): Result => run(args, { cwd: dir, timeoutMs: 30_000 });

cliWorkdir('hs-cli-procs-', (d) => (dir = d));

async function samplesOf(file: string): Promise<TimeSeriesSample[]> {
  const data = await readTimeSeriesJson(file);
  return [...data.samplesByHost.values()][0];
}

describe('record: processes and counters', () => {
  it("records the command's tree, itself as `self`, and the command's counter lines", async () => {
    const script = 'sleep 0.4; echo "steps 3" >&3; echo steps >&3; echo "loss=0.5" >&3; echo "what is this" >&3; echo "what is this" >&3; sleep 0.5; echo "fifo 7" > "$HOSTSERIES_COUNTER_FIFO"; echo "steps 2" >&3';
    const r = cli(['record', '-q', '-i', '0.1', '-o', p('run.json'), '--', 'sh', '-c', script]);
    expect(r.stderr.match(/HOSTSERIES_COUNTER_FD: "what is this"/g)).toHaveLength(1);
    expect(r.status).toBe(0);
    const samples = await samplesOf(p('run.json'));
    const keys = new Set(samples.flatMap((s) => (s.processes ?? []).map((e) => e.key)));
    expect(keys).toContain('self');
    expect(keys).toContain('sh');
    expect(keys).toContain('sleep');
    const sh = samples.flatMap((s) => s.processes ?? []).find((e) => e.key === 'sh')!;
    expect(sh.cmdline).toBe(`sh -c ${script}`);
    // The lines written just before the command exits are in the last sample.
    expect(samples.at(-1)!.app).toEqual({ steps: 6, loss: 0.5, fifo: 7 });

    const text = cli(['summary', p('run.json')]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^ {2}process +cpu% avg +p95 +max +peak RSS MiB +read MiB +written MiB +restarts$/m);
    expect(text.stdout).toMatch(/^ {2}self +[\d.]+ /m);
    expect(text.stdout).toMatch(/^ {2}app steps: 0|^ {2}app steps: [1-4]/m);
    const json = JSON.parse(cli(['summary', '--json', p('run.json')]).stdout) as { hosts: { processes: { key: string; peak_rss_kb: number }[]; app: { name: string; last: number }[] }[] };
    const host = json.hosts[0];
    expect(host.processes.find((e) => e.key === 'self')!.peak_rss_kb).toBeGreaterThan(10_000);
    expect(host.app).toContainEqual(expect.objectContaining({ name: 'steps', last: 6 }));
  });

  it('--watch adds processes; --no-watch-command records none; a bad --watch is a usage error naming it', async () => {
    const w = cli(['record', '-q', '-i', '0.1', '-n', '3', '-w', String(process.pid), '-o', p('w.json')]);
    expect(w.status).toBe(0);
    const watched = await samplesOf(p('w.json'));
    expect(watched.every((s) => s.processes?.some((e) => e.pid === process.pid))).toBe(true);

    const none = cli(['record', '-q', '-i', '0.1', '--no-watch-command', '-o', p('none.json'), '--', 'sleep', '0.3']);
    expect(none.status).toBe(0);
    expect((await samplesOf(p('none.json'))).every((s) => s.processes === undefined)).toBe(true);

    const bad = cli(['record', '-q', '-w', 'name:', '-o', p('bad.json'), '--', 'true']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/"name:"/);
  });

  it("a process whose /proc/<pid>/io may not be read (another user's) is said once, in the first sample only", async () => {
    // As root every io file is readable: record as nobody, watching pid 1 (root's).
    const asRoot = process.getuid?.() === 0;
    // The scratch directory is private (0700): nobody gets one of its own.
    const out = mkdtempSync(join(tmpdir(), 'hs-cli-nobody-'));
    onTestFinished(() => rmSync(out, { recursive: true, force: true }));
    chmodSync(out, 0o777);
    const r = spawnSync(process.execPath, [MAIN, 'record', '-q', '-i', '0.1', '-n', '4', '-w', '1', '-o', join(out, 'io.json')], {
      cwd: out, env: { ...ENV, HOME: out }, encoding: 'utf8', timeout: 30_000, ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const samples = await samplesOf(join(out, 'io.json'));
    const init = samples.map((s) => s.processes?.find((e) => e.pid === 1));
    expect(init.every((e) => e !== undefined && e.read_bytes === undefined && e.cpu_user_ticks !== undefined)).toBe(true);
    const key = `processes.${init[0]!.key}`;
    expect(samples[0].errors?.[key]).toMatch(/^\/proc\/1\/io: .*(denied|not permitted)/i);
    expect(samples.slice(1).every((s) => s.errors?.[key] === undefined)).toBe(true);
  });
});
