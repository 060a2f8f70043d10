import { Clock } from '../../src/common/clock/clock';
import { sha256Hex } from '../../src/common/crypto/sha256';
import { startApp, type RunningApp } from '../support/app';
import { LogCapture } from '../support/log-capture';
import { gqlData, gqlError } from '../support/graphql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const DAY = 86_400_000;
const LEDGER = `ledger { id amount balanceAfter kind note actor createdAt }`;
const CUSTOMER = `id balance expiresAt ${LEDGER}`;

/**
 * Balance and price (issue 6, part 4): money is exact, every balance change is a ledger row,
 * and the balance is always the sum of the ledger.
 */
describe.each(['mysql', 'sqlite'] as const)('balance and price on %s', (kind) => {
  let db: TestDatabase;
  let api: RunningApp;
  let monthly: { id: string; price: string };
  let free: { id: string; price: string };
  let seq = 0;

  const createProfile = async (input: Record<string, unknown>) =>
    (
      await gqlData(
        api,
        `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id name price } }`,
        { i: { downloadRateKbps: 1024, uploadRateKbps: 512, validityDays: 30, ...input } },
      )
    ).createProfile;
  const createCustomer = async (profileId: string) =>
    (
      await gqlData(
        api,
        `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { ${CUSTOMER} } }`,
        { i: { username: `payer.${++seq}`, password: 'pw', profileId } },
      )
    ).createCustomer;
  const customer = async (id: string) =>
    (await gqlData(api, `query($id: ID!) { customer(id: $id) { ${CUSTOMER} } }`, { id })).customer;
  const credit = async (id: string, amount: unknown, note?: string) =>
    (
      await gqlData(
        api,
        `mutation($id: ID!, $a: Money!, $n: String) { creditCustomer(id: $id, amount: $a, note: $n) { ${CUSTOMER} } }`,
        { id, a: amount, n: note },
      )
    ).creditCustomer;
  const renew = (id: string, force?: boolean) =>
    api.gql(
      `mutation($id: ID!, $f: Boolean) { renewCustomer(id: $id, force: $f) { ${CUSTOMER} } }`,
      { id, ...(force !== undefined && { f: force }) },
    );
  /** Everything a balance change could touch, for "nothing changed". */
  const snapshot = async (id: string) => ({
    customer: await db.query('SELECT * FROM rg_customers WHERE id = ?', [Number(id)]),
    ledger: await db.query('SELECT * FROM rg_ledger WHERE customer_id = ? ORDER BY id', [
      Number(id),
    ]),
    radcheck: await db.query(
      'SELECT r.attribute, r.value FROM radcheck r JOIN rg_customers c ON c.username = r.username WHERE c.id = ? ORDER BY r.attribute',
      [Number(id)],
    ),
  });

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    api = await startApp(db);
    monthly = await createProfile({ name: 'Monthly 30', price: '30.00' });
    free = await createProfile({ name: 'Free' });
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  describe('price', () => {
    it('defaults to 0 and round-trips exactly, stored as integer minor units', async () => {
      expect(free.price).toBe('0.00');
      expect(monthly.price).toBe('30.00');
      const big = await createProfile({ name: 'Big', price: '1234567.89' });
      expect(big.price).toBe('1234567.89');
      const [row] = await db.query<{ price_minor: number | string }>(
        'SELECT price_minor FROM rg_profiles WHERE id = ?',
        [Number(big.id)],
      );
      expect(String(row.price_minor)).toBe('123456789');
      const updated = (
        await gqlData(
          api,
          `mutation($id: ID!) { updateProfile(id: $id, input: { price: 0.1 }) { price } }`,
          {
            id: big.id,
          },
        )
      ).updateProfile;
      expect(updated.price).toBe('0.10');
      const untouched = (
        await gqlData(
          api,
          `mutation($id: ID!) { updateProfile(id: $id, input: { validityDays: 7 }) { price } }`,
          { id: big.id },
        )
      ).updateProfile;
      expect(untouched.price).toBe('0.10');
      const read = await gqlData(api, `query($id: ID!) { profile(id: $id) { price } }`, {
        id: big.id,
      });
      expect(read.profile.price).toBe('0.10');
    });

    it.each([
      ['too many decimals', '1.001'],
      ['a negative price', '-1.00'],
      ['letters', 'abc'],
      ['an absurd size', '1e30'],
    ])('refuses %s naming input.price', async (_label, price) => {
      const before = await db.query('SELECT COUNT(*) AS n FROM rg_profiles');
      const err = await gqlError(
        api,
        `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`,
        {
          i: { name: 'Bad price', downloadRateKbps: 1, uploadRateKbps: 1, validityDays: 1, price },
        },
      );
      expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.price' });
      expect(await db.query('SELECT COUNT(*) AS n FROM rg_profiles')).toEqual(before);
    });
  });

  describe('creditCustomer', () => {
    it('records a payment: a CREDIT ledger row with the note and the caller', async () => {
      const c = await createCustomer(monthly.id);
      expect(c.balance).toBe('0.00');
      expect(c.ledger).toEqual([]);
      const paid = await credit(c.id, '50.00', 'cash at the office');
      expect(paid.balance).toBe('50.00');
      expect(paid.ledger).toEqual([
        expect.objectContaining({
          amount: '50.00',
          balanceAfter: '50.00',
          kind: 'CREDIT',
          note: 'cash at the office',
          actor: 'admin-token',
        }),
      ]);
      // A JSON number is taken by the text it was written as.
      expect((await credit(c.id, 0.1)).balance).toBe('50.10');
      expect((await customer(c.id)).ledger.map((e: any) => e.amount)).toEqual(['0.10', '50.00']);
    });

    it.each([
      ['1.001 (more decimals than the currency has)', 1.001],
      ['"1.001" as a string', '1.001'],
      ['"abc"', 'abc'],
      ['a negative credit', '-5.00'],
      ['a zero credit', '0'],
      ['an absurd size', '9999999999999999999999'],
      ['an exponent', '1e3'],
    ])('refuses %s with BAD_USER_INPUT naming amount, and changes nothing', async (_l, amount) => {
      const c = await createCustomer(monthly.id);
      await credit(c.id, '5.00');
      const before = await snapshot(c.id);
      const err = await gqlError(
        api,
        `mutation($id: ID!, $a: Money!) { creditCustomer(id: $id, amount: $a) { id } }`,
        { id: c.id, a: amount },
      );
      expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount' });
      expect(await snapshot(c.id)).toEqual(before);
    });

    it('refuses 1e3 written as a float literal, naming amount', async () => {
      const c = await createCustomer(monthly.id);
      const err = await gqlError(
        api,
        `mutation { creditCustomer(id: "${c.id}", amount: 1e3) { id } }`,
      );
      expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount' });
      const fine = await gqlData(
        api,
        `mutation { creditCustomer(id: "${c.id}", amount: 1000.50) { balance } }`,
      );
      expect(fine.creditCustomer.balance).toBe('1000.50');
    });

    it('refuses a value that is no amount at all before anything runs', async () => {
      const c = await createCustomer(monthly.id);
      const { body } = await api.gql(
        `mutation($id: ID!, $a: Money!) { creditCustomer(id: $id, amount: $a) { id } }`,
        { id: c.id, a: { cents: 100 } },
      );
      expect(body.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
      expect((await customer(c.id)).balance).toBe('0.00');
    });

    it('an unknown customer is NOT_FOUND', async () => {
      const err = await gqlError(
        api,
        `mutation { creditCustomer(id: "999999", amount: "1.00") { id } }`,
      );
      expect(err.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
    });

    it('50 concurrent credits of 1.00 add exactly 50.00', async () => {
      const c = await createCustomer(monthly.id);
      await credit(c.id, '0.25');
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          api.gql(
            `mutation($id: ID!, $n: String) { creditCustomer(id: $id, amount: "1.00", note: $n) { id } }`,
            { id: c.id, n: `payment ${i}` },
          ),
        ),
      );
      for (const r of results) expect(r.body.errors).toBeUndefined();
      const after = (
        await gqlData(
          api,
          `query($id: ID!) { customer(id: $id) { balance ledger(first: 100) { balanceAfter kind } } }`,
          {
            id: c.id,
          },
        )
      ).customer;
      expect(after.balance).toBe('50.25');
      expect(after.ledger).toHaveLength(51);
      // One after the other: every row saw the one before it.
      expect(after.ledger.map((e: any) => e.balanceAfter)).toEqual(
        Array.from({ length: 51 }, (_, i) => `${50 - i}.25`),
      );
    });
  });

  describe('renewCustomer', () => {
    it('with a short balance is refused with INSUFFICIENT_BALANCE, and nothing changes', async () => {
      const c = await createCustomer(monthly.id);
      await credit(c.id, '29.99');
      const before = await snapshot(c.id);
      const { body } = await renew(c.id);
      expect(body.errors).toHaveLength(1);
      const err = body.errors![0];
      expect(err.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'id',
        reason: 'INSUFFICIENT_BALANCE',
      });
      expect(err.message).toContain('29.99');
      expect(err.message).toContain('30.00');
      expect(await snapshot(c.id)).toEqual(before);
      // The contract's form, without force, too.
      const plain = await gqlError(api, `mutation { renewCustomer(id: "${c.id}") { id } }`);
      expect(plain.extensions.reason).toBe('INSUFFICIENT_BALANCE');
      expect(await snapshot(c.id)).toEqual(before);
    });

    it('with enough balance deducts the price exactly and extends expiresAt', async () => {
      const c = await createCustomer(monthly.id);
      await credit(c.id, '45.50');
      const stored = await customer(c.id); // expiresAt as stored (MySQL keeps whole seconds)
      const { body } = await renew(c.id);
      expect(body.errors).toBeUndefined();
      const renewed = body.data.renewCustomer;
      expect(renewed.balance).toBe('15.50');
      expect(Date.parse(renewed.expiresAt) - Date.parse(stored.expiresAt)).toBe(30 * DAY);
      expect(renewed.ledger[0]).toMatchObject({
        amount: '-30.00',
        balanceAfter: '15.50',
        kind: 'RENEWAL',
        actor: 'admin-token',
      });
      expect(renewed.ledger[0].note).toContain('Monthly 30');
      const [expiration] = await db.query<{ value: string }>(
        `SELECT value FROM radcheck WHERE username = (SELECT username FROM rg_customers WHERE id = ?) AND attribute = 'Expiration'`,
        [Number(c.id)],
      );
      expect(Number(expiration.value)).toBe(Math.floor(Date.parse(renewed.expiresAt) / 1000));
      // Exactly the price again: the balance may reach 0.
      await credit(c.id, '14.50');
      const again = (await renew(c.id)).body.data.renewCustomer;
      expect(again.balance).toBe('0.00');
    });

    it('with force goes ahead and the balance goes negative', async () => {
      const c = await createCustomer(monthly.id);
      await credit(c.id, '10.00');
      const stored = await customer(c.id);
      const { body } = await renew(c.id, true);
      expect(body.errors).toBeUndefined();
      expect(body.data.renewCustomer.balance).toBe('-20.00');
      expect(Date.parse(body.data.renewCustomer.expiresAt) - Date.parse(stored.expiresAt)).toBe(
        30 * DAY,
      );
      const second = (await renew(c.id, true)).body.data.renewCustomer;
      expect(second.balance).toBe('-50.00');
      expect(second.ledger.map((e: any) => [e.kind, e.amount, e.balanceAfter])).toEqual([
        ['RENEWAL', '-30.00', '-50.00'],
        ['RENEWAL', '-30.00', '-20.00'],
        ['CREDIT', '10.00', '10.00'],
      ]);
      // force: false is the default.
      const refused = (await renew(c.id, false)).body;
      expect(refused.errors?.[0].extensions.reason).toBe('INSUFFICIENT_BALANCE');
    });

    it('of a free profile deducts nothing and writes no ledger row', async () => {
      const c = await createCustomer(free.id);
      const { body } = await renew(c.id);
      expect(body.errors).toBeUndefined();
      expect(body.data.renewCustomer.balance).toBe('0.00');
      expect(body.data.renewCustomer.ledger).toEqual([]);
    });
  });

  describe('idempotencyKey', () => {
    const CREDIT = `mutation($id: ID!, $a: Money!, $n: String, $k: String) { creditCustomer(id: $id, amount: $a, note: $n, idempotencyKey: $k) { ${CUSTOMER} } }`;
    const RENEW = `mutation($id: ID!, $f: Boolean, $k: String) { renewCustomer(id: $id, force: $f, idempotencyKey: $k) { ${CUSTOMER} } }`;
    const pay = (id: string, a: string, k: string | null, n?: string, token?: string) =>
      api.gql(CREDIT, { id, a, k, n }, token);
    const renewKeyed = (id: string, k: string | null, f?: boolean, token?: string) =>
      api.gql(RENEW, { id, k, ...(f !== undefined && { f }) }, token);
    const audits = async (id: string, operation: string) =>
      Number(
        (
          await db.query<{ n: number | string }>(
            'SELECT COUNT(*) AS n FROM rg_audit_log WHERE target_id = ? AND operation = ?',
            [id, operation],
          )
        )[0].n,
      );
    const keyRows = async () =>
      db.query<{ operation: string; customer_id: number | string; ledger_entry_id: unknown }>(
        'SELECT operation, customer_id, ledger_entry_id FROM rg_idempotency_keys ORDER BY id',
      );
    let n = 0;
    const newKey = () => `retry-${kind}-${++n}-${'x'.repeat(8)}`;

    it('credits a payment sent twice with the same key once, and answers the retry with the customer', async () => {
      const c = await createCustomer(monthly.id);
      const key = newKey();
      const first = (await pay(c.id, '25.00', key, 'M-Pesa QX1')).body;
      expect(first.errors).toBeUndefined();
      const before = await snapshot(c.id);
      const logs = new LogCapture().start();
      let again;
      try {
        again = (await pay(c.id, '25.00', key, 'M-Pesa QX1')).body;
      } finally {
        logs.stop();
      }
      // The answer changes nothing, and says so to the audit (no "without an audit row").
      expect(logs.text()).not.toContain('without an audit row');
      expect(again.errors).toBeUndefined();
      expect(again.data.creditCustomer).toEqual(first.data.creditCustomer);
      expect(again.data.creditCustomer.balance).toBe('25.00');
      expect(await snapshot(c.id)).toEqual(before);
      expect(await audits(c.id, 'creditCustomer')).toBe(1);
      const rows = (await keyRows()).filter((r) => String(r.customer_id) === c.id);
      expect(rows).toEqual([
        {
          operation: 'creditCustomer',
          customer_id: Number(c.id),
          ledger_entry_id: Number(first.data.creditCustomer.ledger[0].id),
        },
      ]);
      // An amount written otherwise is the same payment.
      expect((await pay(c.id, '25', key, 'M-Pesa QX1')).body.errors).toBeUndefined();
      // Without a key, or with another, every call is a payment.
      await pay(c.id, '1.00', null);
      await pay(c.id, '1.00', null);
      expect((await pay(c.id, '1.00', newKey())).body.data.creditCustomer.balance).toBe('28.00');
    });

    it('renews once under one key: charged and extended once, the retry answered with the same expiry', async () => {
      const c = await createCustomer(monthly.id);
      await credit(c.id, '100.00');
      const key = newKey();
      const first = (await renewKeyed(c.id, key)).body;
      expect(first.errors).toBeUndefined();
      const before = await snapshot(c.id);
      const again = (await renewKeyed(c.id, key, false)).body;
      expect(again.errors).toBeUndefined();
      expect(again.data.renewCustomer).toEqual(first.data.renewCustomer);
      expect(again.data.renewCustomer.balance).toBe('70.00');
      expect(await snapshot(c.id)).toEqual(before);
      expect(await audits(c.id, 'renewCustomer')).toBe(1);
      // A free renewal has no ledger row to name, and is done once all the same.
      const f = await createCustomer(free.id);
      const freeKey = newKey();
      const once = (await renewKeyed(f.id, freeKey)).body.data.renewCustomer;
      expect((await renewKeyed(f.id, freeKey)).body.data.renewCustomer.expiresAt).toBe(
        once.expiresAt,
      );
      expect(await audits(f.id, 'renewCustomer')).toBe(1);
    });

    it('applies identical requests sent at once only once', async () => {
      const c = await createCustomer(monthly.id);
      const key = newKey();
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => pay(c.id, '40.00', key, 'at once')),
      );
      for (const { body } of answers) {
        expect(body.errors).toBeUndefined();
        expect(body.data.creditCustomer.balance).toBe('40.00');
      }
      const renewKey = newKey();
      const renewals = await Promise.all(
        Array.from({ length: 6 }, () => renewKeyed(c.id, renewKey)),
      );
      const expiries = new Set<string>();
      for (const { body } of renewals) {
        expect(body.errors).toBeUndefined();
        expiries.add(body.data.renewCustomer.expiresAt);
      }
      expect(expiries.size).toBe(1);
      const { ledger } = await snapshot(c.id);
      expect(ledger.map((l) => (l as { kind: string }).kind)).toEqual(['credit', 'renewal']);
      expect((await customer(c.id)).balance).toBe('10.00');
      expect(await audits(c.id, 'creditCustomer')).toBe(1);
      expect(await audits(c.id, 'renewCustomer')).toBe(1);

      // One key for two customers at once: one is paid, the other refused.
      const d = await createCustomer(monthly.id);
      const shared = newKey();
      const both = await Promise.all([
        pay(c.id, '1.00', shared),
        pay(d.id, '1.00', shared),
        pay(c.id, '1.00', shared),
        pay(d.id, '1.00', shared),
      ]);
      const codes = both.map(({ body }) => body.errors?.[0].extensions.code ?? 'OK');
      // Whichever came first: both of its requests answer, both of the other's are refused.
      const cFirst = codes[0] === 'OK';
      expect(codes).toEqual(
        cFirst ? ['OK', 'CONFLICT', 'OK', 'CONFLICT'] : ['CONFLICT', 'OK', 'CONFLICT', 'OK'],
      );
      const paid = [(await customer(c.id)).balance, (await customer(d.id)).balance];
      expect(paid).toEqual(cFirst ? ['11.00', '0.00'] : ['10.00', '1.00']);
    });

    describe('per caller', () => {
      /** A new OPERATOR API key: its id, its secret and its name (the ledger's actor). */
      const apiKey = async (name: string) => {
        const { createApiKey } = await gqlData(
          api,
          'mutation($n: String!) { createApiKey(name: $n, role: OPERATOR) { key apiKey { id name } } }',
          { n: `${name}-${kind}-${++n}` },
        );
        return {
          id: createApiKey.apiKey.id,
          token: createApiKey.key,
          name: createApiKey.apiKey.name,
        };
      };
      const ok = (res: { body: { data?: any; errors?: any[] } }) => {
        expect(res.body.errors).toBeUndefined();
        return res.body.data;
      };
      let reseller: Awaited<ReturnType<typeof apiKey>>;
      let billing: Awaited<ReturnType<typeof apiKey>>;

      beforeAll(async () => {
        reseller = await apiKey('reseller');
        billing = await apiKey('billing');
      });

      it('credits two API keys that send the same key for the same payment, both; each retry is answered without writing', async () => {
        const c = await createCustomer(monthly.id);
        const key = `1001-${newKey()}`; // both number their invoices the same way
        ok(await pay(c.id, '25.00', key, 'Invoice 1001', reseller.token));
        const second = ok(await pay(c.id, '25.00', key, 'Invoice 1001', billing.token));
        expect(second.creditCustomer.balance).toBe('50.00');
        // And the admin token is a caller of its own.
        ok(await pay(c.id, '25.00', key, 'Invoice 1001'));
        const { ledger } = await snapshot(c.id);
        expect(ledger.map((l) => (l as { actor: string }).actor)).toEqual([
          reseller.name,
          billing.name,
          'admin-token',
        ]);
        expect(await audits(c.id, 'creditCustomer')).toBe(3);
        const before = await snapshot(c.id);
        for (const token of [reseller.token, billing.token, undefined]) {
          const again = ok(await pay(c.id, '25.00', key, 'Invoice 1001', token));
          expect(again.creditCustomer.balance).toBe('75.00');
        }
        expect(await snapshot(c.id)).toEqual(before);
        expect(await audits(c.id, 'creditCustomer')).toBe(3);
        expect((await keyRows()).filter((r) => String(r.customer_id) === c.id)).toHaveLength(3);
      });

      it("does not refuse a key another caller used for another request; the caller's own other request is CONFLICT", async () => {
        const c = await createCustomer(monthly.id);
        const other = await createCustomer(monthly.id);
        const key = `1002-${newKey()}`;
        ok(await pay(c.id, '30.00', key, 'reseller invoice', reseller.token));
        // Another amount, note, customer, and the other mutation, under the reseller's key.
        ok(await pay(c.id, '12.00', key, 'billing invoice', billing.token));
        const renewKey = `1003-${newKey()}`;
        ok(await pay(other.id, '30.00', renewKey, undefined, billing.token));
        ok(await pay(other.id, '5.00', key, undefined, undefined));
        const renewed = ok(await renewKeyed(other.id, renewKey, false, reseller.token));
        expect(renewed.renewCustomer.balance).toBe('5.00');
        expect((await customer(c.id)).balance).toBe('42.00');
        const before = [await snapshot(c.id), await snapshot(other.id)];
        for (const retry of [
          () => pay(c.id, '30.01', key, 'reseller invoice', reseller.token),
          () => pay(other.id, '12.00', key, 'billing invoice', billing.token),
          () => renewKeyed(other.id, renewKey, true, reseller.token),
          () => renewKeyed(other.id, key),
        ]) {
          expect((await retry()).body.errors?.[0].extensions).toMatchObject({
            code: 'CONFLICT',
            field: 'idempotencyKey',
            reason: 'IDEMPOTENCY_KEY_REUSED',
          });
        }
        expect([await snapshot(c.id), await snapshot(other.id)]).toEqual(before);
      });

      it('applies identical requests sent at once once per caller', async () => {
        const c = await createCustomer(monthly.id);
        const key = `1004-${newKey()}`;
        const answers = await Promise.all(
          [reseller, billing, reseller, billing, reseller, billing].map((k) =>
            pay(c.id, '10.00', key, 'at once', k.token),
          ),
        );
        for (const res of answers) ok(res);
        expect((await customer(c.id)).balance).toBe('20.00');
        expect(await audits(c.id, 'creditCustomer')).toBe(2);
      });

      it('takes an API key created anew (after revoking the old one) for a new caller', async () => {
        const old = await apiKey('rotated');
        const c = await createCustomer(monthly.id);
        const key = `1005-${newKey()}`;
        ok(await pay(c.id, '7.00', key, undefined, old.token));
        await gqlData(api, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: old.id });
        const fresh = await apiKey('rotated');
        const paid = ok(await pay(c.id, '7.00', key, undefined, fresh.token));
        expect(paid.creditCustomer.balance).toBe('14.00');
      });

      it('still answers a retry of a key recorded before keys were per caller, and only its caller', async () => {
        /** Makes the key's row as radgraph wrote it before: the hash of the key alone. */
        const recordedBefore = async (scope: string, key: string) =>
          db.query('UPDATE rg_idempotency_keys SET key_hash = ? WHERE key_hash = ?', [
            sha256Hex(key),
            sha256Hex(`${scope}\n${key}`),
          ]);
        const c = await createCustomer(monthly.id);
        const key = `1006-${newKey()}`;
        ok(await pay(c.id, '20.00', key, 'before', reseller.token));
        await recordedBefore(`api-key:${reseller.id}`, key);
        const before = await snapshot(c.id);
        // The retry that spans the upgrade: answered, not paid twice.
        expect(
          ok(await pay(c.id, '20.00', key, 'before', reseller.token)).creditCustomer.balance,
        ).toBe('20.00');
        expect(
          (await pay(c.id, '20.01', key, 'before', reseller.token)).body.errors?.[0].extensions,
        ).toMatchObject({
          code: 'CONFLICT',
          reason: 'IDEMPOTENCY_KEY_REUSED',
        });
        expect(await snapshot(c.id)).toEqual(before);
        // The ledger row names the reseller: the key is not the billing system's nor the admin's.
        ok(await pay(c.id, '20.00', key, 'before', billing.token));
        ok(await pay(c.id, '1.00', key));
        expect((await customer(c.id)).balance).toBe('41.00');

        // A free renewal wrote no ledger row to name its caller: the same request is answered.
        const f = await createCustomer(free.id);
        const freeKey = `1007-${newKey()}`;
        const once = ok(await renewKeyed(f.id, freeKey)).renewCustomer;
        await recordedBefore('admin-token', freeKey);
        expect(ok(await renewKeyed(f.id, freeKey)).renewCustomer.expiresAt).toBe(once.expiresAt);
        expect(await audits(f.id, 'renewCustomer')).toBe(1);
      });
    });

    it('refuses a malformed customer id with INVALID_ID before looking at the key, as without one', async () => {
      const c = await createCustomer(monthly.id);
      const key = newKey();
      expect((await pay(c.id, '5.00', key)).body.errors).toBeUndefined();
      const before = await snapshot(c.id);
      for (const id of [` ${c.id}`, `${c.id}.0`, '0x1', 'abc', '']) {
        for (const retry of [() => pay(id, '5.00', key), () => renewKeyed(id, key)]) {
          const { body } = await retry();
          expect(body.errors?.[0].extensions).toMatchObject({
            code: 'BAD_USER_INPUT',
            field: 'id',
            reason: 'INVALID_ID',
          });
        }
      }
      expect(await snapshot(c.id)).toEqual(before);
    });

    it('refuses a key used for another request with CONFLICT naming idempotencyKey, and writes nothing', async () => {
      const c = await createCustomer(monthly.id);
      const other = await createCustomer(monthly.id);
      await credit(other.id, '100.00');
      const key = newKey();
      expect((await pay(c.id, '50.00', key, 'first')).body.errors).toBeUndefined();
      const snapshots = async () => [await snapshot(c.id), await snapshot(other.id)];
      const before = await snapshots();
      for (const retry of [
        () => pay(c.id, '50.01', key, 'first'), // another amount
        () => pay(c.id, '50.00', key, 'second'), // another note
        () => pay(c.id, '50.00', key), // no note
        () => pay(other.id, '50.00', key, 'first'), // another customer
        () => renewKeyed(c.id, key), // another operation
      ]) {
        const { body } = await retry();
        expect(body.errors?.[0].extensions).toMatchObject({
          code: 'CONFLICT',
          field: 'idempotencyKey',
          reason: 'IDEMPOTENCY_KEY_REUSED',
        });
      }
      const renewKey = newKey();
      expect((await renewKeyed(other.id, renewKey)).body.errors).toBeUndefined();
      const after = await snapshot(other.id);
      const forced = (await renewKeyed(other.id, renewKey, true)).body;
      expect(forced.errors?.[0].extensions).toMatchObject({
        code: 'CONFLICT',
        reason: 'IDEMPOTENCY_KEY_REUSED',
      });
      expect(await snapshot(other.id)).toEqual(after);
      expect(await snapshot(c.id)).toEqual(before[0]);
    });

    it('runs a request that failed again under its key: a refusal records nothing', async () => {
      const c = await createCustomer(monthly.id);
      const key = newKey();
      const refused = (await renewKeyed(c.id, key)).body;
      expect(refused.errors?.[0].extensions.reason).toBe('INSUFFICIENT_BALANCE');
      await credit(c.id, '30.00');
      const { body } = await renewKeyed(c.id, key);
      expect(body.errors).toBeUndefined();
      expect(body.data.renewCustomer.balance).toBe('0.00');
    });

    it('tells keys apart by case, and refuses one that is not 1-128 printable ASCII characters', async () => {
      const c = await createCustomer(monthly.id);
      const key = `Case-${newKey()}`;
      await pay(c.id, '1.00', key);
      await pay(c.id, '1.00', key.toLowerCase());
      await pay(c.id, '1.00', `${key} `);
      expect((await customer(c.id)).balance).toBe('3.00');
      expect((await pay(c.id, '1.00', 'k'.repeat(128))).body.errors).toBeUndefined();
      const before = await snapshot(c.id);
      for (const bad of ['', 'k'.repeat(129), 'line\nbreak', 'tab\there', 'café-1', '\u0000']) {
        for (const call of [() => pay(c.id, '1.00', bad), () => renewKeyed(c.id, bad)]) {
          const { body } = await call();
          expect(body.errors?.[0].extensions).toMatchObject({
            code: 'BAD_USER_INPUT',
            field: 'idempotencyKey',
          });
        }
      }
      expect(await snapshot(c.id)).toEqual(before);
    });

    it('keeps a key 24 hours: after that the same key is a new request, and old keys are pruned', async () => {
      const c = await createCustomer(monthly.id);
      const key = newKey();
      const start = Date.now();
      const clock = jest.spyOn(api.app.get(Clock), 'now');
      const sqlTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
      const rowsBefore = async (ms: number) =>
        Number(
          (
            await db.query<{ n: number | string }>(
              'SELECT COUNT(*) AS n FROM rg_idempotency_keys WHERE created_at < ?',
              [sqlTime(ms)],
            )
          )[0].n,
        );
      try {
        clock.mockReturnValue(new Date(start));
        await pay(c.id, '5.00', key);
        await pay(c.id, '1.00', newKey());
        expect(await rowsBefore(start + 60_000)).toBeGreaterThanOrEqual(2);
        clock.mockReturnValue(new Date(start + DAY - 60_000));
        expect((await pay(c.id, '5.00', key)).body.data.creditCustomer.balance).toBe('6.00');
        clock.mockReturnValue(new Date(start + DAY + 60_000));
        const later = (await pay(c.id, '5.00', key)).body;
        expect(later.errors).toBeUndefined();
        expect(later.data.creditCustomer.balance).toBe('11.00');
        // Every key of the first day is gone, the other one's too: only the new row is left.
        expect(await rowsBefore(start + 60_000)).toBe(0);
        expect((await keyRows()).length).toBe(1);
      } finally {
        clock.mockRestore();
      }
    });
  });

  describe('ledger', () => {
    it('pages newest first and refuses a bad first', async () => {
      const c = await createCustomer(monthly.id);
      for (const a of ['1.00', '2.00', '3.00']) await credit(c.id, a);
      const { customer: found } = await gqlData(
        api,
        `query($id: ID!) { customer(id: $id) { ledger(first: 2) { amount } } }`,
        { id: c.id },
      );
      expect(found.ledger).toEqual([{ amount: '3.00' }, { amount: '2.00' }]);
      // first: 0 is a page size as on every other list: an empty one.
      const { customer: none } = await gqlData(
        api,
        `query($id: ID!) { customer(id: $id) { ledger(first: 0) { amount } } }`,
        { id: c.id },
      );
      expect(none.ledger).toEqual([]);
      for (const first of [-1, 501]) {
        const { body } = await api.gql(
          `query($id: ID!, $f: Int) { customer(id: $id) { ledger(first: $f) { id } } }`,
          { id: c.id, f: first },
        );
        expect(body.errors?.[0].extensions).toMatchObject({
          code: 'BAD_USER_INPUT',
          field: 'first',
        });
      }
    });

    it('goes with its customer when the customer is deleted', async () => {
      const c = await createCustomer(monthly.id);
      await credit(c.id, '1.00');
      await gqlData(api, `mutation($id: ID!) { deleteCustomer(id: $id) }`, { id: c.id });
      expect(
        await db.query('SELECT id FROM rg_ledger WHERE customer_id = ?', [Number(c.id)]),
      ).toEqual([]);
    });

    it('sums to every balance, after everything above (checked in SQL)', async () => {
      const rows = await db.query<{
        id: number;
        balance: number | string;
        total: number | string | null;
        entries: number | string;
        last_after: number | string | null;
      }>(
        `SELECT c.id, c.balance_minor AS balance, SUM(l.amount_minor) AS total, COUNT(l.id) AS entries,
           (SELECT l2.balance_after_minor FROM rg_ledger l2 WHERE l2.customer_id = c.id ORDER BY l2.id DESC LIMIT 1) AS last_after
         FROM rg_customers c LEFT JOIN rg_ledger l ON l.customer_id = c.id
         GROUP BY c.id, c.balance_minor`,
      );
      expect(rows.length).toBeGreaterThan(10);
      expect(rows.some((r) => Number(r.entries) > 50)).toBe(true);
      for (const r of rows) {
        expect([r.id, String(r.balance)]).toEqual([r.id, String(r.total ?? 0)]);
        if (r.last_after !== null)
          expect([r.id, String(r.last_after)]).toEqual([r.id, String(r.balance)]);
      }
    });
  });

  it('follows CURRENCY_DECIMALS', async () => {
    // A second instance on the same database: a currency without decimals.
    const whole = await startApp(db, { CURRENCY_DECIMALS: '0' });
    try {
      const c = (
        await gqlData(
          whole,
          `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`,
          { i: { username: 'whole.units', password: 'pw', profileId: free.id } },
        )
      ).createCustomer;
      const paid = await gqlData(
        whole,
        `mutation($id: ID!) { creditCustomer(id: $id, amount: "1500") { balance } }`,
        { id: c.id },
      );
      expect(paid.creditCustomer.balance).toBe('1500');
      const err = await gqlError(
        whole,
        `mutation($id: ID!) { creditCustomer(id: $id, amount: "1.50") { balance } }`,
        { id: c.id },
      );
      expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount' });
    } finally {
      await whole.close();
    }
  });
});
