/** A one-line progress bar on stderr; plain periodic lines when stderr is not a terminal. */
export class ProgressBar {
  private lastPrinted = -1;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  update(loaded: number): void {
    const pct = this.total > 0 ? Math.min(100, Math.floor((loaded / this.total) * 100)) : 100;
    if (this.out.isTTY) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      this.out.write(`\r${this.label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(pct).padStart(3)}%`);
    } else if (pct >= this.lastPrinted + 25 || pct === 100) {
      if (pct === this.lastPrinted) return;
      this.out.write(`${this.label}: ${pct}%\n`);
    }
    this.lastPrinted = pct;
  }

  done(): void {
    this.update(this.total);
    if (this.out.isTTY) this.out.write("\n");
  }
}
