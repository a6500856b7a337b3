/**
 * The event-loop rule, in real child processes: a live consumer (`for await`, `on('sample')`)
 * keeps the process alive while the collector runs; with none, a forgotten collector does not.
 * Each child runs a TypeScript script through vite-node and must exit by itself.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const collectorModule = join(root, 'lib/collector/time-series-collector.js');
const dir = mkdtempSync(join(tmpdir(), 'hostseries-keepalive-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Exit { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; timedOut: boolean }

/** Run `body` (top-level TypeScript with `TimeSeriesCollector` imported); kill it after `limitMs`. */
function runChild(name: string, body: string, limitMs = 20_000): Promise<Exit> {
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, `import { TimeSeriesCollector } from ${JSON.stringify(collectorModule)};\n${body}\n`);
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(root, 'node_modules/vite-node/vite-node.mjs'), file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, limitMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr, timedOut });
    });
  });
}

describe('keep-alive rule (child processes)', () => {
  it('a never-stopped collector with no consumer lets the process exit', async () => {
    const r = await runChild('forgotten', `
const c = new TimeSeriesCollector({ intervalSeconds: 0.05, metrics: ['loadavg'] });
await c.start();
console.log('started', c.isRunning, c.current() !== undefined);
`);
    expect(r.timedOut).toBe(false);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('started true true');
    expect(r.code).toBe(0);
  }, 30_000);

  it('for await keeps it alive; a break after 3 samples gets 3 and exits', async () => {
    const r = await runChild('iterate', `
const c = new TimeSeriesCollector({ intervalSeconds: 0.2, metrics: ['loadavg'] });
await c.start();
let n = 0;
for await (const s of c) {
  if (s.loadavg) n++;
  if (n === 3) break;
}
console.log('got', n, c.isRunning);
`);
    expect(r.timedOut).toBe(false);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('got 3 true');
    expect(r.code).toBe(0);
  }, 30_000);

  it("on('sample') keeps it alive until stop()", async () => {
    const r = await runChild('listener', `
const c = new TimeSeriesCollector({ intervalSeconds: 0.2, metrics: ['loadavg'] });
let n = 0;
c.on('sample', () => {
  if (++n === 3) void c.stop().then((s) => console.log('stopped after', n, 'kept', s.length));
});
await c.start();
console.log('started');
`);
    expect(r.timedOut).toBe(false);
    expect(r.stderr).toBe('');
    // The listener also hears the final sample stop() takes.
    expect(r.stdout.trim()).toMatch(/^started\nstopped after [34] kept [34]$/);
    expect(r.code).toBe(0);
  }, 30_000);

  it('removing the last listener releases the process (no stop())', async () => {
    const r = await runChild('unlisten', `
const c = new TimeSeriesCollector({ intervalSeconds: 0.2, metrics: ['loadavg'] });
let n = 0;
const f = (): void => { if (++n === 2) { c.off('sample', f); console.log('off', n); } };
c.on('sample', f);
await c.start();
`);
    expect(r.timedOut).toBe(false);
    expect(r.stdout.trim()).toBe('off 2');
    expect(r.code).toBe(0);
  }, 30_000);
});
