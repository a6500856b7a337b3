/**
 * A real `hostseries serve` (the built CLI) on 127.0.0.1 with a free port, for the serve*.spec.ts
 * files: started, its URL read from its first line, stopped or killed by its pid.
 */
import type { ChildProcess } from 'node:child_process';
import { start, ENV, type Result } from './cli.js';

export interface Server {
  url: string;
  child: ChildProcess;
  done: Promise<Result>;
  stderr: () => string;
  /** SIGTERM, then the exit. */
  stop: () => Promise<Result>;
}

export async function startServe(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const s = start(['serve', '--listen', '127.0.0.1:0', ...args], { cwd, env: { ...ENV, ...env } });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const m = /listening on (https?:\/\/\S+)/.exec(s.stderr());
    if (m) {
      return {
        url: m[1], child: s.child, done: s.done, stderr: s.stderr,
        stop: () => {
          s.child.kill('SIGTERM');
          return s.done;
        },
      };
    }
    if (s.child.exitCode !== null || Date.now() > deadline) {
      s.child.kill('SIGKILL');
      const r = await s.done;
      throw new Error(`serve did not start (status ${r.status}): ${r.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Push {
  status: number;
  body: { accepted?: number; duplicates?: number; rejected?: { index: number; path: string; reason: string }[]; error?: string };
}

/** POST a body to /api/v1/samples. */
export async function push(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Push> {
  const r = await fetch(`${url}/api/v1/samples`, { method: 'POST', body, headers });
  const text = await r.text();
  return { status: r.status, body: JSON.parse(text) as Push['body'] };
}
