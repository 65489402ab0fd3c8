// http:// through node:http: no dependency to load, and a fresh connection per request (no
// keep-alive), which suits a handful of link-local metadata calls at boot; a burst of requests
// (Machine/Job Features) shares the kept-alive connections of an HttpPool instead.

import { request } from "node:http";
import { classifyError, HttpError } from "./http-error.ts";
import { DEFAULT_MAX_BYTES, flattenHeaders, formatMs, makeResponse, requestHeaders, type HttpRequest, type HttpResponse } from "./http-client.ts";

export function plainRequest(req: HttpRequest, url: URL): Promise<HttpResponse> {
  const maxBytes = req.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise((resolve, reject) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const client = request(url, { method: req.method ?? "GET", headers: requestHeaders(req), agent: req.pool?.agent ?? false });
    const finish = (err: HttpError | null, res?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(totalTimer);
      if (err) {
        client.destroy();
        reject(err);
      } else {
        resolve(res!);
      }
    };
    const connectTimer = setTimeout(
      () => finish(new HttpError("connect", req.url, `could not connect within ${formatMs(req.connectTimeoutMs)}`)),
      req.connectTimeoutMs,
    );
    const totalTimer = setTimeout(
      () => finish(new HttpError("timeout", req.url, `no complete answer within ${formatMs(req.timeoutMs)}`)),
      req.timeoutMs,
    );
    client.on("socket", (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      else socket.once("connect", () => clearTimeout(connectTimer));
    });
    client.on("error", (err) => finish(classifyError(err, req.url, false)));
    client.on("response", (res) => {
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) finish(new HttpError("too-large", req.url, `answer larger than ${maxBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on("error", (err) => finish(classifyError(err, req.url, false)));
      res.on("aborted", () => finish(new HttpError("protocol", req.url, "connection closed before the answer was complete")));
      res.on("end", () => {
        const body = new Uint8Array(Buffer.concat(chunks));
        finish(null, makeResponse(res.statusCode ?? 0, flattenHeaders(res.headers), body));
      });
    });
    client.end(req.body);
  });
}
