// Destination patterns of permission grants: `/queue/orders.*`, `/topic/prices.>`, `>`.
// A pattern is a destination kind prefix and `.`-separated segments, as topic wildcards: `*` is
// one segment, `>` (or `#`) the rest. `>` alone covers every destination.
import { StompInvalidArgumentError } from '@stompede/core';

const KINDS = ['/queue/', '/topic/'] as const;

/** A compiled destination pattern. */
export class DestinationPattern {
  private readonly kind: string;
  private readonly segments: readonly string[];

  constructor(readonly source: string) {
    if (source === '>' || source === '#') {
      this.kind = '';
      this.segments = ['>'];
      return;
    }
    const kind = KINDS.find((k) => source.startsWith(k) && source.length > k.length);
    if (kind === undefined) {
      throw new StompInvalidArgumentError(
        `destination pattern ${JSON.stringify(source)} must start with /queue/ or /topic/ (or be ">" for every destination)`,
      );
    }
    this.kind = kind;
    this.segments = source.slice(kind.length).split('.');
  }

  /**
   * True when every destination `destination` can stand for is covered. `destination` may itself
   * be a wildcard subscription: `/topic/a.>` covers `/topic/a.*`, but `/topic/a.*` does not
   * cover `/topic/a.>`.
   */
  covers(destination: string): boolean {
    if (this.kind === '') return true;
    if (!destination.startsWith(this.kind)) return false;
    const parts = destination.slice(this.kind.length).split('.');
    const segs = this.segments;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]!;
      if (seg === '>' || seg === '#') return true;
      const part = parts[i];
      if (part === undefined || part === '>' || part === '#') return false;
      if (seg !== '*' && seg !== part) return false;
    }
    return parts.length === segs.length;
  }
}
