import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * The kinds radacct's triggers queue for another writer's (FreeRADIUS's) Start into an existing
 * row (radacct-change-triggers.ts): 5 for a new session in the row, which the change feed makes
 * that session; what they queued before for a copy of the row's own Start.
 */
describe.each(['mysql', 'sqlite'] as const)("radacct's change triggers on %s", (kind) => {
  let db: TestDatabase;
  let n = 0;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await db?.drop();
  });

  /** A row as given, with the change queue emptied; returns its acctuniqueid. */
  const rowWith = async (times: { start: string; update: string | null; stop: string | null }) => {
    const uid = `trg-${(n += 1)}`;
    await db.query(
      'INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctstoptime, acctterminatecause) ' +
        "VALUES (?, ?, 'u', '10.0.0.1', ?, ?, ?, ?)",
      [uid, uid, times.start, times.update, times.stop, times.stop ? 'User-Request' : ''],
    );
    await db.query('DELETE FROM rg_radacct_changes');
    return uid;
  };

  /** FreeRADIUS's fallback UPDATE of a Start whose INSERT met the row; the kinds it queued. */
  const startAgain = async (uid: string, at: string) => {
    await db.query(
      "UPDATE radacct SET connectinfo_start = 'again', acctstarttime = ?, acctupdatetime = ? WHERE acctuniqueid = ?",
      [at, at, uid],
    );
    const queued = await db.query<{ kind: number | string }>(
      'SELECT kind FROM rg_radacct_changes ORDER BY seq',
    );
    return queued.map((q) => Number(q.kind));
  };

  it('queues a closed row that a Start for a new session reuses as kind 5', async () => {
    const uid = await rowWith({
      start: '2026-11-01 08:00:00',
      update: '2026-11-01 09:00:00',
      stop: '2026-11-01 10:00:00',
    });
    expect(await startAgain(uid, '2026-11-01 10:30:00')).toEqual([5]);
  });

  it("queues nothing for a copy of a closed row's Start a second off, even where the stop is earlier than the start", async () => {
    const uid = await rowWith({
      start: '2026-11-01 10:00:00',
      update: '2026-11-01 09:10:00',
      stop: '2026-11-01 09:00:00',
    });
    expect(await startAgain(uid, '2026-11-01 10:00:01')).toEqual([]);
    expect(await startAgain(uid, '2026-11-01 09:59:59')).toEqual([]);
  });

  it('queues an open row that a Start for a new session reuses (its NAS lost power) as kind 5, a copy of its Start as kind 2', async () => {
    const uid = await rowWith({
      start: '2026-11-01 08:00:00',
      update: '2026-11-01 09:00:00',
      stop: null,
    });
    expect(await startAgain(uid, '2026-11-01 08:00:01')).toEqual([2]);
    await db.query('DELETE FROM rg_radacct_changes');
    expect(await startAgain(uid, '2026-11-01 10:00:00')).toEqual([5]);
  });

  it('queues a closed row whose start is a zero date, that a Start reuses, as kind 5 (as the listener reuses it)', async () => {
    const uid = await rowWith({
      start: '0000-00-00 00:00:00',
      update: null,
      stop: '2026-11-01 10:00:00',
    });
    expect(await startAgain(uid, '2026-11-01 11:00:00')).toEqual([5]);
  });
});
