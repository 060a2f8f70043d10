import { createHmac } from 'node:crypto';
import { verifyWebhookSignature, webhookSignature } from './webhook-signature';

describe('webhook signatures', () => {
  const secret = 'a-webhook-secret-0123456789';
  const body = '{"type":"customerExpiring","data":{"daysLeft":3}}';
  const now = new Date('2026-12-01T10:00:00Z');
  const timestamp = String(now.getTime() / 1000);

  it('is sha256= and the hex HMAC-SHA256 of "<timestamp>.<raw body>"', () => {
    const hex = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
    expect(webhookSignature(secret, timestamp, body)).toBe(`sha256=${hex}`);
  });

  it('verifies the right signature, and refuses a changed body, secret, timestamp or an old one', () => {
    const signature = webhookSignature(secret, timestamp, body);
    const check = (over: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
      verifyWebhookSignature({ secret, timestamp, signature, rawBody: body, now, ...over });
    expect(check({})).toBe(true);
    expect(check({ rawBody: body.replace('3', '4') })).toBe(false);
    expect(check({ secret: `${secret}x` })).toBe(false);
    expect(check({ timestamp: String(Number(timestamp) + 1) })).toBe(false);
    expect(check({ signature: undefined })).toBe(false);
    expect(check({ now: new Date(now.getTime() + 301_000) })).toBe(false);
  });
});
