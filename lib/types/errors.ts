/** Details carried by the coded errors of lib/errors.ts. */

/** start/stop called in the wrong state. */
/** ERR_LIVE_OVERRUN: the JS thread did not take samples live in time (they are still kept). */
export type LifecycleCode = 'ERR_ALREADY_STARTED' | 'ERR_ALREADY_STOPPED' | 'ERR_NOT_STARTED' | 'ERR_LIVE_OVERRUN';

/** A failure talking to a remote host over SSH; `phase` says where it failed. */
export type SshPhase = 'dns' | 'connect' | 'timeout' | 'handshake' | 'host-key' | 'auth' | 'channel' | 'stream' | 'closed';
