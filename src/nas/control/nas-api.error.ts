import { ConflictError } from '../../common/errors/app-error';
import type { RouterOsError } from '../routeros/routeros.types';

/** extensions.reason of a NasApiError, by what went wrong on the router's API. */
export type NasApiReason = 'NAS_UNREACHABLE' | 'NAS_LOGIN_REFUSED' | 'NAS_API_ERROR';

/**
 * The NAS's RouterOS API could not do what was asked: the router is down, refuses the
 * connection or does not answer (NAS_UNREACHABLE), refuses the login (NAS_LOGIN_REFUSED), or
 * answered the command with an error (NAS_API_ERROR). CONFLICT: the NAS's state, not the
 * request, is at fault, and the same request can succeed once the router (or its API settings)
 * is right. The message is the adapter's, which never holds the password (RouterOsConnection
 * redacts it), naming the router and its API address.
 */
export class NasApiError extends ConflictError {
  constructor(nasName: string, cause: RouterOsError, field = 'nasId') {
    super(`NAS ${nasName}: ${cause.message}`, { field, reason: reasonOf(cause) });
  }
}

function reasonOf(cause: RouterOsError): NasApiReason {
  switch (cause.kind) {
    case 'auth':
      return 'NAS_LOGIN_REFUSED';
    case 'trap':
      return 'NAS_API_ERROR';
    case 'refused':
    case 'timeout':
    case 'connection':
      return 'NAS_UNREACHABLE';
  }
}
