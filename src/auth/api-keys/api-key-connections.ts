import { Injectable } from '@nestjs/common';

/** The part of a WebSocket the registry needs. */
export interface ClosableSocket {
  close(code?: number, reason?: string): void;
}

/** graphql-ws close code for a connection whose API key was revoked. */
export const API_KEY_REVOKED_CLOSE_CODE = 4403;

/**
 * The open graphql-ws connections of each API key, so that revoking a key closes them (and
 * with them their subscriptions) at once.
 */
@Injectable()
export class ApiKeyConnections {
  private readonly byKey = new Map<number, Set<ClosableSocket>>();

  add(keyId: number, socket: ClosableSocket): void {
    let sockets = this.byKey.get(keyId);
    if (!sockets) this.byKey.set(keyId, (sockets = new Set()));
    sockets.add(socket);
  }

  remove(keyId: number, socket: ClosableSocket): void {
    const sockets = this.byKey.get(keyId);
    if (!sockets) return;
    sockets.delete(socket);
    if (sockets.size === 0) this.byKey.delete(keyId);
  }

  /** The keys that have open connections now. */
  keyIds(): number[] {
    return [...this.byKey.keys()];
  }

  count(keyId: number): number {
    return this.byKey.get(keyId)?.size ?? 0;
  }

  /** Closes every connection of the key; returns how many there were. */
  closeAll(keyId: number): number {
    const sockets = [...(this.byKey.get(keyId) ?? [])];
    this.byKey.delete(keyId);
    for (const socket of sockets) socket.close(API_KEY_REVOKED_CLOSE_CODE, 'API key revoked');
    return sockets.length;
  }
}
