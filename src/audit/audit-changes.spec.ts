import { auditChanges, auditText, entitySnapshot, MASK, secretChange } from './audit-changes';

describe('auditChanges', () => {
  it('lists only the fields that changed, in order, as text', () => {
    const at = new Date('2026-11-30T10:00:00.000Z');
    expect(
      auditChanges(
        { phone: '0700', name: 'A', suspended: false, expiresAt: at, limit: 5n },
        { phone: '0711', name: 'A', suspended: true, expiresAt: at, limit: 5n },
      ),
    ).toEqual([
      { field: 'phone', before: '0700', after: '0711' },
      { field: 'suspended', before: 'false', after: 'true' },
    ]);
  });

  it('shows a created record with null before, and a removed one with null after', () => {
    expect(auditChanges(null, { name: 'p1', price: '100', fup: null })).toEqual([
      { field: 'name', before: null, after: 'p1' },
      { field: 'price', before: null, after: '100' },
    ]);
    expect(auditChanges({ name: 'p1' }, null)).toEqual([
      { field: 'name', before: 'p1', after: null },
    ]);
  });

  it('masks every secret field, whatever its entity calls it, but still says it changed', () => {
    const changes = auditChanges(
      { secret: 'old-s3cret', apiPassword: 'sealed-1', keyHash: 'ab', adminToken: null, x: 1 },
      { secret: 'new-s3cret', apiPassword: 'sealed-2', keyHash: 'cd', adminToken: 't0k', x: 1 },
    );
    expect(changes).toEqual([
      { field: 'secret', before: MASK, after: MASK },
      { field: 'apiPassword', before: MASK, after: MASK },
      { field: 'keyHash', before: MASK, after: MASK },
      { field: 'adminToken', before: null, after: MASK },
    ]);
    expect(JSON.stringify(changes)).not.toMatch(/s3cret|sealed|t0k|"ab"|"cd"/);
  });

  it('does not report an unchanged secret', () => {
    expect(auditChanges({ secret: 'same' }, { secret: 'same' })).toEqual([]);
  });

  it('has a change for a secret set without a known value', () => {
    expect(secretChange('password')).toEqual({ field: 'password', before: MASK, after: MASK });
  });
});

describe('entitySnapshot and auditText', () => {
  it('keeps own plain fields, without omitted ones and relations', () => {
    const e = { id: 1, name: 'n', at: new Date(0), profile: { id: 2 }, updatedAt: new Date() };
    expect(entitySnapshot(e, ['id', 'updatedAt'])).toEqual({ name: 'n', at: new Date(0) });
  });

  it('writes values the same way every time', () => {
    expect(auditText(new Date('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02T03:04:05.678Z');
    expect(auditText(12)).toBe('12');
    expect(auditText(true)).toBe('true');
    expect(auditText(undefined)).toBeNull();
    expect(auditText(['a'])).toBe('["a"]');
  });
});
