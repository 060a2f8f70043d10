import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../config/app-config';
import { AuthService, parseBearer } from './auth.service';
import { Role } from './principal';

describe('parseBearer', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER   abc  ', 'abc'],
    ['Basic abc', null],
    ['Bearer', null],
    ['Bearer a b', null],
    ['', null],
    [undefined, null],
    [['Bearer abc'], null],
  ])('%p -> %p', (header, token) => {
    expect(parseBearer(header)).toBe(token);
  });
});

describe('AuthService', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'radgraph-auth-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts ADMIN_TOKEN as an ADMIN and nothing else', async () => {
    const auth = new AuthService(
      loadConfig({ DATA_DIR: dir, ADMIN_TOKEN: 'configured-token-123456' }),
    );
    expect(auth.adminToken.source).toBe('env');
    await expect(auth.authenticate('Bearer configured-token-123456')).resolves.toEqual({
      kind: 'admin-token',
      name: 'admin-token',
      role: Role.ADMIN,
    });
    await expect(auth.authenticate('Bearer configured-token-12345')).resolves.toBeNull();
    await expect(auth.authenticate('configured-token-123456')).resolves.toBeNull();
  });

  it('generates a token on first start, keeps it owner-only under DATA_DIR, and reuses it', async () => {
    const first = new AuthService(loadConfig({ DATA_DIR: dir }));
    expect(first.adminToken.source).toBe('generated');
    const file = path.join(dir, 'admin-token');
    expect(readFileSync(file, 'utf8').trim()).toBe(first.adminToken.token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = new AuthService(loadConfig({ DATA_DIR: dir }));
    expect(second.adminToken).toMatchObject({ source: 'stored', token: first.adminToken.token });
    await expect(second.authenticate(`Bearer ${first.adminToken.token}`)).resolves.not.toBeNull();
  });
});
