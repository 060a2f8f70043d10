import { Injectable } from '@nestjs/common';

/**
 * The time, for rules that depend on it (the month of the usage rollup, expiry). One place
 * to ask, so tests move it (`jest.spyOn(app.get(Clock), 'now')`) instead of waiting.
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }

  /** The calendar month (UTC, as the database keeps its times) of `at`: "YYYY-MM". */
  month(at: Date = this.now()): string {
    return at.toISOString().slice(0, 7);
  }
}
