/**
 * What a remote host's status says (public types): its connection state, the gaps in its
 * samples and the reboots seen. HostConnection fills it; the collector's hostStatus() returns it.
 */
import type { SshPhase } from './errors.js';

export type HostState = 'idle' | 'connecting' | 'starting' | 'streaming' | 'backoff' | 'failed' | 'stopped';

export interface HostGap {
  /** First and last slot that got an error sample (collector tick times). */
  start: string;
  end: string;
  slots: number;
  reason: string;
}

export interface HostReboot {
  at: string;
  previousBootId: string;
  bootId: string;
}

export interface HostStatus {
  host: string;
  method: 'ssh' | 'local';
  state: HostState;
  /** Where it connects (after ~/.ssh/config) and as whom. */
  address?: string;
  port?: number;
  user?: string;
  lastError?: { phase: SshPhase; message: string; at: string };
  /** Connections that reached streaming, and connection attempts after the first. */
  connects: number;
  reconnects: number;
  samples: number;
  errorSamples: number;
  /** Frames that arrived after their slot had been given an error sample. */
  lateFrames: number;
  /** Ticks whose frame missed the stall deadline (each counted once). */
  stalledTicks: number;
  gaps: HostGap[];
  reboots: HostReboot[];
  bootId?: string;
  remoteHostname?: string;
  remoteShell?: 'bash' | 'sh';
  /** Last tick → frame round trip. */
  rttMs?: number;
  /** ms from start() until this host first streamed. */
  firstStreamMs?: number;
}
