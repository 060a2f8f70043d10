import { Logger } from '@nestjs/common';
import { keptOut, LogThrottle } from '../../common/logging/log-throttle';
import type { Metrics } from '../../metrics/metrics.service';
import { DROP_REASONS, type DropReason } from './packet-drop';

/**
 * The accounting listener's counters, and its drop log: one line per reason at most every
 * 10 s, saying how many more were dropped since, so a flood of bad packets cannot flood the
 * log. Log lines name the source address and the reason, never a secret or a packet's bytes.
 * Drops and duplicates also count in the Prometheus metrics, by NAS.
 */
export class ListenerStats {
  received = 0;
  answered = 0;
  /** Retransmits of a packet still being written, or answered again from the cache. */
  duplicates = 0;
  /** Packets written to radacct (committed). */
  written = 0;
  readonly dropped = new Map<DropReason, number>(DROP_REASONS.map((r) => [r, 0]));
  private readonly throttles = new Map<DropReason, LogThrottle>(
    DROP_REASONS.map((r) => [r, new LogThrottle()]),
  );

  constructor(
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {}

  /** A retransmit of a packet `nas` (a nasname) sent before. */
  duplicate(nas: string): void {
    this.duplicates++;
    this.metrics?.accountingPackets.inc({ nas, result: 'duplicate' });
  }

  /** `nas`: the nasname, or "unknown" before the source is known to be a NAS. */
  drop(reason: DropReason, source: string, detail: string, nas = 'unknown'): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
    this.metrics?.accountingPackets.inc({ nas, result: reason });
    const skipped = this.throttles.get(reason)?.admit();
    if (skipped === undefined) return;
    this.log.warn(
      `dropped a packet from ${source}: ${reason}: ${detail}${keptOut(skipped, `${reason} drops`)}`,
    );
  }
}
