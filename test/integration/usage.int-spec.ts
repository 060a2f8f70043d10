import { Logger } from '@nestjs/common';
import { AccountingListener } from '../../src/radius/accounting/accounting-listener.service';
import { Clock } from '../../src/common/clock/clock';
import { readSqlDatetime } from '../../src/common/sql/datetime';
import { SessionControlService } from '../../src/nas/control/session-control.service';
import { CHECK_AFTER_MS, DataCapEnforcer } from '../../src/usage/data-cap-enforcer.service';
import { DISCONNECT_GRACE_MS } from '../../src/nas/control/gone-sessions';
import { startApp, type RunningApp } from '../support/app';
import { createProfile, gqlData, gqlError } from '../support/graphql';
import {
  accountingRequest,
  RadiusTestClient,
  sessionAttributes,
  validResponse,
} from '../support/radius-packets';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { until } from '../support/until';

const SECRET = 'usage-test-secret';
const GiB = 1n << 30n;
/** 2026-10-31 23:50:00 UTC and 2026-11-01 00:00:00 UTC. */
const OCT_END = Date.UTC(2026, 9, 31, 23, 50) / 1000;

/**
 * The monthly usage rollup: fed by radacct's triggers from every writer (radgraph's listener
 * over real RADIUS packets, and FreeRADIUS-style SQL), split by interim updates across a month
 * boundary, and equal to the radacct deltas exactly.
 */
describe.each(['mysql', 'sqlite'] as const)('monthly usage on %s', (kind) => {
  let db: TestDatabase;
  let api: RunningApp;
  let radius: RadiusTestClient;
  let port: number;
  let profileId: string;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    api = await startApp(db, { RADIUS_ACCT_PORT: '0' });
    port = api.app.get(AccountingListener).address()!.port;
    radius = await RadiusTestClient.open();
    await db.query(
      'INSERT INTO nas (nasname, shortname, type, secret, description) VALUES (?, ?, ?, ?, ?)',
      ['127.0.0.1', 'test', 'other', SECRET, 'usage test'],
    );
    profileId = await createProfile(api, {
      name: 'Capped 1G',
      dataLimitBytes: String(GiB),
    });
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await radius?.close();
    await api?.close();
    await db?.drop();
  });

  const customer = async (username: string) =>
    (
      await gqlData(
        api,
        `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`,
        {
          i: { username, password: 'pw-123456', profileId },
        },
      )
    ).createCustomer.id as string;

  const send = async (
    status: 'Start' | 'Interim-Update' | 'Stop',
    s: {
      username: string;
      sessionId: string;
      eventTime: number;
      sessionTime?: number;
      inputOctets?: bigint;
      outputOctets?: bigint;
    },
  ) => {
    const packet = accountingRequest(SECRET, sessionAttributes(status, s));
    const answer = await radius.send(packet, port);
    expect(answer && validResponse(answer, packet, SECRET)).toBe(true);
  };

  const usage = async (id: string, month: string) =>
    (
      await gqlData(
        api,
        `query($id: ID!, $m: String) { customer(id: $id) { usage(month: $m) { month uploadBytes downloadBytes totalBytes limitBytes } } }`,
        { id, m: month },
      )
    ).customer.usage;

  const rollupTotals = async (username: string) => {
    const [row] = await db.query<{ up: string | number; down: string | number }>(
      'SELECT SUM(upload_bytes) AS up, SUM(download_bytes) AS down FROM rg_usage_monthly WHERE username = ?',
      [username],
    );
    return [BigInt(row.up ?? 0), BigInt(row.down ?? 0)];
  };
  const radacctTotals = async (username: string) => {
    const [row] = await db.query<{ up: string | number; down: string | number }>(
      'SELECT SUM(acctinputoctets) AS up, SUM(acctoutputoctets) AS down FROM radacct WHERE username = ?',
      [username],
    );
    return [BigInt(row.up ?? 0), BigInt(row.down ?? 0)];
  };

  it('splits a session across a month boundary by its interims, through the listener', async () => {
    const id = await customer('split.user');
    const s = { username: 'split.user', sessionId: 'm-1' };
    await send('Start', { ...s, eventTime: OCT_END });
    await send('Interim-Update', {
      ...s,
      eventTime: OCT_END + 300,
      sessionTime: 300,
      inputOctets: 100n,
      outputOctets: 5n * GiB + 123n,
    });
    // Across midnight UTC: this interim's growth belongs to November.
    await send('Interim-Update', {
      ...s,
      eventTime: OCT_END + 900,
      sessionTime: 900,
      inputOctets: 350n,
      outputOctets: 6n * GiB,
    });
    await send('Stop', {
      ...s,
      eventTime: OCT_END + 1200,
      sessionTime: 1200,
      inputOctets: 400n,
      outputOctets: 6n * GiB + 7n,
    });
    expect(await usage(id, '2026-10')).toEqual({
      month: '2026-10',
      uploadBytes: 100,
      // The BigInt scalar: a number while it is exact (below 2^53), else a string.
      downloadBytes: Number(5n * GiB + 123n),
      totalBytes: Number(5n * GiB + 223n),
      limitBytes: Number(GiB),
    });
    const nov = await usage(id, '2026-11');
    expect([BigInt(nov.uploadBytes), BigInt(nov.downloadBytes)]).toEqual([300n, GiB - 123n + 7n]);
    expect(await rollupTotals('split.user')).toEqual(await radacctTotals('split.user'));
  });

  it("counts a Stop's growth in the month of the stop, not of the last interim", async () => {
    const monthly = async (username: string) =>
      (
        await db.query<{ month: string; up: string | number; down: string | number }>(
          'SELECT month, upload_bytes AS up, download_bytes AS down FROM rg_usage_monthly WHERE username = ? ORDER BY month',
          [username],
        )
      ).map((r) => [r.month, Number(r.up), Number(r.down)]);
    // Through the listener: an interim on 31 October, the Stop on 1 November.
    await customer('stop.user');
    const s = { username: 'stop.user', sessionId: 'm-stop' };
    await send('Start', { ...s, eventTime: OCT_END });
    await send('Interim-Update', {
      ...s,
      eventTime: OCT_END + 300,
      sessionTime: 300,
      inputOctets: 10n,
      outputOctets: 100n,
    });
    await send('Stop', {
      ...s,
      eventTime: OCT_END + 1200,
      sessionTime: 1200,
      inputOctets: 40n,
      outputOctets: 700n,
    });
    expect(await monthly('stop.user')).toEqual([
      ['2026-10', 10, 100],
      ['2026-11', 30, 600],
    ]);
    // As FreeRADIUS's stop query writes it: acctupdatetime stays at the last interim.
    await customer('fr.stop');
    await db.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctinputoctets, acctoutputoctets)
       VALUES ('fs', 'fr-stop', 'fr.stop', '127.0.0.1', '2026-10-31 23:00:00', '2026-10-31 23:55:00', 5, 50)`,
    );
    await db.query(
      "UPDATE radacct SET acctstoptime = '2026-11-01 00:20:00', acctsessiontime = 4800, acctinputoctets = 8, acctoutputoctets = 90, acctterminatecause = 'User-Request' WHERE acctuniqueid = 'fr-stop'",
    );
    expect(await monthly('fr.stop')).toEqual([
      ['2026-10', 5, 50],
      ['2026-11', 3, 40],
    ]);
    // A session the reaper closed at its last update (31 October) that goes on: FreeRADIUS's
    // interim query updates the stopped row, and that growth goes by its update time.
    await customer('fr.reaped');
    await db.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctinputoctets, acctoutputoctets)
       VALUES ('fr', 'fr-reaped', 'fr.reaped', '127.0.0.1', '2026-10-31 23:00:00', '2026-10-31 23:30:00', 1, 10)`,
    );
    await db.query(
      "UPDATE radacct SET acctstoptime = acctupdatetime, acctterminatecause = 'Stale-Session' WHERE acctuniqueid = 'fr-reaped'",
    );
    await db.query(
      "UPDATE radacct SET acctupdatetime = '2026-11-01 00:30:00', acctinputoctets = 4, acctoutputoctets = 60 WHERE acctuniqueid = 'fr-reaped'",
    );
    expect(await monthly('fr.reaped')).toEqual([
      ['2026-10', 1, 10],
      ['2026-11', 3, 50],
    ]);
  });

  it('shows the usage of a customer whose NAS reports the login in another case', async () => {
    // FreeRADIUS accepts "CASE.User" for the customer "case.user" (MariaDB compares names
    // without case), and radacct, so the rollup, holds what the NAS sent.
    const id = await customer('case.user');
    const s = { username: 'CASE.User', sessionId: 'case-1' };
    const t = Date.UTC(2026, 10, 15, 12) / 1000;
    await send('Start', { ...s, eventTime: t });
    await send('Interim-Update', {
      ...s,
      eventTime: t + 300,
      sessionTime: 300,
      inputOctets: 7n,
      outputOctets: 11n,
    });
    const used = await usage(id, '2026-11');
    if (kind === 'mysql') {
      expect(used).toMatchObject({ uploadBytes: 7, downloadBytes: 11, totalBytes: 18 });
    } else {
      // SQLite compares text exactly, as its keys do: "CASE.User" is another user there.
      expect(used).toMatchObject({ uploadBytes: 0, downloadBytes: 0, totalBytes: 0 });
    }
  });

  it('never gives a customer the usage of another whose login differs only in case (SQLite)', async () => {
    // SQLite compares usernames exactly: "twin.use" and "TWIN.USE" are two customers there
    // (MariaDB refuses the second, and the NAS's "TWIN.USE" is the first's, as above).
    const ids = [await customer('twin.use')];
    if (kind === 'sqlite') ids.push(await customer('TWIN.USE'));
    const t = Date.UTC(2026, 10, 16, 12) / 1000;
    const s = { username: 'TWIN.USE', sessionId: 'twin-1' };
    await send('Start', { ...s, eventTime: t });
    await send('Interim-Update', {
      ...s,
      eventTime: t + 300,
      sessionTime: 300,
      inputOctets: 7n,
      outputOctets: 11n,
    });
    // Both read in one request: one batch of the rollup.
    const { a, b } = await gqlData(
      api,
      `query($a: ID!, $b: ID!) { a: customer(id: $a) { usage(month: "2026-11") { totalBytes } } b: customer(id: $b) { usage(month: "2026-11") { totalBytes } } }`,
      { a: ids[0], b: ids.at(-1) },
    );
    if (kind === 'mysql') {
      expect([a.usage.totalBytes, b.usage.totalBytes]).toEqual([18, 18]);
    } else {
      expect([a.usage.totalBytes, b.usage.totalBytes]).toEqual([0, 18]);
    }
  });

  it('counts FreeRADIUS-style writes too; a late or lower counter adds nothing', async () => {
    await customer('fr.user');
    const insert = `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctinputoctets, acctoutputoctets) VALUES ('f1', 'fr-1', 'fr.user', '127.0.0.1', '2026-11-10 10:00:00', '2026-11-10 10:05:00', 10, 20)`;
    await db.query(insert);
    const update = (inp: number, out: number, at: string) =>
      db.query(
        'UPDATE radacct SET acctinputoctets = ?, acctoutputoctets = ?, acctupdatetime = ? WHERE acctuniqueid = ?',
        [inp, out, at, 'fr-1'],
      );
    await update(15, 50, '2026-11-10 10:10:00');
    await update(12, 40, '2026-11-10 10:15:00'); // went down: a reset NAS, nothing added
    const rows = await db.query<{
      month: string;
      upload_bytes: string | number;
      download_bytes: string | number;
    }>('SELECT month, upload_bytes, download_bytes FROM rg_usage_monthly WHERE username = ?', [
      'fr.user',
    ]);
    expect(rows.map((r) => [r.month, Number(r.upload_bytes), Number(r.download_bytes)])).toEqual([
      ['2026-11', 15, 50],
    ]);
  });

  it("counts a session's traffic once when FreeRADIUS writes an older Interim-Update late (lower counters), then a newer one", async () => {
    await customer('fr.late');
    await db.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctinputoctets, acctoutputoctets) VALUES ('fl1', 'fr-late-1', 'fr.late', '127.0.0.1', '2026-11-10 10:00:00', '2026-11-10 10:05:00', 10, 20)`,
    );
    // FreeRADIUS's interim query writes each packet's counters and time as they come.
    const interim = (inp: number, out: number, at: string) =>
      db.query(
        'UPDATE radacct SET acctinputoctets = ?, acctoutputoctets = ?, acctupdatetime = ? WHERE acctuniqueid = ?',
        [inp, out, at, 'fr-late-1'],
      );
    await interim(30, 60, '2026-11-10 10:15:00');
    await interim(20, 40, '2026-11-10 10:10:00'); // the 10:10 report, retransmitted late
    await interim(40, 80, '2026-11-10 10:20:00');
    await db.query(
      "UPDATE radacct SET acctstoptime = '2026-11-10 10:25:00', acctinputoctets = 50, acctoutputoctets = 100 WHERE acctuniqueid = 'fr-late-1'",
    );
    expect(await rollupTotals('fr.late')).toEqual([50n, 100n]);
    expect(await rollupTotals('fr.late')).toEqual(await radacctTotals('fr.late'));
  });

  it('claims the cap action of a month once, and gives it back when the action failed', async () => {
    const id = await customer('cap.claim');
    const capAction = async () =>
      (
        await gqlData(
          api,
          `query($id: ID!) { customer(id: $id) { usage(month: "2026-11") { capAction capActedAt } } }`,
          { id },
        )
      ).customer.usage;
    await db.query(
      "INSERT INTO rg_usage_monthly (username, month, upload_bytes, download_bytes) VALUES ('cap.claim', '2026-11', 0, ?)",
      [String(2n * GiB)],
    );
    jest.spyOn(api.app.get(Clock), 'now').mockReturnValue(new Date(Date.UTC(2026, 10, 20)));
    const enforcer = api.app.get(DataCapEnforcer);
    const control = api.app.get(SessionControlService);
    const claims = async () =>
      (
        await db.query<{ n: number | string }>(
          "SELECT COUNT(*) AS n FROM rg_cap_actions WHERE username = 'cap.claim'",
        )
      ).map((r) => Number(r.n))[0];
    try {
      // Not online: the disconnect fails, and the claim is given back.
      expect(await enforcer.check(['cap.claim'])).toEqual([]);
      expect(await claims()).toBe(0);
      expect(await capAction()).toEqual({ capAction: null, capActedAt: null });
      jest
        .spyOn(control, 'disconnectUser')
        .mockResolvedValue({ ok: true, method: 'coa', message: 'test' });
      expect(await enforcer.check(['cap.claim'])).toEqual(['cap.claim']);
      expect(await claims()).toBe(1);
      expect(await capAction()).toEqual({
        capAction: 'DISCONNECTED',
        capActedAt: '2026-11-20T00:00:00.000Z',
      });
      expect(await enforcer.check(['cap.claim'])).toEqual([]); // once a month
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('disconnects again a customer still online a grace after the disconnect: one instance, once per try, the claim kept when it fails', async () => {
    await customer('cap.again');
    const T0 = Date.UTC(2026, 10, 21) / 1000;
    const at = (seconds: number) => new Date((T0 + seconds) * 1000);
    const clock = jest.spyOn(api.app.get(Clock), 'now').mockReturnValue(at(0));
    let ok = true;
    const disconnected = jest
      .spyOn(api.app.get(SessionControlService), 'disconnectUser')
      .mockImplementation(() =>
        Promise.resolve({ ok, method: 'coa', message: ok ? 'test ack' : 'test timeout' }),
      );
    const calls = () => disconnected.mock.calls.filter(([u]) => u === 'cap.again').length;
    const lines: string[] = [];
    const log = Logger.prototype.log.bind(Logger.prototype);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(function (this: Logger, message) {
      if (typeof message === 'string') lines.push(message);
      return log.call(this, message);
    });
    const actedAt = async () =>
      (
        await db.query<{ action: string; at: Date | string }>(
          "SELECT action, acted_at AS at FROM rg_cap_actions WHERE username = 'cap.again' AND month = '2026-11'",
        )
      ).map((r) => [r.action, readSqlDatetime(r.at)]);
    const s = { username: 'cap.again', sessionId: 'again-1' };
    let n = 0;
    /** An Interim-Update of the session (over the cap), and the check it brings. */
    const interim = async () => {
      n++;
      await send('Interim-Update', {
        ...s,
        eventTime: T0 + 60 * n,
        sessionTime: 60 * n,
        outputOctets: 2n * GiB + BigInt(n),
      });
      await new Promise((resolve) => setTimeout(resolve, CHECK_AFTER_MS * 3));
    };
    try {
      await send('Start', { ...s, eventTime: T0 - 60 });
      await interim();
      await until(() => calls() === 1, 'the first disconnect');
      await until(async () => (await actedAt()).length === 1, 'the claim');
      expect(await actedAt()).toEqual([['disconnect', at(0)]]);

      // Within the grace: the session's updates may be those it sent before it ended.
      clock.mockReturnValue(at(DISCONNECT_GRACE_MS / 1000 - 1));
      await interim();
      expect(calls()).toBe(1);

      // After it, still online: disconnected again. This one fails: the row keeps its time
      // (the customer is still the month's disconnected one), and the next update tries again.
      const later = DISCONNECT_GRACE_MS / 1000 + 1;
      clock.mockReturnValue(at(later));
      ok = false;
      await interim();
      await until(() => calls() === 2, 'the disconnect again');
      await until(
        () =>
          lines.some((l) =>
            l.includes('still online 61 s after its disconnect: disconnecting again, failed'),
          ),
        'the failure to be logged',
      );
      expect(await actedAt()).toEqual([['disconnect', at(0)]]);
      ok = true;
      await interim();
      await until(() => calls() === 3, 'the disconnect tried again');
      expect(lines).toContain(
        'cap.again is over the 2026-11 data limit: still online 61 s after its disconnect: disconnecting again, done (coa): test ack',
      );
      expect(await actedAt()).toEqual([['disconnect', at(later)]]);
      // The grace runs from this disconnect again.
      await interim();
      expect(calls()).toBe(3);

      // Two instances checking at once: one disconnects.
      clock.mockReturnValue(at(later + DISCONNECT_GRACE_MS / 1000 + 1));
      const enforcer = api.app.get(DataCapEnforcer);
      const [a, b] = await Promise.all([
        enforcer.check(['cap.again']),
        enforcer.check(['cap.again']),
      ]);
      expect([...a, ...b]).toEqual(['cap.again']);
      expect(calls()).toBe(4);

      // Offline: nothing to disconnect, whatever the updates that come late.
      await send('Stop', { ...s, eventTime: T0 + 60 * (n + 1), sessionTime: 60 * (n + 1) });
      clock.mockReturnValue(at(later + 3 * (DISCONNECT_GRACE_MS / 1000)));
      expect(await enforcer.check(['cap.again'])).toEqual([]);
      expect(calls()).toBe(4);
    } finally {
      jest.restoreAllMocks();
    }
  });

  it("starts a new customer with a deleted customer's username from zero: no usage, no cap action, even after the old session's late Stop", async () => {
    const NOV_20 = Date.UTC(2026, 10, 20) / 1000;
    jest.spyOn(api.app.get(Clock), 'now').mockReturnValue(new Date(NOV_20 * 1000));
    const control = api.app.get(SessionControlService);
    const disconnected = jest
      .spyOn(control, 'disconnectUser')
      .mockResolvedValue({ ok: true, method: 'coa', message: 'test' });
    const disconnectIfOnline = jest
      .spyOn(control, 'disconnectIfOnline')
      .mockResolvedValue({ ok: true, method: 'coa', message: 'test' });
    const enforcer = api.app.get(DataCapEnforcer);
    const rollupRows = async () =>
      Number(
        (
          await db.query<{ n: number | string }>(
            "SELECT COUNT(*) AS n FROM rg_usage_monthly WHERE LOWER(username) = 'reused.user'",
          )
        )[0].n,
      );
    const capRows = async () =>
      Number(
        (
          await db.query<{ n: number | string }>(
            "SELECT COUNT(*) AS n FROM rg_cap_actions WHERE LOWER(username) = 'reused.user'",
          )
        )[0].n,
      );
    const capOf = async (id: string) =>
      (
        await gqlData(
          api,
          `query($id: ID!) { customer(id: $id) { usage { month totalBytes capAction } } }`,
          { id },
        )
      ).customer.usage;
    try {
      const old = await customer('reused.user');
      const s = { username: 'reused.user', sessionId: 'reuse-1' };
      await send('Start', { ...s, eventTime: NOV_20 });
      await send('Interim-Update', {
        ...s,
        eventTime: NOV_20 + 300,
        sessionTime: 300,
        inputOctets: 10n,
        outputOctets: 2n * GiB,
      });
      // Last month's, under the login in another case (FreeRADIUS takes "REUSED.USER").
      await db.query(
        "INSERT INTO rg_usage_monthly (username, month, upload_bytes, download_bytes) VALUES ('REUSED.USER', '2026-10', 1, 2)",
      );
      expect(await enforcer.check(['reused.user'])).toEqual(['reused.user']);
      expect(await capOf(old)).toEqual({
        month: '2026-11',
        totalBytes: Number(2n * GiB + 10n),
        capAction: 'DISCONNECTED',
      });

      await gqlData(api, `mutation($id: ID!) { deleteCustomer(id: $id) }`, { id: old });
      expect(disconnectIfOnline).toHaveBeenCalledWith('reused.user');
      expect([await rollupRows(), await capRows()]).toEqual([0, 0]);

      // The old session's Stop, after the delete (the disconnect it got): it adds its growth
      // since the last interim to the login's rollup, which the new customer does not inherit.
      await send('Stop', {
        ...s,
        eventTime: NOV_20 + 400,
        sessionTime: 400,
        inputOctets: 20n,
        outputOctets: 2n * GiB + 1000n,
      });
      expect(await rollupRows()).toBe(1);

      const fresh = await customer('reused.user');
      expect([await rollupRows(), await capRows()]).toEqual([0, 0]);
      expect(await capOf(fresh)).toEqual({ month: '2026-11', totalBytes: 0, capAction: null });
      disconnected.mockClear();
      expect(await enforcer.check(['reused.user'])).toEqual([]);
      expect(disconnected).not.toHaveBeenCalled();
      // FreeRADIUS's history stays.
      const [history] = await db.query<{ n: number | string }>(
        "SELECT COUNT(*) AS n FROM radacct WHERE username = 'reused.user'",
      );
      expect(Number(history.n)).toBe(1);

      // The new customer's own traffic counts.
      const t = { username: 'reused.user', sessionId: 'reuse-2' };
      await send('Start', { ...t, eventTime: NOV_20 + 600 });
      await send('Interim-Update', {
        ...t,
        eventTime: NOV_20 + 900,
        sessionTime: 300,
        inputOctets: 5n,
        outputOctets: 7n,
      });
      expect(await capOf(fresh)).toEqual({ month: '2026-11', totalBytes: 12, capAction: null });
    } finally {
      jest.restoreAllMocks();
    }
  });

  it("lifts last month's FUP throttle from a customer still online, once, when the month is over", async () => {
    const fup = await createProfile(api, {
      name: 'FUP 1G',
      downloadRateKbps: 20480,
      uploadRateKbps: 4096,
      dataLimitBytes: String(GiB),
      fupUploadRateKbps: 256,
      fupDownloadRateKbps: 512,
    });
    const throttled = async (username: string, sessionStart: number) => {
      await gqlData(
        api,
        `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`,
        { i: { username, password: 'pw-123456', profileId: fup } },
      );
      await send('Start', { username, sessionId: `${username}-s1`, eventTime: sessionStart });
      await db.query(
        "INSERT INTO rg_cap_actions (username, month, action, acted_at) VALUES (?, '2026-11', 'fup', '2026-11-20 10:00:00')",
        [username],
      );
    };
    const nov20 = Date.UTC(2026, 10, 20) / 1000;
    await throttled('fup.lift', nov20); // online since November: lifted
    // A login just after midnight, before FreeRADIUS learnt the month: it may have the FUP rate.
    await throttled('fup.relogged', Date.UTC(2026, 11, 1, 0, 0, 5) / 1000);
    await throttled('fup.again', nov20); // radgraph acted on December's cap already: left alone
    await db.query(
      "INSERT INTO rg_cap_actions (username, month, action, acted_at) VALUES ('fup.again', '2026-12', 'fup', '2026-12-01 00:00:10')",
    );
    await throttled('fup.offline', nov20); // offline: the next login has the profile's rate
    await send('Stop', {
      username: 'fup.offline',
      sessionId: 'fup.offline-s1',
      eventTime: nov20 + 60,
    });
    const liftedAt = async (username: string) =>
      (
        await db.query<{ at: unknown }>(
          "SELECT lifted_at AS at FROM rg_cap_actions WHERE username = ? AND month = '2026-11'",
          [username],
        )
      )[0].at;

    jest
      .spyOn(api.app.get(Clock), 'now')
      .mockReturnValue(new Date(Date.UTC(2026, 11, 1, 0, 0, 30)));
    const enforcer = api.app.get(DataCapEnforcer);
    const calls: string[] = [];
    let nasTakesIt = false;
    jest
      .spyOn(api.app.get(SessionControlService), 'changeUserRate')
      .mockImplementation((username, rate) => {
        calls.push(`${username} ${rate}`);
        const reached = nasTakesIt ? 1 : 0;
        return Promise.resolve({ rateLimit: rate, sessions: 1, reached, held: 0, failures: [] });
      });
    try {
      // The NAS did not take it: the claims are given back, and the next sync tries again.
      expect(await enforcer.liftThrottles()).toEqual([]);
      expect(await liftedAt('fup.lift')).toBeNull();
      nasTakesIt = true;
      calls.length = 0;
      // Two syncs at once (two instances): each throttle is lifted by one of them.
      const [a, b] = await Promise.all([enforcer.liftThrottles(), enforcer.liftThrottles()]);
      expect([...a, ...b].sort()).toEqual(['fup.lift', 'fup.relogged']);
      expect(calls.sort()).toEqual(['fup.lift 4096k/20480k', 'fup.relogged 4096k/20480k']);
      expect(await liftedAt('fup.lift')).not.toBeNull();
      expect(await enforcer.liftThrottles()).toEqual([]); // once
      expect(calls).toHaveLength(2);
      expect(await liftedAt('fup.again')).toBeNull();
      expect(await liftedAt('fup.offline')).toBeNull();
    } finally {
      jest.restoreAllMocks();
    }
  });

  it("gives back the action on this month's cap taken while a lift was on its way", async () => {
    const [{ id: profileId }] = await db.query<{ id: string | number }>(
      "SELECT id FROM rg_profiles WHERE name = 'FUP 1G'",
    );
    await gqlData(api, `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`, {
      i: { username: 'fup.race', password: 'pw-123456', profileId: String(profileId) },
    });
    await send('Start', {
      username: 'fup.race',
      sessionId: 'fup.race-s1',
      eventTime: Date.UTC(2026, 10, 20) / 1000,
    });
    await db.query(
      "INSERT INTO rg_cap_actions (username, month, action, acted_at) VALUES ('fup.race', '2026-11', 'fup', '2026-11-20 10:00:00')",
    );
    jest
      .spyOn(api.app.get(Clock), 'now')
      .mockReturnValue(new Date(Date.UTC(2026, 11, 1, 0, 0, 30)));
    const enforcer = api.app.get(DataCapEnforcer);
    const checked = jest.spyOn(enforcer, 'check').mockResolvedValue([]);
    jest
      .spyOn(api.app.get(SessionControlService), 'changeUserRate')
      .mockImplementation(async (username, rate) => {
        // Meanwhile another instance throttled the customer for December (its CoA may land first).
        await db.query(
          "INSERT INTO rg_cap_actions (username, month, action, acted_at) VALUES (?, '2026-12', 'fup', '2026-12-01 00:00:31')",
          [username],
        );
        return { rateLimit: rate, sessions: 1, reached: 1, held: 0, failures: [] };
      });
    try {
      expect(await enforcer.liftThrottles()).toEqual(['fup.race']);
      // December's action is given back, and the customer checked again: throttled again.
      const december = await db.query(
        "SELECT 1 FROM rg_cap_actions WHERE username = 'fup.race' AND month = '2026-12'",
      );
      expect(december).toEqual([]);
      await until(
        () => checked.mock.calls.some(([users]) => users.includes('fup.race')),
        'the customer to be checked again',
      );
    } finally {
      jest.restoreAllMocks();
    }
  });

  it("holds a changed plan's customers to it: this month's actions given back, the online ones checked again", async () => {
    jest.spyOn(api.app.get(Clock), 'now').mockReturnValue(new Date(Date.UTC(2026, 11, 10)));
    const enforcer = api.app.get(DataCapEnforcer);
    const checked = jest.spyOn(enforcer, 'check').mockResolvedValue([]);
    const pushed: string[] = [];
    jest
      .spyOn(api.app.get(SessionControlService), 'changeUserRate')
      .mockImplementation((username, rate, opts) => {
        pushed.push(`${username} ${rate} ${opts.announce}`);
        return Promise.resolve({ rateLimit: rate, sessions: 1, reached: 1, held: 0, failures: [] });
      });
    const act = (username: string, action: string) =>
      db.query(
        "INSERT INTO rg_cap_actions (username, month, action, acted_at) VALUES (?, '2026-12', ?, '2026-12-05 10:00:00')",
        [username, action],
      );
    try {
      // On 'FUP 1G' (above), online: fup.lift and fup.relogged throttled and now under the cap,
      // fup.again throttled and still over it; offline and over it, fup.offline. cap.claim is on
      // another profile.
      await act('fup.lift', 'fup');
      await act('fup.relogged', 'fup');
      await act('fup.offline', 'fup');
      await act('cap.claim', 'disconnect');
      for (const username of ['fup.again', 'fup.offline']) {
        await db.query(
          "INSERT INTO rg_usage_monthly (username, month, upload_bytes, download_bytes) VALUES (?, '2026-12', 0, ?)",
          [username, String(2n * GiB)],
        );
      }
      const reopened = await enforcer.reapply({ groupname: 'FUP 1G' });
      expect(reopened.sort()).toEqual(['fup.again', 'fup.lift', 'fup.offline', 'fup.relogged']);
      expect(pushed.sort()).toEqual([
        'fup.lift 4096k/20480k false',
        'fup.relogged 4096k/20480k false',
      ]);
      await until(
        () => checked.mock.calls.some(([users]) => users.includes('fup.again')),
        'the customer over the cap to be checked again',
      );
      expect(checked.mock.calls.flatMap(([users]) => users)).not.toContain('fup.offline');
      const left = await db.query("SELECT username FROM rg_cap_actions WHERE month = '2026-12'");
      expect(left).toEqual([{ username: 'cap.claim' }]);
      // One customer's plan.
      await act('fup.lift', 'fup');
      pushed.length = 0;
      expect(await enforcer.reapply({ username: 'fup.lift' })).toEqual(['fup.lift']);
      expect(await enforcer.reapply({ username: 'fup.lift' })).toEqual([]); // given back already
      expect(pushed).toEqual(['fup.lift 4096k/20480k false']);
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('counts a profile update as a plan change only when its limit or FUP speeds change', async () => {
    const planChanged = jest.spyOn(api.app.get(SessionControlService), 'planChanged');
    const update = (i: Record<string, unknown>) =>
      gqlData(
        api,
        `mutation($id: ID!, $i: UpdateProfileInput!) { updateProfile(id: $id, input: $i) { id } }`,
        { id: profileId, i },
      );
    try {
      // The same limit sent again with another change (a form sends every field).
      await update({ dataLimitBytes: String(GiB), validityDays: 31 });
      expect(planChanged).not.toHaveBeenCalled();
      await update({ dataLimitBytes: String(2n * GiB) });
      expect(planChanged).toHaveBeenCalledWith({ groupname: 'Capped 1G' });
      await update({ dataLimitBytes: String(GiB) });
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('defaults to the current month of the clock, and gives a history, newest first', async () => {
    const id = await customer('hist.user');
    jest.spyOn(api.app.get(Clock), 'now').mockReturnValue(new Date(Date.UTC(2026, 10, 15)));
    const { customer: c } = await gqlData(
      api,
      `query($id: ID!) { customer(id: $id) { usage { month totalBytes } usageHistory(months: 3) { month totalBytes } } }`,
      { id },
    );
    expect(c.usage).toEqual({ month: '2026-11', totalBytes: 0 });
    expect(c.usageHistory.map((u: { month: string }) => u.month)).toEqual([
      '2026-11',
      '2026-10',
      '2026-09',
    ]);
  });

  it('refuses a month that is not YYYY-MM, naming the argument', async () => {
    const id = await customer('bad.month');
    const error = await gqlError(
      api,
      `query($id: ID!) { customer(id: $id) { usage(month: "2026-13") { month } } }`,
      { id },
    );
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'month' });
  });
});
