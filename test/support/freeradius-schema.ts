import { existsSync, readFileSync } from 'node:fs';

export const FREERADIUS_RADDB = process.env.FREERADIUS_RADDB || '/etc/freeradius/3.0';
const INSTALL_HINT =
  'Install FreeRADIUS from Debian: `apt-get update && apt-get install -y freeradius freeradius-mysql freeradius-utils` (or set FREERADIUS_RADDB to a raddb that has mods-config/sql/main).';

/** The statements of FreeRADIUS's own schema.sql for a dialect, as Debian ships it. */
export function freeradiusSchemaStatements(dialect: 'mysql' | 'sqlite'): string[] {
  const file = `${FREERADIUS_RADDB}/mods-config/sql/main/${dialect}/schema.sql`;
  if (!existsSync(file)) throw new Error(`${file} is missing. ${INSTALL_HINT}`);
  const sql = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*(#|--)/.test(line))
    .join('\n');
  return sql
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
