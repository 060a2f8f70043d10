import { isIP } from 'node:net';
import { canonicalNasName, isNasNetwork } from './nas-address-match';
import { WINDOWS_1252_CHARACTERS } from './routeros/windows-1252';
import { BadUserInputError } from '../common/errors/app-error';
import { optionalText, requireInt, requireText } from '../common/validation/text';

export const DEFAULT_COA_PORT = 3799;
export const ROUTEROS_API_PORT = 8728;
export const ROUTEROS_API_TLS_PORT = 8729;

/**
 * nas.nasname: the NAS's IP address, or a network ("10.0.0.0/24") for several, which
 * FreeRADIUS and radgraph's listener match a packet's source address on. Returned in the form
 * FreeRADIUS compares clients in (canonicalNasName: "2001:DB8::1" as "2001:db8::1",
 * "10.0.0.1/32" as "10.0.0.1"), the form of a packet's source address and of radacct's
 * nasipaddress. A network with host bits set ("10.0.0.1/24") is refused, naming its network.
 */
export function checkNasName(field: string, value: string): string {
  const name = requireText(field, value, 128, 'The NAS name');
  const canonical = canonicalNasName(name);
  if (canonical === null) {
    throw new BadUserInputError(
      field,
      `${field} must be the NAS's IP address, or a network such as 10.0.0.0/24 (FreeRADIUS and radgraph's listener match packets on it)`,
    );
  }
  const [address, bits] = name.split('/');
  if (
    bits !== undefined &&
    isNasNetwork(canonical) &&
    !canonical.startsWith(`${canonicalNasName(address)}/`)
  ) {
    throw new BadUserInputError(
      field,
      `${field} ${name} has host bits set: the network is ${canonical} (or give the NAS's own address without a prefix)`,
    );
  }
  return canonical;
}

/**
 * The shared secret: 1 to 60 printable ASCII characters (nas.secret is varchar(60)). The
 * message never repeats it.
 */
export function checkSecret(field: string, value: string): string {
  if (value.length === 0 || value.length > 60 || !/^[\x20-\x7e]+$/.test(value)) {
    throw new BadUserInputError(
      field,
      `${field} must be 1 to 60 printable ASCII characters (the value is not shown)`,
    );
  }
  return value;
}

export const checkPort = (field: string, value: number) =>
  requireInt(field, value, 1, 65_535, 'a port number from 1 to 65535');

export const checkShortname = (field: string, v: string | null | undefined) =>
  optionalText(field, v, 32, field);
export const checkType = (field: string, v: string | null | undefined) =>
  optionalText(field, v, 30, field);
export const checkDescription = (field: string, v: string | null | undefined) =>
  optionalText(field, v, 200, field);

/** A host name or address for the RouterOS API. */
export function checkHost(field: string, value: string): string {
  const host = requireText(field, value, 253, field);
  if (
    isIP(host) === 0 &&
    !/^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(
      host,
    )
  ) {
    throw new BadUserInputError(field, `${field} must be an IP address or a host name`);
  }
  return host;
}

/** The RouterOS API user: 1 to 64 characters the RouterOS API carries (see checkApiPassword). */
export function checkApiUser(field: string, value: string): string {
  const user = requireText(field, value, 64, field);
  refuseOutsideWindows1252(field, user, user);
  return user;
}

/**
 * node-routeros sends every word in Windows-1252: another character goes as "?", and the
 * router refuses the login as if the user or password were wrong. `shown` is what the error may
 * repeat of the value.
 */
function refuseOutsideWindows1252(field: string, value: string, shown: string): void {
  if ([...value].every((c) => WINDOWS_1252_CHARACTERS.has(c))) return;
  throw new BadUserInputError(
    field,
    `${field} must be characters the RouterOS API carries (Windows-1252: ASCII, accented Latin letters, € and the like); another one reaches the router as "?" (${shown})`,
  );
}

/** The RouterOS API password: 1 to 128 characters, no control characters; never repeated. */
export function checkApiPassword(field: string, value: string): string {
  // eslint-disable-next-line no-control-regex
  if (value.length === 0 || value.length > 128 || /[\u0000-\u001f\u007f-\u009f]/.test(value)) {
    throw new BadUserInputError(
      field,
      `${field} must be 1 to 128 characters with no control characters (the value is not shown)`,
    );
  }
  refuseOutsideWindows1252(field, value, 'the value is not shown');
  // Sealed, it must fit its column (nas-settings.entity.ts, 512): 300 bytes of UTF-8 do.
  if (Buffer.byteLength(value) > 300) {
    throw new BadUserInputError(
      field,
      `${field} is too long to store: at most 300 bytes as UTF-8 (128 ASCII characters, fewer such as €) (the value is not shown)`,
    );
  }
  return value;
}

/**
 * The stored RouterOS API password goes only to the host it was given for. An update that keeps
 * it (gives no new one) may change the port, user and TLS settings, but not move the API to
 * another host: whoever may edit a NAS (or holds a stolen API key) could otherwise point it at a
 * host of theirs and have radgraph log in there with the password, which the API never shows.
 * The host is routerOs.host, else the nasname (toNas, NasService.access), so a new name moves a
 * NAS whose routerOs.host is not set. Hosts compare trimmed, an address in its canonical form
 * ("2001:DB8:0::1" is "2001:db8::1"), a name case-insensitively.
 */
export function refuseMovedApiPassword(
  before: { apiHost: string | null; nasname: string },
  after: { apiHost: string | null; nasname: string },
): void {
  const from = before.apiHost ?? before.nasname;
  const to = after.apiHost ?? after.nasname;
  if (apiHostKey(from) === apiHostKey(to)) return;
  const field = 'input.routerOs.password';
  const follows =
    after.apiHost === null ? " (routerOs.host is not set: it follows the NAS's name)" : '';
  throw new BadUserInputError(
    field,
    `${field} is required: the RouterOS API host changes from ${from} to ${to}${follows}, and the stored password is only sent to the host it was given for, so give it again with the new host`,
    'ROUTEROS_PASSWORD_REQUIRED',
  );
}

function apiHostKey(host: string): string {
  const trimmed = host.trim();
  return canonicalNasName(trimmed) ?? trimmed.toLowerCase();
}

/** How a stored RouterOS password is protected on the wire: TLS, and whether its certificate is checked. */
export interface ApiTransport {
  apiTls: boolean;
  apiTlsVerify: boolean;
}

/**
 * Likewise, an update that keeps the stored password may not weaken how it travels: turn TLS
 * off (the password then crosses the network in the clear) or stop checking the router's
 * certificate (anyone in the path could then pose as the router and take it). routerOs replaces
 * the whole settings, so leaving `tls` out of an update turns TLS off: without this, a form that
 * only changes the port would do so silently. Giving the password again allows it.
 */
export function refuseWeakerApiTransport(before: ApiTransport, after: ApiTransport): void {
  const field = 'input.routerOs.password';
  const weaker =
    before.apiTls && !after.apiTls
      ? 'turns TLS off (tls: false, or tls left out), so the password would cross the network in the clear'
      : before.apiTls && before.apiTlsVerify && !after.apiTlsVerify
        ? "stops checking the router's certificate (tlsVerify: false), so whoever poses as the router would get the password"
        : null;
  if (weaker === null) return;
  throw new BadUserInputError(
    field,
    `${field} is required: this update ${weaker}, and the stored password was given for the safer setting, so give it again (or keep tls / tlsVerify as they are)`,
    'ROUTEROS_PASSWORD_REQUIRED',
  );
}
