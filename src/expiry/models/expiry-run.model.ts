/** What one run of the expiry job did. */
export interface ExpiryRun {
  /** False when another instance holds the job's lease: this one did nothing. */
  leader: boolean;
  /** Customers sent a disconnect (claimed; whether the NAS took it is logged). */
  disconnected: number;
  /** customerExpiring events raised. */
  reminded: number;
}
