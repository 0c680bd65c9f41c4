// Progress for long jobs: a line on stderr once a second while running, and a summary at the end.

/** Counts events and reports their rate. */
export class Progress {
  private count = 0;
  private readonly started = performance.now();
  private lastCount = 0;
  private lastTime = this.started;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly verb: string,
    private readonly quiet: boolean,
  ) {
    if (!quiet) {
      this.timer = setInterval(() => {
        this.report();
      }, 1000);
      this.timer.unref();
    }
  }

  /** Count one event. */
  tick(): void {
    this.count++;
  }

  /** Events so far. */
  get total(): number {
    return this.count;
  }

  private report(): void {
    const now = performance.now();
    const rate = ((this.count - this.lastCount) * 1000) / Math.max(1, now - this.lastTime);
    this.lastCount = this.count;
    this.lastTime = now;
    process.stderr.write(`${this.verb} ${String(this.count)} messages (${rate.toFixed(0)}/s)\n`);
  }

  /** Stop reporting and print the summary line. */
  done(suffix: string): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.quiet) return;
    const seconds = (performance.now() - this.started) / 1000;
    const rate = this.count / Math.max(seconds, 1e-3);
    process.stderr.write(
      `${this.verb} ${String(this.count)} messages ${suffix} in ${seconds.toFixed(2)} s (${rate.toFixed(0)} msgs/s)\n`,
    );
  }
}
