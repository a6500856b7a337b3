/**
 * `record`'s watched processes, for what a recording must not hold and must not lose, run as
 * users run it: a command with secret-looking arguments (the file holds them redacted, or no
 * command line at all with --cmdline off); a double fork whose middle process exits at once (its
 * orphan, re-parented to record as a child subreaper, is in the command's tree, and is reaped:
 * no zombie is left while record runs); and a descriptor limit too low to keep 4 descriptors per
 * watched process (all are still recorded, with one warning).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTimeSeriesJson } from '../lib/files/json-file.js';
import type { TimeSeriesSample } from '../lib/index.js';
import { cliWorkdir, cli as run, ENV, MAIN, type Result } from './support/cli.js';

let dir: string;
const p = (name: string): string => join(dir, name);
const cli = (args: string[]): Result => run(args, { cwd: dir, timeoutMs: 30_000 });

cliWorkdir('hs-cli-secrets-', (d) => (dir = d));

async function samplesOf(file: string): Promise<TimeSeriesSample[]> {
  const data = await readTimeSeriesJson(file);
  return [...data.samplesByHost.values()][0];
}

describe('record: secrets, orphans and descriptors of watched processes', () => {
  it('records command lines with secret-looking values redacted (by default), whole (full) or not at all (off)', async () => {
    const args = ['sh', '-c', 'sleep 0.4', 'sh', '--password', 'hunter2', '--api-key=k3y', 'https://bob:pa55@db.example/x'];
    const r = cli(['record', '-q', '-i', '0.1', '-o', p('run.json'), '--', ...args]);
    expect(r.status).toBe(0);
    const text = readFileSync(p('run.json'), 'utf8');
    for (const secret of ['hunter2', 'k3y', 'pa55']) expect(text).not.toContain(secret);
    const sh = (await samplesOf(p('run.json'))).flatMap((s) => s.processes ?? []).find((e) => e.key === 'sh')!;
    expect(sh.cmdline).toBe('sh -c sleep 0.4 sh --password *** --api-key=*** https://bob:***@db.example/x');

    expect(cli(['record', '-q', '-i', '0.1', '--cmdline', 'full', '-o', p('full.json'), '--', ...args]).status).toBe(0);
    expect(readFileSync(p('full.json'), 'utf8')).toContain('--password hunter2');

    expect(cli(['record', '-q', '-i', '0.1', '--cmdline', 'off', '-o', p('off.json'), '--', ...args]).status).toBe(0);
    const off = (await samplesOf(p('off.json'))).flatMap((s) => s.processes ?? []);
    expect(off.length).toBeGreaterThan(0);
    expect(off.every((e) => e.cmdline === '')).toBe(true);

    const bad = cli(['record', '--cmdline', 'some', '-n', '1', '-o', p('bad.json')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--cmdline.*some.*redacted, full, off/s);
  });

  it('keeps a double-forked orphan in the command tree and reaps it when it ends', async () => {
    // The middle shell exits at once: its sleep is re-parented before any sample sees its
    // parent. It ends at 0.6 s; at 3.5 s the command looks whether it is still a zombie.
    const script = 'sh -c \'sleep 0.6 & echo $! > orphan\'; sleep 3.5; if [ -e /proc/$(cat orphan) ]; then echo zombie; else echo gone; fi > after';
    const t0 = Date.now();
    const r = cli(['record', '-q', '-i', '0.1', '-o', p('orphan.json'), '--', 'sh', '-c', script]);
    expect(r.status).toBe(0);
    // record exits with its command, not later.
    expect(Date.now() - t0).toBeLessThan(15_000);
    const orphan = Number(readFileSync(p('orphan'), 'utf8'));
    expect(readFileSync(p('after'), 'utf8').trim()).toBe('gone');
    const samples = await samplesOf(p('orphan.json'));
    const self = samples.flatMap((s) => s.processes ?? []).find((e) => e.key === 'self')!;
    const seen = samples.flatMap((s) => s.processes ?? []).filter((e) => e.pid === orphan);
    expect(seen.length).toBeGreaterThan(2);
    expect(seen[0].name).toBe('sleep');
    expect(seen[0].ppid).toBe(self.pid);
  });

  it('records every process under a low descriptor limit, with one warning', async () => {
    // 40 sleeps and their shell need 164 descriptors kept; the limit is 120 for all of record.
    const script = 'for i in $(seq 40); do sleep 1.5 & done; wait';
    const r = spawnSync('sh', ['-c', 'ulimit -n 120 && exec "$0" "$@"', process.execPath, MAIN, 'record', '-i', '0.2', '-o', p('fds.json'), '--', 'sh', '-c', script], {
      cwd: dir, env: ENV, encoding: 'utf8', timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.match(/RLIMIT_NOFILE 120/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/read by path/);
    const samples = await samplesOf(p('fds.json'));
    const most = Math.max(...samples.map((s) => (s.processes ?? []).filter((e) => e.name === 'sleep').length));
    expect(most).toBe(40);
    expect(samples.filter((s) => s.errors?.processes?.includes('RLIMIT_NOFILE'))).toHaveLength(1);
  });
});
