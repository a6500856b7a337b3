/** `--listen` values (`127.0.0.1:9000`, `[::1]:9000`, `0.0.0.0:9000`, `:9000`, `9000`) and loopback addresses. */
import { InvalidArgumentError } from 'commander';
import { isIP } from 'node:net';

export interface Listen {
  host: string;
  port: number;
}

export const DEFAULT_LISTEN = '127.0.0.1:9000';

export function parseListen(value: string): Listen {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$/.exec(value.trim()) ?? /^()()(\d+)$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port > 65535) throw new InvalidArgumentError('Expected HOST:PORT, such as 127.0.0.1:9000, [::1]:9000 or 0.0.0.0:9000 (port 0: any free port).');
  const host = m[1] ?? (m[2] || '127.0.0.1');
  if (host === 'localhost') return { host: '127.0.0.1', port };
  if (!isIP(host)) throw new InvalidArgumentError(`Expected an IP address to listen on, got ${JSON.stringify(host)}.`);
  return { host, port };
}

/** 127.0.0.0/8 or ::1 (and ::ffff:127.x.x.x). */
export function isLoopback(host: string): boolean {
  const v4 = host.replace(/^::ffff:/i, '');
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return isIP(host) === 6 && /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(host);
}
