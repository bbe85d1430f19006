import { connect as netConnect, type Socket } from 'node:net';
import type { QmpAddress } from './address.js';
import { ConnectError } from './errors.js';
import { abortMessage, describeAddress } from './listener.js';

/**
 * Connects to a QMP server's unix path or TCP address, with TLS when the
 * address asks for it (resolved once the handshake is done), failing with
 * ConnectError after `timeoutMs`.
 */
export function dialSocket(address: QmpAddress, timeoutMs: number): Promise<Socket> {
  const where = describeAddress(address);
  return new Promise<Socket>((resolve, reject) => {
    const secure = typeof address !== 'string' && address.tls !== undefined;
    const s =
      typeof address === 'string'
        ? netConnect(address)
        : address.tls !== undefined
          ? process.getBuiltinModule('node:tls').connect({ ...address.tls, host: address.host, port: address.port })
          : netConnect(address.port, address.host);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new ConnectError(`connecting to ${where}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    s.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (error: Error) => {
      clearTimeout(timer);
      reject(new ConnectError(`connecting to ${where}: ${error.message}`, { cause: error }));
    });
  });
}

/** Sleeps; false when aborted first. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Settles as `promise` does, or fails with ConnectError when `ms` pass or `signal` aborts first. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ConnectError(`${what}: ${abortMessage(signal)}`));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      reject(new ConnectError(`${what} within ${ms} ms`));
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
