export { parseHosts, parseHostfile, hostsFromSlurm, formatHost } from './parse.js';
export type { HostEntry, ParseHostsOptions } from './parse.js';
export { isLocalhost, isLocalhostSync, resolveLocalFqdn } from './localhost.js';
