import type { X509Certificate } from 'node:crypto';

/**
 * A certificate's subject as QEMU's authz objects see it: GnuTLS's
 * gnutls_x509_crt_get_dn, RFC 4514 order (the most specific part first)
 * joined by commas, special characters escaped with a backslash:
 * `CN=client1,O=Example\, Ltd,C=GB`. Node.js lists the parts one a line,
 * most general first, already escaped the same way.
 */
export function distinguishedName(cert: X509Certificate): string {
  return cert.subject.split('\n').reverse().join(',');
}
