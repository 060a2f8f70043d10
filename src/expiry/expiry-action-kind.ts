/** What the expiry job does about an expiry, once each. */
export enum ExpiryActionKind {
  /** The customer was online when expiresAt passed: Disconnect-Request (RouterOS fallback). */
  DISCONNECT = 'disconnect',
  /** customerExpiring: the subscription event and the webhook, EXPIRY_REMINDER_DAYS before. */
  REMINDER = 'reminder',
}
