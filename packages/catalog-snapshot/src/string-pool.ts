/**
 * One copy of each repeated text in a snapshot. Every field pg decodes is a new string, so 10,000
 * tables with the same column types, owner and defaults hold tens of thousands of copies of each
 * (7 MB of 13 MB of strings in the benchmark's catalog), all kept to the end and promoted to the
 * old generation. Only fields that repeat across tables go through a pool; strings are immutable,
 * so sharing one is invisible to the document's users.
 */
export class StringPool {
  private readonly known = new Map<string, string>();

  intern(text: string): string {
    const known = this.known.get(text);
    if (known !== undefined) return known;
    this.known.set(text, text);
    return text;
  }

  internOrNull(text: string | null): string | null {
    return text === null ? null : this.intern(text);
  }
}
