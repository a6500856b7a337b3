/** snappyjs ships no types: the two functions used here (snappy block format). */
declare module 'snappyjs' {
  export function compress<T extends Uint8Array>(input: T): T;
  export function uncompress<T extends Uint8Array>(input: T, maxLength?: number): T;
}
