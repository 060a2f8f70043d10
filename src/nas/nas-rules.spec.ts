import { AppError } from '../common/errors/app-error';
import { refuseMovedApiPassword, refuseWeakerApiTransport } from './nas-rules';

describe('refuseMovedApiPassword', () => {
  const at = (apiHost: string | null, nasname = '10.0.0.1') => ({ apiHost, nasname });
  const refusal = (before: ReturnType<typeof at>, after: ReturnType<typeof at>) => {
    try {
      refuseMovedApiPassword(before, after);
      return null;
    } catch (err) {
      return err as AppError;
    }
  };

  it('lets the stored password stay on the same host, however it is written', () => {
    expect(refusal(at('router.example.net'), at('Router.Example.NET'))).toBeNull();
    expect(refusal(at(' router.example.net '), at('router.example.net'))).toBeNull();
    expect(refusal(at('2001:DB8:0::1'), at('2001:db8::1'))).toBeNull();
    // No routerOs.host: the nasname is the host, whether written out or left to default.
    expect(refusal(at(null), at('10.0.0.1'))).toBeNull();
    expect(refusal(at('10.0.0.1'), at(null))).toBeNull();
    expect(refusal(at(null, '2001:DB8::1'), at(null, '2001:db8:0::1'))).toBeNull();
  });

  it('refuses another host, or another nasname the host follows, naming the password', () => {
    const moved = refusal(at('router.example.net'), at('evil.example.net'));
    expect(moved).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.routerOs.password',
      reason: 'ROUTEROS_PASSWORD_REQUIRED',
    });
    expect(moved!.message).toBe(
      'input.routerOs.password is required: the RouterOS API host changes from router.example.net to evil.example.net, and the stored password is only sent to the host it was given for, so give it again with the new host',
    );
    const renamed = refusal(at(null, '10.0.0.1'), at(null, '10.0.0.2'));
    expect(renamed).toMatchObject({ reason: 'ROUTEROS_PASSWORD_REQUIRED' });
    expect(renamed!.message).toContain(
      "from 10.0.0.1 to 10.0.0.2 (routerOs.host is not set: it follows the NAS's name)",
    );
    expect(refusal(at('10.0.0.1'), at(null, '10.0.0.2'))).not.toBeNull();
    expect(refusal(at(null, '10.0.0.0/24'), at(null, '10.0.1.0/24'))).not.toBeNull();
    // A new name with routerOs.host set keeps the host.
    expect(refusal(at('10.0.0.9', '10.0.0.1'), at('10.0.0.9', '10.0.0.2'))).toBeNull();
  });
});

describe('refuseWeakerApiTransport', () => {
  const t = (apiTls: boolean, apiTlsVerify: boolean) => ({ apiTls, apiTlsVerify });
  const reason = (before: ReturnType<typeof t>, after: ReturnType<typeof t>) => {
    try {
      refuseWeakerApiTransport(before, after);
      return null;
    } catch (err) {
      return (err as AppError & { reason?: string }).reason;
    }
  };

  it('refuses TLS turned off, and the certificate check turned off under TLS', () => {
    expect(reason(t(true, true), t(false, true))).toBe('ROUTEROS_PASSWORD_REQUIRED');
    expect(reason(t(true, false), t(false, false))).toBe('ROUTEROS_PASSWORD_REQUIRED');
    expect(reason(t(true, true), t(true, false))).toBe('ROUTEROS_PASSWORD_REQUIRED');
  });

  it('lets the same or a stronger setting keep the password', () => {
    expect(reason(t(true, true), t(true, true))).toBeNull();
    expect(reason(t(true, false), t(true, true))).toBeNull();
    expect(reason(t(true, false), t(true, false))).toBeNull();
    expect(reason(t(false, true), t(true, false))).toBeNull();
    // Without TLS, tlsVerify means nothing: flipping it weakens nothing.
    expect(reason(t(false, true), t(false, false))).toBeNull();
  });
});
