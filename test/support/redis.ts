import { Redis } from 'ioredis';

const REDIS_HOWTO =
  'The multi-instance tests need Redis. Start the local one with ' +
  '`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`, ' +
  'install it with `apt-get install -y redis-server`, or point TEST_REDIS_URL at one ' +
  '(redis://host:port).';

/** The Redis the tests use: TEST_REDIS_URL, else the local one. */
export function testRedisUrl(): string {
  return process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
}

/** Fails with how to get Redis when it is not there: never a skip. */
export async function requireRedis(): Promise<string> {
  const url = testRedisUrl();
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new Error(`Cannot reach Redis at ${url} (${(err as Error).message}). ${REDIS_HOWTO}`);
  } finally {
    client.disconnect();
  }
  return url;
}
