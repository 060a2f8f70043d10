/** A UTC DATETIME literal both databases take ("YYYY-MM-DD HH:MM:SS"). */
export function sqlDatetime(at: Date): string {
  return at.toISOString().slice(0, 19).replace('T', ' ');
}
