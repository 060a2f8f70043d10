/**
 * RFC 5176 §3.5's Error-Cause values (attribute 101), named as the RFC's table names them,
 * words joined by hyphens as in FreeRADIUS's dictionaries.
 */
export const ERROR_CAUSES: ReadonlyMap<number, string> = new Map([
  [201, 'Residual-Session-Context-Removed'],
  [202, 'Invalid-EAP-Packet'],
  [401, 'Unsupported-Attribute'],
  [402, 'Missing-Attribute'],
  [403, 'NAS-Identification-Mismatch'],
  [404, 'Invalid-Request'],
  [405, 'Unsupported-Service'],
  [406, 'Unsupported-Extension'],
  [407, 'Invalid-Attribute-Value'],
  [501, 'Administratively-Prohibited'],
  [502, 'Request-Not-Routable'],
  [503, 'Session-Context-Not-Found'],
  [504, 'Session-Context-Not-Removable'],
  [505, 'Other-Proxy-Processing-Error'],
  [506, 'Resources-Unavailable'],
  [507, 'Request-Initiated'],
  [508, 'Multiple-Session-Selection-Unsupported'],
]);

/** "503 Session-Context-Not-Found"; a value outside the table is named by its class. */
export function describeErrorCause(value: number): string {
  const name = ERROR_CAUSES.get(value);
  if (name) return `${value} ${name}`;
  // RFC 5176 §3.5: 200-299 successful completion, 400-499 fatal errors in the request,
  // 500-599 fatal errors elsewhere.
  if (value >= 200 && value < 300) return `${value} (unknown Error-Cause, success class)`;
  if (value >= 400 && value < 500) return `${value} (unknown Error-Cause, requester error class)`;
  if (value >= 500 && value < 600)
    return `${value} (unknown Error-Cause, NAS or proxy error class)`;
  return `${value} (unknown Error-Cause)`;
}

/**
 * 503 Session-Context-Not-Found: the NAS has no session that the request names. Of a
 * Disconnect-NAK, the only Error-Cause that says the session is gone, not that the request
 * failed.
 */
export const SESSION_CONTEXT_NOT_FOUND = 503;
