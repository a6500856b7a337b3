/**
 * `hostseries watch`: live blocks of rates; piped, plain appended blocks that a real SIGINT ends
 * with status 0; on a terminal (a real pty from script(1)), each block redrawn in place.
 */
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cliWorkdir, cli as runCli, ENV, MAIN } from './support/cli.js';

let dir: string;
cliWorkdir('hs-watch-', (d) => (dir = d));

const blocks = (out: string): string[] => out.split(/^hostseries watch: /m).slice(1);

function waitFor(check: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (check()) {
        clearInterval(t);
        resolve();
      } else if (Date.now() > until) {
        clearInterval(t);
        reject(new Error('timed out'));
      }
    }, 50);
  });
}

describe('watch', () => {
  it('piped: plain blocks appended, every line within COLUMNS; SIGINT ends it with status 0', async () => {
    const child = spawn(process.execPath, [MAIN, 'watch', '-i', '0.2', '--cpu', '--disk', '--mem'], { cwd: dir, env: { ...ENV, COLUMNS: '80' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('close', (code, signal) => r({ code, signal })));
    await waitFor(() => blocks(out).length >= 3, 15_000);
    child.kill('SIGINT');
    const { code, signal } = await done;
    expect(err).toBe('');
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(out).not.toContain('\x1b');
    const bs = blocks(out);
    expect(bs.length).toBeGreaterThanOrEqual(3);
    for (const b of bs) {
      expect(b).toMatch(/^every 0\.2s, \d\d:\d\d:\d\d\.\d UTC/);
      expect(b).toMatch(/\ncpu\s+%usr\s+%sys\s+%iowait\s+%steal\s+%idle\nall\s+[\d.]+/);
      expect(b).toMatch(/%used\s+pgpgin\/s\s+pgpgout\/s\s+fault\/s\s+majflt\/s\n\s*[\d.]+/);
      expect(b).toContain('r/s');
    }
    for (const l of out.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    // CPU % adds up to 100 within the columns shown (usr+sys+iowait+steal+idle <= 100).
    const cpu = /\nall\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)/.exec(bs[1])!.slice(1).map(Number);
    expect(cpu.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(100.05);
  });

  it('--count N stops after N blocks, status 0; -H with two local names shows both, a host column', () => {
    const r = runCli(['watch', '-i', '0.2', '-c', '2', '--cpu'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(blocks(r.stdout)).toHaveLength(2);
    const h = runCli(['watch', '-i', '0.3', '-c', '2', '--cpu', '-H', 'localhost,127.0.0.1'], { cwd: dir });
    expect(h.status, h.stderr).toBe(0);
    const last = blocks(h.stdout)[1];
    expect(last).toContain('2 hosts');
    expect(last).toMatch(/host\s+cpu\s+%usr/);
    expect(last).toMatch(/\nlocalhost\s+all\s+[\d.]+/);
    expect(last).toMatch(/\n127\.0\.0\.1\s+all\s+[\d.]+/);
  });

  it.skipIf(spawnSync('script', ['--version']).status !== 0)('on a terminal: each block after the first moves the cursor back over the last and clears', () => {
    const cmd = `${process.execPath} ${MAIN} watch -i 0.2 -c 3 --cpu`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: dir, env: { ...ENV, COLUMNS: '100' }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout.replace(/\r\n/g, '\n');
    // Block 1: clear and draw; blocks 2 and 3: up over the 4 lines drawn (title, blank, head, row), clear, draw.
    expect(out.startsWith('\x1b[Jhostseries watch: ')).toBe(true);
    expect(out.split('\x1b[4F\x1b[Jhostseries watch: ')).toHaveLength(3);
  });

  it('a bad interval is a usage error (exit 2)', () => {
    const r = runCli(['watch', '-i', '0'], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Usage: hostseries watch');
  });
});
