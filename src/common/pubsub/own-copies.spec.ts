import { OwnCopies } from './own-copies';

describe('OwnCopies', () => {
  it('delivers every batch that comes through the transport once', () => {
    const own = new OwnCopies(10);
    const id = own.next();
    expect(own.arrived(id)).toBe(true);
    expect(own.arrived('another-instance:1')).toBe(true);
  });

  it('delivers a failed publish here, and drops its copy when Redis had it after all', () => {
    const own = new OwnCopies(10);
    const id = own.next();
    expect(own.failed(id)).toBe(true);
    expect(own.arrived(id)).toBe(false);
  });

  it('does not deliver a failed publish here when its copy came back first', () => {
    const own = new OwnCopies(10);
    const id = own.next();
    expect(own.arrived(id)).toBe(true);
    expect(own.failed(id)).toBe(false);
  });

  it("never takes another instance's batch for its own", () => {
    const own = new OwnCopies(10);
    const mine = own.next();
    const theirs = new OwnCopies(10).next();
    expect(theirs).not.toBe(mine);
    expect(own.arrived(theirs)).toBe(true);
    expect(own.failed(own.next())).toBe(true);
  });
});
