/**
 * Which block devices and interfaces the headline numbers add up, so that no I/O is counted
 * twice: whole disks only (a partition is skipped when its disk is listed; dm-* and md* sit on
 * top of disks that already count their I/O), loop/ram/zram devices only if they did I/O, and
 * every interface but loopback.
 */

const STACKED = /^(dm-\d+|md\d+(p\d+)?)$/;
const RAMLIKE = /^(loop\d+|ram\d+|zram\d+)$/;

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

/**
 * The devices to sum, in the order given. `didIo(name)` says whether a device completed any
 * read or write during the recording (loop/ram devices count only then).
 */
export function wholeDisks(names: readonly string[], didIo: (name: string) => boolean): string[] {
  const present = new Set(names);
  return names.filter((n) => {
    if (STACKED.test(n)) return false;
    if (partitionParent(n, present) !== undefined) return false;
    if (RAMLIKE.test(n)) return didIo(n);
    return true;
  });
}

export function countedInterface(name: string): boolean {
  return name !== 'lo';
}
