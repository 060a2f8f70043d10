import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { chromium, type Browser, type Page, type Route } from 'playwright-core';
import { AccountingListener } from '../../src/radius/accounting/accounting-listener.service';
import { SessionEventBus } from '../../src/sessions/events/session-event-bus.service';
import { startApp, type RunningApp } from '../support/app';
import { startCoaResponder, type CoaResponder } from '../support/coa-responder';
import { holdSubscriptionSetup } from '../support/held-subscriptions';
import { until } from '../support/until';
import { createProfile, gqlData } from '../support/graphql';
import {
  accountingRequest,
  RadiusTestClient,
  sessionAttributes,
  validResponse,
} from '../support/radius-packets';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

/**
 * The operator console (issue 10) in a real browser: Debian's Chromium (/usr/bin/chromium),
 * driven by playwright-core, on radgraph serving /console with a real MariaDB, its accounting
 * listener, and a NAS that answers Disconnect-Requests. Screenshots of both pages go to
 * test-artifacts/console/.
 */
const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.join(__dirname, '..', '..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'console');
const NAS_SECRET = 'console-nas-s3cret';
const T0 = Math.floor(Date.now() / 1000) - 60;

describe('the operator console in Chromium', () => {
  let db: TestDatabase;
  let api: RunningApp;
  let coa: CoaResponder;
  let radius: RadiusTestClient;
  let browser: Browser;
  let page: Page;
  let listenerPort: number;
  let operatorKey: string;
  let viewerKey: string;
  /** The browser reaches radgraph through it, so the test can cut the network. */
  let proxy: TcpProxy;
  let consoleUrl: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing. Install Debian's Chromium: apt-get install -y chromium (scripts/test-all.sh does)`,
      );
    }
    // The console as the sources are now (esbuild: well under a second).
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-console.mjs')], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    mkdirSync(ARTIFACTS, { recursive: true });
    db = await createTestDatabase('mysql');
    coa = await startCoaResponder({ secret: NAS_SECRET });
    api = await startApp(db, { COA_TIMEOUT_MS: '500', COA_RETRIES: '1' });
    listenerPort = api.app.get(AccountingListener).address()!.port;
    proxy = await startTcpProxy(Number(new URL(api.url).port));
    consoleUrl = `http://127.0.0.1:${proxy.port}/console/`;
    radius = await RadiusTestClient.open();
    await gqlData(api, `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`, {
      i: { name: '127.0.0.1', secret: NAS_SECRET, type: 'mikrotik', coaPort: coa.port },
    });
    for (const [name, down] of [
      ['Home 10M', 10240],
      ['Business 50M', 51200],
    ] as const) {
      await gqlData(api, `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`, {
        i: { name, downloadRateKbps: down, uploadRateKbps: down / 2, validityDays: 30 },
      });
    }
    const keys = await gqlData(
      api,
      `mutation {
        op: createApiKey(name: "console-operator", role: OPERATOR) { key }
        viewer: createApiKey(name: "console-viewer", role: VIEWER) { key }
      }`,
    );
    operatorKey = keys.op.key;
    viewerKey = keys.viewer.key;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // As root in CI, Chromium needs its sandbox off; /dev/shm may be small in containers.
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await radius?.close();
    await api?.close();
    await coa?.close();
    await db?.drop();
  });

  async function signIn(key: string): Promise<void> {
    await page.goto(consoleUrl);
    await page.getByTestId('api-key-input').fill(key);
    await page.getByTestId('api-key-submit').click();
    await page.getByTestId('viewer-role').waitFor();
  }

  async function account(
    status: 'Start' | 'Interim-Update' | 'Stop',
    username: string,
    sessionTime: number,
    download: bigint,
    mac = 'AA:BB:CC:10:20:07',
    ip?: string,
    nasIp?: string,
  ): Promise<void> {
    const packet = accountingRequest(
      NAS_SECRET,
      sessionAttributes(status, {
        username,
        sessionId: `console-${username}`,
        eventTime: T0 + sessionTime,
        sessionTime,
        inputOctets: download / 10n,
        outputOctets: download,
        framedIp: ip ?? (username === 'browser.wanjiku' ? '10.20.0.7' : '10.20.0.8'),
        mac,
        nasIp,
      }),
    );
    const answer = await radius.send(packet, listenerPort);
    expect(answer && validResponse(answer, packet, NAS_SECRET)).toBe(true);
  }

  /** Signed in afresh with the operator's key, on the Online page with its feed live. */
  async function onlinePageAfresh(): Promise<void> {
    await page.goto(consoleUrl);
    await page.evaluate('window.sessionStorage.clear()');
    await signIn(operatorKey);
    await page.getByTestId('nav-online').click();
    await page.locator('[data-testid="live-status"][data-state="connected"]').waitFor();
  }

  const onlineRow = (username: string) =>
    page.locator(`[data-testid="online-row"][data-username="${username}"]`);

  async function createNas(name: string): Promise<string> {
    const { createNas: nas } = await gqlData(
      api,
      `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`,
      { i: { name, secret: `${NAS_SECRET}-${name}`, type: 'mikrotik' } },
    );
    return nas.id;
  }

  it('signs in with a key, adds a customer through the form, and refuses a duplicate on its field', async () => {
    await signIn(operatorKey);
    expect(await page.getByTestId('viewer-role').textContent()).toContain('OPERATOR');
    await page.getByTestId('nav-customers').click();
    await page.getByTestId('add-customer-open').click();
    const form = page.getByTestId('add-customer-form');
    await form.locator('[name="username"]').fill('browser.wanjiku');
    await form.locator('[name="password"]').fill('Browser-Pw-1');
    await form.locator('[name="phone"]').fill('+254 712 000111');
    await form.locator('[name="name"]').fill('Wanjiku Browser');
    await form.locator('[name="profileId"]').selectOption({ label: 'Home 10M' });
    await page.getByTestId('add-customer-submit').click();
    await page.getByTestId('customer-detail').waitFor();
    expect(await page.getByTestId('detail-username').textContent()).toContain('browser.wanjiku');
    expect(await page.getByTestId('detail-status').textContent()).toBe('Offline');
    expect(await page.getByTestId('detail-usage').textContent()).toBe('0 B (no limit)');
    const { customer } = await gqlData(
      api,
      `{ customer(username: "browser.wanjiku") { phone name profile { name } } }`,
    );
    expect(customer).toEqual({
      phone: '+254 712 000111',
      name: 'Wanjiku Browser',
      profile: { name: 'Home 10M' },
    });

    // The same username again: the server's CONFLICT shows under the username field.
    await page.getByTestId('nav-customers').click();
    await page.getByTestId('add-customer-open').click();
    await form.locator('[name="username"]').fill('browser.wanjiku');
    await form.locator('[name="profileId"]').selectOption({ label: 'Home 10M' });
    await page.getByTestId('add-customer-submit').click();
    const fieldError = page.getByTestId('field-error-username');
    await fieldError.waitFor();
    expect(await fieldError.textContent()).toMatch(/already exists/);

    // The list shows the customer with its columns.
    await page.getByTestId('nav-customers').click();
    await page.getByTestId('customers-search').fill('wanjiku');
    const row = page.locator('[data-testid="customer-row"][data-username="browser.wanjiku"]');
    await row.waitFor();
    expect(await row.locator('[data-col="phone"]').textContent()).toBe('+254 712 000111');
    expect(await row.locator('[data-col="profile"]').textContent()).toBe('Home 10M');
    await page.screenshot({ path: path.join(ARTIFACTS, 'pppoe-customers.png'), fullPage: true });
  });

  it('shows a session within 2 s of its Start and its Download changing with the Interim, without a reload', async () => {
    await page.getByTestId('nav-online').click();
    await page.locator('[data-testid="live-status"][data-state="connected"]').waitFor();
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));

    const sentAt = Date.now();
    await account('Start', 'browser.wanjiku', 0, 0n);
    const row = page.locator('[data-testid="online-row"][data-username="browser.wanjiku"]');
    await row.waitFor({ timeout: 2_000 });
    expect(Date.now() - sentAt).toBeLessThan(2_000);
    expect(await row.locator('[data-col="ip"]').textContent()).toBe('10.20.0.7');
    expect(await row.locator('[data-col="mac"]').textContent()).toBe('AA:BB:CC:10:20:07');
    expect(await row.locator('[data-col="nas"]').textContent()).toBe('127.0.0.1');
    const before = await row.locator('[data-col="download"]').textContent();

    await account('Interim-Update', 'browser.wanjiku', 60, 5n * 2n ** 30n + 123n);
    const changedBy = Date.now() + 2_000;
    while ((await row.locator('[data-col="download"]').textContent()) === before) {
      if (Date.now() > changedBy) throw new Error(`Download still reads ${before} after 2 s`);
      await page.waitForTimeout(25);
    }
    expect(await row.locator('[data-col="download"]').textContent()).toBe('5.0 GB');
    expect(await page.getByTestId('online-total').textContent()).toBe('1');
    expect(navigations).toEqual([]); // no reload
    await page.screenshot({ path: path.join(ARTIFACTS, 'online-customers.png'), fullPage: true });
  });

  it('shows the live feed dropping, reconnects by itself, and catches up on what it missed', async () => {
    const status = page.getByTestId('live-status');
    await proxy.cut();
    await page.locator('[data-testid="live-status"][data-state="disconnected"]').waitFor({
      timeout: 15_000,
    });
    // A session starts while the browser cannot hear about it.
    await gqlData(api, `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`, {
      i: { username: 'browser.outage', password: 'Outage-Pw-1', profileId: '1' },
    });
    await account('Start', 'browser.outage', 0, 0n, 'AA:BB:CC:10:20:08');
    await proxy.restore();
    await page.locator('[data-testid="live-status"][data-state="connected"]').waitFor({
      timeout: 30_000,
    });
    await page
      .locator('[data-testid="online-row"][data-username="browser.outage"]')
      .waitFor({ timeout: 5_000 });
    expect(await status.getAttribute('data-state')).toBe('connected');
    expect(await page.getByTestId('online-total').textContent()).toBe('2');
  });

  it('disconnects the customer from its detail page: the NAS receives the Disconnect-Request', async () => {
    await page.getByTestId('nav-customers').click();
    await page.locator('[data-testid="customer-row"][data-username="browser.wanjiku"]').click();
    await page.getByTestId('customer-detail').waitFor();
    expect(await page.getByTestId('detail-status').textContent()).toBe('Online');
    // The Interim's 5 GiB down and a tenth of that up count in this month's usage.
    expect(await page.getByTestId('detail-usage').textContent()).toBe('5.5 GB (no limit)');
    const before = coa.received.length;
    await page.getByTestId('action-disconnect').click();
    await page.getByTestId('action-result').waitFor();
    const requests = coa.received.slice(before);
    expect(requests.map((r) => r.code)).toEqual(['Disconnect-Request']);
    expect(requests[0].attributes['User-Name']).toBe('browser.wanjiku');
    expect(requests[0].authenticatorValid).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'customer-detail.png'), fullPage: true });
  });

  it("shows on the customer's page that the data cap throttled them, and since when", async () => {
    const profileId = await createProfile(api, {
      name: 'Capped 1G',
      dataLimitBytes: String(2n ** 30n),
      fupUploadRateKbps: 512,
      fupDownloadRateKbps: 1024,
    });
    await gqlData(api, `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`, {
      i: { username: 'browser.capped', password: 'Browser-Pw-2', profileId },
    });
    const before = coa.received.length;
    await account('Start', 'browser.capped', 0, 0n, 'AA:BB:CC:10:20:09');
    await account('Interim-Update', 'browser.capped', 60, 2n ** 30n, 'AA:BB:CC:10:20:09');
    await until(
      () => coa.received.slice(before).some((r) => r.code === 'CoA-Request'),
      'the FUP CoA-Request',
    );
    await page.getByTestId('nav-customers').click();
    await page.locator('[data-testid="customer-row"][data-username="browser.capped"]').click();
    await page.getByTestId('customer-detail').waitFor();
    // 1 GiB down and a tenth of that up, over the 1 GiB limit.
    expect(await page.getByTestId('detail-usage').textContent()).toMatch(
      /^1\.1 GB of 1\.0 GB, throttled \(FUP\) since \w+ \d+, \d{4}/,
    );
  });

  it('gives a VIEWER key the pages, with every action disabled', async () => {
    await page.getByTestId('sign-out').click();
    await signIn(viewerKey);
    expect(await page.getByTestId('viewer-role').textContent()).toContain('VIEWER');
    await page.getByTestId('nav-customers').click();
    await page.locator('[data-testid="customer-row"][data-username="browser.wanjiku"]').click();
    await page.getByTestId('customer-detail').waitFor();
    for (const action of ['action-disconnect', 'action-renew', 'action-change-profile']) {
      expect(await page.getByTestId(action).isDisabled()).toBe(true);
    }
    const suspend = page.locator('[data-testid="action-suspend"], [data-testid="action-resume"]');
    expect(await suspend.isDisabled()).toBe(true);
    await page.getByTestId('nav-customers').click();
    expect(await page.getByTestId('add-customer-open').isDisabled()).toBe(true);
  });

  it("keeps a customer's page current across a reconnection: a Stop missed meanwhile shows", async () => {
    await page.getByTestId('nav-customers').click();
    await page.locator('[data-testid="customer-row"][data-username="browser.outage"]').click();
    await page.getByTestId('customer-detail').waitFor();
    await page.locator('[data-testid="live-status"][data-state="connected"]').waitFor();
    expect(await page.getByTestId('detail-status').textContent()).toBe('Online');
    await proxy.cut();
    await page.locator('[data-testid="live-status"][data-state="disconnected"]').waitFor({
      timeout: 15_000,
    });
    // The session ends while the browser cannot hear about it.
    await account('Stop', 'browser.outage', 120, 0n, 'AA:BB:CC:10:20:08');
    await proxy.restore();
    await page.locator('[data-testid="live-status"][data-state="connected"]').waitFor({
      timeout: 30_000,
    });
    await page
      .locator('[data-testid="detail-status"]', { hasText: /^Offline$/ })
      .waitFor({ timeout: 5_000 });
    expect(await page.getByTestId('current-session').textContent()).toContain('Offline');
  });

  it('adds to a searched table only the sessions the search finds, as onlineSessions does', async () => {
    await page.getByTestId('nav-online').click();
    await page.locator('[data-testid="live-status"][data-state="connected"]').waitFor();
    const row = (username: string) =>
      page.locator(`[data-testid="online-row"][data-username="${username}"]`);
    await page.getByTestId('online-search').fill('10.30.');
    await page.locator('[data-testid="online-table"] td.empty').waitFor();
    // An address that holds the term but does not start with it (no customer has this
    // username): onlineSessions(search: "10.30.") does not find it, so neither may the table.
    await account('Start', 'browser.infix', 0, 0n, 'AA:BB:CC:00:30:01', '172.10.30.5');
    await account('Start', 'browser.prefix', 0, 0n, 'AA:BB:CC:00:30:02', '10.30.0.9');
    await row('browser.prefix').waitFor({ timeout: 5_000 });
    const { onlineSessions } = await gqlData(
      api,
      `{ onlineSessions(search: "10.30.") { edges { node { username } } } }`,
    );
    expect(onlineSessions.edges.map((e: any) => e.node.username)).toEqual(['browser.prefix']);
    expect(await row('browser.infix').count()).toBe(0);

    // A customer whose username holds the term stays in the table as its session changes.
    await page.getByTestId('online-search').fill('wanjiku');
    await row('browser.wanjiku').waitFor();
    await account('Interim-Update', 'browser.wanjiku', 180, 6n * 2n ** 30n);
    await page
      .locator(
        '[data-testid="online-row"][data-username="browser.wanjiku"] [data-col="download"]',
        {
          hasText: '6.0 GB',
        },
      )
      .waitFor({ timeout: 5_000 });
  });

  it('brings the header figures up to date after an event, though onlineSummary may be a second old', async () => {
    await page.getByTestId('nav-online').click();
    await page.locator('[data-testid="live-status"][data-state="connected"]').waitFor();
    await page.getByTestId('online-search').fill('');
    // With a NAS chosen the header is onlineSummary's, not counted from the table.
    await page.getByTestId('online-nas-filter').selectOption({ label: '127.0.0.1' });
    await page.locator('[data-testid="online-row"][data-username="browser.prefix"]').waitFor();
    await page.waitForTimeout(2_500); // past the header's refresh throttle
    // Another client's onlineSummary just before the Start: the server keeps that read for
    // up to a second (ONLINE_TOTALS_MAX_AGE_MS), so a refetch right after the event gets it.
    const { onlineSummary } = await gqlData(api, `{ onlineSummary { total } }`);
    await account('Start', 'browser.header', 0, 0n, 'AA:BB:CC:00:40:01', '10.40.0.1');
    await page.locator('[data-testid="online-row"][data-username="browser.header"]').waitFor();
    await page
      .locator('[data-testid="online-total"]', {
        hasText: new RegExp(`^${onlineSummary.total + 1}$`),
      })
      .waitFor({ timeout: 5_000 });
  });

  it('leaves no ghost row when a Stop commits while its subscription is still being set up', async () => {
    await page.getByTestId('nav-online').click();
    await page.locator('[data-testid="live-status"][data-state="connected"]').waitFor();
    await page.getByTestId('online-nas-filter').selectOption({ label: 'All NAS' });
    await account('Start', 'browser.ghost', 0, 0n, 'AA:BB:CC:00:50:01', '10.50.0.1');
    const row = page.locator('[data-testid="online-row"][data-username="browser.ghost"]');
    await row.waitFor();
    // The server holds every new subscription's setup (after auth and validation, before the
    // bus has it) until the test lets it go: the window a slow NAS lookup or a busy event
    // loop opens.
    const hold = holdSubscriptionSetup(api.app.get(SessionEventBus));
    try {
      await page.reload();
      await until(() => hold.holding > 0, 'the Online table subscribing');
      // The table's snapshot may be read now, before its subscription is in the bus...
      await row.waitFor({ timeout: 1_500 }).catch(() => undefined);
      // ...and the session ends before the subscription is: its STOPPED reaches no one.
      await account('Stop', 'browser.ghost', 60, 0n, 'AA:BB:CC:00:50:01', '10.50.0.1');
      hold.release();
      // The row goes once the table is live: it must not stay until the next reload.
      await row.waitFor({ state: 'detached', timeout: 5_000 });
      expect(await page.getByTestId('live-status').getAttribute('data-state')).toBe('connected');
    } finally {
      hold.restore();
    }
  });

  it("keeps a customer's page current when a Stop commits while its subscription is still being set up", async () => {
    await gqlData(api, `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`, {
      i: { username: 'browser.detailrace', password: 'Detail-Race-1', profileId: '1' },
    });
    await account('Start', 'browser.detailrace', 0, 0n, 'AA:BB:CC:00:60:01', '10.60.0.1');
    await page.getByTestId('nav-customers').click();
    const hold = holdSubscriptionSetup(
      api.app.get(SessionEventBus),
      (filter) => filter.username === 'browser.detailrace',
    );
    try {
      await page
        .locator('[data-testid="customer-row"][data-username="browser.detailrace"]')
        .click();
      await until(() => hold.holding > 0, "the customer's page subscribing");
      await page
        .locator('[data-testid="detail-status"]', { hasText: /^Online$/ })
        .waitFor({ timeout: 5_000 });
      // The session ends after the page read it, before its subscription is in the bus.
      await account('Stop', 'browser.detailrace', 60, 0n, 'AA:BB:CC:00:60:01', '10.60.0.1');
      hold.release();
      await page
        .locator('[data-testid="detail-status"]', { hasText: /^Offline$/ })
        .waitFor({ timeout: 5_000 });
    } finally {
      hold.restore();
    }
  });

  it('renews once when the answer to a renewal was lost and the operator clicks Renew again', async () => {
    const expiry = async (id: string) =>
      Date.parse(
        (await gqlData(api, `query($id: ID!) { customer(id: $id) { expiresAt } }`, { id })).customer
          .expiresAt,
      );
    const {
      createCustomer: { id },
    } = await gqlData(
      api,
      `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`,
      { i: { username: 'browser.renewtwice', password: 'Renew-Twice-1', profileId: '1' } },
    );
    const before = await expiry(id);
    await page.getByTestId('sign-out').click();
    await signIn(operatorKey);
    await page.getByTestId('nav-customers').click();
    await page.locator('[data-testid="customer-row"][data-username="browser.renewtwice"]').click();
    await page.getByTestId('customer-detail').waitFor();
    // The first renewal reaches the server and commits; its answer never reaches the page.
    let lost = 0;
    await page.route('**/graphql', async (route) => {
      if (lost > 0 || !route.request().postData()?.includes('renewCustomer')) {
        return route.fallback();
      }
      lost++;
      await route.fetch();
      await route.abort('connectionreset');
    });
    const result = page.getByTestId('action-result');
    try {
      await page.getByTestId('action-renew').click();
      await result.filter({ hasText: /Cannot reach the server/ }).waitFor({ timeout: 5_000 });
      expect(lost).toBe(1);
      await page.getByTestId('action-renew').click();
      await result.filter({ hasText: /^Renewed until/ }).waitFor({ timeout: 5_000 });
    } finally {
      await page.unroute('**/graphql');
    }
    // One renewal of the 30-day profile, not two.
    expect((await expiry(id)) - before).toBe(30 * 86_400_000);
  });

  it("pages a customer's connection history back past its newest 20, with the total", async () => {
    await gqlData(api, `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`, {
      i: { username: 'browser.history', password: 'History-Pw-1', profileId: '1' },
    });
    // 75 ten-minute sessions an hour apart, the oldest first, through the listener.
    const connect = async (i: number, stop: boolean) => {
      const at = T0 - (80 - i) * 3600;
      for (const [status, time] of stop
        ? ([
            ['Start', 0],
            ['Stop', 600],
          ] as const)
        : ([['Start', 0]] as const)) {
        const packet = accountingRequest(
          NAS_SECRET,
          sessionAttributes(status, {
            username: 'browser.history',
            sessionId: `history-${i}`,
            eventTime: at + time,
            sessionTime: time,
            framedIp: '10.80.0.1',
            mac: 'AA:BB:CC:80:00:01',
          }),
        );
        const answer = await radius.send(packet, listenerPort);
        expect(answer && validResponse(answer, packet, NAS_SECRET)).toBe(true);
      }
    };
    for (let i = 0; i < 75; i++) await connect(i, true);
    const apiHistory = async () =>
      (
        await gqlData(
          api,
          `{ customer(username: "browser.history") { sessions(first: 500) { edges { node { id } } } } }`,
        )
      ).customer.sessions.edges.map((e: any) => e.node.id as string);

    await page.getByTestId('nav-customers').click();
    await page.getByTestId('customers-search').fill('browser.history');
    await page.locator('[data-testid="customer-row"][data-username="browser.history"]').click();
    await page.getByTestId('customer-detail').waitFor();
    const count = page.getByTestId('history-count');
    const rows = page.getByTestId('history-row');
    const loadMore = page.getByTestId('history-load-more');
    const shown = () =>
      rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-session-id')));
    const shows = (text: string) =>
      count.filter({ hasText: new RegExp(`^${text}$`) }).waitFor({ timeout: 5_000 });
    await shows('20 of 75 sessions');
    await loadMore.click();
    await shows('70 of 75 sessions');
    expect(await shown()).toEqual((await apiHistory()).slice(0, 70));

    // A new session pushes one out of the newest 20: the list keeps it, and the rest loads.
    await connect(75, false);
    await shows('71 of 76 sessions');
    expect(await shown()).toEqual((await apiHistory()).slice(0, 71));
    await loadMore.click();
    await shows('76 of 76 sessions');
    expect(await shown()).toEqual(await apiHistory());
    expect(await loadMore.count()).toBe(0);
  });

  it('fills the Online table up again as shown sessions stop, and keeps its total current', async () => {
    // More sessions than the table shows (100): all start at T0, so the latest ids are newest.
    const bulk = (i: number) => `browser.bulk${String(i).padStart(3, '0')}`;
    const mac = (i: number) => `AA:BB:CC:70:00:${i.toString(16).padStart(2, '0').toUpperCase()}`;
    const ip = (i: number) => `10.70.0.${i + 1}`;
    for (let i = 0; i < 130; i++) await account('Start', bulk(i), 0, 0n, mac(i), ip(i));
    await page.waitForTimeout(1_100); // past the age an unfiltered totalCount may have
    const open = async () =>
      (await gqlData(api, `{ onlineSessions(first: 0) { totalCount } }`)).onlineSessions
        .totalCount as number;
    const online = await open();
    expect(online).toBeGreaterThan(130);

    await page.getByTestId('nav-online').click();
    await page.locator('[data-testid="live-status"][data-state="connected"]').waitFor();
    const count = page.getByTestId('online-count');
    const rows = page.getByTestId('online-row');
    const row = (i: number) =>
      page.locator(`[data-testid="online-row"][data-username="${bulk(i)}"]`);
    const shows = (text: string) =>
      count.filter({ hasText: new RegExp(`^${text}$`) }).waitFor({ timeout: 5_000 });
    await shows(`100 shown of ${online}`);
    await row(129).waitFor();
    expect(await row(29).count()).toBe(0);

    // The 20 newest stop: the table reads the snapshot again to show 100 rows, not 80.
    for (let i = 110; i < 130; i++) await account('Stop', bulk(i), 60, 0n, mac(i), ip(i));
    await shows(`100 shown of ${online - 20}`);
    await row(10).waitFor();
    expect(await rows.count()).toBe(100);
    expect(await row(110).count()).toBe(0);
    expect(await row(9).count()).toBe(0);

    // A session older than every row stops: no row goes, the total still follows.
    await account('Stop', bulk(0), 60, 0n, mac(0), ip(0));
    await shows(`100 shown of ${online - 21}`);
    // A new one starts: it shows, the oldest row gives way, and the total counts it.
    await account('Start', bulk(130), 0, 0n, mac(130), ip(130));
    await row(130).waitFor({ timeout: 5_000 });
    await shows(`100 shown of ${online - 20}`);
    await row(10).waitFor({ state: 'detached' });
    expect(await rows.count()).toBe(100);
    await page.waitForTimeout(1_100);
    expect(await open()).toBe(online - 20);
  });

  it("runs README's browser example through a snapshot request that fails: it reads again and applies the events it held", async () => {
    // The example as README.md has it, bundled with graphql-ws, pointed at this server.
    const [, example] = /\*\*Live updates in a browser\*\*[\s\S]*?```js\n([\s\S]*?)```/.exec(
      readFileSync(path.join(ROOT, 'README.md'), 'utf8'),
    )!;
    const origin = `127.0.0.1:${proxy.port}`;
    const bundled = buildSync({
      stdin: { contents: example.replaceAll('localhost:4000', origin), resolveDir: ROOT },
      bundle: true,
      format: 'iife',
      write: false,
      logLevel: 'silent',
    }).outputFiles[0].text;
    await page.goto(`http://${origin}/health`); // the same origin, without the console
    await page.evaluate((key) => {
      const w = globalThis as any;
      w.apiKey = key;
      w.rendered = [];
      w.render = (rows: Map<string, { username: string }>) =>
        w.rendered.push([...rows.values()].map((r) => r.username));
      w.showBanner = w.hideBanner = () => undefined;
    }, operatorKey);
    // The example's first snapshot request fails (the network drops it).
    let failed = 0;
    await page.route('**/graphql', (route) =>
      failed === 0 && route.request().postData()?.includes('onlineSessions(first: 100)')
        ? (failed++, route.abort('connectionreset'))
        : route.fallback(),
    );
    const lastRender = () => page.evaluate(() => (globalThis as any).rendered.at(-1) as string[]);
    try {
      await page.addScriptTag({ content: bundled });
      await until(() => failed > 0, "the example's snapshot request");
      // A session starts meanwhile: its event comes while the snapshot is missing.
      await account('Start', 'browser.readme', 0, 0n, 'AA:BB:CC:00:90:01', '10.90.0.1');
      await until(
        async () => (await lastRender())?.includes('browser.readme') ?? false,
        'the example showing the table with the new session',
        { timeoutMs: 10_000 },
      );
      // Events apply at once again, not into a buffer that is never read.
      await account('Stop', 'browser.readme', 60, 0n, 'AA:BB:CC:00:90:01', '10.90.0.1');
      await until(
        async () => (await lastRender())?.includes('browser.readme') === false,
        'the example dropping the stopped session',
      );
    } finally {
      await page.unroute('**/graphql');
      await page.goto(consoleUrl); // closes the example's socket
    }
  });

  /**
   * A new NAS at `address` with `inside` online on it and `outside` online on another NAS,
   * and the Online page filtered on it, its table loaded: so its subscription is live (the
   * snapshot is read after the subscription says so), and what the test does next comes
   * after it. (In .ci/run a row waited for while the All NAS table still showed it let a
   * rename come first: the subscription matched the new address from the start, and had no
   * NAS_CHANGED to make the menu read the NAS list again.)
   */
  async function onlineFilteredOn(
    address: string,
    inside: { username: string; mac: string; ip: string },
    outside: { username: string; mac: string; ip: string },
  ) {
    const nasId = await createNas(address);
    await account('Start', inside.username, 0, 0n, inside.mac, inside.ip, address);
    await account('Start', outside.username, 0, 0n, outside.mac, outside.ip);
    await onlinePageAfresh();
    await onlineRow(outside.username).waitFor();
    const filter = page.getByTestId('online-nas-filter');
    await filter.selectOption({ label: address });
    await onlineRow(outside.username).waitFor({ state: 'detached' });
    await onlineRow(inside.username).waitFor();
    return { nasId, filter };
  }

  it('clears a NAS filter whose NAS is deleted back to All NAS, says why, and lists the NAS again', async () => {
    const { nasId, filter } = await onlineFilteredOn(
      '10.99.1.1',
      { username: 'browser.nasgone', mac: 'AA:BB:CC:00:A0:01', ip: '10.99.1.10' },
      { username: 'browser.nasstays', mac: 'AA:BB:CC:00:A0:02', ip: '10.99.1.11' },
    );

    await gqlData(api, `mutation($id: ID!) { deleteNas(id: $id, force: true) }`, { id: nasId });
    // Not a retry every 2 s that never ends: the table goes back to every NAS...
    await onlineRow('browser.nasstays').waitFor({ timeout: 5_000 });
    expect(await filter.inputValue()).toBe('');
    // ...the operator is told why, and the deleted NAS is no longer offered.
    expect(await page.getByTestId('online-nas-notice').textContent()).toMatch(
      /10\.99\.1\.1.*deleted/,
    );
    await filter.locator(`option[value="${nasId}"]`).waitFor({ state: 'detached' });
    expect(await page.locator('.alert-error').count()).toBe(0);
    await onlineRow('browser.nasgone').waitFor(); // its session is still open, on All NAS
    // Another NAS chosen later clears the notice.
    await filter.selectOption({ label: '127.0.0.1' });
    await page.getByTestId('online-nas-notice').waitFor({ state: 'detached' });
  });

  it('follows a NAS whose address changes: the NAS list is read again, and the table reloads for the new address', async () => {
    const { nasId, filter } = await onlineFilteredOn(
      '10.99.2.1',
      { username: 'browser.oldaddr', mac: 'AA:BB:CC:00:B0:01', ip: '10.99.2.10' },
      { username: 'browser.othernas', mac: 'AA:BB:CC:00:B0:03', ip: '10.99.2.12' },
    );

    await gqlData(
      api,
      `mutation($id: ID!) { updateNas(id: $id, input: { name: "10.99.2.2" }) { id } }`,
      {
        id: nasId,
      },
    );
    // The subscription ends with NAS_CHANGED: the filter now means the new address.
    await filter.locator(`option[value="${nasId}"]`, { hasText: /^10\.99\.2\.2$/ }).waitFor({
      state: 'attached',
      timeout: 5_000,
    });
    expect(await filter.inputValue()).toBe(nasId);
    await onlineRow('browser.oldaddr').waitFor({ state: 'detached', timeout: 5_000 });
    await account(
      'Start',
      'browser.newaddr',
      0,
      0n,
      'AA:BB:CC:00:B0:02',
      '10.99.2.11',
      '10.99.2.2',
    );
    await onlineRow('browser.newaddr').waitFor({ timeout: 5_000 });
    expect(await page.getByTestId('online-count').textContent()).toBe('1 shown');
    expect(await page.getByTestId('online-nas-notice').count()).toBe(0);
  });

  it('reads the NAS menu again when the operator goes to it: a NAS added since the page loaded is offered', async () => {
    await onlinePageAfresh();
    const filter = page.getByTestId('online-nas-filter');
    await filter.locator('option', { hasText: /^127\.0\.0\.1$/ }).waitFor({ state: 'attached' });
    const nasId = await createNas('10.99.5.1');
    await filter.focus();
    await filter.locator(`option[value="${nasId}"]`, { hasText: /^10\.99\.5\.1$/ }).waitFor({
      state: 'attached',
      timeout: 5_000,
    });
  });

  it('reads the table again after EVENTS_MISSED: a Start and a Stop it missed show, with no duplicate row', async () => {
    await account(
      'Start',
      'browser.missedstop',
      0,
      0n,
      'AA:BB:CC:00:C0:01',
      '10.99.3.1',
      '10.99.3.9',
    );
    await account('Start', 'browser.kept', 0, 0n, 'AA:BB:CC:00:C0:02', '10.99.3.2', '10.99.3.9');
    await onlinePageAfresh();
    await page.getByTestId('online-search').fill('browser.m');
    await onlineRow('browser.missedstop').waitFor();
    // Redis lost events: the server ends every subscription; these two reach no one.
    api.app.get(SessionEventBus)['endMissed'](performance.now());
    await account(
      'Stop',
      'browser.missedstop',
      60,
      0n,
      'AA:BB:CC:00:C0:01',
      '10.99.3.1',
      '10.99.3.9',
    );
    await account(
      'Start',
      'browser.missedstart',
      0,
      0n,
      'AA:BB:CC:00:C0:03',
      '10.99.3.3',
      '10.99.3.9',
    );
    await onlineRow('browser.missedstart').waitFor({ timeout: 10_000 });
    await onlineRow('browser.missedstop').waitFor({ state: 'detached', timeout: 5_000 });
    // And it is live again: the next event applies, once.
    await account(
      'Interim-Update',
      'browser.missedstart',
      60,
      3n * 2n ** 30n,
      'AA:BB:CC:00:C0:03',
      '10.99.3.3',
      '10.99.3.9',
    );
    await onlineRow('browser.missedstart')
      .locator('[data-col="download"]', { hasText: '3.0 GB' })
      .waitFor({ timeout: 5_000 });
    const shown = await page
      .getByTestId('online-row')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-session-id')));
    expect(new Set(shown).size).toBe(shown.length);
    expect(await page.getByTestId('online-count').textContent()).toBe(`${shown.length} shown`);
  });

  it('leaves no ghost row when a Start came while a snapshot loaded and its Stop while the feed was down', async () => {
    const frames: string[] = [];
    page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
    await onlinePageAfresh();
    // The table's next snapshot request hangs, so the events that come meanwhile wait for it.
    let held: Route | undefined;
    await page.route('**/graphql', (route) => {
      if (held || !route.request().postData()?.includes('OnlineSessions')) {
        return route.fallback();
      }
      held = route;
    });
    try {
      await page.getByTestId('online-search').fill('browser.ghost');
      await until(() => held !== undefined, 'the snapshot request for the search');
      await account('Start', 'browser.ghost2', 0, 0n, 'AA:BB:CC:00:D0:01', '10.99.4.1');
      await until(
        () => frames.some((f) => f.includes('browser.ghost2')),
        'the STARTED reaching the browser',
      );
      // The feed drops; the session ends meanwhile; the feed comes back and the table reloads.
      await proxy.cut();
      await page.locator('[data-testid="live-status"][data-state="disconnected"]').waitFor({
        timeout: 15_000,
      });
      await account('Stop', 'browser.ghost2', 60, 0n, 'AA:BB:CC:00:D0:01', '10.99.4.1');
      await proxy.restore();
      await page.locator('[data-testid="live-status"][data-state="connected"]').waitFor({
        timeout: 30_000,
      });
      // The new snapshot has no such session; the STARTED held from before must not bring it back.
      await page
        .getByTestId('online-count')
        .filter({ hasText: /^0 shown$/ })
        .waitFor({ timeout: 5_000 });
      expect(await onlineRow('browser.ghost2').count()).toBe(0);
    } finally {
      await held?.abort();
      await page.unroute('**/graphql');
    }
  });

  it('goes back to the first page of the list when a search is cleared', async () => {
    const csv = ['username,profile']
      .concat(Array.from({ length: 30 }, (_, i) => `browser.paged${i},Home 10M`))
      .join('\n');
    const { importCustomers } = await gqlData(
      api,
      `mutation($csv: String!) { importCustomers(csv: $csv) { created } }`,
      { csv },
    );
    expect(importCustomers.created).toBe(30);
    await page.goto(consoleUrl);
    await page.evaluate('window.sessionStorage.clear()');
    await signIn(operatorKey);
    await page.getByTestId('nav-customers').click();
    // "1–25 of 42": the rows shown and the list's total.
    const range = page.locator('.toolbar [aria-live]');
    const rangeReads = (pattern: RegExp) =>
      until(async () => pattern.test((await range.textContent()) ?? ''), `the range ${pattern}`);
    await rangeReads(/^1–25 of \d+$/);
    const total = /of (\d+)$/.exec((await range.textContent())!)![1];
    await page.getByTestId('customers-next').click();
    await rangeReads(/^26–/);

    const search = page.getByTestId('customers-search');
    await search.fill('browser.paged2'); // paged2 and paged20-29
    await rangeReads(/^1–11 of 11$/);
    // Cleared: the whole list again, from its start, not the page it was on before the search.
    await search.fill('');
    await rangeReads(new RegExp(`of ${total}$`));
    expect(await range.textContent()).toBe(`1–25 of ${total}`);
    expect(await page.getByTestId('customers-prev').isDisabled()).toBe(true);
  });

  // The Customers page has no subscription open: nothing but the socket's close (4403) tells it
  // the key is gone, and its reconnection is accepted, then closed (4401), for ever.
  it.each([
    ['Online', 'nav-online', 'online-table'],
    ['Customers', 'nav-customers', 'customers-table'],
  ])(
    'signs the %s page out, saying why, once its API key is revoked',
    async (_page, nav, table) => {
      const { createApiKey: created } = await gqlData(
        api,
        `mutation($name: String!) { createApiKey(name: $name, role: VIEWER) { key apiKey { id } } }`,
        { name: `console-revoked-${nav}` },
      );
      await page.goto(consoleUrl);
      await page.evaluate('window.sessionStorage.clear()');
      await signIn(created.key);
      await page.getByTestId(nav).click();
      await page.getByTestId(table).waitFor();
      await page.locator('[data-testid="live-status"][data-state="connected"]').waitFor();
      await gqlData(api, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, {
        id: created.apiKey.id,
      });
      // The server closes the key's socket: the page must not go on showing a table it can no
      // longer keep current, retrying for ever.
      await page
        .getByTestId('login-error')
        .filter({ hasText: /revoked/ })
        .waitFor({ timeout: 10_000 });
      expect(await page.getByTestId(table).count()).toBe(0);
    },
  );
});
