/**
 * Is a host this machine? Such hosts are sampled natively, never through SSH.
 * Names are compared case-insensitively; the FQDN needs a resolver, so it is looked up once and
 * cached (the synchronous check knows it only after that first lookup).
 */
import { lookup, lookupService } from 'node:dns/promises';
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';

let fqdnPromise: Promise<string | undefined> | undefined;
let fqdnCached: string | undefined;

/** The machine's names: hostname, short name and (once resolved) FQDN, lower-case. */
function localNames(): Set<string> {
  const h = hostname().toLowerCase();
  const names = new Set<string>(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback', h]);
  names.add(h.split('.')[0]);
  if (fqdnCached) {
    names.add(fqdnCached);
    names.add(fqdnCached.split('.')[0]);
  }
  return names;
}

/** Every address of a local interface (read each call: interfaces come and go). */
function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) out.add(normalizeAddress(a.address));
  }
  return out;
}

function normalizeAddress(addr: string): string {
  let a = addr.toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const pct = a.indexOf('%');
  if (pct >= 0) a = a.slice(0, pct);
  if (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4) return a.slice(7);
  if (isIP(a) === 6) {
    // WHATWG URL parsing gives the canonical compressed form (0:0:0:0:0:0:0:1 → ::1).
    try {
      a = new URL(`http://[${a}]/`).hostname.slice(1, -1);
      const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
      if (mapped) {
        const hi = parseInt(mapped[1], 16);
        const lo = parseInt(mapped[2], 16);
        a = `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
      }
    } catch {
      /* keep as written */
    }
  }
  return a;
}

function isLoopbackLiteral(a: string): boolean {
  if (isIP(a) === 4) return a.startsWith('127.');
  if (isIP(a) === 6) return a === '::1';
  return false;
}

/** Resolve the FQDN once (getaddrinfo of the hostname, then getnameinfo of its address). */
export function resolveLocalFqdn(timeoutMs = 2000): Promise<string | undefined> {
  fqdnPromise ??= (async () => {
    const work = (async () => {
      const { address } = await lookup(hostname());
      const { hostname: name } = await lookupService(address, 22);
      return name.toLowerCase();
    })().catch(() => undefined);
    const timer = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs).unref());
    const name = await Promise.race([work, timer]);
    if (name && name.includes('.')) fqdnCached = name;
    return fqdnCached;
  })();
  return fqdnPromise;
}

/** Synchronous check with what is known without a resolver (the FQDN once resolved). */
export function isLocalhostSync(host: string): boolean {
  const h = normalizeAddress(host.trim());
  if (!h) return false;
  if (isIP(h)) return isLoopbackLiteral(h) || localAddresses().has(h);
  return localNames().has(h);
}

/**
 * `localhost`, 127.0.0.0/8, `::1`, the hostname, its short name and FQDN, or an address of a
 * local interface.
 */
export async function isLocalhost(host: string): Promise<boolean> {
  if (isLocalhostSync(host)) return true;
  if (isIP(normalizeAddress(host))) return false;
  await resolveLocalFqdn();
  return isLocalhostSync(host);
}
