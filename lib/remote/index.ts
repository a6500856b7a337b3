export { MultiHostTimeSeriesCollector, type MultiHostTimeSeriesCollectorOptions } from './multi-collector.js';
export type { HostStatus, HostState, HostGap, HostReboot } from './host-status.js';
export type { SshOptions } from './options.js';
export { KnownHosts, knownHostsName, fingerprint, type StrictHostKeyChecking, type HostKeyVerdict } from './known-hosts.js';
export { resolveSshConfig, type ResolvedSshConfig, type SshConfigOptions } from './ssh-config.js';
