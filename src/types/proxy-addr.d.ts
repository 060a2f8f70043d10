/** proxy-addr 2 (Express's own) ships no types; what radgraph uses of it. */
declare module 'proxy-addr' {
  import type { IncomingMessage } from 'node:http';

  type Trust = (address: string | undefined, hop: number) => boolean;

  function proxyAddr(req: IncomingMessage, trust: Trust | string | string[]): string | undefined;

  namespace proxyAddr {
    function all(req: IncomingMessage, trust?: Trust | string | string[]): string[];
    /** Throws TypeError for an address or range it cannot read. */
    function compile(values: string | string[]): Trust;
  }

  export = proxyAddr;
}
