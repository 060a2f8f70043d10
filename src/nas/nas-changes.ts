import { Injectable } from '@nestjs/common';

/**
 * A typed domain event: the nas table changed (a NAS added, removed, or its secret or address
 * changed). The accounting listener's client list listens, so a new secret applies at once.
 */
@Injectable()
export class NasChanges {
  private readonly listeners = new Set<() => void>();

  /** Calls `listener` after every committed change; returns the way to stop. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(): void {
    for (const listener of this.listeners) listener();
  }
}
