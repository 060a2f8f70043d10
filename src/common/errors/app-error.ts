/**
 * The error codes a client sees in `extensions.code`. Every module's typed errors map onto
 * one of them; one global filter turns them into GraphQL errors.
 */
export type ErrorCode =
  'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'UNAUTHENTICATED' | 'FORBIDDEN';

export interface AppErrorOptions {
  /** The input field at fault, e.g. "input.username"; shown as extensions.field. */
  field?: string;
  /** A module's own, finer reason, e.g. "PROFILE_IN_USE"; shown as extensions.reason. */
  reason?: string;
}

/** Base of every expected error: its message is safe to show to the API's caller. */
export abstract class AppError extends Error {
  abstract readonly code: ErrorCode;
  readonly field?: string;
  readonly reason?: string;

  constructor(message: string, opts: AppErrorOptions = {}) {
    super(message);
    this.name = new.target.name;
    this.field = opts.field;
    this.reason = opts.reason;
  }
}

export class BadUserInputError extends AppError {
  readonly code = 'BAD_USER_INPUT' as const;
  constructor(field: string, message: string, reason?: string) {
    super(message, { field, reason });
  }
}

export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND' as const;
}

export class ConflictError extends AppError {
  readonly code = 'CONFLICT' as const;
}

export class UnauthenticatedError extends AppError {
  readonly code = 'UNAUTHENTICATED' as const;
}

export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN' as const;
}
