/**
 * Which block devices and interfaces the headline numbers add up, so that no I/O is counted
 * twice: physical disks only. A partition is skipped when its disk is listed; dm-* and md* sit on
 * top of disks that already count their I/O; a loop device's I/O is also its backing file's disk's,
 * and ram/zram devices are memory. Those others are listed apart when they did I/O. Every
 * interface but loopback counts.
 */

const STACKED = /^(dm-\d+|md\d+(p\d+)?)$/;
const RAMLIKE = /^(loop\d+(p\d+)?|ram\d+|zram\d+)$/;

/** The disk a partition belongs to, when that disk is in `present`. */
export function partitionParent(name: string, present: ReadonlySet<string>): string | undefined {
  // nvme0n1p1, mmcblk0p2, loop0p1: the disk name ends in a digit, then `p<N>`.
  const p = /^(.*\d)p\d+$/.exec(name);
  if (p && present.has(p[1])) return p[1];
  // sda1, vdb2, xvda1: letters then the partition number.
  const d = /^(.*[a-z])\d+$/.exec(name);
  if (d && present.has(d[1])) return d[1];
  return undefined;
}

/** The devices to sum, in the order given: physical disks only (see the module comment). */
export function wholeDisks(names: readonly string[]): string[] {
  const present = new Set(names);
  return names.filter((n) => !STACKED.test(n) && !RAMLIKE.test(n) && partitionParent(n, present) === undefined);
}

/**
 * Devices left out of the totals that did I/O (`didIo(name)`) and are worth listing beside them:
 * loop, ram and zram devices and dm-N/mdN stacks (partitions are shown by their disk).
 */
export function uncountedDevices(names: readonly string[], didIo: (name: string) => boolean): string[] {
  return names.filter((n) => (STACKED.test(n) || RAMLIKE.test(n)) && didIo(n));
}

export function countedInterface(name: string): boolean {
  return name !== 'lo';
}
