/**
 * From Linux's /proc: the CPU time a process (all its threads) and the whole machine spent
 * over a timed run, so a bench can say where the CPUs went; and the datagrams UDP dropped.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU seconds a process has used so far (NaN once it is gone). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": the comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks(); // utime, stime
  } catch {
    return NaN;
  }
}

/** How many threads a process runs now. */
export function threadCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return NaN;
  }
}

/** The pids of the processes `test` accepts (reading /proc/<pid>/…; one gone meanwhile is not). */
function pidsWhere(test: (pid: string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (test(entry)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The pids of the processes whose command name (/proc/<pid>/comm) is `name`. */
export const pidsNamed = (name: string): number[] =>
  pidsWhere((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name);

/** The pids of the processes whose command line contains `text`. */
export const pidsWithArgument = (text: string): number[] =>
  pidsWhere((pid) =>
    readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .some((arg) => arg.includes(text)),
  );

/** CPU seconds the whole machine has spent busy (not idle or waiting for I/O) so far. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const [user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / clockTicks();
}

/** The share of the machine's CPUs busy over the next `ms` milliseconds, in percent. */
export async function busyShare(ms: number): Promise<number> {
  const before = machineBusySeconds();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ((machineBusySeconds() - before) / (ms / 1000) / os.availableParallelism()) * 100;
}

/** A process's resident memory now (VmRSS) and at its peak so far (VmHWM), in bytes; NaN once gone. */
export function processMemory(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rss: kib('VmRSS') * 1024, peak: kib('VmHWM') * 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

/** Datagrams the kernel dropped because a UDP socket's receive buffer was full, so far. */
export function udpReceiveBufferErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const names = lines[0].split(/\s+/);
  return Number(lines[1].split(/\s+/)[names.indexOf('RcvbufErrors')]);
}
