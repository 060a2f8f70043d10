/** A set that keeps only its latest `capacity` members (the oldest added goes first). */
export class RecentSet {
  private readonly members = new Set<string>();

  constructor(private readonly capacity: number) {}

  has(key: string): boolean {
    return this.members.has(key);
  }

  add(key: string): void {
    this.members.delete(key); // re-added as the latest
    this.members.add(key);
    if (this.members.size > this.capacity) {
      this.members.delete(this.members.values().next().value!);
    }
  }

  delete(key: string): void {
    this.members.delete(key);
  }
}
