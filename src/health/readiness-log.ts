import { Logger } from '@nestjs/common';
import type { HealthIndicatorResult } from '@nestjs/terminus';

/**
 * What /ready found, logged when it changes, not at every probe (an orchestrator probes every
 * few seconds): a dependency that goes down once at error, with /ready's reason; back up once
 * at log level, with how long it was down. Every dependency counts as up when the app starts
 * (it started with its database connected and its listener bound).
 */
export class ReadinessLog {
  private readonly downSince = new Map<string, number>();

  constructor(
    private readonly logger: Pick<Logger, 'error' | 'log'> = new Logger('Readiness'),
    private readonly now: () => number = Date.now,
  ) {}

  /** One indicator's result, as /ready answers it. */
  note(result: HealthIndicatorResult): void {
    for (const [name, state] of Object.entries(result)) {
      const since = this.downSince.get(name);
      if (state.status === 'down' && since === undefined) {
        this.downSince.set(name, this.now());
        const reason = typeof state.message === 'string' ? state.message : 'no reason given';
        this.logger.error(`${name} is down (${reason}): /ready answers 503 until it is back`);
      } else if (state.status === 'up' && since !== undefined) {
        this.downSince.delete(name);
        const seconds = Math.round((this.now() - since) / 1000);
        this.logger.log(`${name} is back up after ${seconds} s down: /ready answers 200 again`);
      }
    }
  }
}
