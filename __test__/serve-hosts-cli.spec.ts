/**
 * `hostseries hosts list|show|compare` against a real `hostseries serve` with a read token: the
 * hosts, online or not, tags, and headline rates equal to what the read API gives; the token from
 * the environment or a file; `hosts SPEC` (the older form of `hosts parse`) with its note.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { stringifyJson, TimeSeriesCollector } from '../lib/index.js';
import { wholeDisks } from '../lib/cli/hosts/headline.js';
import type { SampleDict } from '../lib/types/sample.js';
import { cli, cliWorkdir, ENV, start } from './support/cli.js';
import { push, startServe, type Server } from './support/serve.js';

const TOKEN = 'hosts-cli-write-token-0123456789';
const READ = 'hosts-cli-read-token-0123456789';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let dir = '';
cliWorkdir('hostseries-hosts-cli-', (d) => (dir = d));
let server: Server;
let samples: SampleDict[] = [];

beforeAll(async () => {
  // Online for the whole spec (one push of samples 0.1 s apart would make it offline after 3 s).
  server = await startServe(['--data', join(dir, 'data'), '--offline-after', '600'], dir, { HOSTSERIES_TOKEN: TOKEN, HOSTSERIES_READ_TOKEN: READ });
  const c = new TimeSeriesCollector({ intervalSeconds: 0.1 });
  await c.start();
  await sleep(1500);
  samples = (await c.stop()).map((s) => s.toDict());
  const as = (host: string): string => samples.map((d) => stringifyJson({ ...d, hostname: host })).join('\n');
  const auth = { authorization: `Bearer ${TOKEN}` };
  expect((await push(server.url, as('web1'), { ...auth, 'x-hostseries-tags': 'rack=r1,role=web' })).body.accepted).toBe(samples.length);
  expect((await push(server.url, as('db1'), { ...auth, 'x-hostseries-tags': 'rack=r2' })).body.accepted).toBe(samples.length);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

/** `hostseries ARGS` asynchronously (the server is in this process's event loop's care). */
async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return start(args, { cwd: dir, env: { ...ENV, HOSTSERIES_SERVER: server.url, HOSTSERIES_TOKEN: READ, ...env } }).done;
}

async function avg(path: string, host: string): Promise<number> {
  const r = await fetch(`${server.url}/api/v1/aggregate?host=${host}&path=${encodeURIComponent(path)}&from=-5m`, { headers: { authorization: `Bearer ${READ}` } });
  return ((await r.json()) as { avg: number }).avg;
}

describe('hostseries hosts (a server)', () => {
  it('list: every host, online, tags, headline rates as the read API gives them; --json', async () => {
    const r = await run(['hosts', 'list']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^HOST\s+STATE\s+LAST SEEN\s+CPU %\s+MEM %\s+DISK MB\/s\s+NET MB\/s\s+TAGS$/);
    expect(lines[1]).toMatch(/^db1\s+online\s+\d+s ago\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+rack=r2$/);
    expect(lines[2]).toMatch(/^web1\s+online\s+\d+s ago\s+.*rack=r1,role=web$/);
    expect(lines[3]).toBe('2 hosts: 2 online, 0 offline (rates: the last 5m)');

    const j = await run(['hosts', 'list', '--json']);
    const list = JSON.parse(j.stdout) as { hostname: string; online: boolean; tags: Record<string, string>; rates: Record<string, number> }[];
    expect(list.map((h) => [h.hostname, h.online, h.tags])).toEqual([['db1', true, { rack: 'r2' }], ['web1', true, { rack: 'r1', role: 'web' }]]);
    expect(list[1].rates.cpu_pct).toBe(await avg('rates.cpu.all.busy', 'web1'));
    expect(list[1].rates.mem_used_pct).toBe(await avg('rates.mem.used_pct', 'web1'));
    let disk = 0;
    for (const d of wholeDisks(samples[0].diskstats!.map((e) => e.device_name))) disk += (await avg(`rates.disk.${d}.rMB_s`, 'web1')) + (await avg(`rates.disk.${d}.wMB_s`, 'web1'));
    expect(list[1].rates.disk_MB_s).toBeCloseTo(disk, 9);
    expect(typeof list[1].rates.net_MB_s).toBe('number');
  }, 30_000);

  it('show HOST and compare HOST HOST; an unknown host is named', async () => {
    const s = await run(['hosts', 'show', 'web1']);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/^host\s+web1$/m);
    expect(s.stdout).toMatch(/^state\s+online \(offline after [\d.]+ s without a push\)$/m);
    expect(s.stdout).toMatch(/^tags\s+rack=r1,role=web$/m);
    expect(s.stdout).toMatch(new RegExp(`^samples\\s+${samples.length} \\(`, 'm'));
    expect(s.stdout).toMatch(/^CPU busy % \(last 5m\)\s+[\d.]+$/m);
    const c = await run(['hosts', 'compare', 'web1', 'db1', '--last', '10m']);
    expect(c.status, c.stderr).toBe(0);
    const lines = c.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s+web1\s+db1$/);
    expect(lines.find((l) => l.startsWith('tags'))).toMatch(/^tags\s+rack=r1,role=web\s+rack=r2$/);
    expect(lines.find((l) => l.startsWith('CPU busy %'))).toMatch(/^CPU busy %\s+[\d.]+\s+[\d.]+$/);
    expect(lines[lines.length - 1]).toBe('(rates: averages over the last 10m)');
    const u = await run(['hosts', 'show', 'nobody']);
    expect([u.status, u.stderr]).toEqual([1, expect.stringMatching(/404: host: no host "nobody"/)]);
  }, 30_000);

  it('the token from the environment or --token-file; a wrong one is 401 with a hint; no server is a usage error', async () => {
    writeFileSync(join(dir, 'read-token'), `${READ}\n`);
    const f = await run(['hosts', 'list', '--token-file', join(dir, 'read-token')], { HOSTSERIES_TOKEN: '' });
    expect(f.status, f.stderr).toBe(0);
    const w = await run(['hosts', 'list'], { HOSTSERIES_TOKEN: 'not-the-read-token-0123456' });
    expect([w.status, w.stderr]).toEqual([1, expect.stringMatching(/401: .*give the read token: HOSTSERIES_TOKEN or --token-file/)]);
    expect(w.stderr).not.toContain('not-the-read-token');
    const n = cli(['hosts', 'list'], { cwd: dir, env: { ...ENV, HOSTSERIES_SERVER: '' } });
    expect([n.status, n.stderr]).toEqual([2, expect.stringMatching(/give the server: --server URL or HOSTSERIES_SERVER/)]);
  }, 30_000);

  it("'hosts SPEC' (the older form) still parses, with a one-line note; 'hosts parse SPEC' without", () => {
    const old = cli(['hosts', 'node[1-2]'], { cwd: dir });
    const now = cli(['hosts', 'parse', 'node[1-2]'], { cwd: dir });
    expect(old.status).toBe(0);
    expect(old.stdout).toBe(now.stdout);
    expect(old.stdout).toMatch(/^node1\s+-\s+remote \(ssh\)$/m);
    expect(old.stderr).toBe("hostseries: note: 'hostseries hosts SPEC' is now 'hostseries hosts parse SPEC'\n");
    expect(now.stderr).toBe('');
  });

  it('whole disks: partitions, loop, ram and device-mapper devices left out', () => {
    expect(wholeDisks(['sda', 'sda1', 'sda2', 'nvme0n1', 'nvme0n1p1', 'loop0', 'ram0', 'dm-0', 'vdb', 'mmcblk0', 'mmcblk0p2', 'sdaa'])).toEqual(['sda', 'nvme0n1', 'vdb', 'mmcblk0', 'sdaa']);
  });
});
