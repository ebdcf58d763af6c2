/**
 * The HTTP seam (src/http.ts) and every kind of request made through it, in-process against scripted
 * servers on loopback: each answer bounded in bytes and time, failures told apart by class, got's
 * retries and Retry-After.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { brotliCompressSync, constants, deflateRawSync, gzipSync } from 'node:zlib';
import { jobFamilies } from '../../src/catalogue.js';
import { prometheusApi } from '../../src/check/prometheus-api.js';
import type { Target, VictoriaMetrics } from '../../src/config/types.js';
import { AnswerTooLarge, HttpFailure, HttpStatus, NoAnswer, SinkFailure } from '../../src/errors.js';
import { createAgents, createHttp, destroyAgents, request, type Agents, type Http } from '../../src/http.js';
import { deleteGroup, pushGroup, readGroups } from '../../src/sinks/pushgateway-api.js';
import { postImport, readLastSuccesses, recallQuery } from '../../src/sinks/victoriametrics-api.js';
import { victoriaMetricsSink } from '../../src/sinks/victoriametrics.js';
import { createStickFetch } from '../../src/stick.js';
import { endlessBody, startScripted, type Scripted } from '../helpers/hostile.js';

let agents: Agents;
before(async () => {
  agents = await createAgents(false);
});
after(() => {
  destroyAgents(agents);
});

const http = (timeoutMs = 10_000, retries = 0): Http => createHttp({ timeoutMs, retries }, agents);

/** As a server can: more than any bound of the job, then the connection cut (an unbounded client fails too). */
const endless = (response: ServerResponse, status = 200, type = 'text/plain') => {
  endlessBody(response.writeHead(status, { 'content-type': type }), '', undefined, 64 << 20);
};

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof Error, `no failure: ${String(error)}`);
  return error;
}

const target = (instance: string): Target => ({ url: new URL('http://127.0.0.1:9/'), instance, labels: [] });

describe('every kind of request: an endless answer is cut off at its bound, in the same words', () => {
  const base = (server: Scripted) => new URL(`${server.url}/`);
  type Kind = { status?: number; send: (server: Scripted) => Promise<unknown>; says: RegExp; is?: typeof HttpStatus };
  const kinds: Record<string, Kind> = {
    'a stick GET': {
      send: (server) => createStickFetch(http(), 1 << 20)({ url: base(server) }, '/jsonlive'),
      says: /^sent more than 1 MiB on \/jsonlive$/,
    },
    'a stick GET answered 500': {
      status: 500,
      send: (server) => createStickFetch(http(), 1 << 20)({ url: base(server) }, '/jsonlive'),
      says: /^sent more than 1 MiB on \/jsonlive$/,
    },
    'a Pushgateway PUT': {
      send: (server) => pushGroup(http(), base(server), [['job', 'trucki']], 'trucki_up 1\n'),
      says: /^sent more than 64 KiB answering the push$/,
    },
    'a Pushgateway PUT answered 500': {
      status: 500,
      send: (server) => pushGroup(http(), base(server), [['job', 'trucki']], 'trucki_up 1\n'),
      says: /^sent more than 64 KiB answering the push$/,
    },
    'a Pushgateway DELETE': {
      send: (server) => deleteGroup(http(), base(server), [['job', 'trucki']]),
      says: /^sent more than 64 KiB answering the deletion$/,
    },
    'the Pushgateway read-back answered 500': {
      status: 500,
      send: (server) =>
        readGroups(http(), base(server), {
          values: { groupings: [], family: 'trucki_last_success_timestamp_seconds' },
        }),
      says: /^answered HTTP 500 Internal Server Error$/,
      is: HttpStatus,
    },
    'a VictoriaMetrics import': {
      send: (server) => postImport(http(), base(server), 'trucki_up 1\n'),
      says: /^sent more than 1 MiB answering the import$/,
    },
    'the VictoriaMetrics last-success query': {
      send: (server) => readLastSuccesses(http(), base(server), recallQuery('trucki'), [target('a')], []),
      says: /^sent more than 4 MiB on \/api\/v1\/query$/,
    },
    "a Prometheus API query of check's": {
      send: (server) => prometheusApi(http(), base(server)).query('trucki_up'),
      says: /^sent more than 1 MiB on \/api\/v1\/query$/,
    },
  };
  for (const [kind, { status, send, says, is = AnswerTooLarge }] of Object.entries(kinds)) {
    test(`${kind}: a one-line failure, having taken a bounded part of the answer`, async () => {
      const server = await startScripted((_request, response) => {
        endless(response, status);
      });
      try {
        const error = await failureOf(send(server));
        assert.match(error.message, says);
        assert.ok(error instanceof is, error.name);
        // What the server got out before the job stopped reading: the bound and what sockets buffer.
        assert.ok(server.sent() < 16 << 20, `${String(server.sent() >> 20)} MiB sent before the job stopped reading`);
      } finally {
        await server.close();
      }
    });
  }
});

describe('answers parsed whole are bounded by what they can be', () => {
  /** Valid JSON of `bytes`: a query result of many small series, as a hostile or broken store might send. */
  const hugeResult = (bytes: number) => {
    const series = '{"metric":{"instance":"x"},"value":[1,"1"]}';
    const result = Array.from({ length: bytes / series.length }, () => series).join(',');
    return Buffer.from(`{"status":"success","data":{"resultType":"vector","result":[${result}]}}`);
  };

  test('a VictoriaMetrics recall answered with 8 MiB of JSON fails in words, and the run still delivers', async () => {
    const imports: string[] = [];
    const store = await startScripted((request, response) => {
      if (request.url?.startsWith('/api/v1/query')) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(hugeResult(8 << 20));
        return;
      }
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        imports.push(body);
        response.writeHead(204).end();
      });
    });
    const url = new URL(`${store.url}/`);
    const backlog = { maxBytes: 1 << 20, maxAgeMs: 60_000 };
    const vm: VictoriaMetrics = { url, job: 'trucki', grouping: [], query: { url }, backlog };
    try {
      const sink = victoriaMetricsSink(vm, http(), http(), true);
      const recall = await failureOf(sink.lastSuccesses!([target('a')]));
      assert.ok(recall instanceof SinkFailure);
      assert.match(
        recall.message,
        /query API \S+ sent more than 4 MiB on \/api\/v1\/query when asked for the last successes$/,
      );
      const handed = await sink.deliver({
        target: target('a'),
        samples: [{ family: jobFamilies.up, labels: {}, value: 1 }],
        readAt: 0,
      });
      await handed.outcome;
      assert.equal(imports.length, 1);
      assert.match(imports[0]!, /^trucki_up\{job="trucki",instance="a"\} 1 0$/m);
    } finally {
      await store.close();
    }
  });

  test("check's Prometheus query answered with 2 MiB of JSON: too large, where a query of ours is kilobytes", async () => {
    const server = await startScripted((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(hugeResult(2 << 20));
    });
    try {
      const error = await failureOf(prometheusApi(http(), new URL(`${server.url}/`)).query('trucki_up'));
      assert.ok(error instanceof AnswerTooLarge, error.message);
      assert.equal(error.message, 'sent more than 1 MiB on /api/v1/query');
    } finally {
      await server.close();
    }
  });

  // Within the byte bounds, yet some 200 MB of heap once parsed: beyond a small machine's (--max-old-space-size=96).
  const costly = {
    '4 MiB of [{},{},…]': (prefix: string, suffix: string) =>
      `${prefix}[${Array.from({ length: (4 << 20) / 3 - 100 }, () => '{}').join(',')}]${suffix}`,
    '4 MiB of [[[…]]]': (prefix: string, suffix: string) =>
      `${prefix}${'['.repeat((2 << 20) - 100)}${']'.repeat((2 << 20) - 100)}${suffix}`,
  };
  for (const [what, json] of Object.entries(costly)) {
    test(`${what} within the bound is not parsed: the recall and check's Prometheus reads fail in words`, async () => {
      const server = await startScripted((request, response) => {
        const into = request.url!.includes('/rules')
          ? 'groups'
          : request.url!.includes('/alerts')
            ? 'alerts'
            : 'result';
        const body = json(`{"status":"success","data":{"resultType":"vector","${into}":`, '}}');
        response.writeHead(200, { 'content-type': 'application/json' }).end(body);
      });
      try {
        const base = new URL(`${server.url}/`);
        const says =
          /with JSON that (holds more than 100000 objects and arrays|nests deeper than 64 levels): not read$/;
        const recall = await failureOf(readLastSuccesses(http(), base, recallQuery('trucki'), [target('a')], []));
        assert.match(recall.message, says);
        for (const read of ['rules', 'alerts'] as const) {
          const error = await failureOf(prometheusApi(http(), base)[read]());
          assert.match(error.message, says);
        }
      } finally {
        await server.close();
      }
    });
  }

  test('a gzip bomb is counted as it unpacks, and a Content-Length beyond the bound is not waited for', async () => {
    const bomb = gzipSync(Buffer.alloc(64 << 20, 0x20));
    const server = await startScripted((request, response) => {
      if (request.url === '/bomb') response.writeHead(200, { 'content-encoding': 'gzip' }).end(bomb);
      // Says 10 GB, sends a little, and holds the connection open.
      else response.writeHead(200, { 'content-length': String(10e9) }).write('{');
    });
    try {
      for (const path of ['/bomb', '/lies']) {
        const error = await failureOf(
          request(http(60_000), { url: new URL(`${server.url}${path}`), maxBytes: 1 << 20, what: `on ${path}` }),
        );
        assert.ok(error instanceof AnswerTooLarge, error.message);
        assert.equal(error.message, `sent more than 1 MiB on ${path}`);
      }
    } finally {
      await server.close();
    }
  });
  // 64 MiB of spaces in some 100 bytes, with brotli's largest window: 16 MiB, which a decoder holds while it lives.
  const brotliBomb = () =>
    brotliCompressSync(Buffer.alloc(64 << 20, 0x20), {
      params: { [constants.BROTLI_PARAM_LGWIN]: 24, [constants.BROTLI_PARAM_QUALITY]: 5 },
    });
  const bombed = {
    'sticks that all send a brotli bomb at once are decoded one at a time': {
      send: (base: URL) => createStickFetch(http(), 1 << 20)({ url: base }, '/jsonlive'),
      says: 'sent more than 1 MiB on /jsonlive',
    },
    // As many deletions as sticks at once, when a loop stops with --delete-on-exit.
    'deletions all answered 200 with a brotli bomb at once are done, their answers not decoded': {
      send: (base: URL) => deleteGroup(http(), base, [['job', 'trucki']]),
      says: undefined,
    },
  };
  for (const [what, { send, says }] of Object.entries(bombed)) {
    test(`${what}, in bounded memory`, async () => {
      const bomb = brotliBomb();
      const server = await startScripted((_request, response) => {
        response.writeHead(200, { 'content-encoding': 'br' }).end(bomb);
      });
      const rss = () => process.memoryUsage.rss();
      const before = rss();
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rss())), 5);
      try {
        const sent = Array.from({ length: 40 }, () => send(new URL(`${server.url}/`)));
        for (const error of await Promise.all(says === undefined ? sent : sent.map(failureOf)))
          assert.equal((error as Error | undefined)?.message, says);
        assert.ok(peak - before < 200 << 20, `${String((peak - before) >> 20)} MiB more while 40 answered`);
      } finally {
        clearInterval(sampler);
        await server.close();
      }
    });
  }

  test('a stick body in raw deflate, sent as "deflate", is read whatever its first byte', async () => {
    const json = '{"DEVICE":"SUNA55A69","FIRMWARE":"1.16"}';
    const raw = deflateRawSync(json);
    assert.equal(raw[0]! & 0x08, 0x08, 'a first byte that looks like the start of a zlib header');
    const server = await startScripted((_request, response) => {
      response.writeHead(200, { 'content-encoding': 'deflate' }).end(raw);
    });
    try {
      assert.equal(await createStickFetch(http(), 1 << 20)({ url: new URL(`${server.url}/`) }, '/jsononce'), json);
    } finally {
      await server.close();
    }
  });

  // got's decoder destroys an answer it cannot decode: one longer than a read shows as a closed connection.
  const notCompressed = { 'a short body': '{"VGRID":234.2}', 'a long body': `{"VGRID":234.2}${' '.repeat(300_000)}` };
  for (const [size, body] of Object.entries(notCompressed)) {
    for (const encoding of ['gzip', 'deflate', 'br']) {
      test(`${size} that says ${encoding} but is none fails at once, in words, as the body it is`, async () => {
        const server = await startScripted((request, response) => {
          const type = request.url === '/metrics' ? 'text/plain' : 'application/json';
          response.writeHead(200, { 'content-encoding': encoding, 'content-type': type }).end(body);
        });
        try {
          const base = new URL(`${server.url}/`);
          const values = { groupings: [], family: 'trucki_up' };
          const reads = {
            '/jsonlive': () => createStickFetch(http(10_000, 2), 1 << 20)({ url: base }, '/jsonlive'),
            '/metrics': () => readGroups(http(10_000, 2), base, { values }),
          };
          for (const [path, read] of Object.entries(reads)) {
            const error = await failureOf(read());
            assert.ok(error instanceof HttpFailure, error.message);
            assert.equal(error.message, `sent a compressed body that cannot be decoded on ${path}`);
          }
          assert.deepEqual(server.requests, ['GET /jsonlive', 'GET /metrics']);
        } finally {
          await server.close();
        }
      });
    }
  }

  test('an error status whose body says gzip but is none is told by its status, and retried as such', async () => {
    const server = await startScripted((_request, response) => {
      response.writeHead(503, { 'content-encoding': 'gzip' }).end('busy');
    });
    try {
      const error = await failureOf(request(http(10_000, 1), { url: new URL(server.url), maxBytes: 1024, what: '' }));
      assert.ok(error instanceof HttpStatus, error.message);
      assert.equal(error.message, 'answered HTTP 503 Service Unavailable (2 attempts)');
      assert.equal(server.requests.length, 2);
    } finally {
      await server.close();
    }
  });
});

describe("got's retries, as the policy says", () => {
  test('a failure that may pass is retried, and the last answer said how long to wait (Retry-After)', async () => {
    const server = await startScripted((_request, response) => {
      response.writeHead(503, { 'retry-after': '7200' }).end('away for a while\n');
    });
    try {
      // The wait before the retry is at most the timeout: a longer one is the caller's to keep.
      const error = await failureOf(postImport(http(200, 1), new URL(`${server.url}/`), 'trucki_up 1\n'));
      assert.ok(error instanceof HttpStatus, error.message);
      assert.equal(error.message, 'answered HTTP 503 Service Unavailable (2 attempts)');
      assert.deepEqual([error.status, error.attempts, error.reason], [503, 2, 'away for a while']);
      assert.equal(error.retryAfterMs, 3_600_000);
      assert.deepEqual(server.requests, ['POST /api/v1/import/prometheus', 'POST /api/v1/import/prometheus']);
    } finally {
      await server.close();
    }
  });

  test('a Retry-After that is neither whole seconds nor an HTTP date asks nothing: the retry waits its backoff', async () => {
    for (const header of ['-5', '1.5', '+3', 'soon']) {
      const server = await startScripted((_request, response) => {
        response.writeHead(503, { 'retry-after': header }).end();
      });
      try {
        const started = Date.now();
        const error = await failureOf(postImport(http(1000, 1), new URL(`${server.url}/`), 'trucki_up 1\n'));
        assert.ok(error instanceof HttpStatus, error.message);
        assert.equal(error.retryAfterMs, undefined, header);
        assert.ok(Date.now() - started >= 250, `${header}: retried after ${Date.now() - started} ms, without backoff`);
      } finally {
        await server.close();
      }
    }
  });

  test('a refusal (400) is not retried; a refused connection is, as often as the policy says', async () => {
    const server = await startScripted((_request, response) => {
      response.writeHead(400).end('cannot parse line 1\n');
    });
    try {
      const refused = await failureOf(pushGroup(http(1000, 2), new URL(`${server.url}/`), [['job', 't']], 'x\n'));
      assert.equal(refused.message, 'refused the push with HTTP 400: cannot parse line 1');
      assert.equal(server.requests.length, 1);
      const away = await failureOf(
        request(http(1000, 2), { url: new URL('http://127.0.0.1:9/'), maxBytes: 1, what: '' }),
      );
      assert.ok(away instanceof NoAnswer, away.message);
      assert.equal(away.message, 'refused the connection (3 attempts)');
    } finally {
      await server.close();
    }
  });

  test('a read-back cut off mid-answer is read again, from its start, and says nothing of the first', async () => {
    const line = (value: number) => `trucki_last_success_timestamp_seconds{instance="a",job="t"} ${value}\n`;
    const server = await startScripted((_request, response, index) => {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      if (index > 0) response.end(line(2));
      else response.write(line(1), () => response.socket?.destroy());
    });
    try {
      const groupings = [
        [
          ['job', 't'],
          ['instance', 'a'],
        ] as const,
      ];
      const query = { values: { groupings, family: 'trucki_last_success_timestamp_seconds' } };
      const { values } = await readGroups(http(1000, 2), new URL(`${server.url}/`), query);
      assert.deepEqual([...values], [[0, 2]]);
      assert.equal(server.requests.length, 2);
    } finally {
      await server.close();
    }
  });

  test('a redirect, to another host too, is not followed, and says where it pointed', async () => {
    const server = await startScripted((_request, response) => {
      response.writeHead(302, { location: 'http://elsewhere.invalid:8080/login?next=/' }).end();
    });
    try {
      const error = await failureOf(request(http(1000, 2), { url: new URL(server.url), maxBytes: 1024, what: '' }));
      assert.ok(error instanceof HttpStatus, error.message);
      assert.equal(
        error.message,
        'answered HTTP 302 Found, redirecting to elsewhere.invalid:8080/login; redirects are not followed: use that URL',
      );
      assert.equal(server.requests.length, 1);
    } finally {
      await server.close();
    }
  });

  test('an answer that trickles in forever ends at the timeout', async () => {
    const server = await startScripted((_request, response) => {
      response.writeHead(200);
      const timer = setInterval(() => response.write(' '), 50);
      response.on('close', () => {
        clearInterval(timer);
      });
    });
    try {
      const error = await failureOf(request(http(500), { url: new URL(server.url), maxBytes: 1 << 20, what: '' }));
      assert.ok(error instanceof NoAnswer, error.message);
      assert.equal(error.message, 'timed out after 0.5 s');
    } finally {
      await server.close();
    }
  });
});
