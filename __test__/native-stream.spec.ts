/**
 * The stream a TimeSeriesCollector's JsonlSink gets is written by the native sampler's writer
 * thread: the same bytes as the JS writer, the same failure behaviour (the file cut back to whole
 * lines, the error reported once, every later sample kept), and a sink the collector cannot hand
 * over (gzip, custom collectors) still written from JS.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { JsonlSink, TimeSeriesCollector, readTimeSeriesJsonl } from '../lib/index.js';
import { sampleLine } from '../lib/files/jsonl-format.js';

const ROOT = join(__dirname, '..');
const CHILD = join(__dirname, 'fixtures', 'sink-child.ts');
const VITE_NODE = join(ROOT, 'node_modules', 'vite-node', 'vite-node.mjs');
const dir = mkdtempSync(join(tmpdir(), 'hostseries-native-stream-'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** This process's thread names (the writer thread shows as `hostseries-writ`). */
const threads = (): string[] => readdirSync('/proc/self/task').map((t) => readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim());

describe('the native stream writer', () => {
  it('writes the lines the JS writer would, byte for byte, with no JS per sample', async () => {
    const p = join(dir, 'same.jsonl');
    const sink = new JsonlSink(p);
    const c = new TimeSeriesCollector({ intervalSeconds: 0.02, sink });
    await c.start();
    expect(threads()).toContain('hostseries-writ');
    await sleep(400);
    const samples = await c.stop();
    expect(threads()).not.toContain('hostseries-writ');
    expect(samples.length).toBeGreaterThan(10);
    const lines = readFileSync(p, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    const footer = JSON.parse(lines.pop()!) as { record: string; num_samples: number };
    expect(footer).toMatchObject({ record: 'footer', num_samples: samples.length });
    expect(JSON.parse(lines.shift()!)).toMatchObject({ record: 'header' });
    expect(lines.map((l) => `${l}\n`)).toEqual(samples.map((s) => sampleLine(c.hostname, s)));
    expect(sink.samplesWritten).toBe(samples.length);
    expect(sink.unwritten).toEqual([]);
    const back = await readTimeSeriesJsonl(p);
    expect(back.data.samplesByHost.get(c.hostname)).toEqual(samples);
  });

  it('writes watched processes and app counters and gauges as the JS writer would', async () => {
    const p = join(dir, 'procs-app.jsonl');
    const sink = new JsonlSink(p);
    const c = new TimeSeriesCollector({ intervalSeconds: 0.02, sink, watch: ['self'] });
    await c.start();
    const child = spawn('sleep', ['5']);
    c.watch(child);
    c.count('steps');
    c.gauge('loss', 2);
    for (const v of [0.1, -1e-7, 1e21, -0, 12345.678]) {
      await sleep(30);
      c.gauge('loss', v);
      c.count('steps', 3);
    }
    child.kill('SIGKILL');
    await sleep(100);
    const samples = await c.stop();
    const lines = readFileSync(p, 'utf8').split('\n').slice(1, -2);
    expect(lines.map((l) => `${l}\n`)).toEqual(samples.map((s) => sampleLine(c.hostname, s)));
    expect(lines.some((l) => l.includes('"key":"sleep"') && l.includes('"app":{"steps":'))).toBe(true);
    expect(lines.at(-1)).toContain('"loss":12345.678');
    expect((await readTimeSeriesJsonl(p)).data.samplesByHost.get(c.hostname)).toEqual(samples);
  });

  it('a gzipped sink and one with custom collectors stay with the JS writer, and read back the same', async () => {
    for (const [name, collectors] of [['js.jsonl.gz', []], ['custom.jsonl', [{ name: 'app', collect: () => ({ step: 1 }) }]]] as const) {
      const p = join(dir, name);
      const c = new TimeSeriesCollector({ intervalSeconds: 0.02, sink: new JsonlSink(p), collectors: [...collectors] });
      await c.start();
      expect(threads()).not.toContain('hostseries-writ');
      await sleep(150);
      const samples = await c.stop();
      expect((await readTimeSeriesJsonl(p)).data.samplesByHost.get(c.hostname)).toEqual(samples);
      if (collectors.length > 0) expect(samples.every((s) => (s.collectors as { app?: unknown } | undefined)?.app !== undefined)).toBe(true);
    }
  });

  it('a disk that fills mid-run (ulimit -f): the FileError reported, the file cut to whole lines, every later sample kept', async () => {
    const p = join(dir, 'full.jsonl');
    // 64 blocks of 512 bytes: ~3 samples of ~11 KB fit.
    const cmd = [process.execPath, VITE_NODE, CHILD, 'collect-fill', p, '600'];
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('sh', ['-c', 'ulimit -f 64 && exec "$0" "$@"', ...cmd], { cwd: ROOT });
      let o = '';
      let e = '';
      child.stdout.on('data', (b: Buffer) => (o += b.toString()));
      child.stderr.on('data', (b: Buffer) => (e += b.toString()));
      child.on('close', (code) => (code === 0 ? resolve(o) : reject(new Error(`child exited ${code}: ${e}`))));
    });
    const r = JSON.parse(out) as {
      taken: number; written: number; unwritten: string[]; history: string[];
      events: { name: string; path: string; message: string; cause: string }[]; closeError: unknown;
    };
    expect(r.written).toBeGreaterThan(0);
    expect(r.written).toBeLessThan(r.taken);
    expect(r.history.length).toBe(r.taken);
    // Every sample is on disk or kept by the sink, in order; nothing twice.
    expect(r.unwritten).toEqual(r.history.slice(r.written));
    // Once as it happens; stop() reports the same error again as the sink's close rejects with it.
    expect(r.events.length).toBeGreaterThan(0);
    for (const e of r.events) expect(e).toEqual(r.events[0]);
    expect(r.events[0]).toMatchObject({ name: 'FileError', path: p, cause: 'EFBIG' });
    expect(r.events[0].message).toBe(`${p}: cannot write: EFBIG: file too large, write`);
    const back = await readTimeSeriesJsonl(p);
    expect(back.skippedLines).toBe(0);
    const onDisk = [...back.data.samplesByHost.values()].flat().map((s) => String(s.timestampNs));
    expect(onDisk).toEqual(r.history.slice(0, r.written));
  }, 60_000);
});
