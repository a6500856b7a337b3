/**
 * The remote side: a POSIX-shell loop that answers each tick line on stdin with one frame of raw
 * /proc text. Nothing is installed and no process is started per sample: files are read with
 * the shell's own `read` (bash: one `read -d ''` per file; dash: a `while read` loop, one byte
 * per syscall but still no fork). The loop ends by itself on stdin EOF and after `deadmanSeconds`
 * without a tick (bash: `read -t`; dash has none, so a background watchdog that sleeps the whole
 * period, one `sleep` per period, and checks whether the loop ran since).
 *
 * Input lines: a tick number (answered by a frame), or `p` (keep-alive, answered by `M:P`).
 * Frames, M being `@@HS-<nonce>` (random per connection, so no file text can forge it):
 *   M:H 1 <boot_id> <hostname> [bash]     once, first thing
 *   M:F <tick>                            then per section `M:f <metric>` + text, or `M:x <metric>`
 *   M:E <tick>                            (missing/unreadable file)
 *   M:P                                   the answer to a `p` line
 */
import { randomBytes } from 'node:crypto';
import type { Metric } from '../types/sample.js';

export const PROC_FILES: Readonly<Record<Metric, string>> = {
  diskstats: '/proc/diskstats',
  vmstat: '/proc/vmstat',
  meminfo: '/proc/meminfo',
  loadavg: '/proc/loadavg',
  netdev: '/proc/net/dev',
  stat: '/proc/stat',
};

export const PROTOCOL_VERSION = 1;

/** 64 random bits, hex: the frame marker of one connection. */
export function newNonce(): string {
  return randomBytes(8).toString('hex');
}

export function markerFor(nonce: string): string {
  return `@@HS-${nonce}`;
}

export interface RemoteScriptOptions {
  nonce: string;
  metrics: readonly Metric[];
  /** The loop exits when no tick came for this long (whole seconds, ≥ 1). */
  deadmanSeconds: number;
}

/**
 * The loop as ONE line (it is sent as the first stdin line and run with `sh -c "$s"`, so it
 * never passes through a shell's quoting). Only our own constants are interpolated.
 */
export function buildRemoteScript(opts: RemoteScriptOptions): string {
  if (!/^[0-9a-f]{8,64}$/.test(opts.nonce)) throw new Error('nonce must be hex');
  const d = Math.max(1, Math.ceil(opts.deadmanSeconds));
  const reads = opts.metrics.map((m) => `f ${PROC_FILES[m]} ${m}`).join('; ');
  const parts = [
    `M=${markerFor(opts.nonce)}; D=${d}; NL=$(printf '\\nx'); NL=\${NL%x};`,
    'if [ -n "${BASH_VERSION:-}" ]; then',
    'f() { if [ -r "$1" ]; then IFS= read -r -d "" v < "$1"; b="$b$M:f $2$NL$v"; else b="$b$M:x $2$NL"; fi; };',
    'tick() { IFS= read -r -t "$D" t; };',
    'else',
    'f() { if [ -r "$1" ]; then b="$b$M:f $2$NL"; while IFS= read -r l; do b="$b$l$NL"; done < "$1"; else b="$b$M:x $2$NL"; fi; };',
    'tick() { IFS= read -r t; };',
    // Watchdog: one sleep per period; kills the loop if it did not run since the last look
    // (schedstat's first field is the loop's CPU time). Its own sleep dies with it.
    'main=$$; ( trap \'kill $s 2>/dev/null; exit 0\' TERM; last=; while :; do sleep "$D" & s=$!; wait $s; r=;',
    '{ read -r r x < /proc/$main/schedstat; } 2>/dev/null; [ -z "$r" ] && exit 0;',
    '[ "$r" = "$last" ] && { kill $main; exit 0; }; last=$r; done ) </dev/null >/dev/null 2>&1 & wd=$!;',
    'trap \'kill $wd 2>/dev/null\' EXIT;',
    'fi;',
    'boot=; hn=; read -r boot < /proc/sys/kernel/random/boot_id; read -r hn < /proc/sys/kernel/hostname;',
    `printf '%s:H ${PROTOCOL_VERSION} %s %s %s\\n' "$M" "$boot" "$hn" "\${BASH_VERSION:+bash}";`,
    // `p` resets the dead-man timer (the collector is alive but not ticking) and is answered
    // (the collector's keep-alive: the loop, not only sshd, still runs).
    'while tick; do case $t in p) printf \'%s:P\\n\' "$M"; continue;; ""|*[!0-9]*) exit 0;; esac; b="$M:F $t$NL";',
    `${reads};`,
    `printf '%s%s:E %s\\n' "$b" "$M" "$t"; done`,
  ];
  return parts.join(' ');
}

/**
 * The exec command: the login shell (whatever it is: sh, bash, zsh, csh, fish all accept this)
 * execs /bin/sh, which reads the script line from stdin and runs it under bash when present
 * (faster reads, `read -t`) or itself. The command holds no host, user or nonce.
 */
export function bootstrapCommand(shell: 'auto' | 'sh' = 'auto'): string {
  // The script travels in the environment, not argv: `ps` on the remote shows this line only.
  return (
    "exec /bin/sh -c 'IFS= read -r s || exit 1; " +
    'if [ "$0" = auto ] && command -v bash >/dev/null 2>&1; then ' +
    'HS_LOOP=$s; export HS_LOOP; exec bash -c "eval \\"\\$HS_LOOP\\"" hostseries; fi; ' +
    `eval "$s"' ${shell}`
  );
}
