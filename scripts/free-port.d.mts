/** A TCP port free on every given loopback address (checked by binding it). */
export declare function freePort(addresses: readonly string[]): Promise<number>;
