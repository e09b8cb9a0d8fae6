/** Durations as people write them for --max-age: "90s", "15m", "1h", "1h30m", "2d", "1w". */
import { InputError } from "@dieu44/plumbing/exit";

const unitMs: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses a duration into milliseconds; a bare number is refused (its unit would be a guess). */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const part = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/y;
  let total = 0;
  let consumed = 0;
  let parts = 0;
  for (let match = part.exec(trimmed); match; match = part.exec(trimmed)) {
    total += Number(match[1]) * (unitMs[match[2] as string] as number);
    consumed = part.lastIndex;
    parts += 1;
    while (trimmed[part.lastIndex] === " ") part.lastIndex += 1;
    consumed = part.lastIndex;
  }
  if (parts === 0 || consumed !== trimmed.length || total <= 0) {
    throw new InputError(`invalid duration "${text}" (expected e.g. 90s, 15m, 1h, 1h30m, 2d, 1w)`);
  }
  return Math.round(total);
}

/** "1h 5m 3s" style, for check details. */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  let rest = Math.abs(Math.round(ms / 1000));
  const out: string[] = [];
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
  ] as const) {
    if (rest >= size) {
      out.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest || out.length === 0) out.push(`${rest}s`);
  return sign + out.join(" ");
}
