/**
 * The lines a wrapped command writes to `HOSTSERIES_COUNTER_FD` (or `HOSTSERIES_COUNTER_FIFO`)
 * for its application counters:
 * `steps 1` (or `steps`: one) adds to a counter, `loss=0.25` sets a gauge; blank lines and lines
 * starting with `#` are skipped. Anything else is refused with a message naming the line.
 */
import { execFileSync } from 'node:child_process';
import { constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const COUNTER_FIFO_ENV = 'HOSTSERIES_COUNTER_FIFO';

/** A line longer than this is cut there (a writer that never ends its line must not grow memory). */
const MAX_COUNTER_LINE = 4096;

/**
 * Hand each line of `stream` to `onLine`. The stream is not waited for: a process the command
 * left running may hold it open after the command has exited.
 */
export function readLines(stream: Socket, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    if (rest.length > MAX_COUNTER_LINE) {
      lines.push(rest.slice(0, MAX_COUNTER_LINE));
      rest = '';
    }
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => {
    if (rest !== '') onLine(rest);
  });
  stream.on('error', () => undefined);
  stream.unref();
}

export interface CounterFifo {
  readonly path: string;
  /** Stop reading and remove the FIFO (and its private directory). */
  close(): void;
}

/**
 * A FIFO in a private directory, read line by line. Opened read-write and non-blocking: the open
 * does not wait for a writer, and a writer closing it is not the end (the next one goes on).
 */
export function openCounterFifo(onLine: (line: string) => void): CounterFifo {
  const dir = mkdtempSync(join(tmpdir(), 'hostseries-counters-'));
  const path = join(dir, 'counters');
  try {
    // Node has no mkfifo(3); coreutils' is on every Linux.
    execFileSync('mkfifo', ['-m', '600', path], { stdio: 'ignore' });
    const socket = new Socket({ fd: openSync(path, constants.O_RDWR | constants.O_NONBLOCK), readable: true, writable: false });
    readLines(socket, onLine);
    return {
      path,
      close: () => {
        socket.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export type CounterLine =
  | { kind: 'count'; name: string; n: number }
  | { kind: 'gauge'; name: string; value: number }
  | { kind: 'bad'; problem: string };

const COUNT = /^\s*([^\s=]+)(?:\s+(\S+))?\s*$/;
const GAUGE = /^\s*([^\s=]+)\s*=\s*(\S+)\s*$/;

export function parseCounterLine(line: string): CounterLine | undefined {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.trim() === '' || text.trimStart().startsWith('#')) return undefined;
  const shown = JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text);
  const gauge = GAUGE.exec(text);
  if (gauge) {
    const value = Number(gauge[2]);
    if (!Number.isFinite(value)) return { kind: 'bad', problem: `${shown}: a gauge's value must be a number` };
    return { kind: 'gauge', name: gauge[1], value };
  }
  const count = COUNT.exec(text);
  if (!count) return { kind: 'bad', problem: `${shown}: expected "NAME N" (a counter) or "NAME=V" (a gauge)` };
  const n = count[2] === undefined ? 1 : Number(count[2]);
  if (!Number.isSafeInteger(n) || n < 0) return { kind: 'bad', problem: `${shown}: a counter adds a whole number ≥ 0` };
  return { kind: 'count', name: count[1], n };
}
