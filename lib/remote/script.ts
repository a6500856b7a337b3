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
 *
 * Watched processes (`watch`): a tick line is `<tick> [PID | cPID]...`, the PIDs the collector
 * tracks (and wants the command line of); each frame then also has `M:w <that request>`,
 * `M:u <btime>` + /proc/uptime, and per process picked (asked for, or its `comm` in the names'
 * `case` pattern, or its PID in the PIDs') `M:p <pid> stat|status|io` + text (`M:p <pid> io!`:
 * not readable), and on bash `M:p <pid> cmdline` + the arguments joined by spaces for one not
 * asked for (or asked with `c`; neither with `cmdline: 'off'`). With `cmd:` items, bash also sends `M:p <pid> cmdline?` for
 * new processes, and for every other once (again when its name changed, and every RESEND_TICKS
 * ticks; at most CMDLINES_PER_TICK a frame), and the collector matches them; sh cannot read NUL-separated text and says `M:n`.
 * `M:o`: more than MAX_NEW_PER_TICK new processes matched, the rest left out (next tick).
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

/** New processes a frame carries at most (tracked ones always come). */
export const MAX_NEW_PER_TICK = 256;
/** Command lines of processes not watched, sent at most per frame (`cmd:` items)... */
export const CMDLINES_PER_TICK = 64;
/** Every this many ticks the loop looks at every process again (one may exec into a watched name)... */
export const RECHECK_TICKS = 10;
/** ... and sends every command line again after this many (one may exec a new command line, same name). */
export const RESEND_TICKS = 60;

/** What the loop picks by itself (from the native ProcParser's plan of the `watch` items). */
export interface RemoteWatchPlan {
  /** `comm` names: letters, digits and `._+-:@%,=/` only (they go into a `case` pattern). */
  names: readonly string[];
  pids: readonly number[];
  /** Command lines are needed (`cmd:` items; bash only). */
  cmd: boolean;
  /**
   * Send the command lines of the processes picked (false with `cmdline: 'off'`: they are not
   * recorded, so they do not leave the host; `cmd:` items still see theirs to match). Absent: true.
   */
  cmdlines?: boolean;
}

/** The same check as the core's (`is_script_safe_name`): nothing else is interpolated. */
const SAFE_NAME = /^[A-Za-z0-9._+\-:@%,=/]{1,15}$/;

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
  /** Watched processes (none: the tick line is the tick alone). */
  watch?: RemoteWatchPlan;
}

/**
 * The loop's process part: functions `g` (a file of a process), `cl` (its command line), `pe` (a
 * process's files) and `pr` (the whole part of a frame), per shell. `w` is the tick line's request.
 *
 * The processes asked for are read by PID, without listing /proc. /proc is listed only when a
 * process may have appeared: the last PID handed out (loadavg's last field) moved within the last
 * three ticks (those new PIDs are looked at: a fork execs soon after), or every RECHECK_TICKS ticks
 * (all are looked at: a process may exec into a watched name). A listing reads `comm` of the PIDs
 * looked at. Where loadavg counts another PID namespace than /proc's, a new process is found at
 * the next full look.
 */
function processPart(w: RemoteWatchPlan): { bash: string; sh: string; common: string } {
  for (const n of w.names) if (!SAFE_NAME.test(n)) throw new Error(`watch name ${JSON.stringify(n)} cannot go into the remote loop`);
  for (const p of w.pids) if (!Number.isInteger(p) || p < 1 || p > 4_194_304) throw new Error(`watch PID ${String(p)} is not a PID`);
  const names = w.names.length > 0 ? `case $c in ${w.names.join('|')}) k=n;; esac;` : '';
  const pids = w.pids.length > 0 ? `[ -z "$k" ] && case $p in ${w.pids.join('|')}) k=n;; esac;` : '';
  // Command lines of processes not watched (bash): young ones, and at a full look those whose
  // name changed since theirs was sent (`cc`, by PID; all again every RESEND_TICKS ticks, for a
  // python that execs python); at most CMDLINES_PER_TICK a frame (the rest next tick, `more`).
  // Measured (bash 5.2, 200 processes): a command line read costs ~70 µs, a `comm` read ~12 µs.
  const listed = w.cmd
    ? 'elif [ -n "$CL" ]; then if [ -n "$y" ] || [ "${cc[$p]}" != "$c" ]; then' +
      ` if [ $m -lt ${CMDLINES_PER_TICK} ]; then m=$((m+1)); cc[$p]=$c; cl $d $p "cmdline?"; fl; else more=1; fi; fi;`
    : '';
  return {
    bash:
      // Printed at once: bash copies a string a character at a time each time it is expanded, so
      // appending a file's text to the frame's string costs more than reading it (measured, 10
      // processes, bash 5.2: 3.2 ms a tick appended, ~1.4 ms printed).
      'g() { if [ -r "$1/$2" ]; then v=; IFS= read -r -d "" v < "$1/$2"; printf \'%s:p %s %s\\n%s\' "$M" "$3" "$2" "$v"; fi; };' +
      // Arguments joined by spaces (an empty one stays), cut near where the native side cuts.
      'cl() { v=; s=; x=; while IFS= read -r -d "" x || [ -n "$x" ]; do v="$v$s$x"; s=" "; x=; done < "$1/cmdline"; printf \'%s:p %s %s\\n%s\\n\' "$M" "$2" "$3" "${v:0:600}"; }; CL=1; declare -A cc;' +
      // The new PIDs' common leading digits, so a look at them lists only /proc/<those>*:
      // 4618..4702 lists /proc/4[0-9]*, not every process (a fork somewhere opens this window
      // on most ticks of a busy host).
      'gp() { pat=; a=$((lo+1)); [ $lo -lt $lp ] && [ ${#a} -eq ${#lp} ] || return 0; i=0;' +
      'while [ $i -lt $((${#a}-1)) ] && [ "${a:$i:1}" = "${lp:$i:1}" ]; do i=$((i+1)); done; pat=${a:0:$i}; };',
    sh:
      'g() { if [ -r "$1/$2" ]; then b="$b$M:p $3 $2$NL"; while IFS= read -r l; do b="$b$l$NL"; done < "$1/$2"; fi; };' +
      'cl() { :; }; gp() { pat=; }; CL=;',
    common:
      'bt=0; while read -r k v; do case $k in btime) bt=$v; break;; esac; done < /proc/stat;' +
      `la=; IFS= read -r la < /proc/loadavg; h1=\${la##* }; case $h1 in ""|*[!0-9]*) h1=0;; esac; h2=$h1; h3=$h1; ct=${RECHECK_TICKS - 1}; cr=0; more=;` +
      // The frame goes out a process at a time: appending to one growing string costs a copy of
      // it each time (sh builds each process's part in `b`; bash prints each file as read).
      'fl() { [ -n "$b" ] && printf %s "$b"; b=; };' +
      'pe() { g $1 stat $2; g $1 status $2; if [ -r $1/io ]; then g $1 io $2; elif [ -e $1/io ]; then printf \'%s:p %s io!\\n\' "$M" $2; fi; fl; };' +
      'pr() { b="$b$M:w $w$NL"; u=; IFS= read -r u < /proc/uptime; b="$b$M:u $bt$NL$u$NL"; n=0; m=0; o=; fl;' +
      (w.cmd ? '[ -z "$CL" ] && b="$b$M:n$NL";' : '') +
      'for x in $w; do case $x in c*) cl /proc/${x#c} ${x#c} cmdline; fl;; *) pe /proc/$x $x;; esac; done;' +
      'la=; IFS= read -r la < /proc/loadavg; lp=${la##* }; case $lp in ""|*[!0-9]*) lp=0;; esac;' +
      `lo=$h3; h3=$h2; h2=$h1; h1=$lp; full=$more; more=; ct=$((ct+1)); [ $ct -ge ${RECHECK_TICKS} ] && { ct=0; full=1; };` +
      (w.cmd ? `cr=$((cr+1)); [ $cr -ge ${RESEND_TICKS} ] && [ -n "$CL" ] && { cr=0; unset cc; declare -gA cc; };` : '') +
      '[ -z "$full" ] && [ "$lo" = "$lp" ] && return 0; pat=; [ -z "$full" ] && gp;' +
      'for d in /proc/${pat}[0-9]*; do p=${d#/proc/};' +
      'y=; if [ $lo -le $lp ]; then [ $p -gt $lo ] && [ $p -le $lp ] && y=1; else { [ $p -gt $lo ] || [ $p -le $lp ]; } && y=1; fi;' +
      '[ -z "$y$full" ] && continue; case " $w " in *" $p "*) continue;; esac;' +
      'c=; { IFS= read -r c < $d/comm; } || continue; k=;' +
      names + pids +
      `if [ -n "$k" ]; then [ $n -ge ${MAX_NEW_PER_TICK} ] && { o=1; continue; }; n=$((n+1)); pe $d $p;${w.cmdlines === false ? '' : ' cl $d $p cmdline;'} fl;` +
      listed +
      'fi; done; [ -n "$o" ] && b="$b$M:o$NL"; };',
  };
}

/**
 * The loop as ONE line (it is sent as the first stdin line and run with `sh -c "$s"`, so it
 * never passes through a shell's quoting). Only our own constants are interpolated.
 */
export function buildRemoteScript(opts: RemoteScriptOptions): string {
  if (!/^[0-9a-f]{8,64}$/.test(opts.nonce)) throw new Error('nonce must be hex');
  const d = Math.max(1, Math.ceil(opts.deadmanSeconds));
  const reads = opts.metrics.map((m) => `f ${PROC_FILES[m]} ${m}`).join('; ');
  const procs = opts.watch ? processPart(opts.watch) : undefined;
  const parts = [
    `M=${markerFor(opts.nonce)}; D=${d}; NL=$(printf '\\nx'); NL=\${NL%x};`,
    'if [ -n "${BASH_VERSION:-}" ]; then',
    'f() { if [ -r "$1" ]; then IFS= read -r -d "" v < "$1"; b="$b$M:f $2$NL$v"; else b="$b$M:x $2$NL"; fi; };',
    'tick() { IFS= read -r -t "$D" t; };',
    procs?.bash ?? '',
    'else',
    'f() { if [ -r "$1" ]; then b="$b$M:f $2$NL"; while IFS= read -r l; do b="$b$l$NL"; done < "$1"; else b="$b$M:x $2$NL"; fi; };',
    'tick() { IFS= read -r t; };',
    procs?.sh ?? '',
    // Watchdog: one sleep per period; kills the loop if it did not run since the last look
    // (schedstat's first field is the loop's CPU time). Its own sleep dies with it.
    'main=$$; ( trap \'kill $s 2>/dev/null; exit 0\' TERM; last=; while :; do sleep "$D" & s=$!; wait $s; r=;',
    '{ read -r r x < /proc/$main/schedstat; } 2>/dev/null; [ -z "$r" ] && exit 0;',
    '[ "$r" = "$last" ] && { kill $main; exit 0; }; last=$r; done ) </dev/null >/dev/null 2>&1 & wd=$!;',
    'trap \'kill $wd 2>/dev/null\' EXIT;',
    'fi;',
    'boot=; hn=; read -r boot < /proc/sys/kernel/random/boot_id; read -r hn < /proc/sys/kernel/hostname;',
    procs?.common ?? '',
    `printf '%s:H ${PROTOCOL_VERSION} %s %s %s\\n' "$M" "$boot" "$hn" "\${BASH_VERSION:+bash}";`,
    // `p` resets the dead-man timer (the collector is alive but not ticking) and is answered
    // (the collector's keep-alive: the loop, not only sshd, still runs).
    'while tick; do case $t in p) printf \'%s:P\\n\' "$M"; continue;; esac;',
    // `<tick> <request>`: digits, and `c` and spaces in the request; anything else ends the loop.
    'w=; case $t in *" "*) w=${t#* }; t=${t%% *};; esac; case $t in ""|*[!0-9]*) exit 0;; esac; case $w in *[!0-9c\\ ]*) exit 0;; esac;',
    'b="$M:F $t$NL";',
    `${reads};`,
    procs ? 'pr 2>/dev/null;' : '',
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
