import { describeErrorCause, ERROR_CAUSES } from './error-cause';

describe('Error-Cause', () => {
  it("names every value of RFC 5176's table", () => {
    expect(Object.fromEntries(ERROR_CAUSES)).toEqual({
      201: 'Residual-Session-Context-Removed',
      202: 'Invalid-EAP-Packet',
      401: 'Unsupported-Attribute',
      402: 'Missing-Attribute',
      403: 'NAS-Identification-Mismatch',
      404: 'Invalid-Request',
      405: 'Unsupported-Service',
      406: 'Unsupported-Extension',
      407: 'Invalid-Attribute-Value',
      501: 'Administratively-Prohibited',
      502: 'Request-Not-Routable',
      503: 'Session-Context-Not-Found',
      504: 'Session-Context-Not-Removable',
      505: 'Other-Proxy-Processing-Error',
      506: 'Resources-Unavailable',
      507: 'Request-Initiated',
      508: 'Multiple-Session-Selection-Unsupported',
    });
  });

  it('describes a value with its number and name', () => {
    expect(describeErrorCause(503)).toBe('503 Session-Context-Not-Found');
    expect(describeErrorCause(201)).toBe('201 Residual-Session-Context-Removed');
    expect(describeErrorCause(404)).toBe('404 Invalid-Request');
  });

  it('describes a value outside the table by its class', () => {
    expect(describeErrorCause(299)).toBe('299 (unknown Error-Cause, success class)');
    expect(describeErrorCause(499)).toBe('499 (unknown Error-Cause, requester error class)');
    expect(describeErrorCause(599)).toBe('599 (unknown Error-Cause, NAS or proxy error class)');
    expect(describeErrorCause(0)).toBe('0 (unknown Error-Cause)');
    expect(describeErrorCause(0xffffffff)).toBe('4294967295 (unknown Error-Cause)');
  });
});
