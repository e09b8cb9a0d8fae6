/**
 * Progress on stderr for work that can take seconds. Silent when stderr is not a terminal,
 * so logs and CI output stay clean.
 */

export interface Progress {
  update(done: number, total?: number, unit?: string): void;
  done(message?: string): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Force on/off; defaults to whether the stream is a TTY. */
  enabled?: boolean;
  /** Minimum milliseconds between redraws. */
  intervalMs?: number;
}

export function createProgress(label: string, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const enabled = options.enabled ?? Boolean(stream.isTTY);
  const interval = options.intervalMs ?? 100;
  let last = 0;
  let drawn = false;
  return {
    update(done, total, unit = "") {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      const amount = total ? `${done}/${total}${unit}` : `${done}${unit}`;
      stream.write(`\r${label}: ${amount}\u001b[K`);
      drawn = true;
    },
    done(message) {
      if (!enabled) return;
      if (drawn || message) stream.write(`\r${label}: ${message ?? "done"}\u001b[K\n`);
    },
  };
}

/** Human-readable byte counts for progress lines. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
