/**
 * A host's tags as labels, one rule for every remote write (lib/prometheus/labels.ts): a real
 * `hostseries agent --tag role-x=a --remote-write URL` lands in the real Prometheus 2.42 and
 * VictoriaMetrics with the label `role_x` (a name with `-` is refused by the TSDB), and
 * `serve --prometheus` reading those samples lists the host with the tags it would have had pushed
 * through serve.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tagLabel, tagLabels } from '../lib/prometheus/labels.js';
import { cliWorkdir, ENV, start, type Started } from './support/cli.js';
import { startServe, type Server } from './support/serve.js';
import { missingTsdb, startPrometheus, startVictoria, type Service } from './support/tsdb.js';
import { until } from './support/until.js';

const missing = missingTsdb();
if (missing && process.env.CI) throw new Error(`the remote-write label tests need ${missing}`);

let dir = '';
cliWorkdir('hostseries-rw-labels-', (d) => (dir = d));

describe('tagLabel', () => {
  it('makes a label name of any key, and keeps tags off the labels the TSDB and the families use', () => {
    expect(tagLabel('rack')).toBe('rack');
    expect(tagLabel('role-x')).toBe('role_x');
    expect(tagLabel('dc.zone/a')).toBe('dc_zone_a');
    expect(tagLabel('9lives')).toBe('_9lives');
    expect(tagLabel('')).toBe('_');
    expect(tagLabel('café')).toBe('caf_');
    for (const k of ['instance', 'job', 'device', 'cpu', 'mode', 'agent']) expect(tagLabel(k)).toBe(`tag_${k}`);
    expect(tagLabel('__name__')).toBe('tag___name__');
    for (const k of ['role-x', '9lives', '', 'a b', 'ü', '__x']) expect(tagLabel(k)).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
    expect(tagLabels({ 'role-x': 'a', device: 'd' })).toEqual({ role_x: 'a', tag_device: 'd' });
  });
});

describe.skipIf(missing !== undefined)("agent --remote-write: the tags as labels the TSDB takes", () => {
  const services: Service[] = [];
  const agents: Started[] = [];
  const servers: Server[] = [];
  beforeAll(async () => {
    services.push(...(await Promise.all([startPrometheus(), startVictoria()])));
  });
  afterAll(async () => {
    for (const a of agents) if (a.child.exitCode === null) a.child.kill('SIGKILL');
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await Promise.all(services.map((s) => s.dispose()));
  });

  it('--tag role-x=a --tag device=d lands as role_x and tag_device in Prometheus and VictoriaMetrics; serve --prometheus lists them', async () => {
    const [prom, vm] = services;
    const hosts = [`rw-labels-prom-${process.pid}`, `rw-labels-vm-${process.pid}`];
    for (const [i, db] of [prom, vm].entries()) {
      agents.push(start(['agent', '--remote-write', `${db.url}/api/v1/write`, '--hostname', hosts[i], '-i', '0.25', '--push-interval', '0.5',
        '--tag', 'role-x=a', '--tag', 'device=d', '--queue-dir', join(dir, `q-${i}`)], { cwd: dir, env: ENV }));
    }
    const series = async (db: Service, selector: string): Promise<Record<string, string>[]> => {
      const r = await fetch(`${db.url}/api/v1/series?match[]=${encodeURIComponent(selector)}&start=${Math.floor(Date.now() / 1000) - 600}`);
      const body = (await r.json()) as { status: string; data: Record<string, string>[] };
      expect(body.status).toBe('success');
      return body.data;
    };
    for (const [i, db] of [prom, vm].entries()) {
      const [s] = await until(`${hosts[i]}'s samples in ${db.url}`, async () => {
        if (db === vm) await fetch(`${vm.url}/internal/force_flush`);
        const found = await series(db, `hostseries_sample_timestamp_seconds{instance="${hosts[i]}"}`);
        return found.length > 0 && found;
      });
      expect(s).toEqual({ __name__: 'hostseries_sample_timestamp_seconds', instance: hosts[i], job: 'node', role_x: 'a', tag_device: 'd' });
      // A family with its own `device` label keeps it beside the tag.
      const disks = await series(db, `node_disk_reads_completed_total{instance="${hosts[i]}"}`);
      expect(disks.length).toBeGreaterThan(0);
      for (const d of disks) {
        expect(d).toMatchObject({ role_x: 'a', tag_device: 'd' });
        expect(d.device).not.toBe('d');
      }
    }
    for (const a of agents.splice(0)) {
      a.child.kill('SIGTERM');
      const r = await a.done;
      expect(r.status, r.stderr).toBe(0);
      // Nothing refused by the receiver (a bad label name is a 400: the push refused, its samples dropped).
      expect(r.stderr).not.toMatch(/refused/);
      expect(r.stderr).toMatch(/, 0 dropped, 0 left queued/);
    }
    // What serve --prometheus makes of an agent's own remote write: the same tags as a push through it.
    for (const [i, db] of [prom, vm].entries()) {
      const server = await startServe(['--no-auth', '--prometheus', db.url], dir);
      servers.push(server);
      const listed = (await (await fetch(`${server.url}/api/v1/hosts`)).json()) as { hosts: { hostname: string; tags: Record<string, string>; samples: number }[] };
      const h = listed.hosts.find((x) => x.hostname === hosts[i]);
      expect(h?.tags).toEqual({ role_x: 'a', tag_device: 'd' });
      expect(h!.samples).toBeGreaterThan(0);
      const r = await server.stop();
      expect(r.status, r.stderr).toBe(0);
    }
  }, 90_000);
});
