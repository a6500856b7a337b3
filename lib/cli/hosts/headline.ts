/**
 * Headline rates of hosts over the last minutes, from a server's /api/v1/fleet (one request per
 * path for all the hosts asked about): CPU busy %, memory used %, disk MB/s (read + written, whole
 * disks: no partitions, loop, ram or device-mapper devices, which would count the same bytes
 * twice) and network MB/s (received + sent, every interface but lo).
 */
import type { FleetJson, HostJson, ServerClient } from './client.js';

export interface Headline {
  cpuPct: number | null;
  memPct: number | null;
  diskMBs: number | null;
  netMBs: number | null;
}

/** Whole disks of a list: sda, nvme0n1, vda (not sda1, nvme0n1p1, loop0, ram0, dm-0, zram0). */
export function wholeDisks(disks: readonly string[]): string[] {
  const all = new Set(disks);
  return disks.filter((d) => {
    if (/^(loop|ram|zram|dm-|md|sr|fd)\d*/.test(d)) return false;
    // A partition: another disk's name then digits (sda1) or p and digits (nvme0n1p1, mmcblk0p1).
    for (const parent of all) if (parent !== d && d.startsWith(parent) && /^p?\d+$/.test(d.slice(parent.length))) return false;
    return true;
  });
}

/** Per host, the average of `path` over the window (null: no value). */
async function averages(c: ServerClient, path: string, hosts: readonly string[], from: string): Promise<Map<string, number | null>> {
  const f = await c.get<FleetJson>('/api/v1/fleet', { path, from, hosts: hosts.join(',') });
  return new Map(f.hosts.map((h) => [h.hostname, h.avg]));
}

/** The sum of the averages of `paths(name)` over each host's `names`; null where none had a value. */
async function summed(c: ServerClient, hosts: readonly HostJson[], namesOf: (h: HostJson) => string[], fields: readonly string[], pathOf: (name: string, field: string) => string, from: string, scale: number): Promise<Map<string, number | null>> {
  const names = [...new Set(hosts.flatMap(namesOf))];
  const out = new Map<string, number | null>(hosts.map((h) => [h.hostname, null]));
  for (const name of names) {
    const having = hosts.filter((h) => namesOf(h).includes(name)).map((h) => h.hostname);
    for (const field of fields) {
      const avg = await averages(c, pathOf(name, field), having, from);
      for (const [host, v] of avg) if (v !== null) out.set(host, (out.get(host) ?? 0) + v * scale);
    }
  }
  return out;
}

export async function headlines(c: ServerClient, hosts: readonly HostJson[], from = '-5m'): Promise<Map<string, Headline>> {
  const names = hosts.map((h) => h.hostname);
  if (names.length === 0) return new Map();
  const cpu = await averages(c, 'rates.cpu.all.busy', names, from);
  const mem = await averages(c, 'rates.mem.used_pct', names, from);
  const disk = await summed(c, hosts, (h) => wholeDisks(h.disks), ['rMB_s', 'wMB_s'], (d, f) => `rates.disk.${d}.${f}`, from, 1);
  const net = await summed(c, hosts, (h) => h.interfaces.filter((i) => i !== 'lo'), ['rx_bytes_s', 'tx_bytes_s'], (i, f) => `rates.net.${i}.${f}`, from, 1 / 1e6);
  return new Map(names.map((n) => [n, { cpuPct: cpu.get(n) ?? null, memPct: mem.get(n) ?? null, diskMBs: disk.get(n) ?? null, netMBs: net.get(n) ?? null }]));
}
