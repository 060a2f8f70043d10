import { ConflictError } from '../../common/errors/app-error';
import { SecretUnreadableError } from '../../common/crypto/secret-box';
import type { RouterOsError } from '../routeros/routeros.types';

/** extensions.reason of a NasApiError, by what went wrong on the router's API. */
export type NasApiReason =
  'NAS_UNREACHABLE' | 'NAS_LOGIN_REFUSED' | 'NAS_API_ERROR' | 'NAS_PASSWORD_UNREADABLE';

/**
 * The NAS's RouterOS API could not do what was asked: the router is down, refuses the
 * connection or does not answer (NAS_UNREACHABLE), refuses the login (NAS_LOGIN_REFUSED), or
 * answered the command with an error (NAS_API_ERROR). CONFLICT: the NAS's state, not the
 * request, is at fault, and the same request can succeed once the router (or its API settings)
 * is right. The message is the adapter's, which never holds the password (RouterOsConnection
 * redacts it), naming the router and its API address. Or radgraph could not even try: the
 * stored API password does not open with this SECRETS_KEY (NAS_PASSWORD_UNREADABLE: the key
 * changed), and the password must be set again.
 */
export class NasApiError extends ConflictError {
  constructor(nasName: string, cause: RouterOsError | SecretUnreadableError, field = 'nasId') {
    super(
      cause instanceof SecretUnreadableError
        ? `NAS ${nasName}: its stored RouterOS API password cannot be used: ${cause.message}; set it again with updateNas`
        : `NAS ${nasName}: ${cause.message}`,
      { field, reason: reasonOf(cause) },
    );
  }
}

function reasonOf(cause: RouterOsError | SecretUnreadableError): NasApiReason {
  if (cause instanceof SecretUnreadableError) return 'NAS_PASSWORD_UNREADABLE';
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
