/**
 * Which hosts run on which kernel (boot_id): two or more names on one kernel mean one machine
 * (or containers sharing its kernel) sampled more than once, which a user adding up disk,
 * network or CPU figures must know. Also the reboot marker of a host whose boot_id changed.
 */
import { readFileSync } from 'node:fs';

import type { HostReboot } from '../types/host-status.js';

/** This machine's boot_id (for locally sampled hosts), or undefined when unreadable. */
export function localBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** `errors.reboot` of the first sample after a reboot (its counters restarted). */
export function rebootMessage(r: Pick<HostReboot, 'previousBootId' | 'bootId'>): string {
  return `boot_id changed from ${r.previousBootId} to ${r.bootId}`;
}

export class SharedKernels {
  /** boot_id → the hosts seen running on it. */
  private readonly boots = new Map<string, Set<string>>();
  private readonly warned = new Set<string>();

  /** `hosts`: the requested order, in which warnings name them. */
  constructor(
    private readonly hosts: readonly string[],
    private readonly warn: (message: string) => void,
  ) {}

  /** `key` runs on kernel `bootId` (from its remote loop's hello, or this machine's); a host seen on another one before rebooted. */
  note(key: string, bootId: string): void {
    for (const [id, hosts] of this.boots) if (id !== bootId) hosts.delete(key);
    let hosts = this.boots.get(bootId);
    if (!hosts) this.boots.set(bootId, (hosts = new Set()));
    hosts.add(key);
  }

  clear(): void {
    this.boots.clear();
  }

  /** Warn once per boot_id that two or more hosts share. */
  warnShared(): void {
    for (const [bootId, hosts] of this.boots) {
      if (hosts.size < 2 || this.warned.has(bootId)) continue;
      this.warned.add(bootId);
      const names = [...hosts].sort((a, b) => this.hosts.indexOf(a) - this.hosts.indexOf(b));
      // Name a handful; a fan-out of hundreds on one test machine would otherwise print them all.
      const list = names.length <= 6
        ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`
        : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more hosts`;
      this.warn(
        `hostseries: ${list} run on one kernel (boot_id ${bootId}): the same machine, or containers sharing a kernel, ` +
          `sampled more than once; every sample is kept, but do not add their disk, network or CPU figures up`,
      );
    }
  }
}
