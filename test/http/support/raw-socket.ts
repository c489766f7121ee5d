import { connect, type Socket } from 'node:net';

/** A plain TCP client that records what the server sent and when it closed the connection. */
export interface RawSocket {
  readonly socket: Socket;
  /** Everything received so far, as text. */
  received(): string;
  /** Resolves when the connection is closed (by either side), with milliseconds since it was opened. */
  readonly closed: Promise<number>;
  /** Resolves once `text` has been received. */
  receivedText(text: string): Promise<void>;
  /** Sends one byte every `everyMs` until the connection closes. */
  trickle(everyMs: number): void;
  destroy(): void;
}

export async function openRawSocket(port: number): Promise<RawSocket> {
  const socket = connect({ host: '127.0.0.1', port });
  const opened = performance.now();
  let data = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    data += chunk;
    for (const waiter of waiters.filter((w) => data.includes(w.text))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  // A reset by the server is one way of being closed; the test looks at `closed`.
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      clearInterval(timer);
      resolve(performance.now() - opened);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('close', () => reject(new Error(`connection to ${port} closed before it opened`)));
  });
  return {
    socket,
    received: () => data,
    closed,
    receivedText: (text) =>
      data.includes(text) ? Promise.resolve() : new Promise((resolve) => waiters.push({ text, resolve })),
    trickle(everyMs) {
      timer = setInterval(() => {
        if (!socket.destroyed && socket.writable) socket.write('x');
      }, everyMs);
    },
    destroy() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

/** Rejects when `promise` has not settled within `ms`: an upper bound on something that must happen, not a sleep. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
