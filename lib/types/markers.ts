/** A marker in a recording (docs/FORMAT.md, "Markers"): a labelled instant of the run. */
export interface Marker {
  label: string;
  /** `YYYY-MM-DDTHH:MM:SS.sssZ` (UTC, milliseconds). */
  timestamp: string;
  /** Wall-clock ns since the epoch (exact to 256 ns, as a sample's). */
  timestamp_ns: number;
  /** The host it belongs to; absent: the whole run. */
  host?: string;
}
