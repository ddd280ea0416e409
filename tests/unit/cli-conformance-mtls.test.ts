import { describe, expect, it } from 'vitest';
import { handshakeRefusal } from '../../src/conformance/transport.ts';

// `mtls-required` passes only when the target itself refused the connection without a client certificate.
describe('conformance: what shows a target requires a client certificate', () => {
  it('counts a TLS alert or a reset by the target as the refusal', () => {
    for (const failure of [
      {
        code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
        message: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: tlsv13 alert certificate required',
      },
      { code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', message: 'sslv3 alert handshake failure' },
      { code: 'ECONNRESET', message: 'ECONNRESET: read ECONNRESET' },
      { code: 'UND_ERR_SOCKET', message: 'UND_ERR_SOCKET: other side closed' },
    ]) {
      expect(handshakeRefusal(failure), failure.code).toBeUndefined();
    }
  });

  it('fails on a timeout, a refused connection or any other failure', () => {
    for (const failure of [
      { code: 'TIMEOUT', message: 'no answer within 5000 ms' },
      { code: 'UND_ERR_CONNECT_TIMEOUT', message: 'UND_ERR_CONNECT_TIMEOUT: Connect Timeout Error' },
      { code: 'UND_ERR_HEADERS_TIMEOUT', message: 'UND_ERR_HEADERS_TIMEOUT: Headers Timeout Error' },
      { code: 'ERR_TLS_HANDSHAKE_TIMEOUT', message: 'TLS handshake timeout' },
      { code: 'ECONNREFUSED', message: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9' },
      { code: 'ENOTFOUND', message: 'ENOTFOUND: getaddrinfo ENOTFOUND nowhere.invalid' },
      { code: 'ERROR', message: 'Error: something else' },
    ]) {
      expect(handshakeRefusal(failure), failure.code).toMatch(/^no TLS refusal/);
    }
  });
});
