import type { X509Certificate } from 'node:crypto';

/**
 * A certificate's subject as QEMU's authz objects see it: GnuTLS's
 * gnutls_x509_crt_get_dn, which keeps the certificate's own order (its
 * compatibility mode, not RFC 4514's reversed one) and joins the parts
 * with commas, special characters escaped with a backslash:
 * `C=GB,O=Example\, Ltd,CN=client1` (QEMU 7.2 with GnuTLS 3.7 shows
 * this). Node.js lists the parts one a line in the same order, escaped
 * the same way.
 */
export function distinguishedName(cert: X509Certificate): string {
  return cert.subject.split('\n').join(',');
}
