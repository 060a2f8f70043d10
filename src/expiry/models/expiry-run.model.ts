/** What one run of the expiry job did. */
export interface ExpiryRun {
  /** False when another instance holds the job's lease: this one did nothing. */
  leader: boolean;
  /** Customers disconnected: the NAS acknowledged (or RouterOS removed) every open session. */
  disconnected: number;
  /**
   * Customers whose disconnect did not get through (logged): their claim was given back, and a
   * later run tries again.
   */
  disconnectsFailed: number;
  /** customerExpiring events raised. */
  reminded: number;
}
