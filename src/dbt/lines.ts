// Splits a byte stream into text lines without holding more than one (capped) line in memory, and without copying
// what it does not keep: dbt's JSON events (lines starting with '{') are kept up to 1 MiB, any other line up to
// 4 KiB (only its start is ever shown), so gigabytes of output cost almost nothing.

export const MAX_LINE_BYTES = 1 << 20;
export const MAX_TEXT_LINE_BYTES = 4096;
const OPEN_BRACE = 0x7b;

export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private cap = MAX_LINE_BYTES;
  private dropped = false;

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) {
        this.keep(chunk.subarray(start));
        return;
      }
      this.keep(chunk.subarray(start, nl));
      this.flush();
      start = nl + 1;
    }
  }

  end(): void {
    if (this.size > 0 || this.dropped) this.flush();
  }

  private keep(part: Buffer): void {
    if (part.length === 0) return;
    if (this.size === 0 && !this.dropped) this.cap = part[0] === OPEN_BRACE ? MAX_LINE_BYTES : MAX_TEXT_LINE_BYTES;
    const room = this.cap - this.size;
    if (room <= 0) {
      this.dropped = true;
      return;
    }
    const kept = part.length > room ? part.subarray(0, room) : part;
    if (kept.length < part.length) this.dropped = true;
    this.parts.push(kept); // a view, not a copy: the stream does not reuse its chunks
    this.size += kept.length;
  }

  private flush(): void {
    let line = (this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size)).toString('utf8');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (this.dropped) line += ' …[line cut]';
    this.parts = [];
    this.size = 0;
    this.dropped = false;
    this.onLine(line);
  }
}
