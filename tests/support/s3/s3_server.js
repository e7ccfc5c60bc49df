'use strict';

// The S3-compatible server of stemd's tests: s3rver 3.7.1 (its filesystem
// store in --directory, on 127.0.0.1:--port, silent) with a test-only layer
// in front of its router that
//   - checks every AWS Signature V4 (header or presigned query) against the
//     one account's secret, as S3 does: s3rver 3.7.1 only looks the access
//     key up and takes any V4 signature;
//   - checks each signed body against its x-amz-content-sha256;
//   - answers the two calls s3rver 3.7.1 lacks, ListMultipartUploads
//     (GET /bucket?uploads[&prefix=]) and AbortMultipartUpload
//     (DELETE /bucket/key?uploadId=), from the directories s3rver keeps for
//     unfinished uploads (<dir>/<bucket>/._S3rver_uploads/<id>/key).
// Usage: node s3_server.js --directory DIR --port N [--bucket NAME]
// Prints "s3_server listening on 127.0.0.1:N" once it takes requests.

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { PassThrough } = require('stream');
const S3rver = require('s3rver');

// s3rver's built-in account; the only credentials it knows.
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';
const MAX_SKEW_MS = 15 * 60 * 1000;
// Bodies are read whole to check x-amz-content-sha256 (parts are 5 MiB).
const MAX_CHECKED_BODY = 64 * 1024 * 1024;

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) {
    if (fallback !== undefined) return fallback;
    console.error(`s3_server: --${name} is required`);
    process.exit(2);
  }
  return process.argv[i + 1];
}

function xmlEscape(s) {
  return String(s).replace(/[<>&'"]/g, c => `&#${c.charCodeAt(0)};`);
}

function sendXml(ctx, status, body) {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
}

function sendError(ctx, status, code, message, resource) {
  sendXml(
    ctx,
    status,
    `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>` +
      `<Resource>${xmlEscape(resource)}</Resource></Error>`,
  );
}

// RFC 3986 encoding of SigV4: unreserved characters kept, the rest %XX.
function uriEncode(s) {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    c => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

function rawQueryPairs(rawQuery) {
  if (!rawQuery) return [];
  return rawQuery.split('&').map(part => {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    return [decodeURIComponent(name), decodeURIComponent(value)];
  });
}

function canonicalQuery(pairs) {
  return pairs
    .map(([n, v]) => [uriEncode(n), uriEncode(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`)
    .join('&');
}

// Header values by lowercased name from the raw header list, repeated
// headers joined with ',' in the order sent.
function rawHeaderMap(req) {
  const map = new Map();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = req.rawHeaders[i + 1].trim().replace(/\s+/g, ' ');
    map.set(name, map.has(name) ? `${map.get(name)},${value}` : value);
  }
  return map;
}

function hmac(key, data) {
  return crypto.createHmac('sha256', key).update(data, 'utf8').digest();
}

function expectedSignature(dateTime, scope, canonicalRequest) {
  const [day, region, service] = scope.split('/');
  const toSign = [
    'AWS4-HMAC-SHA256',
    dateTime,
    scope,
    crypto.createHash('sha256').update(canonicalRequest, 'utf8').digest('hex'),
  ].join('\n');
  let key = hmac(`AWS4${SECRET_KEY}`, day);
  key = hmac(key, region);
  key = hmac(key, service);
  key = hmac(key, 'aws4_request');
  return crypto.createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}

// The parts of a V4 signature from the Authorization header or the
// presigned query; null when the request is not V4-signed.
function signatureParts(ctx, pairs, headers) {
  const auth = headers.get('authorization');
  if (auth && auth.startsWith('AWS4-HMAC-SHA256 ')) {
    const fields = {};
    for (const f of auth.slice(17).split(',')) {
      const eq = f.indexOf('=');
      if (eq > 0) fields[f.slice(0, eq).trim()] = f.slice(eq + 1).trim();
    }
    return {
      credential: fields.Credential || '',
      signedHeaders: fields.SignedHeaders || '',
      signature: fields.Signature || '',
      dateTime: headers.get('x-amz-date') || '',
      payload: headers.get('x-amz-content-sha256') || '',
      pairs,
      presigned: false,
    };
  }
  const q = Object.fromEntries(pairs);
  if (q['X-Amz-Algorithm'] !== 'AWS4-HMAC-SHA256') return null;
  return {
    credential: q['X-Amz-Credential'] || '',
    signedHeaders: q['X-Amz-SignedHeaders'] || '',
    signature: q['X-Amz-Signature'] || '',
    dateTime: q['X-Amz-Date'] || '',
    payload: 'UNSIGNED-PAYLOAD',
    pairs: pairs.filter(([n]) => n !== 'X-Amz-Signature'),
    presigned: true,
  };
}

// Null when the request carries a valid V4 signature of ours, else the
// [status, code, message] to refuse it with.
function checkSignature(ctx) {
  const [rawPath, rawQuery] = ctx.req.url.split(/\?(.*)/s, 2);
  const pairs = rawQueryPairs(rawQuery);
  const headers = rawHeaderMap(ctx.req);
  const parts = signatureParts(ctx, pairs, headers);
  if (!parts) return null; // anonymous: s3rver's own rules apply
  const [accessKey, ...scopeParts] = parts.credential.split('/');
  if (accessKey !== ACCESS_KEY) {
    return [403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'];
  }
  if (!parts.payload) {
    return [400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256'];
  }
  const when = Date.parse(
    parts.dateTime.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  if (!parts.presigned && !(Math.abs(Date.now() - when) <= MAX_SKEW_MS)) {
    return [403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.'];
  }
  const names = parts.signedHeaders.split(';').filter(Boolean);
  const canonical = [
    ctx.method,
    rawPath || '/',
    canonicalQuery(parts.pairs),
    ...names.map(n => `${n}:${headers.get(n) || ''}`),
    '',
    names.join(';'),
    parts.payload,
  ].join('\n');
  const expected = expectedSignature(parts.dateTime, scopeParts.join('/'), canonical);
  const given = Buffer.from(parts.signature);
  const want = Buffer.from(expected);
  if (given.length !== want.length || !crypto.timingSafeEqual(given, want)) {
    return [
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    ];
  }
  ctx.state.s3SignedV4 = true;
  return null;
}

function uploadsDir(root, bucket) {
  return path.join(root, bucket, '._S3rver_uploads');
}

function listUploads(ctx, root, bucket) {
  const prefix = ctx.query.prefix || '';
  const dir = uploadsDir(root, bucket);
  const entries = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  const uploads = [];
  for (const id of entries.sort()) {
    const keyFile = path.join(dir, id, 'key');
    if (!fs.existsSync(keyFile)) continue;
    const key = fs.readFileSync(keyFile, 'utf8');
    if (!key.startsWith(prefix)) continue;
    const initiated = fs.statSync(keyFile).mtime.toISOString();
    uploads.push(
      `<Upload><Key>${xmlEscape(key)}</Key><UploadId>${xmlEscape(id)}</UploadId>` +
        `<Initiated>${initiated}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
    );
  }
  sendXml(
    ctx,
    200,
    '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Bucket>${xmlEscape(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>` +
      `<Prefix>${xmlEscape(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>` +
      `${uploads.join('')}</ListMultipartUploadsResult>`,
  );
}

function abortUpload(ctx, root, bucket, key) {
  const id = String(ctx.query.uploadId);
  const dir = path.join(uploadsDir(root, bucket), id);
  const keyFile = path.join(dir, 'key');
  if (!/^[A-Za-z0-9]+$/.test(id) || !fs.existsSync(keyFile) || fs.readFileSync(keyFile, 'utf8') !== key) {
    return sendError(ctx, 404, 'NoSuchUpload', 'The specified upload does not exist.', `/${bucket}/${key}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  ctx.status = 204;
}

// Reads the whole body, checks it against the signed x-amz-content-sha256
// as S3 does, and hands s3rver a stream of the same bytes. Null when the
// body matches, else the refusal.
async function checkPayload(ctx) {
  const declared = ctx.req.headers['x-amz-content-sha256'];
  if (!ctx.state.s3SignedV4 || !/^[0-9a-f]{64}$/.test(declared || '')) return null;
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > MAX_CHECKED_BODY) {
      return [400, 'EntityTooLarge', 'The test server checks bodies up to 64 MiB.'];
    }
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const replay = new PassThrough();
  replay.headers = ctx.req.headers;
  replay.end(body);
  ctx.req = replay;
  const actual = crypto.createHash('sha256').update(body).digest('hex');
  if (actual !== declared) {
    return [400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed."];
  }
  return null;
}

// The layer in front of s3rver's router (see the top of this file).
function testLayer(root) {
  return async function s3TestLayer(ctx, next) {
    const refusal = checkSignature(ctx) || (await checkPayload(ctx));
    if (refusal) return sendError(ctx, refusal[0], refusal[1], refusal[2], ctx.path);
    const match = /^\/([^/]+)(?:\/(.+))?$/.exec(ctx.path);
    if (!match) return next();
    const bucket = decodeURIComponent(match[1]);
    const key = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
    const list = ctx.method === 'GET' && key === undefined && 'uploads' in ctx.query;
    const abort = ctx.method === 'DELETE' && key !== undefined && 'uploadId' in ctx.query;
    if (!list && !abort) return next();
    if (!ctx.state.s3SignedV4) {
      return sendError(ctx, 403, 'AccessDenied', 'Access Denied', ctx.path);
    }
    if (!fs.existsSync(path.join(root, bucket))) {
      return sendError(ctx, 404, 'NoSuchBucket', 'The specified bucket does not exist', `/${bucket}`);
    }
    return list ? listUploads(ctx, root, bucket) : abortUpload(ctx, root, bucket, key);
  };
}

async function main() {
  const directory = path.resolve(option('directory'));
  const port = Number(option('port'));
  const bucket = option('bucket', '');
  fs.mkdirSync(directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    silent: true,
    directory,
    configureBuckets: bucket ? [{ name: bucket }] : [],
  });
  server.middleware.unshift(testLayer(directory));
  const address = await server.run();
  console.log(`s3_server listening on ${address.address}:${address.port}`);
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch(err => {
  console.error(`s3_server: ${err.stack || err}`);
  process.exit(1);
});
