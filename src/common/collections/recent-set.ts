/**
 * A set that keeps only its latest `capacity` members (the oldest added goes first) and, with
 * `maxAgeMs`, only those added within that time.
 */
export class RecentSet {
  /** Each member with when it was added (0 without maxAgeMs), oldest first. */
  private readonly members = new Map<string, number>();

  constructor(
    private readonly capacity: number,
    private readonly maxAgeMs?: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  has(key: string): boolean {
    const added = this.members.get(key);
    if (added === undefined) return false;
    if (this.maxAgeMs !== undefined && this.now() - added > this.maxAgeMs) {
      this.members.delete(key);
      return false;
    }
    return true;
  }

  add(key: string): void {
    const now = this.maxAgeMs === undefined ? 0 : this.now();
    this.members.delete(key); // re-added as the latest
    this.members.set(key, now);
    if (this.members.size > this.capacity) {
      this.members.delete(this.members.keys().next().value!);
    }
    if (this.maxAgeMs === undefined) return;
    for (const [oldest, added] of this.members) {
      if (now - added <= this.maxAgeMs) break;
      this.members.delete(oldest);
    }
  }

  delete(key: string): void {
    this.members.delete(key);
  }
}
