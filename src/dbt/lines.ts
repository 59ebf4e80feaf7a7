// Splits a byte stream into text lines without holding more than one (capped) line in memory.

export const MAX_LINE_BYTES = 1 << 20;

export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
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
    const room = MAX_LINE_BYTES - this.size;
    if (room <= 0) {
      this.dropped = true;
      return;
    }
    const kept = part.length > room ? part.subarray(0, room) : part;
    if (kept.length < part.length) this.dropped = true;
    this.parts.push(Buffer.from(kept));
    this.size += kept.length;
  }

  private flush(): void {
    let line = Buffer.concat(this.parts, this.size).toString('utf8');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (this.dropped) line += ' …[line cut]';
    this.parts = [];
    this.size = 0;
    this.dropped = false;
    this.onLine(line);
  }
}
